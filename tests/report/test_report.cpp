// Reading run directories and building the report page (src/report/); the browser side is
// covered end to end by tests/cli/test_report.sh.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/config.hpp"
#include "report/png_export.hpp"
#include "report/report_html.hpp"
#include "report/run_data.hpp"
#include "temp_tree.hpp"

namespace fs = std::filesystem;
using namespace normlab::report;

TEST(FindRunDirs, RunItselfSweepAndNestedSweep) {
  TempTree t;
  t.write("run/metrics.jsonl", "");
  t.write("sweep/b/summary.json", "{}");
  t.write("sweep/a/metrics.jsonl", "");
  t.write("sweep/group/c/metrics.jsonl", "");
  t.write("sweep/notes/readme.txt", "x");
  auto dirs = find_run_dirs({t.path("run"), t.path("sweep"), t.path("run")});
  ASSERT_EQ(dirs.size(), 4u);  // the repeated argument is dropped
  EXPECT_EQ(dirs[0], t.path("run"));
  EXPECT_EQ(dirs[1], t.path("sweep/a"));
  EXPECT_EQ(dirs[2], t.path("sweep/b"));
  EXPECT_EQ(dirs[3], t.path("sweep/group/c"));
}

TEST(FindRunDirs, ErrorsNameThePath) {
  TempTree t;
  t.write("empty/x.txt", "");
  try {
    find_run_dirs({t.path("missing")});
    FAIL();
  } catch (const normlab::UserError& e) {
    EXPECT_EQ(std::string(e.what()), t.path("missing") + ": no such file or directory");
  }
  EXPECT_THROW(find_run_dirs({t.path("empty")}), normlab::UserError);
  EXPECT_THROW(find_run_dirs({t.path("empty/x.txt")}), normlab::UserError);
}

TEST(LoadRun, SummaryConfigMetricsAndDiagnostics) {
  TempTree t;
  t.write("r/config.yaml", "n_layers: 3\nplacement: pre\nnorm: rmsnorm\ndt: 1/sqrt(L)\nlr: 1e-3\n");
  t.write("r/summary.json", R"({"status":"ok","steps":20,"final_loss":2.5,"final_valid_loss":null,)"
                            R"("config":{"placement":"post","seed":7,"lr":0.002}})");
  t.write("r/metrics.jsonl",
          "{\"step\":0,\"valid_loss\":7.0,\"valid_ppl\":1000}\n"
          "{\"step\":10,\"loss\":3.0,\"lr\":0.001}\n"
          "\n"
          "{\"step\":20,\"loss\":null}\n"
          "{\"step\":30,\"lo");
  t.write("r/diagnostics.jsonl",
          R"({"step":0,"blocks":[{"block":2,"grad_input":0.5,"input":{"rms":2.0,"var":4.0}},)"
          R"({"block":1,"grad_input":0.25,"input":{"rms":1.0}}]})"
          "\n");
  RunData r = load_run(t.path("r"));
  EXPECT_EQ(r.placement, "post");  // summary.json's typed config wins over config.yaml
  EXPECT_EQ(r.norm, "rmsnorm");
  EXPECT_EQ(r.dt, "1/sqrt(L)");
  EXPECT_EQ(r.lr, "0.002");
  EXPECT_EQ(r.seed, "7");
  EXPECT_EQ(r.n_layers, 3);
  EXPECT_EQ(r.status, "ok");
  EXPECT_FALSE(r.diverged);
  EXPECT_EQ(r.steps, 20);
  EXPECT_DOUBLE_EQ(r.final_loss, 2.5);
  EXPECT_TRUE(std::isnan(r.final_valid_loss));  // null in summary.json stays unknown
  ASSERT_EQ(r.train_loss.size(), 2u);
  EXPECT_TRUE(std::isnan(r.train_loss[1].second));
  ASSERT_EQ(r.valid_loss.size(), 1u);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("metrics.jsonl:5:"), std::string::npos);
  ASSERT_EQ(r.probes.size(), 1u);
  const auto& gi = r.probes[0].values[static_cast<int>(ProbeQuantity::kGradInput)];
  ASSERT_EQ(gi.size(), 2u);
  EXPECT_DOUBLE_EQ(gi[0], 0.25);
  EXPECT_DOUBLE_EQ(gi[1], 0.5);
  const auto& bv = r.probes[0].values[static_cast<int>(ProbeQuantity::kInputBatchVar)];
  EXPECT_TRUE(std::isnan(bv[0]));
}

