#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "data/gettext_mo.hpp"

namespace normlab {
namespace {

// Builds a .mo file the way msgfmt lays it out (header, original table, translation table,
// strings; no hash table), in either byte order.
std::string build_mo(const std::vector<std::pair<std::string, std::string>>& entries,
                     bool big_endian, uint32_t revision = 0) {
  std::string out;
  auto put = [&](uint32_t v) {
    for (int k = 0; k < 4; ++k) {
      const int shift = big_endian ? 8 * (3 - k) : 8 * k;
      out.push_back(static_cast<char>((v >> shift) & 0xFF));
    }
  };
  const uint32_t n = static_cast<uint32_t>(entries.size());
  const uint32_t orig = 28, trans = orig + 8 * n, strings = trans + 8 * n;
  put(0x950412de);
  put(revision);
  put(n);
  put(orig);
  put(trans);
  put(0);  // hash table size
  put(0);  // hash table offset
  std::string blob;
  std::vector<uint32_t> offsets;
  for (int side = 0; side < 2; ++side) {
    for (const auto& e : entries) {
      const std::string& s = side == 0 ? e.first : e.second;
      offsets.push_back(strings + static_cast<uint32_t>(blob.size()));
      blob += s;
      blob.push_back('\0');
    }
  }
  for (int side = 0; side < 2; ++side) {
    for (uint32_t i = 0; i < n; ++i) {
      const auto& e = entries[i];
      put(static_cast<uint32_t>((side == 0 ? e.first : e.second).size()));
      put(offsets[side * n + i]);
    }
  }
  return out + blob;
}

const std::vector<std::pair<std::string, std::string>> kEntries = {
    {"", "Content-Type: text/plain; charset=UTF-8\nPlural-Forms: nplurals=2;\n"},
    {"Open file", "Datei öffnen"},
    {std::string("menu\x04") + "Quit", "Beenden"},
    {std::string("%d file\0%d files", 16), std::string("%d Datei\0%d Dateien", 19)},
    {"_Save", "_Speichern"},
};

class MoByteOrder : public ::testing::TestWithParam<bool> {};

TEST_P(MoByteOrder, ParsesEntriesContextAndPlural) {
  const std::string bytes = build_mo(kEntries, GetParam());
  const auto entries = parse_mo(bytes, "t.mo");
  ASSERT_EQ(entries.size(), 4u);  // header skipped
  EXPECT_EQ(entries[0].msgid, "Open file");
  EXPECT_EQ(entries[0].msgstr, "Datei öffnen");
  EXPECT_EQ(entries[1].msgid, "Quit");  // context dropped
  EXPECT_EQ(entries[1].msgstr, "Beenden");
  EXPECT_EQ(entries[2].msgid, "%d file");  // singular forms
  EXPECT_EQ(entries[2].msgstr, "%d Datei");
  EXPECT_EQ(entries[3].msgid, "_Save");
}

INSTANTIATE_TEST_SUITE_P(BothEndians, MoByteOrder, ::testing::Values(false, true));

TEST(GettextMo, AcceptsMinorRevisionAndRevisionOne) {
  EXPECT_EQ(parse_mo(build_mo(kEntries, false, 1), "t.mo").size(), 4u);
  EXPECT_EQ(parse_mo(build_mo(kEntries, true, 0x10000), "t.mo").size(), 4u);
}

TEST(GettextMo, RejectsCorruptFiles) {
  auto message = [](const std::string& bytes) {
    try {
      parse_mo(bytes, "x.mo");
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("short").find("x.mo: not a gettext .mo file"), std::string::npos);
  std::string bad_magic = build_mo(kEntries, false);
  bad_magic[0] = 'X';
  EXPECT_NE(message(bad_magic).find("bad magic"), std::string::npos);
  EXPECT_NE(message(build_mo(kEntries, false, 0x20000)).find("major revision 2"),
            std::string::npos);
  const std::string good = build_mo(kEntries, false);
  EXPECT_NE(message(good.substr(0, good.size() - 10)).find("outside the file"), std::string::npos);
  std::string huge_n = good;
  huge_n[10] = 0x7F;  // N = 0x7F0005: tables past the end
  EXPECT_NE(message(huge_n).find("extend past the end"), std::string::npos);
}

TEST(GettextMo, MissingFile) {
  EXPECT_THROW(read_mo_file("/nonexistent/x.mo"), UserError);
}

}  // namespace
}  // namespace normlab
