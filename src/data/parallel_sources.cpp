#include "data/parallel_sources.hpp"

#include <array>
#include <filesystem>
#include <string_view>

#include "core/config.hpp"
#include "core/utf8.hpp"
#include "data/gettext_mo.hpp"
#include "data/staged_files.hpp"

namespace normlab {

namespace fs = std::filesystem;

std::vector<std::string> default_catalog_files(const std::string& dir_name) {
  const fs::path dir = dir_name;
  std::vector<std::string> files = files_with_extension(dir.string(), ".mo");
  if (files.empty())
    throw UserError(dir.string() +
                    ": no German gettext catalogs (*.mo) found; install some, e.g. "
                    "'apt-get install --no-install-recommends gcc-12-locales util-linux-locales "
                    "aptitude-common mc-data' (Debian), or pass "
                    "--src FILE --tgt FILE");
  return files;
}

std::vector<SegmentPair> read_parallel_files(const std::string& src_path,
                                             const std::string& tgt_path) {
  std::array<std::vector<std::string>, 2> lines;
  const std::array<const std::string*, 2> paths = {&src_path, &tgt_path};
  for (size_t k = 0; k < 2; ++k) {
    lines[k] = split_lines(read_utf8_file(*paths[k]));
  }
  if (lines[0].size() != lines[1].size())
    throw UserError(src_path + ": has " + std::to_string(lines[0].size()) + " lines but " +
                    tgt_path + " has " + std::to_string(lines[1].size()) +
                    "; source and target files must be line-aligned (one segment per line)");
  std::vector<SegmentPair> pairs(lines[0].size());
  for (size_t i = 0; i < pairs.size(); ++i)
    pairs[i] = {std::move(lines[0][i]), std::move(lines[1][i])};
  return pairs;
}

CatalogPairs read_catalog_pairs(const std::vector<std::string>& files) {
  CatalogPairs out;
  for (const auto& f : files) {
    std::vector<MoEntry> entries;
    try {
      entries = read_mo_file(f);
    } catch (const UserError& e) {
      out.skipped.push_back(e.what());
      continue;
    }
    size_t used = 0;
    for (auto& e : entries) {
      if (find_invalid_utf8(e.msgid) != std::string_view::npos ||
          find_invalid_utf8(e.msgstr) != std::string_view::npos) {
        ++out.invalid_utf8;
        continue;
      }
      out.pairs.push_back({std::move(e.msgid), std::move(e.msgstr)});
      ++used;
    }
    out.used.emplace_back(f, used);
  }
  return out;
}

}  // namespace normlab
