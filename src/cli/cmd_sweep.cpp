#include "cli/commands.hpp"
#include "core/config.hpp"

namespace normlab::cli {

Runner setup_sweep(CLI::App&) {
  return []() -> int { throw UserError("'sweep' is not available yet"); };
}

}  // namespace normlab::cli
