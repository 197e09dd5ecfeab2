#include "data/token_file.hpp"

#include <unistd.h>

#include <bit>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/config.hpp"

namespace normlab {

namespace {

constexpr char kMagic[8] = {'N', 'L', 'T', 'O', 'K', 'E', 'N', 'S'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 64;
// Header layout (all integers little-endian), see docs/token-file.md.
constexpr size_t kOffVersion = 8, kOffVocab = 12, kOffCount = 16, kOffIdentity = 24,
                 kOffReserved = 40;
static_assert(kOffReserved + 24 == kHeaderBytes);

template <typename T>
void put_le(unsigned char* dst, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) dst[i] = static_cast<unsigned char>(v >> (8 * i));
}

template <typename T>
T get_le(const unsigned char* src) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(src[i]) << (8 * i);
  return v;
}

bool is_hex16(const std::string& s) {
  if (s.size() != 16) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  return true;
}

}  // namespace

void write_token_file(const std::string& path, const TokenFile& file) {
  if (!is_hex16(file.tokenizer_identity))
    throw UserError(path + ": tokenizer identity '" + file.tokenizer_identity +
                    "' is not 16 hex digits");
  for (size_t i = 0; i < file.tokens.size(); ++i) {
    int32_t id = file.tokens[i];
    if (id < 0 || static_cast<uint32_t>(id) >= file.vocab_size)
      throw UserError(path + ": token " + std::to_string(id) + " at index " + std::to_string(i) +
                      " is outside vocab_size " + std::to_string(file.vocab_size));
  }

  unsigned char header[kHeaderBytes] = {};
  std::memcpy(header, kMagic, sizeof kMagic);
  put_le<uint32_t>(header + kOffVersion, kVersion);
  put_le<uint32_t>(header + kOffVocab, file.vocab_size);
  put_le<uint64_t>(header + kOffCount, static_cast<uint64_t>(file.tokens.size()));
  std::memcpy(header + kOffIdentity, file.tokenizer_identity.data(), 16);

  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw UserError(path + ": cannot create " + tmp);
    out.write(reinterpret_cast<const char*>(header), kHeaderBytes);
    if constexpr (std::endian::native == std::endian::little) {
      out.write(reinterpret_cast<const char*>(file.tokens.data()),
                static_cast<std::streamsize>(file.tokens.size() * sizeof(int32_t)));
    } else {
      std::vector<unsigned char> buf(file.tokens.size() * 4);
      for (size_t i = 0; i < file.tokens.size(); ++i)
        put_le<uint32_t>(buf.data() + 4 * i, static_cast<uint32_t>(file.tokens[i]));
      out.write(reinterpret_cast<const char*>(buf.data()),
                static_cast<std::streamsize>(buf.size()));
    }
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw UserError(path + ": write failed (disk full?)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw UserError(path + ": cannot rename temporary file: " + ec.message());
  }
}

TokenFile read_token_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw UserError(path + ": token file not found");
  if (std::filesystem::is_directory(path, ec)) throw UserError(path + ": is a directory");
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) throw UserError(path + ": cannot stat: " + ec.message());
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(path + ": cannot open");

  if (size < kHeaderBytes)
    throw UserError(path + ": truncated: " + std::to_string(size) +
                    " bytes, shorter than the 64-byte header");
  unsigned char header[kHeaderBytes];
  in.read(reinterpret_cast<char*>(header), kHeaderBytes);
  if (!in) throw UserError(path + ": read error in header");
  if (std::memcmp(header, kMagic, sizeof kMagic) != 0)
    throw UserError(path + ": not a normlab token file (bad magic, expected \"NLTOKENS\")");
  const uint32_t version = get_le<uint32_t>(header + kOffVersion);
  if (version != kVersion)
    throw UserError(path + ": unsupported token file version " + std::to_string(version) +
                    " (this build reads version " + std::to_string(kVersion) + ")");

  TokenFile file;
  file.vocab_size = get_le<uint32_t>(header + kOffVocab);
  const uint64_t n = get_le<uint64_t>(header + kOffCount);
  file.tokenizer_identity.assign(reinterpret_cast<const char*>(header + kOffIdentity), 16);
  if (!is_hex16(file.tokenizer_identity))
    throw UserError(path + ": corrupt header: tokenizer identity is not 16 hex digits");

  const uint64_t payload = size - kHeaderBytes;
  const uint64_t held = payload / 4, extra = payload % 4;
  if (held != n || extra != 0) {
    std::string what = held < n ? "truncated" : "size mismatch";
    std::string msg = path + ": " + what + ": header says " + std::to_string(n) +
                      " tokens, file holds " + std::to_string(held);
    if (extra != 0) msg += " and " + std::to_string(extra) + " stray bytes";
    throw UserError(msg);
  }

  file.tokens.resize(n);
  in.read(reinterpret_cast<char*>(file.tokens.data()), static_cast<std::streamsize>(n * 4));
  if (!in) throw UserError(path + ": read error in token data");
  if constexpr (std::endian::native != std::endian::little) {
    for (auto& t : file.tokens)
      t = static_cast<int32_t>(get_le<uint32_t>(reinterpret_cast<const unsigned char*>(&t)));
  }
  for (uint64_t i = 0; i < n; ++i) {
    const int32_t id = file.tokens[i];
    if (id < 0 || static_cast<uint32_t>(id) >= file.vocab_size)
      throw UserError(path + ": corrupt: token " + std::to_string(id) + " at index " +
                      std::to_string(i) + " is outside vocab_size " +
                      std::to_string(file.vocab_size));
  }
  return file;
}

}  // namespace normlab
