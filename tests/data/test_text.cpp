// UTF-8 validation, document splitting and the train/valid assignment.
#include <gtest/gtest.h>

#include "core/utf8.hpp"
#include "data/prepare.hpp"

using normlab::find_invalid_utf8;
using normlab::split_documents;

namespace {

constexpr size_t kOk = std::string_view::npos;

TEST(Utf8, ValidMultiByte) {
  EXPECT_EQ(find_invalid_utf8(""), kOk);
  EXPECT_EQ(find_invalid_utf8("plain ascii\n"), kOk);
  EXPECT_EQ(find_invalid_utf8("caf\xC3\xA9"), kOk);  // U+00E9
  EXPECT_EQ(find_invalid_utf8("\xE2\x82\xAC \xE0\xA0\x80 \xED\x9F\xBF"),
            kOk);                                                          // U+20AC U+0800 U+D7FF
  EXPECT_EQ(find_invalid_utf8("\xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF"), kOk);  // U+1F600 U+10FFFF
}

TEST(Utf8, InvalidContinuation) {
  const char* why = nullptr;
  EXPECT_EQ(find_invalid_utf8("ab\xC3(", &why), 2u);
  EXPECT_STREQ(why, "invalid continuation byte");
  EXPECT_EQ(find_invalid_utf8("abc\x80", &why), 3u);
  EXPECT_STREQ(why, "unexpected continuation byte");
  EXPECT_EQ(find_invalid_utf8("\xE2\x82(", &why), 0u);
  EXPECT_EQ(find_invalid_utf8("x\xFF", &why), 1u);
}

TEST(Utf8, OverlongAndSurrogates) {
  const char* why = nullptr;
  EXPECT_EQ(find_invalid_utf8("a\xC0\xAF", &why), 1u);  // overlong '/'
  EXPECT_STREQ(why, "overlong encoding");
  EXPECT_EQ(find_invalid_utf8("\xE0\x80\xAF", &why), 0u);
  EXPECT_STREQ(why, "overlong encoding");
  EXPECT_EQ(find_invalid_utf8("\xF0\x80\x80\xAF", &why), 0u);
  EXPECT_STREQ(why, "overlong encoding");
  EXPECT_EQ(find_invalid_utf8("ok \xED\xA0\x80", &why), 3u);  // U+D800
  EXPECT_STREQ(why, "UTF-16 surrogate");
  EXPECT_EQ(find_invalid_utf8("\xF4\x90\x80\x80", &why), 0u);  // U+110000
}

TEST(Utf8, TruncatedAtEof) {
  const char* why = nullptr;
  EXPECT_EQ(find_invalid_utf8("abc\xE2\x82", &why), 3u);
  EXPECT_STREQ(why, "sequence truncated at end of file");
  EXPECT_EQ(find_invalid_utf8("\xF0\x9F\x98", &why), 0u);
  EXPECT_EQ(find_invalid_utf8("z\xC3", &why), 1u);
}

TEST(Documents, Split) {
  const std::string text =
      "First fortune,\r\n  indented line.\n%\nSecond.\n\n \t\nThird\n%  \n%\nFourth.";
  auto docs = split_documents(text);
  ASSERT_EQ(docs.size(), 4u);
  EXPECT_EQ(docs[0], "First fortune,\n  indented line.");
  EXPECT_EQ(docs[1], "Second.");
  EXPECT_EQ(docs[2], "Third");
  EXPECT_EQ(docs[3], "Fourth.");
  EXPECT_TRUE(split_documents("\n%\n  \n%").empty());
  EXPECT_EQ(split_documents("100%\n"), std::vector<std::string>{"100%"});
}

TEST(Documents, ValidationAssignment) {
  auto a = normlab::assign_validation(1, 10000, 0.05);
  EXPECT_EQ(a, normlab::assign_validation(1, 10000, 0.05));
  EXPECT_NE(a, normlab::assign_validation(2, 10000, 0.05));
  size_t n_valid = 0;
  for (bool v : a) n_valid += v;
  EXPECT_GT(n_valid, 400u);
  EXPECT_LT(n_valid, 600u);
  // Both sides are non-empty whenever there are two documents.
  for (double f : {0.0, 1.0}) {
    auto b = normlab::assign_validation(3, 2, f);
    EXPECT_NE(b[0], b[1]);
  }
  EXPECT_EQ(normlab::assign_validation(3, 1, 0.5).size(), 1u);
}

}  // namespace
