#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/config.hpp"
#include "data/token_file.hpp"

namespace fs = std::filesystem;
using normlab::TokenFile;
using normlab::UserError;

namespace {

struct TokenFileTest : ::testing::Test {
  fs::path dir;
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("normlab_tokfile_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  static TokenFile sample() {
    TokenFile f;
    f.vocab_size = 1000;
    f.tokenizer_identity = "0123456789abcdef";
    for (int i = 0; i < 1000; ++i) f.tokens.push_back((i * 37) % 1000);
    return f;
  }
  static std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  static void dump(const fs::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  // Expects read_token_file to throw a UserError starting with the path and containing `what`.
  static void expect_error(const fs::path& p, const std::string& what) {
    try {
      normlab::read_token_file(p.string());
      FAIL() << "no error for " << p;
    } catch (const UserError& e) {
      std::string msg = e.what();
      EXPECT_EQ(msg.rfind(p.string() + ": ", 0), 0u) << msg;
      EXPECT_NE(msg.find(what), std::string::npos) << msg;
    }
  }
};

TEST_F(TokenFileTest, RoundTrip) {
  const auto path = (dir / "a.bin").string();
  TokenFile f = sample();
  normlab::write_token_file(path, f);
  EXPECT_EQ(fs::file_size(path), 64u + 4u * 1000u);
  TokenFile g = normlab::read_token_file(path);
  EXPECT_EQ(g.vocab_size, f.vocab_size);
  EXPECT_EQ(g.tokenizer_identity, f.tokenizer_identity);
  EXPECT_EQ(g.tokens, f.tokens);
  // No temporary left behind.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST_F(TokenFileTest, HeaderLayout) {
  const auto path = dir / "h.bin";
  TokenFile f = sample();
  f.tokens = {7, 258};
  normlab::write_token_file(path.string(), f);
  const std::string b = slurp(path);
  ASSERT_EQ(b.size(), 72u);
  EXPECT_EQ(b.substr(0, 8), "NLTOKENS");
  EXPECT_EQ(static_cast<unsigned char>(b[8]), 1u);                    // version, LE
  EXPECT_EQ(static_cast<unsigned char>(b[12]) | (b[13] << 8), 1000);  // vocab_size
  EXPECT_EQ(static_cast<unsigned char>(b[16]), 2u);                   // n_tokens
  EXPECT_EQ(b.substr(24, 16), "0123456789abcdef");
  EXPECT_EQ(b.substr(40, 24), std::string(24, '\0'));
  EXPECT_EQ(static_cast<unsigned char>(b[64]), 7u);
  EXPECT_EQ(static_cast<unsigned char>(b[68]), 2u);  // 258 = 0x0102 little-endian
  EXPECT_EQ(static_cast<unsigned char>(b[69]), 1u);
}

TEST_F(TokenFileTest, EmptyStreamRoundTrips) {
  const auto path = (dir / "e.bin").string();
  TokenFile f = sample();
  f.tokens.clear();
  normlab::write_token_file(path, f);
  EXPECT_TRUE(normlab::read_token_file(path).tokens.empty());
}

TEST_F(TokenFileTest, Truncated) {
  const auto path = dir / "t.bin";
  normlab::write_token_file(path.string(), sample());
  std::string b = slurp(path);
  dump(path, b.substr(0, b.size() - 8));
  expect_error(path, "truncated: header says 1000 tokens, file holds 998");
  dump(path, b.substr(0, b.size() - 1));
  expect_error(path, "truncated");
  dump(path, b.substr(0, 30));
  expect_error(path, "truncated");
  dump(path, b + "xxxx");
  expect_error(path, "header says 1000 tokens, file holds 1001");
}

TEST_F(TokenFileTest, BadMagicAndVersion) {
  const auto path = dir / "m.bin";
  normlab::write_token_file(path.string(), sample());
  std::string b = slurp(path);
  std::string bad = b;
  bad[0] = 'X';
  dump(path, bad);
  expect_error(path, "bad magic");
  bad = b;
  bad[8] = 2;
  dump(path, bad);
  expect_error(path, "version 2");
}

TEST_F(TokenFileTest, IdOutOfRange) {
  const auto path = dir / "r.bin";
  normlab::write_token_file(path.string(), sample());
  std::string b = slurp(path);
  const int32_t big = 1000, neg = -5;
  std::memcpy(b.data() + 64 + 4 * 10, &big, 4);
  dump(path, b);
  expect_error(path, "token 1000 at index 10");
  std::memcpy(b.data() + 64 + 4 * 10, &neg, 4);
  dump(path, b);
  expect_error(path, "token -5 at index 10");
}

TEST_F(TokenFileTest, MissingFile) {
  expect_error(dir / "nope.bin", "not found");
}

TEST_F(TokenFileTest, WriteRejectsOutOfRangeIds) {
  TokenFile f = sample();
  f.tokens.push_back(1000);
  EXPECT_THROW(normlab::write_token_file((dir / "w.bin").string(), f), UserError);
  EXPECT_FALSE(fs::exists(dir / "w.bin"));
}

}  // namespace
