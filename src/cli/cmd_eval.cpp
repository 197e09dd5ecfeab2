// `normlab eval --metric bleu|chrf|rouge --hyp FILE --ref FILE [--json]`: corpus scores of
// hypotheses against references, one segment per line (docs/metrics.md).
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "core/config.hpp"
#include "eval/bleu.hpp"
#include "eval/chrf.hpp"
#include "eval/rouge.hpp"
#include "eval/text.hpp"

namespace normlab::cli {

namespace {

struct EvalArgs {
  std::string metric;
  std::string hyp;
  std::string ref;
  bool json = false;
};

nlohmann::json rouge_json(const eval::RougeValue& v) {
  return {{"f1", 100 * v.f1}, {"precision", 100 * v.precision}, {"recall", 100 * v.recall}};
}

int run_eval(const EvalArgs& a) {
  using namespace normlab::eval;
  const std::vector<std::string> hyps = read_segments(a.hyp);
  const std::vector<std::string> refs = read_segments(a.ref);
  if (hyps.size() != refs.size())
    throw UserError(a.hyp + ": " + std::to_string(hyps.size()) + " lines, but the reference " +
                    a.ref + " has " + std::to_string(refs.size()));
  nlohmann::json j = {{"metric", a.metric}, {"segments", hyps.size()}};
  std::string text;
  if (a.metric == "bleu") {
    const BleuScore s = corpus_bleu(hyps, refs);
    text = format_bleu(s) + "\n";
    j["score"] = s.score;
    j["precisions"] = s.precisions;
    j["matches"] = s.matches;
    j["totals"] = s.totals;
    j["bp"] = s.bp;
    j["ratio"] = s.ratio;
    j["hyp_len"] = s.hyp_len;
    j["ref_len"] = s.ref_len;
    j["signature"] = "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp";
  } else if (a.metric == "chrf") {
    const ChrfScore s = corpus_chrf(hyps, refs);
    text = format_chrf(s) + "\n";
    j["score"] = s.score;
    j["char_order"] = kChrfOrder;
    j["beta"] = kChrfBeta;
    j["signature"] = "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no";
  } else {
    const RougeScores s = corpus_rouge(hyps, refs);
    text = format_rouge(s);
    j["rouge1"] = rouge_json(s.rouge1);
    j["rouge2"] = rouge_json(s.rouge2);
    j["rougeL"] = rouge_json(s.rougeL);
  }
  if (a.json)
    std::printf("%s\n", j.dump().c_str());
  else
    std::fputs(text.c_str(), stdout);
  return 0;
}

}  // namespace

Runner setup_eval(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  app.add_option("--metric", args->metric,
                 "bleu (sacreBLEU defaults), chrf (chrF2) or rouge (ROUGE-1/2/L)")
      ->required()
      ->check(CLI::IsMember({"bleu", "chrf", "rouge"}));
  app.add_option("--hyp", args->hyp, "Hypotheses, one segment per line (UTF-8)")->required();
  app.add_option("--ref", args->ref, "References, one segment per line (UTF-8)")->required();
  app.add_flag("--json", args->json, "Print one JSON object instead of the score line(s)");
  return [args]() -> int { return run_eval(*args); };
}

}  // namespace normlab::cli
