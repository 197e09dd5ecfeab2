// `normlab grad`: the checking interface (docs/model.md). Loss and every parameter's gradient on a
// batch given as text, optionally after N AdamW steps on that batch.
#include <fstream>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/config_flags.hpp"
#include "diag/probes.hpp"
#include "io/safetensors.hpp"
#include "kernels/precision.hpp"
#include "model/checkpoint.hpp"
#include "model/decoder_lm.hpp"
#include "model/encoder_decoder.hpp"
#include "train/optimizer.hpp"
#include "train/task.hpp"

namespace normlab::cli {

namespace {
// A language-model batch (B rows of T inputs and targets), or for an encoder–decoder also the
// padded sources: S ids per row, src_len real ones.
struct TokenRows {
  int B = 0, T = 0, S = 0;
  std::vector<int32_t> inputs, targets, src, src_len;
};

// Ids must lie in [0, vocab): the error names the file and line rather than the model's batch.
std::vector<int32_t> parse_ids(const std::string& text, const std::string& path, int line_no,
                               int vocab) {
  std::istringstream ls(text);
  std::vector<int32_t> ids;
  std::string word;
  while (ls >> word) {
    try {
      size_t used = 0;
      long v = std::stol(word, &used);
      if (used != word.size() || v < 0 || v > INT32_MAX) throw std::invalid_argument(word);
      ids.push_back(static_cast<int32_t>(v));
    } catch (const std::exception&) {
      throw UserError(path + ": line " + std::to_string(line_no) + ": '" + word +
                      "' is not a token id");
    }
    if (ids.back() >= vocab)
      throw UserError(path + ": line " + std::to_string(line_no) + ": token id " + word +
                      " is outside the model's vocabulary of " + std::to_string(vocab));
  }
  return ids;
}

// LM rows: T + 1 ids per line, the same T on every line.
TokenRows read_token_rows(const std::string& path, int vocab) {
  std::ifstream in(path);
  if (!in) throw UserError(path + ": cannot open");
  TokenRows r;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find('|') != std::string::npos)
      throw UserError(path + ": line " + std::to_string(line_no) +
                      ": 'SOURCE | TARGET' rows need an arch=encdec model");
    std::vector<int32_t> ids = parse_ids(line, path, line_no, vocab);
    if (ids.empty()) continue;
    if (ids.size() < 2)
      throw UserError(path + ": line " + std::to_string(line_no) + ": needs at least 2 ids");
    int T = static_cast<int>(ids.size()) - 1;
    if (r.B == 0) r.T = T;
    if (T != r.T)
      throw UserError(path + ": line " + std::to_string(line_no) + " has " +
                      std::to_string(ids.size()) + " ids, line 1 has " + std::to_string(r.T + 1));
    r.inputs.insert(r.inputs.end(), ids.begin(), ids.end() - 1);
    r.targets.insert(r.targets.end(), ids.begin() + 1, ids.end());
    ++r.B;
  }
  if (r.B == 0) throw UserError(path + ": no token rows");
  return r;
}

// Encoder–decoder rows: "SOURCE IDS | TARGET IDS" per line, T_b + 1 target ids (decoder input
// tgt[:-1], targets tgt[1:]); lengths may differ. Sources are padded with id 0 beyond src_len,
// target rows with input 0 and target -1 (ignored).
TokenRows read_pair_rows(const std::string& path, int vocab) {
  std::ifstream in(path);
  if (!in) throw UserError(path + ": cannot open");
  std::vector<std::vector<int32_t>> srcs, tgts;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const size_t bar = line.find('|');
    if (bar == std::string::npos)
      throw UserError(path + ": line " + std::to_string(line_no) +
                      ": expected 'SOURCE IDS | TARGET IDS' for an arch=encdec model");
    srcs.push_back(parse_ids(line.substr(0, bar), path, line_no, vocab));
    tgts.push_back(parse_ids(line.substr(bar + 1), path, line_no, vocab));
    if (srcs.back().empty() || tgts.back().size() < 2)
      throw UserError(path + ": line " + std::to_string(line_no) +
                      ": needs at least 1 source id and 2 target ids");
  }
  TokenRows r;
  r.B = static_cast<int>(srcs.size());
  if (r.B == 0) throw UserError(path + ": no token rows");
  for (int b = 0; b < r.B; ++b) {
    r.S = std::max(r.S, static_cast<int>(srcs[b].size()));
    r.T = std::max(r.T, static_cast<int>(tgts[b].size()) - 1);
  }
  r.src.assign(static_cast<size_t>(r.B) * r.S, 0);
  r.inputs.assign(static_cast<size_t>(r.B) * r.T, 0);
  r.targets.assign(static_cast<size_t>(r.B) * r.T, -1);
  for (int b = 0; b < r.B; ++b) {
    std::copy(srcs[b].begin(), srcs[b].end(), r.src.begin() + static_cast<size_t>(b) * r.S);
    r.src_len.push_back(static_cast<int32_t>(srcs[b].size()));
    const auto& t = tgts[b];
    std::copy(t.begin(), t.end() - 1, r.inputs.begin() + static_cast<size_t>(b) * r.T);
    std::copy(t.begin() + 1, t.end(), r.targets.begin() + static_cast<size_t>(b) * r.T);
  }
  return r;
}

