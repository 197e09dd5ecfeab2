// Reader for GNU gettext binary message catalogs (.mo files), the format `msgfmt` writes and
// Debian installs under /usr/share/locale/LANG/LC_MESSAGES. Layout (GNU gettext manual, "The
// Format of GNU MO Files"): a header of 32-bit words in the writer's byte order -- magic
// 0x950412de, revision, N strings, offset O of the original-string table, offset T of the
// translation table, hash table size and offset -- then two tables of N (length, offset) pairs
// pointing at NUL-terminated strings. Fuzzy entries are never compiled into a .mo file.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace normlab {

// One translated message, reduced to its singular form: a msgctxt prefix ("CONTEXT\x04MSGID") is
// dropped, and for a plural entry ("MSGID\0MSGID_PLURAL" -> "MSGSTR0\0MSGSTR1...") only msgid and
// msgstr[0] are kept. Bytes are returned as stored (normally UTF-8; not validated here).
struct MoEntry {
  std::string msgid;
  std::string msgstr;
};

// Parses the bytes of a .mo file of either byte order; the header entry (empty msgid) is skipped.
// `path` only labels errors: throws UserError("PATH: not a gettext .mo file ...") for a bad magic,
// an unknown major revision, or a table or string that lies outside the file.
std::vector<MoEntry> parse_mo(std::string_view bytes, const std::string& path);

// Reads and parses one file; throws UserError("PATH: ...") if it cannot be read or parsed.
std::vector<MoEntry> read_mo_file(const std::string& path);

}  // namespace normlab
