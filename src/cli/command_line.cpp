#include "cli/command_line.hpp"

#include <regex>

#include "core/config.hpp"
#include "core/options.hpp"

namespace normlab::cli {

namespace {

std::vector<std::string> command_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    names.push_back(sub->get_name());
  return names;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// "--n_layer=4" -> "n_layer"; "-x" -> "x"; "--" -> "".
std::string flag_name(const std::string& arg) {
  const size_t begin = arg.find_first_not_of('-');
  if (begin == std::string::npos) return "";
  const size_t eq = arg.find('=', begin);
  return arg.substr(begin, eq == std::string::npos ? std::string::npos : eq - begin);
}

}  // namespace

void check_command_word(const CLI::App& app, int argc, char** argv) {
  const std::vector<std::string> commands = command_names(app);
  if (argc < 2)
    throw UserError("no command given; one of " + joined(commands) + " (normlab --help)");
  const std::string word = argv[1];
  if (word == "--help" || word == "-h" || word == "--version") return;
  if (std::find(commands.begin(), commands.end(), word) != commands.end()) return;
  if (word.rfind("-", 0) == 0)
    throw UserError(word + ": the command comes first, its options after it (normlab COMMAND " +
                    "--help); commands: " + joined(commands));
  const std::string best = did_you_mean(word, commands);
  throw UserError(
      word + ": unknown command" +
      (best.empty() ? "; one of " + joined(commands) : " (did you mean '" + best + "'?)"));
}

void check_no_extras(const CLI::App& app, const CLI::App& sub) {
  const std::vector<std::string> extras = sub.remaining();
  if (extras.empty()) return;
  const std::string& arg = extras.front();
  const std::string command = sub.get_name();
  const std::string name = flag_name(arg), where = arg.substr(0, arg.find('='));
  if (arg[0] != '-' || name.empty())
    throw UserError("'" + arg + "': unexpected argument of '" + command +
                    "' (flags take one value each: --key VALUE)");
  // A config key renamed since (core/options.hpp): its new flag.
  const std::string renamed = current_option_key(name);
  if (renamed != name && sub.get_option_no_throw("--" + renamed))
    throw UserError(where + ": renamed; use --" + renamed);
  // An option that this command does not read but others do: say which (before a guess, since
  // the name is right).
  std::vector<std::string> users;
  for (const CLI::App* other : app.get_subcommands([](const CLI::App*) { return true; }))
    if (other->get_option_no_throw("--" + name)) users.push_back(other->get_name());
  if (!users.empty())
    throw UserError(where + ": not an option of '" + command + "' (an option of " + joined(users) +
                    ")");
  std::vector<std::string> flags;
  for (const CLI::Option* o : sub.get_options())
    for (const std::string& n : o->get_lnames()) flags.push_back(n);
  const std::string best = did_you_mean(name, flags);
  if (!best.empty()) throw UserError(where + ": unknown option (did you mean '--" + best + "'?)");
  throw UserError(where + ": unknown option of '" + command + "' (normlab " + command +
                  " --help lists them)");
}

std::string parse_error_message(const CLI::ParseError& e) {
  std::string what = e.what();
  what = what.substr(0, what.find('\n'));
  std::smatch m;
  static const std::regex required(R"(^(-\S+) is required$)");
  static const std::regex missing(R"(^(-\S+): \d+ required.* missing$)");
  static const std::regex repeated(R"(^(-\S+): At Most \d+ required but received (\d+)$)");
  static const std::regex conversion(R"(^Could not convert: (-\S+) = (.*)$)");
  if (std::regex_match(what, m, required)) return m[1].str() + ": required";
  if (std::regex_match(what, m, missing)) return m[1].str() + ": needs a value";
  if (std::regex_match(what, m, repeated))
    return m[1].str() + ": given " + m[2].str() + " times; give it once";
  if (std::regex_match(what, m, conversion))
    return m[1].str() + ": invalid value '" + m[2].str() + "'";
  return what;
}

}  // namespace normlab::cli
