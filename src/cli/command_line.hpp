// What CLI11 rejects, said the way the rest of normlab says it: one line "WHERE: problem" with
// WHERE the command word or the flag, and a did-you-mean from the same rule as config keys
// (options.hpp: did_you_mean). main() prints it as "normlab: error: ..." and exits 1.
#pragma once
#include <CLI/CLI.hpp>
#include <string>

namespace normlab::cli {

// Before parsing: throws UserError when argv names no command, or one that does not exist.
// --help / -h alone are left to CLI11.
void check_command_word(const CLI::App& app, int argc, char** argv);

// After parsing `sub` (which allows extras so that they can be named here): throws UserError
// for the first unknown flag or stray argument.
void check_no_extras(const CLI::App& app, const CLI::App& sub);

// The one-line message ("--model: required", "--seed: given 2 times", ...) for a CLI11 error.
std::string parse_error_message(const CLI::ParseError& e);

}  // namespace normlab::cli
