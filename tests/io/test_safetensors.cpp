#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/config.hpp"
#include "io/safetensors.hpp"

namespace fs = std::filesystem;
using namespace normlab;

namespace {

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("normlab_st_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // A file with an arbitrary header and data section, for corruption cases.
  std::string raw(const std::string& header, size_t data_bytes, const std::string& name = "x.st") {
    std::string p = path(name);
    std::ofstream out(p, std::ios::binary);
    uint64_t n = header.size();
    out.write(reinterpret_cast<const char*>(&n), 8);
    out << header << std::string(data_bytes, '\0');
    return p;
  }

  // Expects read_safetensors to throw a UserError naming the path and containing `phrase`.
  void expect_error(const std::string& p, const std::string& phrase) {
    try {
      read_safetensors(p);
      FAIL() << "no error for " << phrase;
    } catch (const UserError& e) {
      std::string msg = e.what();
      EXPECT_EQ(msg.rfind(p + ": ", 0), 0u) << msg;
      EXPECT_NE(msg.find(phrase), std::string::npos) << msg;
    }
  }

  fs::path dir_;
};

TEST_F(SafetensorsTest, RoundTripF32AndMetadata) {
  SafeTensorsFile f;
  f.metadata["format"] = "pt";
  f.metadata["normlab.step"] = "42";
  const float a[6] = {1.5f, -2.0f, 0.0f, 3.25f, 1e-30f, -7.0f};
  const float b[3] = {9.0f, 8.0f, 7.0f};
  // Deliberately not in alphabetical order: the file must keep the given order.
  f.tensors.emplace_back("z.weight", make_f32_tensor(a, {2, 3}));
  f.tensors.emplace_back("a.bias", make_f32_tensor(b, {3}));
  f.tensors.emplace_back("scalar", make_f32_tensor(b, {}));
  f.tensors.emplace_back("empty", make_f32_tensor(nullptr, {0, 4}));
  std::string p = path("m.safetensors");
  write_safetensors(p, f);

  SafeTensorsFile g = read_safetensors(p);
  EXPECT_EQ(g.metadata, f.metadata);
  ASSERT_EQ(g.tensors.size(), 4u);
  EXPECT_EQ(g.tensors[0].first, "z.weight");
  EXPECT_EQ(g.tensors[1].first, "a.bias");
  EXPECT_EQ(g.tensors[2].first, "scalar");
  const SafeTensor* t = g.find("z.weight");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->dtype, "F32");
  EXPECT_EQ(t->shape, (std::vector<int64_t>{2, 3}));
  std::vector<float> v = t->to_f32();
  ASSERT_EQ(v.size(), 6u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(v[i], a[i]);
  EXPECT_EQ(g.find("scalar")->to_f32(), std::vector<float>{9.0f});
  EXPECT_TRUE(g.find("empty")->to_f32().empty());
  EXPECT_EQ(g.find("missing"), nullptr);

  // Layout: 8-byte length, header padded to a multiple of 8, then the data.
  std::ifstream in(p, std::ios::binary);
  uint64_t n = 0;
  in.read(reinterpret_cast<char*>(&n), 8);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(fs::file_size(p), 8 + n + (6 + 3 + 1) * 4);
  // No temp file is left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator{}), 1);
}

TEST_F(SafetensorsTest, OverwritesExistingFile) {
  const float a[2] = {1, 2};
  SafeTensorsFile f;
  f.tensors.emplace_back("w", make_f32_tensor(a, {2}));
  write_safetensors(path("m.st"), f);
  f.tensors[0].second = make_f32_tensor(a, {1});
  write_safetensors(path("m.st"), f);
  EXPECT_EQ(read_safetensors(path("m.st")).find("w")->shape, std::vector<int64_t>{1});
}

TEST_F(SafetensorsTest, Bf16ToF32) {
  // 1.0 = 0x3F80, -2.5 = 0xC020, 0.15625 = 0x3E20 in bfloat16.
  const uint16_t h[3] = {0x3F80, 0xC020, 0x3E20};
  std::string header = R"({"t":{"dtype":"BF16","shape":[3],"data_offsets":[0,6]}})";
  std::string p = raw(header, 0);
  {
    std::ofstream out(p, std::ios::binary | std::ios::app);
    out.write(reinterpret_cast<const char*>(h), 6);
  }
  SafeTensorsFile g = read_safetensors(p);
  EXPECT_EQ(g.find("t")->to_f32(), (std::vector<float>{1.0f, -2.5f, 0.15625f}));
}

TEST_F(SafetensorsTest, ToF32RejectsIntegers) {
  SafeTensor t;
  t.dtype = "I32";
  t.shape = {1};
  t.bytes.resize(4);
  EXPECT_THROW(t.to_f32(), UserError);
}

TEST_F(SafetensorsTest, FailedWriteLeavesNoTempFile) {
  SafeTensorsFile f;
  const float a[1] = {1};
  f.tensors.emplace_back("w", make_f32_tensor(a, {1}));
  std::string p = path("no_such_dir/m.safetensors");
  try {
    write_safetensors(p, f);
    FAIL() << "write into a missing directory succeeded";
  } catch (const UserError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(p + ": ", 0), 0u) << e.what();
  }
  EXPECT_FALSE(fs::exists(p));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator{}), 0);

  // Rename fails (target is a non-empty directory) after the temp file was written: it must
  // be removed again.
  fs::create_directories(path("taken/sub"));
  EXPECT_THROW(write_safetensors(path("taken"), f), UserError);
  for (const auto& e : fs::directory_iterator(dir_))
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
}

