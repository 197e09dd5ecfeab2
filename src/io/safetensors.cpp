#include "io/safetensors.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "core/config.hpp"
#include "core/message_text.hpp"

namespace normlab {

// The format is little-endian on disk; we copy bytes straight into host floats.
static_assert(std::endian::native == std::endian::little, "safetensors IO assumes little-endian");

namespace {

// Element sizes of the dtypes defined by the safetensors specification
// (huggingface/safetensors, `Dtype`); anything else is rejected when reading.
int64_t dtype_size(const std::string& dtype) {
  static const std::pair<const char*, int64_t> kSizes[] = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1},
      {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},
      {"U32", 4},  {"F32", 4}, {"F64", 8}, {"I64", 8},     {"U64", 8}};
  for (const auto& [name, size] : kSizes)
    if (dtype == name) return size;
  return 0;
}

// Product of the shape times the element size; false on a negative dimension or overflow.
bool byte_size(const std::vector<int64_t>& shape, int64_t elem, int64_t* out) {
  int64_t n = elem;
  for (int64_t d : shape) {
    if (d < 0 || __builtin_mul_overflow(n, d, &n)) return false;
  }
  *out = n;
  return true;
}

// The header length the reference implementation accepts at most (huggingface/safetensors,
// MAX_HEADER_SIZE = 100'000'000): a larger one is corrupt, and is rejected before allocating.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

// nlohmann's message without its "[json.exception.out_of_range.406] " prefix.
std::string json_problem(const nlohmann::json::exception& e) {
  const std::string what = e.what();
  const size_t end = what.find("] ");
  return end == std::string::npos ? what : what.substr(end + 2);
}

std::string errno_text() {
  return std::strerror(errno);
}

// Writes all of [data, data+n), retrying short writes and EINTR.
bool write_all(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Index of the first NaN or Inf of an F32 or BF16 tensor, or -1. Every tensor normlab reads is
// model or optimizer state, where a non-finite value is always damage (a diverged or corrupted
// file), never data: found here, it is named before anything computes with it.
int64_t first_non_finite(const SafeTensor& t) {
  // The exponent bits all set means NaN or Inf, in binary32 and in bfloat16 alike.
  if (t.dtype == "F32") {
    for (size_t i = 0; i + 4 <= t.bytes.size(); i += 4) {
      uint32_t u;
      std::memcpy(&u, t.bytes.data() + i, 4);
      if ((u & 0x7f800000u) == 0x7f800000u) return static_cast<int64_t>(i / 4);
    }
  } else if (t.dtype == "BF16") {
    for (size_t i = 0; i + 2 <= t.bytes.size(); i += 2) {
      uint16_t h;
      std::memcpy(&h, t.bytes.data() + i, 2);
      if ((h & 0x7f80u) == 0x7f80u) return static_cast<int64_t>(i / 2);
    }
  }
  return -1;
}

}  // namespace

std::vector<float> SafeTensor::to_f32(const std::string& where) const {
  int64_t numel = 0;
  const int64_t elem = dtype_size(dtype);
  if (elem == 0 || !byte_size(shape, 1, &numel) ||
      numel * elem != static_cast<int64_t>(bytes.size()))
    throw UserError(where + ": dtype " + quote(dtype) + " and shape " + shape_string(shape) +
                    " has " + std::to_string(bytes.size()) + " bytes of data");
  std::vector<float> out(static_cast<size_t>(numel));
  if (dtype == "F32") {
    if (numel > 0) std::memcpy(out.data(), bytes.data(), bytes.size());
  } else if (dtype == "BF16") {
    // bfloat16 is the upper half of an IEEE binary32, so widening is a 16-bit shift.
    for (int64_t i = 0; i < numel; ++i) {
      uint16_t h;
      std::memcpy(&h, bytes.data() + 2 * i, 2);
      out[static_cast<size_t>(i)] = std::bit_cast<float>(static_cast<uint32_t>(h) << 16);
    }
  } else {
    throw UserError(where + ": dtype " + quote(dtype) +
                    " cannot be read as F32 (expected F32 or BF16)");
  }
  return out;
}

const SafeTensor* SafeTensorsFile::find(const std::string& name) const {
  // Scan from just after the previous hit, wrapping around: loaders ask for the tensors in file
  // order (or a subsequence of it), so each lookup is O(1) and a load is linear in the number of
  // tensors, not quadratic.
  const size_t n = tensors.size();
  for (size_t k = 0; k < n; ++k) {
    const size_t i = (find_hint_ + k) % n;
    if (tensors[i].first == name) {
      find_hint_ = i + 1;
      return &tensors[i].second;
    }
  }
  return nullptr;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::optional<int64_t> metadata_count(const std::map<std::string, std::string>& metadata,
                                      const std::string& key, const std::string& path) {
  const auto it = metadata.find(key);
  if (it == metadata.end()) return std::nullopt;
  const std::string& text = it->second;
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 0)
    throw UserError(path + ": metadata '" + key + "' is " + quote(text) +
                    ", expected a non-negative integer");
  return v;
}

