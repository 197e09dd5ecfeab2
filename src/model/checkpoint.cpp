#include "model/checkpoint.hpp"

#include <cstring>
#include <filesystem>

#include "core/memory.hpp"
#include "core/placement_presets.hpp"
#include "io/safetensors.hpp"

namespace normlab {

std::string checkpoint_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) return path;
  const std::filesystem::path file = std::filesystem::path(path) / "checkpoint.safetensors";
  if (!std::filesystem::exists(file, ec))
    throw UserError(path +
                    ": a directory without checkpoint.safetensors (give a run directory "
                    "whose training has saved, or a .safetensors file)");
  return file.string();
}

void save_model(const std::string& path, Model& model, const CheckpointInfo& info) {
  SafeTensorsFile file;
  file.metadata["format"] = "pt";
  file.metadata["normlab.config"] = model.config().to_json().dump();
  file.metadata["normlab.tokenizer"] = info.tokenizer_identity;
  file.metadata["normlab.step"] = std::to_string(info.step);
  if (!info.matmul_precision.empty())
    file.metadata["normlab.matmul_precision"] = info.matmul_precision;
  if (!model.shortcut_profile.empty())
    file.metadata["normlab.shortcut_profile"] = model.shortcut_profile;
  ParamStore& p = model.params();
  for (size_t i = 0; i < p.entries().size(); ++i)
    file.tensors.emplace_back(p.entries()[i].name,
                              make_f32_tensor(p.value(i), p.entries()[i].shape));
  write_safetensors(path, file);
}

namespace {
Config config_from_metadata(const std::map<std::string, std::string>& metadata,
                            const std::string& path) {
  auto it = metadata.find("normlab.config");
  if (it == metadata.end())
    throw UserError(path + ": not a normlab checkpoint (no 'normlab.config' in __metadata__)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(it->second);
  } catch (const std::exception& e) {
    throw UserError(path + ": metadata 'normlab.config' is not valid JSON");
  }
  return Config::from_json(j, path);
}

// What a checkpoint records beside its config (the normlab.* keys that save_model writes).
CheckpointInfo info_from_metadata(const std::map<std::string, std::string>& metadata,
                                  const std::string& path) {
  CheckpointInfo info;
  auto text = [&](const char* key) {
    const auto it = metadata.find(key);
    return it == metadata.end() ? std::string() : it->second;
  };
  info.tokenizer_identity = text("normlab.tokenizer");
  info.step = metadata_count(metadata, "normlab.step", path).value_or(0);
  info.matmul_precision = text("normlab.matmul_precision");
  return info;
}
}  // namespace

Config read_model_config(const std::string& given, CheckpointInfo* info) {
  const std::string path = checkpoint_file(given);
  const auto metadata = read_safetensors_metadata(path);
  Config config = config_from_metadata(metadata, path);
  if (info) *info = info_from_metadata(metadata, path);
  return config;
}

std::unique_ptr<Model> load_model(const std::string& given, CheckpointInfo* info) {
  const std::string path = checkpoint_file(given);
  SafeTensorsFile file = read_safetensors(path);
  Config config = config_from_metadata(file.metadata, path);
  std::unique_ptr<Model> model;
  try {
    {  // the parameters and their gradients must fit before they are allocated
      MemoryCount count;
      Model::create(config);
      check_memory(2 * sizeof(float) * uint64_t{count.parameter_floats}, "",
                   "parameters and gradients of the model in its config");
    }
    model = Model::create(config);
  } catch (const UserError& e) {
    throw UserError(path + ": " + e.what());
  }
  ParamStore& p = model->params();
  for (size_t i = 0; i < p.entries().size(); ++i) {
    const ParamEntry& e = p.entries()[i];
    const SafeTensor* t = file.find(e.name);
    if (!t) throw UserError(path + ": missing tensor '" + e.name + "'");
    if (t->shape != e.shape)
      throw UserError(path + ": tensor '" + e.name + "' has shape " + shape_string(t->shape) +
                      ", the config needs " + shape_string(e.shape));
    std::vector<float> values = t->to_f32(path + ": tensor '" + e.name + "'");
    std::memcpy(p.value(i), values.data(), e.numel * sizeof(float));
  }
  if (file.tensors.size() != p.entries().size()) {
    for (const auto& [name, t] : file.tensors)
      if (!p.find(name))
        throw UserError(path + ": unexpected tensor '" + name + "' for this config");
  }
  if (auto it = file.metadata.find("normlab.shortcut_profile"); it != file.metadata.end())
    model->shortcut_profile = it->second;
  if (info) *info = info_from_metadata(file.metadata, path);
  return model;
}

Tokenizer checkpoint_tokenizer(const std::string& model_path, const std::string& tokenizer_path,
                               const CheckpointInfo& info, int vocab) {
  std::string tok = tokenizer_path;
  if (tok.empty())
    tok = (std::filesystem::path(checkpoint_file(model_path)).parent_path() / "tokenizer.model")
              .string();
  Tokenizer tokenizer(tok);
  if (!info.tokenizer_identity.empty() && info.tokenizer_identity != tokenizer.identity())
    throw UserError(tok + ": vocabulary mismatch: the checkpoint was trained with tokenizer " +
                    info.tokenizer_identity + ", this one is " + tokenizer.identity());
  if (tokenizer.vocab_size() != vocab)
    throw UserError(tok + ": vocabulary mismatch: " + std::to_string(tokenizer.vocab_size()) +
                    " pieces, the model has " + std::to_string(vocab));
  return tokenizer;
}

void check_same_model(const Config& stored, const Config& config, const std::string& path) {
  // Compared with their placements written out, so that a checkpoint whose config names only the
  // preset matches a run whose config spells it out.
  const nlohmann::json want = expand_placement(stored).to_json(),
                       got = expand_placement(config).to_json();
  for (const auto& key : model_config_keys()) {
    auto a = want[key], b = got[key];
    if (a != b)
      throw UserError(path + ": config mismatch: " + key + " is " + a.dump() +
                      " in the checkpoint but " + b.dump() + " in this run");
  }
}

}  // namespace normlab