TEST_F(SafetensorsTest, MissingFile) {
  expect_error(path("absent.safetensors"), "no such file");
}

TEST_F(SafetensorsTest, ShorterThanEightBytes) {
  std::string p = path("short.st");
  std::ofstream(p, std::ios::binary) << "abc";
  expect_error(p, "shorter than the 8-byte header length");
}

TEST_F(SafetensorsTest, HeaderLengthLargerThanFile) {
  std::string p = path("big.st");
  {
    std::ofstream out(p, std::ios::binary);
    uint64_t n = 1000;
    out.write(reinterpret_cast<const char*>(&n), 8);
    out << "{}";
  }
  expect_error(p, "header length 1000 is larger than the 2 bytes");
}

TEST_F(SafetensorsTest, InvalidJson) {
  expect_error(raw("{\"a\": [1, }", 0), "not valid JSON");
}

TEST_F(SafetensorsTest, HeaderNotAnObject) {
  expect_error(raw("[1, 2]", 0), "not a JSON object");
}

TEST_F(SafetensorsTest, MissingFields) {
  expect_error(raw(R"({"w":{"shape":[1],"data_offsets":[0,4]}})", 4), "tensor 'w' has no 'dtype'");
  expect_error(raw(R"({"w":{"dtype":"F32","data_offsets":[0,4]}})", 4), "has no 'shape'");
  expect_error(raw(R"({"w":{"dtype":"F32","shape":[1]}})", 4), "has no 'data_offsets'");
}

TEST_F(SafetensorsTest, UnknownDtype) {
  expect_error(raw(R"({"w":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}})", 4),
               "unknown dtype 'F33'");
}