SafeTensor make_f32_tensor(const float* data, const std::vector<int64_t>& shape) {
  SafeTensor t;
  t.dtype = "F32";
  t.shape = shape;
  int64_t n = 0;
  if (!byte_size(shape, 4, &n))
    throw std::invalid_argument("make_f32_tensor: invalid shape " + shape_string(shape));
  t.bytes.resize(static_cast<size_t>(n));
  if (n > 0) std::memcpy(t.bytes.data(), data, static_cast<size_t>(n));
  return t;
}

void write_safetensors(const std::string& path, const SafeTensorsFile& file) {
  // The header lists the tensors in the order they are laid out, which makes the file easier to
  // read with a hex dump and matches what read_safetensors returns. It is joined entry by entry:
  // nlohmann's ordered_json finds a key by a linear scan, which made a model with 100k tensors
  // take minutes to save.
  std::string text = "{";
  if (!file.metadata.empty()) text += "\"__metadata__\":" + nlohmann::json(file.metadata).dump();
  int64_t offset = 0;
  std::set<std::string> seen;
  for (const auto& [name, t] : file.tensors) {
    int64_t size = 0;
    const int64_t elem = dtype_size(t.dtype);
    if (name == "__metadata__" || !seen.insert(name).second)
      throw std::invalid_argument(path + ": duplicate or reserved tensor name '" + name + "'");
    if (elem == 0 || !byte_size(t.shape, elem, &size) ||
        size != static_cast<int64_t>(t.bytes.size()))
      throw std::invalid_argument(path + ": tensor '" + name + "' (" + t.dtype + ", shape " +
                                  shape_string(t.shape) + ") has " +
                                  std::to_string(t.bytes.size()) + " bytes of data");
    const nlohmann::ordered_json entry = {
        {"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + size}}};
    if (text.size() > 1) text += ',';
    text += nlohmann::json(name).dump() + ":" + entry.dump();
    offset += size;
  }
  text += '}';
  // Pad with spaces so the data section starts 8-byte aligned (the 8-byte length prefix is
  // itself a multiple of 8); trailing whitespace is valid JSON and the spec allows it.
  text.append((8 - text.size() % 8) % 8, ' ');
  const uint64_t n = text.size();

  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw UserError(path + ": cannot create '" + tmp + "': " + errno_text());
  auto fail = [&](const std::string& what) {
    const std::string why = errno_text();
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    throw UserError(path + ": " + what + ": " + why);
  };
  bool ok = write_all(fd, &n, sizeof n) && write_all(fd, text.data(), text.size());
  for (size_t i = 0; ok && i < file.tensors.size(); ++i) {
    const auto& bytes = file.tensors[i].second.bytes;
    ok = write_all(fd, bytes.data(), bytes.size());
  }
  if (!ok) fail("cannot write '" + tmp + "'");
  if (::fsync(fd) != 0) fail("cannot sync '" + tmp + "'");
  const int rc = ::close(fd);
  fd = -1;
  if (rc != 0) fail("cannot close '" + tmp + "'");
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("cannot rename '" + tmp + "'");
  // Make the rename itself durable; failure here does not lose data already renamed, so it is
  // not reported.
  std::string dir = std::filesystem::path(path).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

namespace {

// The length prefix and JSON header of the safetensors file PATH, opened as IN: the parsed
// header (checked to be a JSON object) and, in *DATA_START and *DATA_SIZE, where the data section
// starts and how long it is. Throws UserError("PATH: <problem>").
nlohmann::json read_header(const std::string& path, std::ifstream& in, int64_t* data_start,
                           int64_t* data_size) {
  auto error = [&](const std::string& problem) { return UserError(path + ": " + problem); };
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw error("no such file");
  if (std::filesystem::is_directory(path, ec)) throw error("is a directory, expected a file");
  in.open(path, std::ios::binary);
  if (!in) throw error("cannot open: " + errno_text());
  in.seekg(0, std::ios::end);
  const int64_t file_size = static_cast<int64_t>(in.tellg());
  in.seekg(0);
  if (file_size < 8)
    throw error("not a safetensors file: " + std::to_string(file_size) +
                " bytes, shorter than the 8-byte header length");
  uint64_t n = 0;
  in.read(reinterpret_cast<char*>(&n), 8);
  if (n > kMaxHeaderBytes)
    throw error("header length " + std::to_string(n) + " is larger than the format's limit of " +
                std::to_string(kMaxHeaderBytes) + " bytes");
  if (n > static_cast<uint64_t>(file_size - 8))
    throw error("header length " + std::to_string(n) + " is larger than the " +
                std::to_string(file_size - 8) + " bytes after the length prefix");
  std::string text(n, '\0');
  in.read(text.data(), static_cast<std::streamsize>(n));
  if (!in) throw error("cannot read the header");
  *data_start = 8 + static_cast<int64_t>(n);
  *data_size = file_size - *data_start;

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw error("header is not valid JSON (byte " + std::to_string(e.byte) + " of the header)");
  } catch (const nlohmann::json::out_of_range& e) {
    // A number literal beyond double's range (1e999): valid JSON syntax, but nothing we can read.
    throw error("header has a number that does not fit a double: " + json_problem(e));
  }
  if (!header.is_object()) throw error("header is not a JSON object");
  return header;
}

// The header's "__metadata__" entry (absent: empty), checked to map strings to strings.
std::map<std::string, std::string> metadata_of(const nlohmann::json& header,
                                               const std::string& path) {
  std::map<std::string, std::string> out;
  const auto it = header.find("__metadata__");
  if (it == header.end()) return out;
  if (!it->is_object()) throw UserError(path + ": __metadata__ is not a JSON object");
  for (auto m = it->begin(); m != it->end(); ++m) {
    if (!m.value().is_string())
      throw UserError(path + ": __metadata__ value for " + quote(m.key()) + " is not a string");
    out[m.key()] = m.value().get<std::string>();
  }
  return out;
}

}  // namespace

std::map<std::string, std::string> read_safetensors_metadata(const std::string& path) {
  std::ifstream in;
  int64_t data_start = 0, data_size = 0;
  return metadata_of(read_header(path, in, &data_start, &data_size), path);
}

SafeTensorsFile read_safetensors(const std::string& path) {
  auto error = [&](const std::string& problem) { return UserError(path + ": " + problem); };
  std::ifstream in;
  int64_t data_start = 0, data_size = 0;
  const nlohmann::json header = read_header(path, in, &data_start, &data_size);

  SafeTensorsFile out;
  out.metadata = metadata_of(header, path);
  struct Entry {
    std::string name;
    SafeTensor t;
    int64_t begin, end;
  };
  std::vector<Entry> entries;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const nlohmann::json& v = it.value();
    if (name == "__metadata__") continue;
    const std::string where = "tensor " + quote(name);
    if (!v.is_object()) throw error(where + " is not a JSON object");
    for (const char* field : {"dtype", "shape", "data_offsets"})
      if (!v.contains(field)) throw error(where + " has no '" + field + "'");
    Entry e;
    e.name = name;
    if (!v["dtype"].is_string()) throw error(where + ": 'dtype' is not a string");
    e.t.dtype = v["dtype"].get<std::string>();
    const int64_t elem = dtype_size(e.t.dtype);
    if (elem == 0) throw error(where + " has unknown dtype " + quote(e.t.dtype));
    if (!v["shape"].is_array()) throw error(where + ": 'shape' is not an array");
    for (const auto& d : v["shape"]) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0)
        throw error(where + ": 'shape' has an entry that is not a non-negative integer");
      e.t.shape.push_back(d.get<int64_t>());
    }
    const auto& off = v["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
        !off[1].is_number_unsigned() || off[0].get<uint64_t>() > INT64_MAX ||
        off[1].get<uint64_t>() > INT64_MAX)
      throw error(where + ": 'data_offsets' must be two non-negative integers [begin, end]");
    e.begin = off[0].get<int64_t>();
    e.end = off[1].get<int64_t>();
    if (e.begin > e.end)
      throw error(where + ": data_offsets [" + std::to_string(e.begin) + ", " +
                  std::to_string(e.end) + "] out of range (begin after end)");
    int64_t size = 0;
    if (!byte_size(e.t.shape, elem, &size))
      throw error(where + ": shape " + shape_string(e.t.shape) + " is too large");
    if (e.end - e.begin != size)
      throw error(where + ": data_offsets [" + std::to_string(e.begin) + ", " +
                  std::to_string(e.end) + "] span " + std::to_string(e.end - e.begin) +
                  " bytes but " + e.t.dtype + " " + shape_string(e.t.shape) + " needs " +
                  std::to_string(size));
    entries.push_back(std::move(e));
  }

  // File order is data order; the JSON object's key order carries no meaning.
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  const Entry* last = nullptr;
  for (const Entry& e : entries) {
    if (!last || e.end > last->end) last = &e;
  }
  if (last && last->end > data_size)
    throw error("truncated: tensor " + quote(last->name) + " ends at byte " +
                std::to_string(last->end) + " but the data section has " +
                std::to_string(data_size) + " bytes");
  const Entry* reach = nullptr;  // the entry with the largest end so far
  for (const Entry& e : entries) {
    // Zero-sized tensors occupy no bytes and may share an offset with a neighbour.
    if (reach && e.begin < reach->end && e.begin != e.end)
      throw error("tensors " + quote(reach->name) + " and " + quote(e.name) +
                  " overlap in the data section");
    if (!reach || e.end > reach->end) reach = &e;
  }
  for (Entry& e : entries) {
    e.t.bytes.resize(static_cast<size_t>(e.end - e.begin));
    if (e.end > e.begin) {
      in.seekg(data_start + e.begin);
      in.read(reinterpret_cast<char*>(e.t.bytes.data()), e.end - e.begin);
      if (!in) throw error("cannot read tensor " + quote(e.name));
    }
    if (const int64_t bad = first_non_finite(e.t); bad >= 0)
      throw error("tensor " + quote(e.name) + " holds NaN or Inf (element " + std::to_string(bad) +
                  ")");
    out.tensors.emplace_back(std::move(e.name), std::move(e.t));
  }
  return out;
}

}  // namespace normlab
