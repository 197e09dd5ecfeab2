// The report page: one self-contained HTML file holding the runs' data as JSON, Chart.js inlined,
// and the script that draws the charts and the summary table from that JSON.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "report/run_data.hpp"
#include "report/sanity_check_data.hpp"

namespace normlab::report {

struct PageOptions {
  std::string title = "normlab report";
  std::vector<std::string> inputs;  // the command-line paths, shown in the header
  std::string generated;            // time stamp text, shown in the header
  // The PNG-export variant: fixed-size charts drawn at 2x, each chart's image written into a
  // <pre class="png-out" data-name="chart-..."> element for `chromium --dump-dom` to carry out.
  bool png_mode = false;
};

// The data the page script reads: {"png", "runs": [{name, placement, ..., config: {key: text},
// train: [[step, loss]], valid, lr_curve, grad_norm, probes: [{step, "grad_input": [...],
// "input.rms": [...], "update_ratio": [...], ...}], warnings}]}. Non-finite numbers become null,
// which Chart.js draws as gaps.
// "checks": [sanity_check_json(...)] holds the sanity checks' coordinate checks.
nlohmann::json report_data_json(const std::vector<RunData>& runs, bool png_mode,
                                const std::vector<SanityCheckData>& checks = {});

// The whole page. `chartjs` is the Chart.js UMD source to inline (see chartjs.hpp). Once its
// script has run, <body> carries data-charts-ready="N" (N figures drawn) and, after any uncaught
// error, data-error="MESSAGE": what tests/cli/test_report.sh and the PNG export look for.
std::string render_report_html(const std::vector<RunData>& runs, const std::string& chartjs,
                               const PageOptions& options,
                               const std::vector<SanityCheckData>& checks = {});

// The page's stylesheet, src/report/assets/report.css, and script, the files of
// NORMLAB_REPORT_SCRIPTS in CMakeLists.txt concatenated (one per chart kind, docs/report.md),
// embedded by the build (cmake/embed_file.cmake).
extern const char* const kReportPageStyle;
extern const char* const kReportPageScript;

}  // namespace normlab::report
