#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/config.hpp"
#include "core/options.hpp"

namespace fs = std::filesystem;
using namespace normlab;

namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("normlab_cfg_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string file(const std::string& name, const std::string& text) {
    std::string p = (dir_ / name).string();
    std::ofstream(p) << text;
    return p;
  }

  // Expects merging `text` to throw a UserError equal to "PATH: " + `message`.
  void expect_merge_error(const std::string& text, const std::string& message) {
    std::string p = file("bad.yaml", text);
    Config c = Config::defaults();
    try {
      c.merge_file(p);
      FAIL() << "no error for: " << text;
    } catch (const UserError& e) {
      EXPECT_EQ(std::string(e.what()), p + ": " + message);
    }
  }

  fs::path dir_;
};

TEST_F(ConfigTest, Defaults) {
  Config c = Config::defaults();
  EXPECT_EQ(c.get_int("d_model"), 256);
  EXPECT_EQ(c.get_string("placement"), "pre");
  EXPECT_DOUBLE_EQ(c.get_float("norm_eps"), 1e-5);
  EXPECT_FALSE(c.get_bool("rescale_init"));
  EXPECT_TRUE(c.get_bool("progress"));
  EXPECT_EQ(c.get_string("block"), "");
  for (const auto& o : all_options()) EXPECT_TRUE(c.has(o.key)) << o.key;
  EXPECT_FALSE(c.has("nope"));
}

TEST_F(ConfigTest, MergeJson) {
  Config c = Config::defaults();
  c.merge_file(file("a.json", R"({"d_model": 512, "norm": "rmsnorm", "lr": 0.0003,
    "rescale_init": true, "block": "attn:n|da mlp:n|da"})"));
  EXPECT_EQ(c.get_int("d_model"), 512);
  EXPECT_EQ(c.get_string("norm"), "rmsnorm");
  EXPECT_DOUBLE_EQ(c.get_float("lr"), 3e-4);
  EXPECT_TRUE(c.get_bool("rescale_init"));
  EXPECT_EQ(c.get_string("block"), "attn:n|da mlp:n|da");
  EXPECT_EQ(c.get_int("n_layers"), 6);  // untouched
}

TEST_F(ConfigTest, MergeCompactJson) {
  Config c = Config::defaults();
  c.merge_file(file("a.json", R"({"d_model":64,"placement":"post"})"));
  EXPECT_EQ(c.get_int("d_model"), 64);
  EXPECT_EQ(c.get_string("placement"), "post");
}

TEST_F(ConfigTest, MergeYaml) {
  Config c = Config::defaults();
  c.merge_file(file("a.yaml",
                    "# comment\nn_layers: 12\nplacement: deepnorm\n"
                    "scale_embedding: yes\ndt: 1/sqrt(L)\nbeta2: 0.999\n"));
  EXPECT_EQ(c.get_int("n_layers"), 12);
  EXPECT_EQ(c.get_string("placement"), "deepnorm");
  EXPECT_TRUE(c.get_bool("scale_embedding"));
  EXPECT_EQ(c.get_string("dt"), "1/sqrt(L)");
  EXPECT_DOUBLE_EQ(c.get_float("beta2"), 0.999);
}

TEST_F(ConfigTest, EmptyFileChangesNothing) {
  Config c = Config::defaults();
  c.merge_file(file("empty.yaml", "# nothing\n"));
  EXPECT_EQ(c.to_json(), Config::defaults().to_json());
}

TEST_F(ConfigTest, LaterFileOverrides) {
  Config c = Config::defaults();
  c.merge_file(file("a.yaml", "n_layers: 12\nd_model: 128\n"));
  c.merge_file(file("b.json", R"({"n_layers": 24})"));
  EXPECT_EQ(c.get_int("n_layers"), 24);
  EXPECT_EQ(c.get_int("d_model"), 128);
  c.set("n_layers", "3", "--n_layers");
  EXPECT_EQ(c.get_int("n_layers"), 3);
}

TEST_F(ConfigTest, FailedMergeLeavesConfigUnchanged) {
  Config c = Config::defaults();
  EXPECT_THROW(c.merge_file(file("a.yaml", "n_layers: 12\nd_model: abc\n")), UserError);
  EXPECT_EQ(c.get_int("n_layers"), 6);
}

TEST_F(ConfigTest, MissingFile) {
  Config c = Config::defaults();
  std::string p = (dir_ / "absent.yaml").string();
  try {
    c.merge_file(p);
    FAIL();
  } catch (const UserError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(p + ": cannot open", 0), 0u) << e.what();
  }
}

