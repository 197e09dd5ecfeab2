#include "train/gradient_check.hpp"

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "data/token_rows.hpp"
#include "diag/probes.hpp"
#include "io/safetensors.hpp"
#include "kernels/precision.hpp"
#include "model/checkpoint.hpp"
#include "model/decoder_lm.hpp"
#include "model/encoder_decoder.hpp"
#include "train/optimizer.hpp"
#include "train/task.hpp"

namespace normlab {

std::string format_loss(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

double run_gradient_check(const Config& run, const GradientCheckRequest& request) {
  // The checking interface compares gradients with an f32 reference: always f32 matmuls,
  // whatever 'precision' says.
  ScopedMatmulPrecision fp32(Precision::fp32);
  auto model = load_model(request.model_path, nullptr);
  auto* lm = dynamic_cast<DecoderLM*>(model.get());
  auto* encdec = dynamic_cast<EncoderDecoder*>(model.get());
  const int vocab = model->shape().vocab;
  TokenRows rows =
      lm ? read_token_rows(request.tokens_path, vocab) : read_pair_rows(request.tokens_path, vocab);
  // 'auto' follows the checkpoint's arch.
  const float smoothing =
      label_smoothing(run.get_string("label_smoothing") == "auto" ? model->config() : run);
  try {  // rows longer than the model's seq_len: the token file is what to fix
    if (lm) lm->plan(rows.B, rows.T);
    if (encdec) encdec->plan(rows.B, rows.S, rows.T);
  } catch (const UserError& e) {
    throw UserError(request.tokens_path + ": " + e.what());
  }
  auto forward = [&]() {
    if (lm) return lm->forward(rows.inputs.data(), rows.targets.data(), rows.B, rows.T, smoothing);
    return encdec->forward(rows.src.data(), rows.src_len.data(), rows.B, rows.S, rows.inputs.data(),
                           rows.targets.data(), rows.T, smoothing);
  };
  model->training = false;
  model->record_grad_norms = !request.diag_path.empty();
  ParamStore& p = model->params();
  // Admin: a model not yet profiled is profiled on this batch first, as training would on its
  // first batch; its omega go into the output's metadata (shortcut_weights), for the reference.
  nlohmann::json omegas = nlohmann::json::object();
  if (model->needs_shortcut_profile() && model->shortcut_profile.empty()) {
    model->profile_shortcuts([&] { forward(); }, request.tokens_path);
    for (size_t i = 0; i < p.entries().size(); ++i)
      if (p.entries()[i].name.ends_with(".omega")) omegas[p.entries()[i].name] = p.value(i)[0];
  }
  // The groups (CompleteP's multipliers) follow the checkpoint's model; the settings this run.
  AdamW opt(*model, AdamWSettings::from_config(run));
  const float lr = static_cast<float>(run.get_float("lr"));
  nlohmann::json losses = nlohmann::json::array();
  double loss = 0;
  for (int s = 0; s <= request.adamw_steps; ++s) {
    p.zero_grads();
    loss = forward();
    model->backward();
    losses.push_back(loss);
    if (s < request.adamw_steps) opt.step(lr);
  }
  SafeTensorsFile file;
  file.metadata["format"] = "pt";
  file.metadata["loss"] = format_loss(loss);
  if (request.adamw_steps > 0) file.metadata["losses"] = losses.dump();
  if (!omegas.empty()) file.metadata["shortcut_weights"] = omegas.dump();
  for (size_t i = 0; i < p.entries().size(); ++i)
    file.tensors.emplace_back(p.entries()[i].name,
                              make_f32_tensor(p.grad(i), p.entries()[i].shape));
  write_safetensors(request.out_path, file);
  if (!request.diag_path.empty()) {
    std::ofstream d(request.diag_path);
    d << probe_model(*model).dump(1) << '\n';
    if (!d) throw UserError(request.diag_path + ": cannot write");
  }
  return loss;
}

}  // namespace normlab
