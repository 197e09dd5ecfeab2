#include "data/tokenizer.hpp"

#include <sentencepiece_processor.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/config.hpp"

namespace normlab {

namespace {

// Two hex digits of a byte piece "<0xNN>" -> the byte, or -1 if `p` is not one.
int byte_piece_value(const std::string& p) {
  if (p.size() != 6 || p.compare(0, 3, "<0x") != 0 || p[5] != '>') return -1;
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  int hi = hex(p[3]), lo = hex(p[4]);
  return (hi < 0 || lo < 0) ? -1 : hi * 16 + lo;
}

}  // namespace

std::string file_identity(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(path + ": cannot open file");
  // FNV-1a 64 (Fowler, Noll, Vo): h = (h ^ byte) * 0x100000001b3, from offset basis 0xcbf2...2325.
  uint64_t h = 0xcbf29ce484222325ull;
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    std::streamsize got = in.gcount();
    for (std::streamsize i = 0; i < got; ++i) {
      h ^= static_cast<unsigned char>(buf[static_cast<size_t>(i)]);
      h *= 0x100000001b3ull;
    }
  }
  if (in.bad()) throw UserError(path + ": read error");
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return std::string(out, 16);
}

Tokenizer::Tokenizer(const std::string& model_path)
    : sp_(std::make_unique<sentencepiece::SentencePieceProcessor>()), path_(model_path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(model_path, ec))
    throw UserError(model_path + ": tokenizer model not found");
  auto status = sp_->Load(model_path);
  if (!status.ok())
    throw UserError(model_path + ": not a SentencePiece model (" + status.ToString() + ")");
  identity_ = file_identity(model_path);
}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

std::vector<int32_t> Tokenizer::encode(const std::string& text) const {
  std::vector<int> ids;
  auto status = sp_->Encode(text, &ids);
  if (!status.ok()) throw UserError(path_ + ": encode failed (" + status.ToString() + ")");
  return std::vector<int32_t>(ids.begin(), ids.end());
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  const int n = vocab_size();
  for (int32_t id : ids)
    if (id < 0 || id >= n)
      throw UserError(path_ + ": token id " + std::to_string(id) + " outside vocabulary of " +
                      std::to_string(n));
  std::vector<int> v(ids.begin(), ids.end());
  std::string text;
  auto status = sp_->Decode(v, &text);
  if (!status.ok()) throw UserError(path_ + ": decode failed (" + status.ToString() + ")");
  return text;
}

std::string Tokenizer::piece(int32_t id) const {
  if (id < 0 || id >= vocab_size())
    throw UserError(path_ + ": token id " + std::to_string(id) + " outside vocabulary of " +
                    std::to_string(vocab_size()));
  return sp_->IdToPiece(id);
}

std::string Tokenizer::piece_text(int32_t id) const {
  const std::string p = piece(id);
  if (sp_->IsControl(id)) return "";
  if (sp_->IsUnknown(id)) return " \xE2\x81\x87 ";  // what SentencePiece's decoder prints
  if (sp_->IsByte(id)) {
    int b = byte_piece_value(p);
    return b < 0 ? std::string() : std::string(1, static_cast<char>(b));
  }
  // U+2581 (LOWER ONE EIGHTH BLOCK, bytes E2 96 81) is SentencePiece's visible space.
  static const std::string kSpace = "\xE2\x96\x81";
  std::string out;
  out.reserve(p.size());
  for (size_t i = 0; i < p.size();) {
    if (p.compare(i, kSpace.size(), kSpace) == 0) {
      out += ' ';
      i += kSpace.size();
    } else {
      out += p[i++];
    }
  }
  return out;
}

int Tokenizer::vocab_size() const {
  return sp_->GetPieceSize();
}

int Tokenizer::eos_id() const {
  return sp_->eos_id();
}

}  // namespace normlab
