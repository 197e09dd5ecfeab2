#include "cli/commands.hpp"
#include "core/config.hpp"

namespace normlab::cli {

Runner setup_report(CLI::App&) {
  return []() -> int { throw UserError("'report' is not available yet"); };
}

}  // namespace normlab::cli
