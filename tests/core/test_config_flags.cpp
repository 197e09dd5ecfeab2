// src/cli/*.cpp is compiled into the normlab executable, not the library, so the flag layer is
// compiled into this test directly.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cli/config_flags.cpp"  // NOLINT(bugprone-suspicious-include)

using namespace normlab;

namespace {

// Parses argv (without the program name) with the model, train and optimizer groups registered.
ConfigFlags parse(std::vector<std::string> args, std::vector<std::string>* rest = nullptr) {
  CLI::App app("test");
  ConfigFlags flags;
  add_config_flags(app, flags, {"model", "train", "optimizer"});
  std::vector<std::string> positional;
  app.add_option("rest", positional);
  std::vector<const char*> argv = {"normlab"};
  for (const auto& a : args) argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), argv.data());
  if (rest) *rest = positional;
  return flags;
}

TEST(ConfigFlags, ValuesDashesAndBareBools) {
  std::vector<std::string> rest;
  ConfigFlags f = parse({"--d-model", "64", "--n_layers=3", "--rescale_init", "--decay_all", "no",
                         "--lr", "2e-4", "pos"},
                        &rest);
  EXPECT_EQ(f.flags.at("d_model"), "64");
  EXPECT_EQ(f.flags.at("n_layers"), "3");
  EXPECT_EQ(f.flags.at("rescale_init"), "true");
  EXPECT_EQ(f.flags.at("decay_all"), "no");
  EXPECT_EQ(f.flags.at("lr"), "2e-4");
  EXPECT_EQ(rest, std::vector<std::string>{"pos"});
  Config c = resolve_config(f);
  EXPECT_EQ(c.get_int("d_model"), 64);
  EXPECT_TRUE(c.get_bool("rescale_init"));
  EXPECT_FALSE(c.get_bool("decay_all"));
  EXPECT_DOUBLE_EQ(c.get_float("lr"), 2e-4);
}

// A flag is set once, as a key in a config file is: no silent "last one wins".
TEST(ConfigFlags, RepeatedFlagIsAnError) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"--lr", "1e-4", "--lr", "2e-4"},
                                             {"--d-model", "64", "--d_model", "32"},
                                             {"--rescale_init", "--rescale_init", "false"}}) {
    try {
      parse(args);
      FAIL() << args[0];
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find(": given 2 times; give it once"), std::string::npos)
          << e.what();
    }
  }
}

// Every flag of every command is named by flag_names: snake_case and kebab-case both.
TEST(ConfigFlags, FlagNamesGiveBothSpellings) {
  EXPECT_EQ(flag_names("png_dir"), "--png_dir,--png-dir");
  EXPECT_EQ(flag_names("dump-config"), "--dump_config,--dump-config");
  EXPECT_EQ(flag_names("out", "o"), "-o,--out");
  EXPECT_EQ(flag_names("model", "m"), "-m,--model");
}

TEST(ConfigFlags, OnlyRequestedGroups) {
  EXPECT_THROW(parse({"--max_tokens", "5"}), CLI::ParseError);  // generate group not registered
}

TEST(ConfigFlags, FilesThenFlags) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("normlab_flags_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string a = (dir / "a.yaml").string(), b = (dir / "b.json").string();
  std::ofstream(a) << "n_layers: 12\nd_model: 128\nnorm: rmsnorm\n";
  std::ofstream(b) << R"({"n_layers": 24})";
  ConfigFlags f = parse({"--config", a, "--config", b, "--norm", "dyt", "--dump-config"});
  EXPECT_EQ(f.files, (std::vector<std::string>{a, b}));
  EXPECT_TRUE(f.dump_config);
  Config c = resolve_config(f);
  EXPECT_EQ(c.get_int("n_layers"), 24);
  EXPECT_EQ(c.get_int("d_model"), 128);
  EXPECT_EQ(c.get_string("norm"), "dyt");
  fs::remove_all(dir);
}

TEST(ConfigFlags, FlagErrorsNameTheFlag) {
  try {
    resolve_config(parse({"--n_layers", "abc"}));
    FAIL();
  } catch (const UserError& e) {
    EXPECT_EQ(std::string(e.what()), "--n_layers: option 'n_layers' expects an integer, got 'abc'");
  }
}

TEST(ConfigFlags, HelpShowsHelpAndDefault) {
  CLI::App app("test");
  ConfigFlags flags;
  add_config_flags(app, flags, {"model"});
  std::string help = app.help();
  EXPECT_NE(help.find("--d_model,--d-model INT=256"), std::string::npos) << help;
  EXPECT_NE(help.find("Width of the residual stream."), std::string::npos);
  EXPECT_NE(help.find("{layernorm,rmsnorm,dyt}=layernorm"), std::string::npos);
  EXPECT_NE(help.find("[BOOL]=false"), std::string::npos);
}

}  // namespace
