// `normlab grad`: the checking interface (docs/model.md). Loss and every parameter's gradient on a
// batch given as text, optionally after N AdamW steps on that batch.
#include <fstream>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/config_flags.hpp"
#include "diag/probes.hpp"
#include "io/safetensors.hpp"
#include "model/checkpoint.hpp"
#include "train/optimizer.hpp"

namespace normlab::cli {

namespace {
struct TokenRows {
  int B = 0, T = 0;
  std::vector<int32_t> inputs, targets;
};

// Ids must lie in [0, vocab): the error names the file and line rather than the model's batch.
TokenRows read_token_rows(const std::string& path, int vocab) {
  std::ifstream in(path);
  if (!in) throw UserError(path + ": cannot open");
  TokenRows r;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    std::istringstream ls(line);
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
    auto model = load_model(*model_path, nullptr);
    TokenRows rows = read_token_rows(*tokens_path, model->shape().vocab);
    model->training = false;
    model->plan(rows.B, rows.T);
    model->record_grad_norms = !diag->empty();
    ParamStore& p = model->params();
    AdamW opt(p, AdamWSettings::from_config(run));
    const float lr = static_cast<float>(run.get_float("lr"));
    nlohmann::json losses = nlohmann::json::array();
    double loss = 0;
    for (int s = 0; s <= *steps; ++s) {
      p.zero_grads();
      loss = model->forward(rows.inputs.data(), rows.targets.data(), rows.B, rows.T);
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
