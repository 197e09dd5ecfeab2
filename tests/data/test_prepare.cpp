#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/config.hpp"
#include "data/prepare.hpp"
#include "data/token_file.hpp"
#include "data/tokenizer.hpp"

namespace fs = std::filesystem;
using normlab::UserError;

namespace {

struct PrepareTest : ::testing::Test {
  fs::path dir;
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("normlab_prepare_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  std::string write(const std::string& name, const std::string& text) {
    const auto p = (dir / name).string();
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  // 300 short sentences, three per document; documents alternate the two separator styles.
  static std::string corpus() {
    const char* subj[] = {"The cat",     "A dog",        "My friend",
                          "The old man", "Your teacher", "Every child"};
    const char* verb[] = {"likes", "sees", "wants", "finds", "remembers"};
    const char* obj[] = {"the red ball.",        "a quiet garden.",      "fresh bread!",
                         "the long river?",      "some warm soup.",      "every bright morning.",
                         "the café by the sea.", "a strange, old book;", "two green apples.",
                         "the naïve answer."};
    std::string s;
    for (int i = 0; i < 300; ++i) {
      s += std::string(subj[i % 6]) + " " + verb[(i / 6) % 5] + " " + obj[(i * 7) % 10];
      if (i % 3 == 2)
        s += (i % 2) ? "\n%\n" : "\n\n";
      else
        s += "\n";
    }
    return s;
  }
  template <typename F>
  static std::string error_of(F&& f) {
    try {
      f();
    } catch (const UserError& e) {
      return e.what();
    }
    return "(no error)";
  }
};

TEST_F(PrepareTest, SmallCorpus) {
  normlab::PrepareOptions o;
  o.inputs = {write("a.txt", corpus())};
  o.out_dir = (dir / "out").string();
  o.vocab_size = 400;
  o.valid_fraction = 0.1;
  normlab::prepare_corpus(o);
  for (const char* f : {"tokenizer.model", "train.bin", "valid.bin", "meta.json"})
    EXPECT_TRUE(fs::exists(dir / "out" / f)) << f;
  for (const auto& e : fs::directory_iterator(dir / "out"))
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();

  normlab::Tokenizer tok((dir / "out" / "tokenizer.model").string());
  EXPECT_EQ(tok.vocab_size(), 400);
  EXPECT_EQ(tok.eos_id(), 2);
  // Exact round trip, including layout, characters outside the training text and newlines.
  for (std::string s : {"The cat likes fresh bread!", "  indented\n\tand tabbed  line",
                        "naïve café, 東京 and 😀", "My friend sees the long river?"}) {
    auto ids = tok.encode(s);
    EXPECT_EQ(tok.decode(ids), s);
    std::string streamed;
    for (int32_t id : ids) streamed += tok.piece_text(id);
    EXPECT_EQ(streamed.substr(1), s);  // piece_text keeps the dummy-prefix space
  }
  // Frequent words compress well below one token per character.
  EXPECT_LT(tok.encode("The cat likes the red ball.").size(), 15u);

  auto train = normlab::read_token_file((dir / "out" / "train.bin").string());
  auto valid = normlab::read_token_file((dir / "out" / "valid.bin").string());
  EXPECT_EQ(train.vocab_size, 400u);
  EXPECT_EQ(train.tokenizer_identity, tok.identity());
  EXPECT_EQ(valid.tokenizer_identity, tok.identity());

  std::ifstream in(dir / "out" / "meta.json");
  auto meta = nlohmann::json::parse(in);
  const size_t n_train = meta["train"]["documents"], n_valid = meta["valid"]["documents"];
  EXPECT_EQ(n_train + n_valid, 100u);
  EXPECT_GE(n_valid, 1u);
  EXPECT_LT(n_valid, 30u);
  EXPECT_EQ(meta["tokenizer_identity"], tok.identity());
  EXPECT_EQ(meta["train"]["tokens"], train.tokens.size());
  EXPECT_EQ(meta["valid"]["tokens"], valid.tokens.size());
  // One EOS per document; the stream ends with one.
  EXPECT_EQ(static_cast<size_t>(std::count(train.tokens.begin(), train.tokens.end(), 2)), n_train);
  EXPECT_EQ(train.tokens.back(), 2);
  // ~9 KB of text: a few thousand tokens in all, split roughly by document share.
  const size_t total = train.tokens.size() + valid.tokens.size();
  EXPECT_GT(total, 1000u);
  EXPECT_LT(total, 9000u);
  EXPECT_GT(train.tokens.size(), 3 * valid.tokens.size());

  // Decoding a document recovers its text (the first document, unless it went to valid).
  auto eos = std::find(train.tokens.begin(), train.tokens.end(), 2);
  std::string first = tok.decode(std::vector<int32_t>(train.tokens.begin(), eos));
  EXPECT_NE(first.find('\n'), std::string::npos);
  EXPECT_NE(corpus().find(first), std::string::npos) << first;

  // Same inputs and seed: same files, byte for byte.
  o.out_dir = (dir / "out2").string();
  normlab::prepare_corpus(o);
  auto train2 = normlab::read_token_file((dir / "out2" / "train.bin").string());
  EXPECT_EQ(train2.tokens, train.tokens);
  EXPECT_EQ(train2.tokenizer_identity, train.tokenizer_identity);
}

TEST_F(PrepareTest, EmptyCorpus) {
  normlab::PrepareOptions o;
  o.inputs = {write("empty.txt", ""), write("blank.txt", "  \n%\n\t\n")};
  o.out_dir = (dir / "out").string();
  std::string msg = error_of([&] { normlab::prepare_corpus(o); });
  EXPECT_EQ(msg.rfind(o.inputs[0] + ", " + o.inputs[1] + ": ", 0), 0u) << msg;
  EXPECT_FALSE(fs::exists(dir / "out" / "train.bin"));
}

TEST_F(PrepareTest, MissingFile) {
  normlab::PrepareOptions o;
  const auto missing = (dir / "missing.txt").string();
  o.inputs = {write("a.txt", corpus()), missing};
  o.out_dir = (dir / "out").string();
  std::string msg = error_of([&] { normlab::prepare_corpus(o); });
  EXPECT_EQ(msg, missing + ": no such file");
}

TEST_F(PrepareTest, InvalidUtf8NamesFileAndOffset) {
  normlab::PrepareOptions o;
  o.inputs = {write("a.txt", corpus()), write("bad.txt", "fine\nbad \xC0\xAF here\n")};
  o.out_dir = (dir / "out").string();
  std::string msg = error_of([&] { normlab::prepare_corpus(o); });
  EXPECT_EQ(msg.rfind(o.inputs[1] + ": invalid UTF-8 at byte 9", 0), 0u) << msg;
}

TEST_F(PrepareTest, VocabTooLarge) {
  normlab::PrepareOptions o;
  o.inputs = {write("a.txt", corpus())};
  o.out_dir = (dir / "out").string();
  o.vocab_size = 20000;
  std::string msg = error_of([&] { normlab::prepare_corpus(o); });
  EXPECT_EQ(msg.rfind(o.inputs[0] + ": vocab_size 20000 is too large", 0), 0u) << msg;
  EXPECT_NE(msg.find("at most"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(dir / "out" / "tokenizer.model"));
  if (fs::exists(dir / "out")) {
    EXPECT_TRUE(fs::is_empty(dir / "out"));
  }
  o.vocab_size = 270;  // fewer than 259 + the corpus's distinct characters
  msg = error_of([&] { normlab::prepare_corpus(o); });
  EXPECT_NE(msg.find("vocab_size 270 is too small"), std::string::npos) << msg;
  std::printf("%s\n", msg.c_str());
  o.vocab_size = 100;
  msg = error_of([&] { normlab::prepare_corpus(o); });
  EXPECT_NE(msg.find("vocab_size 100 is too small"), std::string::npos) << msg;
}

TEST_F(PrepareTest, Unigram) {
  normlab::PrepareOptions o;
  o.inputs = {write("a.txt", corpus())};
  o.out_dir = (dir / "out").string();
  o.vocab_size = 320;
  o.model_type = "unigram";
  normlab::prepare_corpus(o);
  normlab::Tokenizer tok((dir / "out" / "tokenizer.model").string());
  EXPECT_EQ(tok.vocab_size(), 320);
  const std::string s = "Every child finds the naïve answer.\n  -- 😀";
  EXPECT_EQ(tok.decode(tok.encode(s)), s);
}

TEST(DefaultCorpus, FortunesSorted) {
  std::vector<std::string> files;
  try {
    files = normlab::default_corpus_files();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("apt-get install fortunes"), std::string::npos);
    GTEST_SKIP() << "fortunes not installed";
  }
  ASSERT_FALSE(files.empty());
  EXPECT_TRUE(std::is_sorted(files.begin(), files.end()));
  for (const auto& f : files) EXPECT_EQ(f.substr(f.size() - 3), ".u8");
}

}  // namespace
