#include "diag/sanity_check.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "core/rng.hpp"
#include "data/batches.hpp"
#include "diag/probes.hpp"
#include "model/decoder_lm.hpp"
#include "train/optimizer.hpp"
#include "train/schedule.hpp"

namespace normlab {

namespace {

// Thresholds of the verdicts (docs/sanity-check.md explains the choice).
// Forward: growth slower than L^0.25 over the measured depths counts as bounded (with depths
// 2..64 that is less than 2.4x from the shallowest to the deepest stack).
constexpr double kBoundedPower = 0.25;
// Forward: a power law steeper than L^1.5 is no longer "at most linear".
constexpr double kLinearMaxPower = 1.5;
// Backward: the bottom/top gradient ratio of the deepest stack, as fitted, must leave
// [1/4, 4] and move away from the shallowest stack's ratio by the same factor to count as
// vanishing or exploding.
constexpr double kGradFactor = 4.0;

// Batches of the measurements are drawn far from the training batches' indices.
constexpr uint64_t kMeasureBatchBase = 1ull << 40;

// Log residual sum of squares of the affine law r = a + k L, fitted by least squares on the
// relative error (weights 1/r^2, so that its residuals are comparable with the log-space fits);
// +inf when the fitted line is not positive at every depth.
double affine_log_rss(const std::vector<double>& L, const std::vector<double>& logr) {
  double sw = 0, swx = 0, swy = 0, swxx = 0, swxy = 0;
  for (size_t i = 0; i < L.size(); ++i) {
    const double r = std::exp(logr[i]), w = 1.0 / (r * r);
    sw += w, swx += w * L[i], swy += w * r, swxx += w * L[i] * L[i], swxy += w * L[i] * r;
  }
  const double det = sw * swxx - swx * swx;
  if (!(det > 0)) return INFINITY;
  const double k = (sw * swxy - swx * swy) / det, a = (swy - k * swx) / sw;
  double rss = 0;
  for (size_t i = 0; i < L.size(); ++i) {
    const double f = a + k * L[i];
    if (!(f > 0)) return INFINITY;
    const double e = logr[i] - std::log(f);
    rss += e * e;
  }
  return rss;
}

// Fitted log ratio at depth L under the law that fits best (exponential or power).
double fitted_log(const DepthScaling& s, double L) {
  if (s.exponential.rss < s.power.rss) return s.exponential.intercept + s.exponential.slope * L;
  return s.power.intercept + s.power.slope * std::log(L);
}

double log_or_nan(double v) {
  return v > 0 ? std::log(v) : (v == 0 ? -INFINITY : NAN);
}

struct Accumulator {
  double fwd = 0, bwd = 0, top = 0, bottom = 0, g_bottom = 0, g_top = 0, loss = 0;
  int n = 0;
  StackMeasure mean() const {
    StackMeasure m;
    m.forward = std::exp(fwd / n), m.backward = std::exp(bwd / n);
    m.top_rms = std::exp(top / n), m.bottom_rms = std::exp(bottom / n);
    m.grad_bottom = std::exp(g_bottom / n), m.grad_top = std::exp(g_top / n);
    m.loss = loss / n;
    return m;
  }
};

// Forward and backward of every measurement batch on the model as it is (no update).
void measure(DecoderLM& model, const std::vector<std::vector<int32_t>>& xs,
             const std::vector<std::vector<int32_t>>& ys, int B, int T, Accumulator& acc) {
  const int d = model.shape().d, L = model.shape().layers;
  model.training = false;
  model.record_grad_norms = true;
  for (size_t i = 0; i < xs.size(); ++i) {
    model.params().zero_grads();
    const double loss = model.forward(xs[i].data(), ys[i].data(), B, T);
    model.backward();
    const double top = hidden_stats(model.stack_output(), B, T, d).rms;
    const double bottom = hidden_stats(model.sublayers()[0].x_in, B, T, d).rms;
    const double gb = model.grad_block_input()[0], gt = model.grad_block_input()[L - 1];
    acc.fwd += log_or_nan(top / bottom), acc.bwd += log_or_nan(gb / gt);
    acc.top += log_or_nan(top), acc.bottom += log_or_nan(bottom);
    acc.g_bottom += log_or_nan(gb), acc.g_top += log_or_nan(gt);
    acc.loss += loss;
    ++acc.n;
  }
  model.record_grad_norms = false;
}

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

nlohmann::json finite_or_null(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
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

std::string verdict_line(const char* what, const std::string& state, const char* verdict,
                         const DepthScaling& s) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%-9s %-13s %-12s", what, state.c_str(), verdict);
  std::string line = buf;
  if (s.points >= 2)
    line += "L^" + fmt("%.2f", s.power.slope) + "  x" + fmt("%.3f", std::exp(s.exponential.slope)) +
            "/layer  (rss exp " + num(s.exponential.rss) + ", power " + num(s.power.rss) +
            ", affine " + num(s.affine_rss) + ", const " + num(s.constant_rss) + ")";
  if (s.overflow) line += "  (overflow: inf/NaN at some depth)";
  return line + "\n";
}

}  // namespace

LineFit fit_line(const std::vector<double>& x, const std::vector<double>& y) {
  LineFit f;
  const size_t n = x.size();
  if (n == 0) return f;
  double mx = 0, my = 0;
  for (size_t i = 0; i < n; ++i) mx += x[i], my += y[i];
  mx /= n, my /= n;
  double sxx = 0, sxy = 0;
  for (size_t i = 0; i < n; ++i) sxx += (x[i] - mx) * (x[i] - mx), sxy += (x[i] - mx) * (y[i] - my);
  f.slope = sxx > 0 ? sxy / sxx : 0;
  f.intercept = my - f.slope * mx;
  for (size_t i = 0; i < n; ++i) {
    const double e = y[i] - f.intercept - f.slope * x[i];
    f.rss += e * e;
  }
  return f;
}

DepthScaling fit_depth_scaling(const std::vector<int>& depths, const std::vector<double>& ratios) {
  DepthScaling s;
  std::vector<double> L, logL, logr;
  for (size_t i = 0; i < depths.size() && i < ratios.size(); ++i) {
    if (std::isinf(ratios[i]) && ratios[i] > 0) s.overflow = true;
    if (!std::isfinite(ratios[i]) || !(ratios[i] > 0)) continue;
    L.push_back(depths[i]), logL.push_back(std::log(static_cast<double>(depths[i])));
    logr.push_back(std::log(ratios[i]));
  }
  s.points = static_cast<int>(L.size());
  if (L.empty()) return s;
  s.min_depth = static_cast<int>(*std::min_element(L.begin(), L.end()));
  s.max_depth = static_cast<int>(*std::max_element(L.begin(), L.end()));
  s.exponential = fit_line(L, logr);
  s.power = fit_line(logL, logr);
  s.constant_rss = fit_line(std::vector<double>(L.size(), 0.0), logr).rss;
  s.affine_rss = affine_log_rss(L, logr);
  return s;
}

// Forward (Kan et al. 2025): bounded when the state does not grow appreciably with depth;
// exponential when log(growth) is better explained by a line in L than by a power law or an
// affine law in L (or the forward overflowed); otherwise linear (a power law up to L^1.5).
ForwardClass classify_forward(const DepthScaling& s) {
  if (s.overflow) return ForwardClass::Exponential;
  if (s.points < 3) return ForwardClass::Undetermined;
  if (s.power.slope < kBoundedPower) return ForwardClass::Bounded;
  if (s.power.slope > kLinearMaxPower) return ForwardClass::Exponential;
  if (s.exponential.slope > 0 && s.exponential.rss < std::min(s.power.rss, s.affine_rss))
    return ForwardClass::Exponential;
  return ForwardClass::Linear;
}

BackwardClass classify_backward(const DepthScaling& s) {
  if (s.overflow) return BackwardClass::Exploding;
  if (s.points < 3) return BackwardClass::Undetermined;
  const double deep = fitted_log(s, s.max_depth), shallow = fitted_log(s, s.min_depth);
  const double k = std::log(kGradFactor);
  if (deep < -k && deep - shallow < -k) return BackwardClass::Vanishing;
  if (deep > k && deep - shallow > k) return BackwardClass::Exploding;
  return BackwardClass::Flat;
}

const char* to_string(ForwardClass c) {
  switch (c) {
    case ForwardClass::Bounded:
      return "bounded";
    case ForwardClass::Linear:
      return "linear";
    case ForwardClass::Exponential:
      return "exponential";
    case ForwardClass::Undetermined:
      break;
  }
  return "undetermined";
}

const char* to_string(BackwardClass c) {
  switch (c) {
    case BackwardClass::Vanishing:
      return "vanishing";
    case BackwardClass::Flat:
      return "flat";
    case BackwardClass::Exploding:
      return "exploding";
    case BackwardClass::Undetermined:
      break;
  }
  return "undetermined";
}

std::vector<int32_t> markov_tokens(int vocab, size_t n, uint64_t seed) {
  if (vocab < 2) throw UserError("option 'vocab_size': the synthetic chain needs at least 2 ids");
  const int k = std::min(4, vocab);
  static const double kProb[4] = {0.55, 0.25, 0.12, 0.08};
  std::vector<int32_t> succ(static_cast<size_t>(vocab) * k);
  Rng rng(seed);
  for (int v = 0; v < vocab; ++v) {
    int32_t* s = succ.data() + static_cast<size_t>(v) * k;
    for (int j = 0; j < k; ++j) {
      int32_t c;
      do c = static_cast<int32_t>(rng.next_u64() % static_cast<uint64_t>(vocab));
      while (std::find(s, s + j, c) != s + j);
      s[j] = c;
    }
  }
  std::vector<int32_t> out(n);
  int32_t cur = static_cast<int32_t>(rng.next_u64() % static_cast<uint64_t>(vocab));
  for (size_t i = 0; i < n; ++i) {
    out[i] = cur;
    double u = rng.uniform(), acc = 0;
    int j = 0;
    for (; j < k - 1; ++j) {
      acc += kProb[j];
      if (u < acc) break;
    }
    cur = succ[static_cast<size_t>(cur) * k + j];
  }
  return out;
}

SanityReport run_sanity_check(const Config& config, const SanityOptions& options,
                              const std::vector<int32_t>& tokens, const std::string& data_label) {
  if (options.depths.empty()) throw UserError("option '--depths': give at least one depth");
  for (int L : options.depths)
    if (L < 1) throw UserError("option '--depths': depth " + std::to_string(L) + " is below 1");
  if (options.train_steps < 0 || options.init_seeds < 1 || options.batches < 1)
    throw UserError("sanity-check: train steps must be >= 0, seeds and batches >= 1");
  const int B = static_cast<int>(config.get_int("batch_size"));
  const int T = static_cast<int>(config.get_int("seq_len"));
  const uint64_t seed = static_cast<uint64_t>(config.get_int("seed"));
  BatchSampler sampler(tokens, B, T, seed, data_label.c_str());

  SanityReport report;
  report.config = config.to_json();
  report.options = options;
  report.data = data_label;
  std::vector<std::vector<int32_t>> xs(options.batches), ys(options.batches);
  for (int i = 0; i < options.batches; ++i) {
    xs[i].resize(static_cast<size_t>(B) * T), ys[i].resize(static_cast<size_t>(B) * T);
    sampler.sample(kMeasureBatchBase + i, xs[i].data(), ys[i].data());
  }
  std::vector<int32_t> x(static_cast<size_t>(B) * T), y(static_cast<size_t>(B) * T);
  const AdamWSettings adam = AdamWSettings::from_config(config);
  const Schedule schedule{config.get_string("schedule"), config.get_float("lr"),
                          config.get_float("min_lr"), config.get_int("warmup"),
                          std::max(1, options.train_steps)};

  for (int L : options.depths) {
    const auto t0 = std::chrono::steady_clock::now();
    Config c = config;
    c.set("n_layers", std::to_string(L), "--depths");
    DecoderLM model(c);
    model.plan(B, T);
    if (report.init_scheme.empty()) report.init_scheme = model.stack().description().init;
    DepthResult r;
    r.depth = L;
    Accumulator init;
    for (int s = 0; s < options.init_seeds; ++s) {
      model.initialize(seed + static_cast<uint64_t>(s));
      measure(model, xs, ys, B, T, init);
    }
    r.init = init.mean();
    if (options.train_steps > 0) {
      model.initialize(seed);
      AdamW opt(model.params(), adam);
      model.training = true;
      for (int step = 1; step <= options.train_steps; ++step) {
        sampler.sample(static_cast<uint64_t>(step - 1), x.data(), y.data());
        model.set_dropout_seed(splitmix64(seed * 0x9E37ull + static_cast<uint64_t>(step)));
        model.params().zero_grads();
        const double loss = model.forward(x.data(), y.data(), B, T);
        if (step == 1) r.first_loss = loss;
        r.last_loss = loss;
        if (!std::isfinite(loss)) break;  // diverged: the trained measurement shows it
        model.backward();
        opt.step(static_cast<float>(schedule.at(step)));
      }
      Accumulator trained;
      measure(model, xs, ys, B, T, trained);
      r.trained = trained.mean();
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    report.depths.push_back(r);
    if (options.progress) {
      std::string line = "sanity-check: depth " + std::to_string(L) + ": init forward " +
                         num(r.init.forward) + ", grad bottom/top " + num(r.init.backward);
      if (options.train_steps > 0)
        line += "; after " + std::to_string(options.train_steps) + " steps (loss " +
                num(r.first_loss) + " -> " + num(r.last_loss) + ") forward " +
                num(r.trained.forward) + ", grad bottom/top " + num(r.trained.backward);
      options.progress(line + " [" + fmt("%.1f", r.seconds) + " s]");
    }
  }

  std::vector<int> depths;
  std::vector<double> fi, bi, ft, bt;
  for (const DepthResult& r : report.depths) {
    depths.push_back(r.depth);
    // A forward that overflowed leaves inf or NaN at the top: both mean unbounded growth.
    fi.push_back(std::isnan(r.init.forward) ? INFINITY : r.init.forward);
    bi.push_back(r.init.backward);
    ft.push_back(std::isnan(r.trained.forward) ? INFINITY : r.trained.forward);
    bt.push_back(r.trained.backward);
  }
  report.forward_init = fit_depth_scaling(depths, fi);
  report.backward_init = fit_depth_scaling(depths, bi);
  if (options.train_steps > 0) {
    report.forward_trained = fit_depth_scaling(depths, ft);
    report.backward_trained = fit_depth_scaling(depths, bt);
  }
  return report;
}

std::string format_report(const SanityReport& r) {
  const nlohmann::json& c = r.config;
  std::string out = "sanity-check: placement " + c["placement"].get<std::string>() + ", norm " +
                    c["norm"].get<std::string>() + ", dt " + c["dt"].get<std::string>() +
                    ", init " + r.init_scheme + ", d_model " +
                    std::to_string(c["d_model"].get<long>()) + ", data " + r.data + "\n";
  const bool trained = r.options.train_steps > 0;
  char buf[256];
  std::snprintf(buf, sizeof buf, "%6s %12s %12s", "depth", "fwd@init", "grad@init");
  out += buf;
  if (trained) {
    std::snprintf(buf, sizeof buf, " %12s %12s %9s %9s", "fwd@trained", "grad@trained", "loss@1",
                  "loss@end");
    out += buf;
  }
  out += "\n";
  for (const DepthResult& d : r.depths) {
    std::snprintf(buf, sizeof buf, "%6d %12s %12s", d.depth, num(d.init.forward).c_str(),
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
          {"settings",
           {{"depths", r.options.depths},
            {"train_steps", r.options.train_steps},
            {"init_seeds", r.options.init_seeds},
            {"batches", r.options.batches}}},
          {"depths", rows},
          {"verdicts", verdicts}};
}

}  // namespace normlab