TEST(LoadRun, MetricsCurvesAndConfig) {
  TempTree t;
  t.write("r/config.yaml", "placement: pre\nwarmup: 5\n");
  t.write("r/metrics.jsonl",
          "{\"step\":2,\"loss\":3.0,\"lr\":0.0002,\"grad_norm\":1.5}\n"
          "{\"step\":4,\"loss\":null,\"lr\":0.0004,\"grad_norm\":null}\n"
          "{\"step\":4,\"valid_loss\":3.5}\n");
  RunData r = load_run(t.path("r"));
  ASSERT_EQ(r.lr_curve.size(), 2u);
  EXPECT_DOUBLE_EQ(r.lr_curve[1].second, 0.0004);
  ASSERT_EQ(r.grad_norm.size(), 2u);
  EXPECT_DOUBLE_EQ(r.grad_norm[0].second, 1.5);
  EXPECT_TRUE(std::isnan(r.grad_norm[1].second));
  EXPECT_EQ(r.config.at("warmup"), "5");
  const auto j = report_data_json({r}, false);
  EXPECT_EQ(j["runs"][0]["lr_curve"][0][1], 0.0002);
  EXPECT_TRUE(j["runs"][0]["grad_norm"][1][1].is_null());
  EXPECT_EQ(j["runs"][0]["config"]["placement"], "pre");
}

TEST(ParamBlock, DecoderLmAndEncoderDecoderNames) {
  EXPECT_EQ(param_block("blocks.0.attn.qkv.weight"), 1);
  EXPECT_EQ(param_block("blocks.17.mlp.fc2.bias"), 18);
  EXPECT_EQ(param_block("decoder.blocks.3.cross.q.weight"), 4);
  EXPECT_EQ(param_block("encoder.blocks.3.attn.qkv.weight"), 0);
  EXPECT_EQ(param_block("tok_emb.weight"), 0);
  EXPECT_EQ(param_block("blocks.x.attn"), 0);
  EXPECT_EQ(param_block("blocks.2"), 0);
}

// Block totals: gradient norm sqrt(sum g_i^2); update ratio ||dW|| / ||W|| of the tensors together,
// sqrt(sum (r_i w_i)^2) / sqrt(sum w_i^2) (docs/diagnostics.md).
TEST(LoadRun, BlockParameterNormsCombineTheTensors) {
  TempTree t;
  t.write("r/diagnostics.jsonl",
          R"({"step":10,"blocks":[{"block":1},{"block":2}],"params":{)"
          R"("blocks.0.a.weight":{"grad_norm":3,"weight_norm":3,"update_ratio":0.1},)"
          R"("blocks.0.b.weight":{"grad_norm":4,"weight_norm":4,"update_ratio":0.2},)"
          R"("blocks.1.a.weight":{"grad_norm":1,"update_ratio":0.5},)"
          R"("tok_emb.weight":{"grad_norm":100,"weight_norm":1,"update_ratio":9}}})"
          "\n"
          R"({"step":20,"blocks":[{"block":1},{"block":2}],"params":{)"
          R"("blocks.0.a.weight":{"grad_norm":null,"weight_norm":3,"update_ratio":0.1}}})"
          "\n");
  RunData r = load_run(t.path("r"));
  ASSERT_EQ(r.probes.size(), 2u);
  const auto& g = r.probes[0].values[static_cast<int>(ProbeQuantity::kParamGradNorm)];
  const auto& u = r.probes[0].values[static_cast<int>(ProbeQuantity::kUpdateRatio)];
  EXPECT_DOUBLE_EQ(g[0], 5.0);
  EXPECT_DOUBLE_EQ(g[1], 1.0);
  // ||dW|| = sqrt(0.3^2 + 0.8^2), ||W|| = 5.
  EXPECT_NEAR(u[0], std::sqrt(0.09 + 0.64) / 5.0, 1e-12);
  EXPECT_TRUE(std::isnan(u[1]));  // no weight_norm: no update ratio
  const auto& g2 = r.probes[1].values[static_cast<int>(ProbeQuantity::kParamGradNorm)];
  EXPECT_TRUE(std::isnan(g2[0]));  // a null gradient norm makes the block's total unknown
  EXPECT_TRUE(std::isnan(g2[1]));  // block 2 has no tensors in this record
  const auto j = report_data_json({r}, false);
  EXPECT_DOUBLE_EQ(j["runs"][0]["probes"][0]["param_grad_norm"][0].get<double>(), 5.0);
  EXPECT_TRUE(j["runs"][0]["probes"][0]["update_ratio"][1].is_null());
}

