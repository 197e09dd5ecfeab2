// Writes diagnostics.jsonl (docs/diagnostics.md): per-layer probes from the model plus per-
// parameter gradient norms, weight norms and update-to-weight ratios. The parameter snapshot used
// for the ratios is allocated once.
#pragma once
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/model.hpp"

namespace normlab {

class DiagnosticsWriter {
 public:
  DiagnosticsWriter(const std::string& path, bool append, ParamStore& params);
  // Whether step is probed: step 0, every `every` steps, and the last step.
  static bool due(long step, long every, long last) {
    return step == 0 || step == last || (every > 0 && step % every == 0);
  }
  // After forward/backward with model.record_grad_norms on, before the optimizer step.
  void before_update(const Model& model);
  // After the optimizer step (or straight after before_update when nothing is applied).
  void after_update(long step);

 private:
  std::ofstream out_;
  ParamStore& params_;
  std::vector<float> snapshot_;
  nlohmann::json line_;
};

}  // namespace normlab