TEST_F(ConfigTest, UnknownKeyWithSuggestion) {
  expect_merge_error("n_layer: 3\n", "unknown option 'n_layer' (did you mean 'n_layers'?)");
  expect_merge_error("d-model: 3\n", "unknown option 'd-model' (did you mean 'd_model'?)");
  expect_merge_error("zzzzzzzzzzzzzzzzzzzz: 3\n", "unknown option 'zzzzzzzzzzzzzzzzzzzz'");
}

// 'tokenizer' (prepare's SentencePiece model type) was renamed 'tokenizer_type': config files,
// run directories' config.yaml and checkpoint metadata written with the old key still load.
TEST_F(ConfigTest, FormerKeyStillLoads) {
  Config c = Config::defaults();
  c.merge_file(file("old.yaml", "tokenizer: unigram\n"));
  EXPECT_EQ(c.get_string("tokenizer_type"), "unigram");
  const Config j = Config::from_json({{"tokenizer", "unigram"}}, "checkpoint");
  EXPECT_EQ(j.get_string("tokenizer_type"), "unigram");
  EXPECT_EQ(j.to_json().count("tokenizer"), 0u);  // written back under the new key only
  try {
    Config::defaults().merge_file(file("both.yaml", "tokenizer: bpe\ntokenizer_type: unigram\n"));
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("is set twice"), std::string::npos) << e.what();
  }
}

TEST_F(ConfigTest, WrongType) {
  expect_merge_error("n_layers: abc\n", "option 'n_layers' expects an integer, got 'abc'");
  expect_merge_error("n_layers: 2.5\n", "option 'n_layers' expects an integer, got '2.5'");
  expect_merge_error("lr: fast\n", "option 'lr' expects a number, got 'fast'");
  expect_merge_error("lr: .nan\n", "option 'lr' expects a number, got '.nan'");
  expect_merge_error("rescale_init: maybe\n",
                     "option 'rescale_init' expects true or false, got 'maybe'");
}

TEST_F(ConfigTest, InvalidChoice) {
  expect_merge_error("norm: batchnorm\n",
                     "option 'norm' must be one of layernorm, rmsnorm, dyt; got 'batchnorm'");
}

TEST_F(ConfigTest, SyntaxErrorWithLine) {
  std::string p = file("bad.json", "{\n  \"n_layers\": 3,\n  \"d_model\" 64\n}\n");
  Config c = Config::defaults();
  try {
    c.merge_file(p);
    FAIL();
  } catch (const UserError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(p + ": line 3: ", 0), 0u) << e.what();
  }
  expect_merge_error("n_layers: 3\nd_model: [64\nlr: 1\n",
                     "line 3: end of sequence flow not found");
}

TEST_F(ConfigTest, StructuralErrors) {
  expect_merge_error("- a\n- b\n", "expected a mapping of option: value at the top level");
  expect_merge_error("n_layers: [1, 2]\n",
                     "line 1: option 'n_layers' expects a single value, got a list");
  expect_merge_error("seed: 1\nseed: 2\n", "line 2: option 'seed' is set twice");
}

TEST_F(ConfigTest, BoolSpellings) {
  Config c = Config::defaults();
  for (const char* t : {"true", "1", "yes", "True", "YES"}) {
    c.set("decay_all", t, "--decay_all");
    EXPECT_TRUE(c.get_bool("decay_all")) << t;
    EXPECT_EQ(c.to_json()["decay_all"], true);
  }
  for (const char* f : {"false", "0", "no", "False"}) {
    c.set("decay_all", f, "--decay_all");
    EXPECT_FALSE(c.get_bool("decay_all")) << f;
  }
}

TEST_F(ConfigTest, CanonicalNumbers) {
  Config c = Config::defaults();
  c.set("lr", "0.00030", "x");
  c.set("beta1", "+9e-1", "x");
  c.set("n_layers", " 007 ", "x");
  std::string y = c.dump_yaml();
  EXPECT_NE(y.find("\nlr: 3e-4\n"), std::string::npos) << y;
  EXPECT_NE(y.find("\nbeta1: 0.9\n"), std::string::npos);
  EXPECT_NE(y.find("\nn_layers: 7\n"), std::string::npos);
  EXPECT_NE(y.find("\nnorm_eps: 1e-5\n"), std::string::npos);
}

TEST_F(ConfigTest, JsonRoundTrip) {
  Config c = Config::defaults();
  c.set("d_model", "96", "x");
  c.set("lr", "3e-4", "x");
  c.set("block", "attn:n|da mlp:n|da", "x");
  c.set("rescale_init", "yes", "x");
  nlohmann::json j = c.to_json();
  EXPECT_TRUE(j["d_model"].is_number_integer());
  EXPECT_TRUE(j["lr"].is_number_float());
  EXPECT_TRUE(j["rescale_init"].is_boolean());
  EXPECT_TRUE(j["placement"].is_string());
  EXPECT_EQ(j["lr"].get<double>(), 3e-4);
  // Through text, as in checkpoint metadata.
  Config d = Config::from_json(nlohmann::json::parse(j.dump()), "ckpt");
  EXPECT_EQ(d.to_json(), j);
  EXPECT_EQ(d.get_string("block"), "attn:n|da mlp:n|da");
  EXPECT_EQ(d.get_float("lr"), 3e-4);
}

