#include "data/gettext_mo.hpp"

#include <cstdint>
#include <fstream>
#include <sstream>

#include "core/config.hpp"

namespace normlab {

namespace {

constexpr uint32_t kMoMagic = 0x950412deu;
constexpr uint32_t kMoMagicSwapped = 0xde120495u;

uint32_t load_u32(std::string_view bytes, size_t at, bool big_endian) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + at);
  if (big_endian)
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
  return (uint32_t{p[3]} << 24) | (uint32_t{p[2]} << 16) | (uint32_t{p[1]} << 8) | p[0];
}

}  // namespace

std::vector<MoEntry> parse_mo(std::string_view bytes, const std::string& path) {
  auto corrupt = [&](const std::string& what) {
    return UserError(path + ": corrupt gettext .mo file: " + what);
  };
  if (bytes.size() < 20)
    throw UserError(path + ": not a gettext .mo file (" + std::to_string(bytes.size()) +
                    " bytes, shorter than the 20-byte header)");
  // The magic read little-endian tells the writer's byte order.
  const uint32_t magic = load_u32(bytes, 0, false);
  bool big;
  if (magic == kMoMagic)
    big = false;
  else if (magic == kMoMagicSwapped)
    big = true;
  else
    throw UserError(path + ": not a gettext .mo file (bad magic number)");
  const uint32_t revision = load_u32(bytes, 4, big);
  // Major revisions 0 and 1 share this layout (1 only adds system-dependent strings, which
  // plain entries do not use); the minor revision is backwards compatible by definition.
  if ((revision >> 16) > 1)
    throw UserError(path + ": unsupported gettext .mo major revision " +
                    std::to_string(revision >> 16));
  const uint64_t n = load_u32(bytes, 8, big);
  const uint64_t orig_table = load_u32(bytes, 12, big);
  const uint64_t trans_table = load_u32(bytes, 16, big);
  const uint64_t size = bytes.size();
  if (orig_table + 8 * n > size || trans_table + 8 * n > size)
    throw corrupt("string tables for " + std::to_string(n) + " entries extend past the end");

  auto string_at = [&](uint64_t table, uint64_t i) {
    const uint64_t len = load_u32(bytes, static_cast<size_t>(table + 8 * i), big);
    const uint64_t off = load_u32(bytes, static_cast<size_t>(table + 8 * i + 4), big);
    // The stored length excludes the terminating NUL, which must be present.
    if (off + len + 1 > size || bytes[static_cast<size_t>(off + len)] != '\0')
      throw corrupt("string " + std::to_string(i) + " lies outside the file");
    return bytes.substr(static_cast<size_t>(off), static_cast<size_t>(len));
  };

  std::vector<MoEntry> entries;
  entries.reserve(static_cast<size_t>(n));
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view id = string_at(orig_table, i);
    std::string_view str = string_at(trans_table, i);
    // Plural entries store the forms NUL-separated; keep the singular one.
    id = id.substr(0, id.find('\0'));
    str = str.substr(0, str.find('\0'));
    // msgctxt is stored as CONTEXT, EOT (0x04), MSGID.
    if (size_t eot = id.find('\x04'); eot != std::string_view::npos) id.remove_prefix(eot + 1);
    if (id.empty()) continue;  // the header entry (or a context with an empty msgid)
    entries.push_back({std::string(id), std::string(str)});
  }
  return entries;
}

std::vector<MoEntry> read_mo_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(path + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw UserError(path + ": read error");
  return parse_mo(ss.view(), path);
}

}  // namespace normlab
