#include "cli/commands.hpp"
#include "core/config.hpp"

namespace normlab::cli {

Runner setup_sanity_check(CLI::App&) {
  return []() -> int { throw UserError("'sanity-check' is not available yet"); };
}

}  // namespace normlab::cli