TEST_F(ConfigTest, FromJsonErrors) {
  try {
    Config::from_json(nlohmann::json{{"n_layer", 3}}, "m.safetensors");
    FAIL();
  } catch (const UserError& e) {
    EXPECT_EQ(std::string(e.what()),
              "m.safetensors: unknown option 'n_layer' (did you mean 'n_layers'?)");
  }
  EXPECT_THROW(Config::from_json(nlohmann::json{{"n_layers", 2.5}}, "x"), UserError);
  EXPECT_THROW(Config::from_json(nlohmann::json{{"n_layers", {1, 2}}}, "x"), UserError);
  EXPECT_THROW(Config::from_json(nlohmann::json::array(), "x"), UserError);
}

TEST_F(ConfigTest, DumpYamlReparses) {
  Config c = Config::defaults();
  c.set("block", "attn:n|da mlp:n|da", "x");
  c.set("dt", "1/sqrt(L)", "x");
  c.set("input", "a b.txt,c \"quoted\" #hash: \\ back", "x");
  c.set("out_dir", "yes", "x");  // a YAML 1.1 bool word as a string
  c.set("data", "-dash", "x");
  c.set("lr", "2.5e-4", "x");
  c.set("decay_all", "true", "x");
  std::string y = c.dump_yaml();
  EXPECT_NE(y.find("# ---- model\n"), std::string::npos) << y;
  EXPECT_NE(y.find("# Width of the residual stream.\nd_model: 256\n"), std::string::npos) << y;
  // Every line is a comment, blank, or "key: value" within 100 columns.
  std::istringstream lines(y);
  for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), 100u) << line;

  Config d = Config::defaults();
  d.merge_file(file("dump.yaml", y));
  EXPECT_EQ(d.to_json(), c.to_json());
  EXPECT_EQ(d.get_string("input"), "a b.txt,c \"quoted\" #hash: \\ back");
  EXPECT_EQ(d.get_string("out_dir"), "yes");
  // Defaults also survive the round trip (including empty strings).
  Config e = Config::defaults();
  e.merge_file(file("defaults.yaml", Config::defaults().dump_yaml()));
  EXPECT_EQ(e.to_json(), Config::defaults().to_json());
}

}  // namespace

// Every numeric option has a range in the vocabulary; a value outside it is one error naming the
// flag, or the file and the key.
TEST_F(ConfigTest, OutOfRangeValues) {
  expect_merge_error("lr: -1\n", "lr: must be > 0, got -1");
  expect_merge_error("warmup: -1\n", "warmup: must be >= 0, got -1");
  expect_merge_error("lower_fraction: 1.5\n", "lower_fraction: must be in [0, 1], got 1.5");
  expect_merge_error("clip_norm: -0.5\n", "clip_norm: must be >= 0, got -0.5");
  expect_merge_error("beta2: 1\n", "beta2: must be in [0, 1), got 1");
  expect_merge_error("dropout: 1\n", "dropout: must be in [0, 1), got 1");
  expect_merge_error("seq_len: 1000000000\n", "seq_len: must be in [1, 65536], got 1000000000");
  expect_merge_error("steps: 5000000000\n", "steps: must be in [1, 2147483647], got 5000000000");
  Config c = Config::defaults();
  try {
    c.set("top_p", "0", "--top_p");
    FAIL();
  } catch (const UserError& e) {
    EXPECT_EQ(std::string(e.what()), "--top_p: must be in (0, 1], got 0");
  }
  // The ends themselves, where inclusive, are accepted.
  c.set("lower_fraction", "1", "--lower_fraction");
  c.set("beta2", "0", "--beta2");
  c.set("clip_norm", "0", "--clip_norm");
  EXPECT_DOUBLE_EQ(c.get_float("lower_fraction"), 1.0);
}

TEST(Options, NumericOptionsHaveRangesAndDefaultsInside) {
  for (const auto& o : all_options()) {
    const bool numeric = o.type == OptionType::Int || o.type == OptionType::Float;
    if (numeric && o.key != "length_penalty") {
      EXPECT_TRUE(o.range.bounded()) << o.key;
    }
  }
  EXPECT_NO_THROW(Config::defaults());
  EXPECT_EQ(find_option("beta2")->range.text(), "[0, 1)");
  EXPECT_EQ(find_option("lr")->range.text(), "> 0");
  EXPECT_EQ(find_option("warmup")->range.text(), ">= 0");
}
