// `normlab eval --metric bleu|chrf|rouge --hyp FILE --ref FILE [FILE...] [--json]`: corpus scores
// of hypotheses against one or several references, one segment per line (docs/metrics.md).
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "core/config.hpp"
#include "eval/bleu.hpp"
#include "eval/chrf.hpp"
#include "eval/references.hpp"
#include "eval/rouge.hpp"
#include "eval/text.hpp"

namespace normlab::cli {

namespace {

struct EvalArgs {
  std::string metric;
  std::string hyp;
  std::vector<std::string> refs;
  bool json = false;
};

nlohmann::json rouge_json(const eval::RougeValue& v) {
  return {{"f1", 100 * v.f1}, {"precision", 100 * v.precision}, {"recall", 100 * v.recall}};
}

int run_eval(const EvalArgs& a) {
  using namespace normlab::eval;
  const std::vector<std::string> hyps = read_segments(a.hyp);
  std::vector<std::vector<std::string>> refs;
  for (const std::string& path : a.refs) {
    refs.push_back(read_segments(path));
    if (hyps.size() != refs.back().size())
      throw UserError(a.hyp + ": " + std::to_string(hyps.size()) + " lines, but the reference " +
                      path + " has " + std::to_string(refs.back().size()));
  }
  if (a.metric == "rouge" && refs.size() > 1)
    throw UserError(a.refs[1] + ": rouge takes one reference file");
  nlohmann::json j = {{"metric", a.metric}, {"segments", hyps.size()}};
  std::string text, signature;
  if (a.metric == "bleu") {
    const BleuScore s = corpus_bleu_multi(hyps, refs);
    text = format_bleu(s) + "\n";
    j["score"] = s.score;
    j["precisions"] = s.precisions;
    j["matches"] = s.matches;
    j["totals"] = s.totals;
    j["bp"] = s.bp;
    j["ratio"] = s.ratio;
    j["hyp_len"] = s.hyp_len;
    j["ref_len"] = s.ref_len;
    signature = bleu_signature(count_references(refs));
  } else if (a.metric == "chrf") {
    const ChrfScore s = corpus_chrf_multi(hyps, refs);
    text = format_chrf(s) + "\n";
    j["score"] = s.score;
    j["char_order"] = kChrfOrder;
    j["beta"] = kChrfBeta;
    signature = chrf_signature(count_references(refs));
  } else {
    const RougeScores s = corpus_rouge(hyps, refs[0]);
    text = format_rouge(s);
    j["rouge1"] = rouge_json(s.rouge1);
    j["rouge2"] = rouge_json(s.rouge2);
    j["rougeL"] = rouge_json(s.rougeL);
  }
  if (!signature.empty()) j["signature"] = signature;
  if (a.json) {
    std::printf("%s\n", j.dump().c_str());
  } else {
    // stdout holds the score line alone (as sacreBLEU's Python repr); the signature goes beside it
    std::fputs(text.c_str(), stdout);
    if (!signature.empty()) std::fprintf(stderr, "signature: %s\n", signature.c_str());
  }
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
  app.add_option("--ref,-r", args->refs,
                 "References, one segment per line (UTF-8); several files for several references "
                 "per segment (bleu, chrf: as sacrebleu -r ref1 ref2)")
      ->required()
      ->expected(1, -1);
  app.add_flag("--json", args->json, "Print one JSON object instead of the score line(s)");
  return [args]() -> int { return run_eval(*args); };
}

}  // namespace normlab::cli