TEST_F(SafetensorsTest, BadOffsets) {
  expect_error(raw(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", 4), "out of range");
  expect_error(raw(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", 4),
               "'data_offsets' must be two non-negative integers");
  expect_error(raw(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4),
               "'data_offsets' must be two non-negative integers");
  expect_error(raw(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4),
               "'shape' has an entry that is not a non-negative integer");
}

TEST_F(SafetensorsTest, OffsetsNotMatchingShape) {
  expect_error(raw(R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})", 24),
               "span 20 bytes but F32 [2, 3] needs 24");
}

TEST_F(SafetensorsTest, Truncated) {
  std::string header =
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("blocks.0.attn.qkv.weight":{"dtype":"F32","shape":[1022],"data_offsets":[8,4096]}})";
  expect_error(raw(header, 2000, "model.safetensors"),
               "truncated: tensor 'blocks.0.attn.qkv.weight' ends at byte 4096 but the data "
               "section has 2000 bytes");
}

TEST_F(SafetensorsTest, TruncatedRealFile) {
  SafeTensorsFile f;
  std::vector<float> a(100, 1.0f);
  f.tensors.emplace_back("w", make_f32_tensor(a.data(), {10, 10}));
  std::string p = path("m.st");
  write_safetensors(p, f);
  fs::resize_file(p, fs::file_size(p) - 1);
  expect_error(p, "truncated: tensor 'w' ends at byte 400");
}

TEST_F(SafetensorsTest, Overlap) {
  std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                       R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
  expect_error(raw(header, 12), "overlap");
}

TEST_F(SafetensorsTest, BadMetadata) {
  expect_error(raw(R"({"__metadata__":{"step":3}})", 0), "__metadata__ value for 'step'");
}

// read_safetensors_metadata reads the header alone: a file whose tensors are damaged still gives
// its metadata, and a damaged header is the same error as for read_safetensors.
TEST_F(SafetensorsTest, MetadataAloneSkipsTheTensors) {
  SafeTensorsFile f;
  f.metadata["normlab.step"] = "7";
  f.metadata["normlab.matmul_precision"] = "fp32";
  std::vector<float> a(100, 1.0f);
  f.tensors.emplace_back("w", make_f32_tensor(a.data(), {10, 10}));
  const std::string p = path("m.st");
  write_safetensors(p, f);
  EXPECT_EQ(read_safetensors_metadata(p), f.metadata);
  fs::resize_file(p, fs::file_size(p) - 1);
  expect_error(p, "truncated: tensor 'w'");
  EXPECT_EQ(read_safetensors_metadata(p), f.metadata);

  const std::string no_data = raw(R"({"__metadata__":{"k":"v"},)"
                                  R"("w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                                  0, "no_data.st");
  expect_error(no_data, "truncated");
  EXPECT_EQ(read_safetensors_metadata(no_data), (std::map<std::string, std::string>{{"k", "v"}}));
  EXPECT_TRUE(read_safetensors_metadata(raw("{}", 0, "empty.st")).empty());
}

TEST_F(SafetensorsTest, MetadataAloneChecksTheHeader) {
  std::string short_file = path("short.st");
  std::ofstream(short_file, std::ios::binary) << "abc";
  const std::pair<std::string, std::string> cases[] = {
      {path("absent.st"), "no such file"},
      {short_file, "shorter than the 8-byte header length"},
      {raw("{\"a\": [1, }", 0, "json.st"), "not valid JSON"},
      {raw("[1, 2]", 0, "array.st"), "not a JSON object"},
      {raw(R"({"__metadata__":[1]})", 0, "list.st"), "__metadata__ is not a JSON object"},
      {raw(R"({"__metadata__":{"step":3}})", 0, "number.st"), "__metadata__ value for 'step'"},
  };
  for (const auto& [p, phrase] : cases) {
    expect_error(p, phrase);
    try {
      read_safetensors_metadata(p);
      ADD_FAILURE() << "no error for " << phrase;
    } catch (const UserError& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind(p + ": ", 0), 0u) << msg;
      EXPECT_NE(msg.find(phrase), std::string::npos) << msg;
    }
  }
}

TEST_F(SafetensorsTest, FileOrderFollowsOffsets) {
  std::string header = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},)"
                       R"("b":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}})";
  SafeTensorsFile g = read_safetensors(raw(header, 8));
  ASSERT_EQ(g.tensors.size(), 2u);
  EXPECT_EQ(g.tensors[0].first, "b");
  EXPECT_EQ(g.tensors[1].first, "a");
}

