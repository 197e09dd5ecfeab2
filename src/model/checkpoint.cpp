#include "model/checkpoint.hpp"

#include <cstring>

#include "io/safetensors.hpp"

namespace normlab {

void save_model(const std::string& path, DecoderLM& model, const CheckpointInfo& info) {
  SafeTensorsFile file;
  file.metadata["format"] = "pt";
  file.metadata["normlab.config"] = model.config().to_json().dump();
  file.metadata["normlab.tokenizer"] = info.tokenizer_identity;
  file.metadata["normlab.step"] = std::to_string(info.step);
  ParamStore& p = model.params();
  for (size_t i = 0; i < p.entries().size(); ++i)
    file.tensors.emplace_back(p.entries()[i].name,
                              make_f32_tensor(p.value(i), p.entries()[i].shape));
  write_safetensors(path, file);
}

namespace {
Config config_from_metadata(const SafeTensorsFile& file, const std::string& path) {
  auto it = file.metadata.find("normlab.config");
  if (it == file.metadata.end())
    throw UserError(path + ": not a normlab checkpoint (no 'normlab.config' in __metadata__)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(it->second);
  } catch (const std::exception& e) {
    throw UserError(path + ": metadata 'normlab.config' is not valid JSON");
  }
  return Config::from_json(j, path);
}
}  // namespace

Config read_model_config(const std::string& path) {
  return config_from_metadata(read_safetensors(path), path);
}

std::unique_ptr<DecoderLM> load_model(const std::string& path, CheckpointInfo* info) {
  SafeTensorsFile file = read_safetensors(path);
  Config config = config_from_metadata(file, path);
  std::unique_ptr<DecoderLM> model;
  try {
    model = std::make_unique<DecoderLM>(config);
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
    std::vector<float> values = t->to_f32();
    std::memcpy(p.value(i), values.data(), e.numel * sizeof(float));
  }
  if (file.tensors.size() != p.entries().size()) {
    for (const auto& [name, t] : file.tensors)
      if (!p.find(name))
        throw UserError(path + ": unexpected tensor '" + name + "' for this config");
  }
  if (info) {
    info->tokenizer_identity =
        file.metadata.count("normlab.tokenizer") ? file.metadata.at("normlab.tokenizer") : "";
    info->step =
        file.metadata.count("normlab.step") ? std::stol(file.metadata.at("normlab.step")) : 0;
  }
  return model;
}

void check_same_model(const Config& stored, const Config& config, const std::string& path) {
  for (const auto& key : model_config_keys()) {
    auto a = stored.to_json()[key], b = config.to_json()[key];
    if (a != b)
      throw UserError(path + ": config mismatch: " + key + " is " + a.dump() +
                      " in the checkpoint but " + b.dump() + " in this run");
  }
}

}  // namespace normlab