std::string format_loss(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}
}  // namespace

Runner setup_grad(CLI::App& app) {
  auto flags = std::make_shared<ConfigFlags>();
  auto model_path = std::make_shared<std::string>();
  auto tokens_path = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto steps = std::make_shared<int>(0);
  auto diag = std::make_shared<std::string>();
  add_config_flags(app, *flags, {"train"});
  app.add_option("--model,-m", *model_path, "Model (.safetensors)")->required();
  app.add_option("--tokens", *tokens_path, "Token rows: one sequence of T+1 ids per line")
      ->required();
  app.add_option("--out,-o", *out, "Gradients (.safetensors)")->required();
  app.add_option("--adamw-steps", *steps, "AdamW steps on the batch before the final gradient")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--diag", *diag,
                 "Also write the per-layer probes of the final forward/backward as JSON "
                 "(docs/diagnostics.md: 'blocks' and 'output')");
  return [=]() {
    Config run = resolve_config(*flags);
    if (flags->dump_config) {
      std::fputs(run.dump_yaml().c_str(), stdout);
      return 0;
    }
    // The checking interface compares gradients with an f32 reference: always f32 matmuls,
    // whatever 'precision' says.
    ScopedMatmulPrecision fp32(Precision::fp32);
    auto model = load_model(*model_path, nullptr);
    auto* lm = dynamic_cast<DecoderLM*>(model.get());
    auto* encdec = dynamic_cast<EncoderDecoder*>(model.get());
    const int vocab = model->shape().vocab;
    TokenRows rows =
        lm ? read_token_rows(*tokens_path, vocab) : read_pair_rows(*tokens_path, vocab);
    // 'auto' follows the checkpoint's arch.
    const float smoothing =
        label_smoothing(run.get_string("label_smoothing") == "auto" ? model->config() : run);
    if (lm) lm->plan(rows.B, rows.T);
    if (encdec) encdec->plan(rows.B, rows.S, rows.T);
    auto forward = [&]() {
      if (lm)
        return lm->forward(rows.inputs.data(), rows.targets.data(), rows.B, rows.T, smoothing);
      return encdec->forward(rows.src.data(), rows.src_len.data(), rows.B, rows.S,
                             rows.inputs.data(), rows.targets.data(), rows.T, smoothing);
    };
    model->training = false;
    model->record_grad_norms = !diag->empty();
    ParamStore& p = model->params();
    AdamW opt(p, AdamWSettings::from_config(run));
    const float lr = static_cast<float>(run.get_float("lr"));
    nlohmann::json losses = nlohmann::json::array();
    double loss = 0;
    for (int s = 0; s <= *steps; ++s) {
      p.zero_grads();
      loss = forward();
      model->backward();
      losses.push_back(loss);
      if (s < *steps) opt.step(lr);
    }
    SafeTensorsFile file;
    file.metadata["format"] = "pt";
    file.metadata["loss"] = format_loss(loss);
    if (*steps > 0) file.metadata["losses"] = losses.dump();
    for (size_t i = 0; i < p.entries().size(); ++i)
      file.tensors.emplace_back(p.entries()[i].name,
                                make_f32_tensor(p.grad(i), p.entries()[i].shape));
    write_safetensors(*out, file);
    if (!diag->empty()) {
      std::ofstream d(*diag);
      d << probe_model(*model).dump(1) << '\n';
      if (!d) throw UserError(*diag + ": cannot write");
    }
    std::printf("loss %s\n", format_loss(loss).c_str());
    return 0;
  };
}

}  // namespace normlab::cli
