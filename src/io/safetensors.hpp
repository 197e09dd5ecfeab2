// safetensors (Hugging Face's format, readable by PyTorch users via `safetensors.torch`):
//   8 bytes little-endian u64 N | N bytes JSON header | raw little-endian tensor data.
// Header: {"__metadata__": {str: str}, NAME: {"dtype": "F32"|"BF16"|"I32"|..., "shape": [...],
//          "data_offsets": [begin, end]}} with offsets relative to the data section.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace normlab {

struct SafeTensor {
  std::string dtype;  // "F32", "BF16", "I32", "I64"
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;  // raw little-endian data
  // F32 or BF16 to float; another dtype throws UserError("WHERE: ..."), WHERE naming the tensor
  // (e.g. "PATH: tensor 'NAME'").
  std::vector<float> to_f32(const std::string& where = "tensor") const;
};

struct SafeTensorsFile {
  std::map<std::string, std::string> metadata;
  std::vector<std::pair<std::string, SafeTensor>> tensors;  // in file order
  // O(1) per lookup when names are asked for in file order, O(n) otherwise; not thread-safe.
  const SafeTensor* find(const std::string& name) const;

 private:
  mutable size_t find_hint_ = 0;  // where find() starts scanning
};

// Writes to PATH.tmp.<pid>, fsyncs, then renames onto PATH: a crash never leaves a partial file.
// Tensors are written in the order given.
void write_safetensors(const std::string& path, const SafeTensorsFile& file);
// Validates everything (header length, JSON, dtypes, offsets within the file, sizes matching
// shapes, no overlap, no NaN or Inf in an F32 or BF16 tensor) and throws
// UserError("PATH: <problem>") on the first problem, naming the tensor where there is one.
SafeTensorsFile read_safetensors(const std::string& path);
// Only the metadata of PATH, for one value of a large file: reads the length prefix and the JSON
// header and checks them as read_safetensors does (length, JSON object, `__metadata__` mapping
// strings to strings), but neither reads nor checks the tensors.
std::map<std::string, std::string> read_safetensors_metadata(const std::string& path);

// The metadata value KEY (a step or a count) as an integer >= 0; nullopt when absent. Anything
// else ("12x", "-1", "", out of range) throws UserError("PATH: metadata 'KEY' is ...").
std::optional<int64_t> metadata_count(const std::map<std::string, std::string>& metadata,
                                      const std::string& key, const std::string& path);

// Helper for float tensors.
SafeTensor make_f32_tensor(const float* data, const std::vector<int64_t>& shape);
// "[2, 3]": a shape in error messages.
std::string shape_string(const std::vector<int64_t>& shape);

}  // namespace normlab
