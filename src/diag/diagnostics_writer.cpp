#include "diag/diagnostics_writer.hpp"

#include <cmath>

#include "core/config.hpp"
#include "diag/probes.hpp"
#include "kernels/vector_ops.hpp"

namespace normlab {

DiagnosticsWriter::DiagnosticsWriter(const std::string& path, bool append, ParamStore& params)
    : out_(path, append ? std::ios::app : std::ios::trunc),
      params_(params),
      snapshot_(params.total()) {
  if (!out_) throw UserError(path + ": cannot open for writing");
}

void DiagnosticsWriter::before_update(const Model& model) {
  line_ = probe_model(model);
  nlohmann::json ps = nlohmann::json::object();
  for (size_t i = 0; i < params_.entries().size(); ++i) {
    const ParamEntry& e = params_.entries()[i];
    // weight_norm = ||w_old|| lets a reader combine tensors: the update ratio of a set of tensors
    // (a block) is sqrt(sum (ratio_i * weight_norm_i)^2) / sqrt(sum weight_norm_i^2).
    ps[e.name] = {{"grad_norm", std::sqrt(sum_squares(params_.grad(i), e.numel))},
                  {"weight_norm", std::sqrt(sum_squares(params_.value(i), e.numel))}};
  }
  line_["params"] = ps;
  snapshot_.assign(params_.values().begin(), params_.values().end());
}

void DiagnosticsWriter::after_update(long step) {
  for (size_t i = 0; i < params_.entries().size(); ++i) {
    const ParamEntry& e = params_.entries()[i];
    const float* now = params_.value(i);
    const float* before = snapshot_.data() + e.offset;
    double d2 = 0, w2 = 0;
    for (size_t k = 0; k < e.numel; ++k) {
      const double dv = static_cast<double>(now[k]) - before[k];
      d2 += dv * dv, w2 += static_cast<double>(before[k]) * before[k];
    }
    line_["params"][e.name]["update_ratio"] = w2 > 0 ? std::sqrt(d2 / w2) : 0.0;
  }
  nlohmann::json ordered = {{"step", step}};
  ordered.update(line_);
  out_ << ordered.dump() << '\n';
  out_.flush();
}

}  // namespace normlab