TEST(LoadRun, WithoutSummaryUsesTheCurvesAndDivergedIsRecognised) {
  TempTree t;
  t.write("a/metrics.jsonl", "{\"step\":5,\"loss\":4.0}\n{\"step\":9,\"valid_loss\":4.5}\n");
  RunData a = load_run(t.path("a"));
  EXPECT_EQ(a.status, "no summary");
  EXPECT_DOUBLE_EQ(a.final_loss, 4.0);
  EXPECT_DOUBLE_EQ(a.final_valid_loss, 4.5);
  EXPECT_EQ(a.steps, 9);
  t.write("b/summary.json", R"({"status":"diverged at step 12","steps":12})");
  t.write("b/config.yaml", "{{{ not yaml");
  RunData b = load_run(t.path("b"));
  EXPECT_TRUE(b.diverged);
  EXPECT_EQ(b.warnings.size(), 1u);
}

TEST(ShortNames, ParentsAddedOnlyOnCollision) {
  std::vector<RunData> runs(3);
  runs[0].dir = "/x/sweep1/post-L6";
  runs[1].dir = "/x/sweep2/post-L6/";
  runs[2].dir = "/x/sweep2/pre-L6";
  assign_short_names(runs);
  EXPECT_EQ(runs[0].name, "sweep1/post-L6");
  EXPECT_EQ(runs[1].name, "sweep2/post-L6");
  EXPECT_EQ(runs[2].name, "pre-L6");
}

TEST(ReportHtml, DataCannotCloseTheScriptElement) {
  std::vector<RunData> runs(1);
  runs[0].name = "</script><script>alert(1)</script>";
  runs[0].final_loss = std::nan("");
  runs[0].final_valid_loss = 3.0;
  PageOptions opt;
  opt.title = "a <b> title";
  const std::string html = render_report_html(runs, "/* chart */", opt);
  EXPECT_EQ(html.find("alert(1)</script>"), std::string::npos);
  EXPECT_NE(html.find("a &lt;b&gt; title"), std::string::npos);
  const auto j = report_data_json(runs, false);
  EXPECT_TRUE(j["runs"][0]["final_loss"].is_null());
  EXPECT_EQ(j["runs"][0]["name"], runs[0].name);
}

TEST(PngExport, Base64AndDomExtraction) {
  EXPECT_EQ(base64_decode("aGVsbG8="), "hello");
  EXPECT_EQ(base64_decode("aGVs\nbG8h"), "hello!");
  EXPECT_THROW(base64_decode("a$=="), std::invalid_argument);
  const std::string dom =
      "<body data-charts-ready=\"4\"><div id=\"png-out\">"
      "<pre class=\"png-out\" data-name=\"chart-1-loss\">data:image/png;base64,aGk=</pre>"
      "<pre class=\"png-out\" data-name=\"chart-4\">data:image/png;base64,</pre></div></body>";
  auto p = extract_png_payloads(dom);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].first, "chart-1-loss");
  EXPECT_EQ(p[0].second, "aGk=");
  EXPECT_EQ(p[1].first, "chart-4");
}
