#include "diag/sanity_report.hpp"

#include <cmath>
#include <cstdio>

#include "diag/json_number.hpp"

namespace normlab {

namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string num(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt("%.3g", v);
}

nlohmann::json measure_json(const StackMeasure& m) {
  return {{"forward", finite_or_null(m.forward)},
          {"backward", finite_or_null(m.backward)},
          {"top_rms", finite_or_null(m.top_rms)},
          {"bottom_rms", finite_or_null(m.bottom_rms)},
          {"grad_bottom", finite_or_null(m.grad_bottom)},
          {"grad_top", finite_or_null(m.grad_top)},
          {"loss", finite_or_null(m.loss)}};
}

nlohmann::json scaling_json(const DepthScaling& s, const char* verdict) {
  return {{"verdict", verdict},
          {"points", s.points},
          {"overflow", s.overflow},
          {"rate_per_layer", s.exponential.slope},
          {"factor_per_layer", std::exp(s.exponential.slope)},
          {"power", s.power.slope},
          {"rss",
           {{"exponential", s.exponential.rss},
            {"power", s.power.rss},
            {"affine", finite_or_null(s.affine_rss)},
            {"constant", s.constant_rss}}}};
}

nlohmann::json prediction_json(const OutcomePrediction& p) {
  return {{"outcome", to_string(p.outcome)},
          {"spiky", p.spiky},
          {"confidence", p.confidence},
          {"reasons", p.reasons}};
}

nlohmann::json evidence_json(const TrialEvidence& e) {
  return {{"unigram_loss", e.unigram_loss},
          {"steps", e.steps},
          {"first_loss", finite_or_null(e.first_loss)},
          {"end_loss", finite_or_null(e.end_loss)},
          {"end_unigram_loss", finite_or_null(e.end_unigram_loss)},
          {"gain_over_unigram", finite_or_null(e.unigram_loss - e.end_loss)},
          {"non_finite", e.non_finite},
          {"stop_reason", e.stop_reason},
          {"spikes", e.spikes},
          {"update_bottom", finite_or_null(e.update_bottom)},
          {"update_top", finite_or_null(e.update_top)},
          {"grad_rms_bottom", finite_or_null(e.grad_rms_bottom)},
          {"grad_rms_top", finite_or_null(e.grad_rms_top)},
          {"adam_eps", e.adam_eps},
          {"grad_bottom_over_top", finite_or_null(e.grad_bottom_over_top)},
          {"forward_growth", finite_or_null(e.forward_growth)},
          {"max_sublayer_rms", finite_or_null(e.max_sublayer_rms)}};
}

std::string verdict_line(const char* what, const std::string& state, const char* verdict,
                         const DepthScaling& s) {
  char buf[256];
  // The verdict column is as wide as its longest value, "too few depths", plus a space.
  std::snprintf(buf, sizeof buf, "%-9s %-13s %-15s", what, state.c_str(), verdict);
  std::string line = buf;
  // With too few depths no law is named, so no fitted slope is shown beside the verdict either.
  if (!too_few_depths(s))
    line += "L^" + fmt("%.2f", s.power.slope) + "  x" + fmt("%.3f", std::exp(s.exponential.slope)) +
            "/layer  (rss exp " + num(s.exponential.rss) + ", power " + num(s.power.rss) +
            ", affine " + num(s.affine_rss) + ", const " + num(s.constant_rss) + ")";
  if (s.overflow) line += "  (overflow: inf/NaN at some depth)";
  while (line.back() == ' ') line.pop_back();
  return line + "\n";
}

}  // namespace

void fit_depth_laws(SanityReport& r) {
  std::vector<int> depths;
  std::vector<double> fi, bi, ft, bt;
  for (const DepthResult& d : r.depths) {
    depths.push_back(d.depth);
    // A forward that overflowed leaves inf or NaN at the top: both mean unbounded growth.
    fi.push_back(std::isnan(d.init.forward) ? INFINITY : d.init.forward);
    bi.push_back(d.init.backward);
    ft.push_back(std::isnan(d.trained.forward) ? INFINITY : d.trained.forward);
    bt.push_back(d.trained.backward);
  }
  r.forward_init = fit_depth_scaling(depths, fi);
  r.backward_init = fit_depth_scaling(depths, bi);
  if (r.options.train_steps > 0) {
    r.forward_trained = fit_depth_scaling(depths, ft);
    r.backward_trained = fit_depth_scaling(depths, bt);
  }
}

std::string depth_line(const DepthResult& d, int train_steps) {
  std::string line = "sanity-check: depth " + std::to_string(d.depth) + ": init forward " +
                     num(d.init.forward) + ", grad bottom/top " + num(d.init.backward);
  if (train_steps > 0)
    line += "; after " + std::to_string(train_steps) + " steps (loss " + num(d.first_loss) +
            " -> " + num(d.last_loss) + ") forward " + num(d.trained.forward) +
            ", grad bottom/top " + num(d.trained.backward);
  return line + " [" + fmt("%.1f", d.seconds) + " s]";
}

