#include "cli/commands.hpp"
#include "core/config.hpp"

namespace normlab::cli {

Runner setup_prepare_parallel(CLI::App&) {
  return []() -> int { throw UserError("'prepare-parallel' is not available yet"); };
}

}  // namespace normlab::cli
