#include "cli/commands.hpp"
#include "core/config.hpp"

namespace normlab::cli {

Runner setup_eval(CLI::App&) {
  return []() -> int { throw UserError("'eval' is not available yet"); };
}

}  // namespace normlab::cli
