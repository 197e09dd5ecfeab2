// The report's reading of sanity-check JSONs (src/report/sanity_check_data.hpp): which arguments
// are checks, what the page's "checks" data holds, and the errors for a file that is not a check.
// The chart drawn from it is checked in headless Chromium by tests/cli/test_report_coord_check.sh.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/config.hpp"
#include "report/report_html.hpp"
#include "report/run_data.hpp"
#include "report/sanity_check_data.hpp"
#include "temp_tree.hpp"

namespace fs = std::filesystem;
using namespace normlab::report;
using nlohmann::json;

namespace {

// A check of two depths as `normlab sanity-check --json_out` writes it (other members elided).
json two_depth_check(const std::string& placement) {
  auto row = [](int step, double in, double upd) {
    return json{{"step", step},
                {"top_rms", 2 * in},
                {"blocks",
                 {{{"input_rms", in},
                   {"sublayer_out_rms", {0.5, 0.7}},
                   {"update_ratio", upd},
                   {"grad_rms", 1e-3}},
                  {{"input_rms", 3 * in},
                   {"sublayer_out_rms", {0.5, nullptr}},
                   {"update_ratio", nullptr},
                   {"grad_rms", 2e-3}}}}};
  };
  return {{"config", {{"placement", placement}, {"lr", 0.01}, {"d_model", 32}, {"seed", 1}}},
          {"unigram_loss", 4.9},
          {"depths",
           {{{"depth", 4}, {"evidence", json::object()}, {"coord_check", {row(1, 0.2, 0.003)}}},
            {{"depth", 8},
             {"evidence", json::object()},
             {"coord_check", {row(1, 0.25, 0.002), row(5, 0.5, 0.004)}}}}}};
}

}  // namespace

TEST(SanityCheckData, LoadKeepsTheCoordinateCheckOfEveryDepthAndTheLabels) {
  TempTree t;
  t.write("checks/pre.json", two_depth_check("pre").dump());
  const SanityCheckData c = load_sanity_check(t.path("checks/pre.json"));
  EXPECT_EQ(c.name, "checks/pre.json");
  EXPECT_EQ(c.placement, "pre");
  EXPECT_EQ(c.lr, "0.01");
  EXPECT_EQ(c.d_model, "32");
  ASSERT_EQ(c.depths.size(), 2u);
  EXPECT_EQ(c.depths[1]["depth"], 8);
  ASSERT_EQ(c.depths[1]["coord_check"].size(), 2u);
  EXPECT_EQ(c.depths[1]["coord_check"][1]["step"], 5);
  EXPECT_DOUBLE_EQ(c.depths[1]["coord_check"][1]["blocks"][1]["input_rms"].get<double>(), 1.5);
  EXPECT_TRUE(c.depths[0]["coord_check"][0]["blocks"][1]["update_ratio"].is_null());
  EXPECT_FALSE(c.depths[0].contains("evidence"));  // the page carries the coord check only

  const json page = report_data_json({}, false, {c});
  ASSERT_EQ(page["checks"].size(), 1u);
  EXPECT_EQ(page["checks"][0]["placement"], "pre");
  EXPECT_EQ(page["checks"][0]["depths"], c.depths);
  EXPECT_EQ(report_data_json({}, false)["checks"], json::array());
}

TEST(SanityCheckData, FoundAsFileArgumentsAndInDirectoriesOnce) {
  TempTree t;
  t.write("a.json", two_depth_check("post").dump());
  t.write("run/summary.json", "{}");
  t.write("run/sanity-check.json", two_depth_check("peri").dump());
  t.write("only-check/sanity-check.json", two_depth_check("none").dump());
  // A directory holding only a check is not an error for find_run_dirs, and a .json argument
  // is not a run.
  const auto runs = find_run_dirs({t.path("a.json"), t.path("run"), t.path("only-check")});
  ASSERT_EQ(runs.size(), 1u);
  const auto checks = find_sanity_checks(
      {t.path("a.json"), t.path("run"), t.path("only-check"), t.path("a.json")}, runs);
  ASSERT_EQ(checks.size(), 3u);
  EXPECT_EQ(checks[0].placement, "post");
  EXPECT_EQ(checks[1].placement, "peri");
  EXPECT_EQ(checks[2].placement, "none");
  EXPECT_TRUE(is_sanity_check_path(t.path("a.json")));
  EXPECT_FALSE(is_sanity_check_path(t.path("run/summary")));
  EXPECT_FALSE(is_sanity_check_path(t.path("missing.json")));
}

TEST(SanityCheckData, AFileThatIsNotACheckIsAUserErrorNamingIt) {
  TempTree t;
  t.write("bad.json", "{\"depths\": [");
  t.write("summary.json", "{\"status\": \"ok\"}");
  t.write("nodepth.json", "{\"depths\": [{\"coord_check\": []}]}");
  for (const char* f : {"bad.json", "summary.json", "nodepth.json"}) {
    try {
      load_sanity_check(t.path(f));
      ADD_FAILURE() << f;
    } catch (const normlab::UserError& e) {
      EXPECT_EQ(std::string(e.what()).rfind(t.path(f) + ": not a sanity-check JSON", 0), 0u)
          << e.what();
    }
  }
}
