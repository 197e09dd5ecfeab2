// Fuzz target: the GNU gettext .mo reader (src/data/gettext_mo.cpp), which `normlab
// prepare-parallel` runs over every catalog installed on the machine.
#include "core/config.hpp"
#include "data/gettext_mo.hpp"
#include "fuzz_input.hpp"

using namespace normlab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = "fuzz.mo";
  try {
    for (const MoEntry& e : parse_mo({reinterpret_cast<const char*>(data), size}, path))
      normlab_fuzz::require(!e.msgid.empty() && e.msgid.size() + e.msgstr.size() <= size,
                            "entries are non-empty and lie inside the file");
  } catch (const UserError& e) {
    normlab_fuzz::check_user_error(e, path);
  }
  return 0;
}