TEST_F(SafetensorsTest, NumberBeyondDoubleRange) {
  // Valid JSON syntax, but 1e999 overflows a double: nlohmann throws out_of_range, which used to
  // escape as "internal error: number overflow".
  expect_error(raw(R"({"w":{"dtype":"F32","shape":[1e999],"data_offsets":[0,4]}})", 4),
               "header has a number that does not fit a double: number overflow parsing '1e999'");
}

TEST_F(SafetensorsTest, HeaderLengthBeyondFormatLimit) {
  // Rejected from the 8-byte prefix alone, before the header is allocated.
  std::string p = path("huge.st");
  {
    std::ofstream out(p, std::ios::binary);
    uint64_t n = uint64_t{1} << 62;
    out.write(reinterpret_cast<const char*>(&n), 8);
    out << "{}";
  }
  expect_error(p, "header length 4611686018427387904 is larger than the format's limit");
}

TEST_F(SafetensorsTest, AbsurdSizesRejectedBeforeAllocating) {
  // 2^60 floats (4 EiB) that the file does not hold: an error, not std::bad_alloc.
  expect_error(raw(R"({"w":{"dtype":"F32","shape":[1152921504606846976],)"
                   R"("data_offsets":[0,4611686018427387904]}})",
                   8),
               "truncated: tensor 'w' ends at byte 4611686018427387904");
  // A shape whose byte size overflows int64.
  expect_error(
      raw(R"({"w":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8),
      "shape [4294967296, 4294967296] is too large");
}

TEST_F(SafetensorsTest, NamesFromTheFileStayOnOneLine) {
  // A JSON-escaped newline or escape byte in a tensor name must not split or colour the message.
  expect_error(raw(R"({"a\nb\u001b":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}})", 4),
               R"(tensor 'a\nb\x1b' has unknown dtype 'F33')");
}

TEST_F(SafetensorsTest, MetadataCount) {
  SafeTensorsFile f;
  f.metadata["normlab.step"] = "42";
  EXPECT_EQ(metadata_count(f.metadata, "normlab.step", "m.st"), 42);
  EXPECT_EQ(metadata_count(f.metadata, "absent", "m.st"), std::nullopt);
  for (const char* bad : {"12x", "-1", "", " 3", "99999999999999999999", "4.0"}) {
    f.metadata["normlab.step"] = bad;
    try {
      metadata_count(f.metadata, "normlab.step", "m.st");
      FAIL() << "accepted '" << bad << "'";
    } catch (const UserError& e) {
      EXPECT_EQ(std::string(e.what()), "m.st: metadata 'normlab.step' is '" + std::string(bad) +
                                           "', expected a non-negative integer");
    }
  }
}

TEST_F(SafetensorsTest, ManyTensorsRoundTrip) {
  // 200k tensors: writing (the header), reading and finding each by name are linear. With the
  // former quadratic header assembly and name lookup this took many minutes (ctest timeout).
  constexpr int kTensors = 200000;
  SafeTensorsFile f;
  for (int i = 0; i < kTensors; ++i) {
    const float v = static_cast<float>(i);
    f.tensors.emplace_back("blocks." + std::to_string(i) + ".w", make_f32_tensor(&v, {1}));
  }
  write_safetensors(path("many.st"), f);
  const SafeTensorsFile g = read_safetensors(path("many.st"));
  ASSERT_EQ(g.tensors.size(), static_cast<size_t>(kTensors));
  for (int i = 0; i < kTensors; ++i) {
    const SafeTensor* t = g.find("blocks." + std::to_string(i) + ".w");
    ASSERT_NE(t, nullptr) << i;
    ASSERT_EQ(t->to_f32(), std::vector<float>{static_cast<float>(i)});
  }
  // Out of order and absent names are still found (or not) correctly.
  EXPECT_EQ(g.find("blocks.7.w")->to_f32(), std::vector<float>{7.0f});
  EXPECT_EQ(g.find("blocks.199999.w")->to_f32(), std::vector<float>{199999.0f});
  EXPECT_EQ(g.find("blocks.200000.w"), nullptr);
}

}  // namespace
