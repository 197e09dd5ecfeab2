// `normlab report RUN_DIR|CHECK.json... -o report.html [--png_dir DIR]`: one self-contained HTML
// report (docs/report.md) from run or sweep directories and sanity-check JSONs, and optionally the
// charts as PNG files.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>

#include "cli/commands.hpp"
#include "cli/config_flags.hpp"
#include "core/config.hpp"
#include "report/chartjs.hpp"
#include "report/png_export.hpp"
#include "report/report_html.hpp"
#include "report/run_data.hpp"
#include "report/sanity_check_data.hpp"

namespace normlab::cli {

namespace {

struct ReportArgs {
  std::vector<std::string> paths;
  std::string out = "report.html";
  std::string png_dir;
  std::string title = "normlab report";
  bool quiet = false;
};

std::string now_text() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

int run_report(const ReportArgs& a) {
  using namespace normlab::report;
  const std::vector<std::string> dirs = find_run_dirs(a.paths);
  std::vector<RunData> runs;
  runs.reserve(dirs.size());
  for (const auto& d : dirs) runs.push_back(load_run(d));
  assign_short_names(runs);
  const std::vector<SanityCheckData> checks = find_sanity_checks(a.paths, dirs);
  for (const auto& r : runs)
    for (const auto& w : r.warnings) std::fprintf(stderr, "normlab: warning: %s\n", w.c_str());

  const std::string chartjs = load_chartjs();
  PageOptions opt;
  opt.title = a.title;
  opt.inputs = a.paths;
  opt.generated = now_text();
  // Check for Chromium before writing anything, so a missing browser fails fast.
  if (!a.png_dir.empty() && find_chromium().empty())
    throw UserError(a.png_dir +
                    ": cannot export PNGs: chromium not found (install the Debian package "
                    "'chromium' or set NORMLAB_CHROMIUM)");
  {
    std::ofstream out(a.out, std::ios::binary);
    if (!out) throw UserError(a.out + ": cannot open for writing");
    out << render_report_html(runs, chartjs, opt, checks);
    if (!out) throw UserError(a.out + ": write failed");
  }
  if (!a.quiet)
    std::printf("report: %zu run(s), %zu sanity check(s) -> %s\n", runs.size(), checks.size(),
                a.out.c_str());
  if (!a.png_dir.empty()) {
    opt.png_mode = true;
    const auto files = export_pngs(render_report_html(runs, chartjs, opt, checks), a.png_dir);
    if (!a.quiet)
      for (const auto& f : files) std::printf("report: wrote %s\n", f.c_str());
  }
  return 0;
}

}  // namespace

Runner setup_report(CLI::App& app) {
  auto args = std::make_shared<ReportArgs>();
  app.add_option("runs", args->paths,
                 "Run directories, sweep directories holding runs (searched two levels down), or "
                 "sanity-check JSONs (normlab sanity-check --json_out)")
      ->required();
  app.add_option(flag_names("out", "o"), args->out, "Output HTML file")->capture_default_str();
  app.add_option(flag_names("png_dir"), args->png_dir,
                 "Also write every chart as DIR/chart-*.png (needs headless chromium)");
  app.add_option("--title", args->title, "Title of the report")->capture_default_str();
  app.add_flag("-q,--quiet", args->quiet, "Print nothing but warnings and errors");
  return [args]() -> int { return run_report(*args); };
}

}  // namespace normlab::cli
