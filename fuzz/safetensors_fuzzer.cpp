// Fuzz target: the safetensors reader (src/io/safetensors.cpp) and what a checkpoint load does
// with the metadata before it builds a model (src/model/checkpoint.cpp): the step, and the stored
// config. An accepted file must survive write -> read unchanged, and the header-only reader must
// give the same metadata.
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/config.hpp"
#include "fuzz_input.hpp"
#include "io/safetensors.hpp"

using namespace normlab;

namespace {

bool same(const SafeTensorsFile& a, const SafeTensorsFile& b) {
  if (a.metadata != b.metadata || a.tensors.size() != b.tensors.size()) return false;
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    const auto& [na, ta] = a.tensors[i];
    const auto& [nb, tb] = b.tensors[i];
    if (na != nb || ta.dtype != tb.dtype || ta.shape != tb.shape || ta.bytes != tb.bytes)
      return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = normlab_fuzz::write_input(data, size, ".safetensors");
  std::optional<std::map<std::string, std::string>> metadata;
  try {
    metadata = read_safetensors_metadata(path);
  } catch (const UserError& e) {
    normlab_fuzz::check_user_error(e, path);
  }
  SafeTensorsFile file;
  try {
    file = read_safetensors(path);
    normlab_fuzz::require(metadata == file.metadata,
                          "the header-only reader accepts what read_safetensors accepts, with the "
                          "same metadata");
    for (const auto& [name, t] : file.tensors)
      if (t.dtype == "F32" || t.dtype == "BF16")
        normlab_fuzz::require(t.to_f32().size() * (t.dtype == "F32" ? 4 : 2) == t.bytes.size(),
                              "to_f32 returns one float per element");
    metadata_count(file.metadata, "normlab.step", path);
    if (auto it = file.metadata.find("normlab.config"); it != file.metadata.end()) {
      const auto j = nlohmann::json::parse(it->second, nullptr, /*allow_exceptions=*/false);
      if (!j.is_discarded()) Config::from_json(j, path).to_json().dump();
    }
  } catch (const UserError& e) {
    normlab_fuzz::check_user_error(e, path);
  }
  if (!file.tensors.empty() || !file.metadata.empty()) {
    write_safetensors(path, file);
    normlab_fuzz::require(same(read_safetensors(path), file), "write -> read round trip");
  }
  return 0;
}
