#include "report/report_html.hpp"

#include <cmath>

#include "core/placement_presets.hpp"

namespace normlab::report {
using nlohmann::json;

namespace {

json finite_or_null(double v) {
  return std::isfinite(v) ? json(v) : json(nullptr);
}

json curve_json(const std::vector<std::pair<int64_t, double>>& curve) {
  json a = json::array();
  for (const auto& [step, v] : curve) a.push_back(json::array({step, finite_or_null(v)}));
  return a;
}

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// JSON inside <script type="application/json">: "</" could close the element and "<!--" could
// open a script-data comment, so '<' is escaped as "\u003c", which JSON.parse reads back as '<'.
std::string script_safe_json(const json& j) {
  const std::string text = j.dump(-1, ' ', /*ensure_ascii=*/true);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '<')
      out += "\\u003c";
    else
      out += c;
  }
  return out;
}

}  // namespace

json report_data_json(const std::vector<RunData>& runs, bool png_mode,
                      const std::vector<SanityCheckData>& checks) {
  json out;
  out["png"] = png_mode;
  // The presets in the order they are defined (post, pre, peri, b2t, ...): figures list
  // placements in this order rather than alphabetically.
  out["placements"] = placement_names();
  json& jr = out["runs"] = json::array();
  for (const auto& r : runs) {
    json j;
    j["name"] = r.name;
    j["dir"] = r.dir;
    j["placement"] = r.placement;
    j["norm"] = r.norm;
    j["n_layers"] = r.n_layers;
    j["dt"] = r.dt;
    j["lr"] = r.lr;
    j["seed"] = r.seed;
    j["status"] = r.status;
    j["diverged"] = r.diverged;
    j["has_summary"] = r.has_summary;
    j["steps"] = r.steps >= 0 ? json(r.steps) : json(nullptr);
    j["final_loss"] = finite_or_null(r.final_loss);
    j["final_valid_loss"] = finite_or_null(r.final_valid_loss);
    j["unigram_loss"] = finite_or_null(r.unigram_loss);
    j["train"] = curve_json(r.train_loss);
    j["valid"] = curve_json(r.valid_loss);
    j["lr_curve"] = curve_json(r.lr_curve);
    j["grad_norm"] = curve_json(r.grad_norm);
    j["config"] = r.config;
    json probes = json::array();
    for (const auto& p : r.probes) {
      json jp;
      jp["step"] = p.step;
      for (int q = 0; q < kNumProbeQuantities; ++q) {
        json a = json::array();
        for (double v : p.values[static_cast<size_t>(q)]) a.push_back(finite_or_null(v));
        jp[probe_quantity_key(static_cast<ProbeQuantity>(q))] = std::move(a);
      }
      probes.push_back(std::move(jp));
    }
    j["probes"] = std::move(probes);
    j["warnings"] = r.warnings;
    jr.push_back(std::move(j));
  }
  json& jc = out["checks"] = json::array();
  for (const auto& c : checks) jc.push_back(sanity_check_json(c));
  return out;
}

std::string render_report_html(const std::vector<RunData>& runs, const std::string& chartjs,
                               const PageOptions& options,
                               const std::vector<SanityCheckData>& checks) {
  std::string inputs;
  for (const auto& in : options.inputs) inputs += (inputs.empty() ? "" : ", ") + in;
  std::string h;
  h.reserve(chartjs.size() + 65536);
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  h += "<title>" + html_escape(options.title) + "</title>\n";
  // Installed first so that a failure while Chart.js itself loads is recorded too.
  h += "<script>window.onerror=function(m,s,l){var e=document.body||document.documentElement;"
       "e.setAttribute('data-error',String(m)+' (line '+l+')');};</script>\n";
  h += "<style>\n";
  h += kReportPageStyle;
  h += "</style>\n</head>\n<body class=\"";
  h += options.png_mode ? "png" : "interactive";
  h += "\">\n<header><h1>" + html_escape(options.title) + "</h1>\n<p class=\"meta\">";
  h += std::to_string(runs.size()) + (runs.size() == 1 ? " run" : " runs");
  if (!checks.empty())
    h += ", " + std::to_string(checks.size()) +
         (checks.size() == 1 ? " sanity check" : " sanity checks");
  if (!inputs.empty()) h += " from " + html_escape(inputs);
  if (!options.generated.empty()) h += " &middot; generated " + html_escape(options.generated);
  h += " &middot; normlab report</p></header>\n";
  // The figures and the runs table are built by the page's script (src/report/assets/*.js).
  h += R"HTML(<main id="figures"></main>
<div id="png-out"></div>
)HTML";
  h += "<script type=\"application/json\" id=\"normlab-data\">";
  h += script_safe_json(report_data_json(runs, options.png_mode, checks));
  h += "</script>\n<script>\n";
  h += chartjs;
  h += "\n</script>\n<script>\n";
  h += kReportPageScript;
  h += "</script>\n</body>\n</html>\n";
  return h;
}

}  // namespace normlab::report