std::string format_report(const SanityReport& r) {
  const nlohmann::json& c = r.config;
  std::string out = "sanity-check: placement " + c["placement"].get<std::string>() + ", norm " +
                    c["norm"].get<std::string>() + ", dt " + c["dt"].get<std::string>() +
                    ", init " + r.init_scheme + ", d_model " +
                    std::to_string(c["d_model"].get<long>()) + ", data " + r.data + "\n";
  const bool trained = r.options.train_steps > 0;
  char buf[512];
  if (trained) {
    std::snprintf(buf, sizeof buf,
                  "trial: %d steps at lr %s, %s, warmup %ld compressed to %d (the run: %ld "
                  "steps); unigram loss %.3f\n",
                  r.options.train_steps, num(c["lr"].get<double>()).c_str(),
                  c["schedule"].get<std::string>().c_str(), c["warmup"].get<long>(), r.trial_warmup,
                  c["steps"].get<long>(), r.unigram_loss);
    out += buf;
  } else {
    out += "no trial (sanity_steps 0): no prediction, the architecture only\n";
  }
  std::snprintf(buf, sizeof buf, "%6s", "depth");
  out += buf;
  if (trained) {
    std::snprintf(buf, sizeof buf, " %-9s %4s %5s %9s %7s %9s %9s", "predicted", "conf", "spiky",
                  "trial", "U-trial", "upd@bot", "upd@top");
    out += buf;
  }
  std::snprintf(buf, sizeof buf, " %12s %12s", "fwd@init", "grad@init");
  out += buf;
  if (trained) {
    std::snprintf(buf, sizeof buf, " %12s %12s %9s %9s", "fwd@trained", "grad@trained", "loss@1",
                  "loss@end");
    out += buf;
  }
  out += "\n";
  for (const DepthResult& d : r.depths) {
    std::snprintf(buf, sizeof buf, "%6d", d.depth);
    out += buf;
    if (trained) {
      const TrialEvidence& e = d.evidence;
      std::snprintf(buf, sizeof buf, " %-9s %4.2f %5s %9s %7s %9s %9s",
                    to_string(d.prediction.outcome), d.prediction.confidence,
                    d.prediction.spiky ? "yes" : "no", num(e.end_loss).c_str(),
                    num(e.unigram_loss - e.end_loss).c_str(), num(e.update_bottom).c_str(),
                    num(e.update_top).c_str());
      out += buf;
    }
    std::snprintf(buf, sizeof buf, " %12s %12s", num(d.init.forward).c_str(),
                  num(d.init.backward).c_str());
    out += buf;
    if (trained) {
      std::snprintf(buf, sizeof buf, " %12s %12s %9s %9s", num(d.trained.forward).c_str(),
                    num(d.trained.backward).c_str(), num(d.first_loss).c_str(),
                    num(d.last_loss).c_str());
      out += buf;
    }
    out += "\n";
  }
  if (trained)
    for (const DepthResult& d : r.depths)
      for (const std::string& reason : d.prediction.reasons)
        out += "  L=" + std::to_string(d.depth) + ": " + reason + "\n";
  out += "architecture (depth laws; they describe the design at init, not whether it trains):\n";
  out +=
      verdict_line("forward", "init", to_string(classify_forward(r.forward_init)), r.forward_init);
  out += verdict_line("gradient", "init", to_string(classify_backward(r.backward_init)),
                      r.backward_init);
  if (trained) {
    const std::string state = "trained:" + std::to_string(r.options.train_steps);
    out += verdict_line("forward", state, to_string(classify_forward(r.forward_trained)),
                        r.forward_trained);
    out += verdict_line("gradient", state, to_string(classify_backward(r.backward_trained)),
                        r.backward_trained);
  }
  return out;
}

nlohmann::json report_json(const SanityReport& r) {
  nlohmann::json rows = nlohmann::json::array();
  const bool trained = r.options.train_steps > 0;
  for (const DepthResult& d : r.depths) {
    nlohmann::json row = {
        {"depth", d.depth}, {"init", measure_json(d.init)}, {"seconds", d.seconds}};
    if (trained) {
      row["trained"] = measure_json(d.trained);
      row["first_loss"] = finite_or_null(d.first_loss);
      row["last_loss"] = finite_or_null(d.last_loss);
      nlohmann::json curve = nlohmann::json::array();
      for (double v : d.trial_loss) curve.push_back(finite_or_null(v));
      row["trial_loss"] = curve;
      nlohmann::json base = nlohmann::json::array();
      for (double v : d.trial_unigram_loss) base.push_back(finite_or_null(v));
      row["trial_unigram_loss"] = base;
      row["prediction"] = prediction_json(d.prediction);
      row["evidence"] = evidence_json(d.evidence);
      row["coord_check"] = coord_check_json(d.coord);
    }
    rows.push_back(row);
  }
  nlohmann::json verdicts;
  verdicts["init"] = {
      {"forward", scaling_json(r.forward_init, to_string(classify_forward(r.forward_init)))},
      {"backward", scaling_json(r.backward_init, to_string(classify_backward(r.backward_init)))}};
  if (trained)
    verdicts["trained"] = {
        {"forward",
         scaling_json(r.forward_trained, to_string(classify_forward(r.forward_trained)))},
        {"backward",
         scaling_json(r.backward_trained, to_string(classify_backward(r.backward_trained)))}};
  return {{"config", r.config},
          {"data", r.data},
          {"init_scheme", r.init_scheme},
          {"unigram_loss", r.unigram_loss},
          {"trial_warmup", r.trial_warmup},
          {"settings",
           {{"depths", r.options.depths},
            {"train_steps", r.options.train_steps},
            {"init_seeds", r.options.init_seeds},
            {"batches", r.options.batches}}},
          {"depths", rows},
          {"verdicts", verdicts}};
}

}  // namespace normlab
