// The one training step (train/training_step.hpp) that `normlab train` and the sanity check
// share: gradient accumulation averages the micro-batches, micro-batch i is dropout-seeded by
// its index alone (the convention that makes resume bit-exact), and the gate holds an update
// back.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "data/batches.hpp"
#include "data/markov_chain.hpp"
#include "diag/unigram_loss.hpp"
#include "model/decoder_lm.hpp"
#include "train/task.hpp"
#include "train/training_step.hpp"

using namespace normlab;

namespace {

Config tiny_lm(long grad_accum, const char* dropout) {
  Config c = Config::defaults();
  const std::pair<const char*, std::string> settings[] = {
      {"vocab_size", "32"}, {"d_model", "16"}, {"n_heads", "2"},
      {"d_ff", "32"},       {"n_layers", "2"}, {"seq_len", "8"},
      {"batch_size", "2"},  {"warmup", "0"},   {"grad_accum", std::to_string(grad_accum)},
      {"dropout", dropout}};
  for (const auto& [key, value] : settings) c.set(key, value, "test");
  return c;
}

struct Fixture {
  explicit Fixture(const Config& c)
      : config(c),
        task(make_language_model_task(c, {markov_tokens(32, 2048, 5), {}, "markov", {}},
                                      DecoderLM::create(c))),
        optimizer(task->model(), AdamWSettings::from_config(c)),
        schedule(Schedule::from_config(c, 10)),
        step(*task, optimizer, schedule, c.get_int("grad_accum"),
             static_cast<uint64_t>(c.get_int("seed"))) {
    task->model().initialize(1);
  }
  Config config;
  std::unique_ptr<TrainingTask> task;
  AdamW optimizer;
  Schedule schedule;
  TrainingStep step;
};

}  // namespace

TEST(TrainingStep, AccumulationAveragesTheMicroBatches) {
  Fixture f(tiny_lm(2, "0"));
  // Step 2 of a run with two micro-batches per step uses training batches 2 and 3.
  const double expected = (f.task->batch_loss(2) + f.task->batch_loss(3)) / 2;
  const StepResult r = f.step.run(2, false, [](const StepResult&) { return false; });
  EXPECT_NEAR(r.loss, expected, 1e-6);
  EXPECT_EQ(r.tokens, 2L * 2 * 8);
  EXPECT_GT(r.grad_norm, 0);
}

TEST(TrainingStep, MicroBatchDropoutSeedIsItsIndex) {
  Fixture f(tiny_lm(1, "0.3"));
  const StepResult r = f.step.run(3, false, [](const StepResult&) { return false; });
  // The same forward seeded by hand with the trainer's convention: batch index step-1 = 2.
  Model& m = f.task->model();
  m.set_dropout_seed(dropout_seed(1, 2));
  EXPECT_DOUBLE_EQ(f.task->batch_loss(2), r.loss);
  m.set_dropout_seed(dropout_seed(1, 3));
  EXPECT_NE(f.task->batch_loss(2), r.loss);  // dropout does take part
}

TEST(TrainingStep, GateHoldsTheUpdateBack) {
  Fixture f(tiny_lm(1, "0"));
  const std::vector<float> before = f.task->model().params().values();
  const StepResult held = f.step.run(1, false, [](const StepResult&) { return false; });
  EXPECT_FALSE(held.updated);
  EXPECT_EQ(f.task->model().params().values(), before);
  EXPECT_EQ(f.optimizer.steps(), 0);
  const StepResult applied = f.step.run(1);
  EXPECT_TRUE(applied.updated);
  EXPECT_DOUBLE_EQ(applied.loss, held.loss);
  EXPECT_DOUBLE_EQ(applied.lr, f.schedule.at(1));
  EXPECT_NE(f.task->model().params().values(), before);
  EXPECT_EQ(f.optimizer.steps(), 1);
}

namespace {
// Largest | ||v|| - 1 | over the rows (or columns) of a [r, c] tensor.
double unit_error(const float* w, int64_t r, int64_t c, bool rows) {
  double worst = 0;
  for (int64_t k = 0; k < (rows ? r : c); ++k) {
    double n2 = 0;
    for (int64_t t = 0; t < (rows ? c : r); ++t) {
      const double v = rows ? w[k * c + t] : w[t * c + k];
      n2 += v * v;
    }
    worst = std::max(worst, std::abs(std::sqrt(n2) - 1.0));
  }
  return worst;
}
}  // namespace

// nGPT (placement ngpt): after initialisation and after a training step, every vector along the
// embedding dimension has unit length, as NVIDIA/ngpt's normalize_matrices leaves them: the
// embedding's and the reading matrices' rows (qkv, fc1), the writing matrices' columns (proj,
// fc2). The step itself moves them off the sphere (lr 0.05), so the test fails without the
// projection; the scales (alpha, s_qk, s_v, s_z) move and are not projected.
TEST(TrainingStep, NgptMatricesAreUnitAfterEveryStep) {
  Config c = tiny_lm(1, "0");
  c.set("placement", "ngpt", "test");
  c.set("lr", "0.05", "test");
  Fixture f(c);
  ParamStore& p = f.task->model().params();
  auto check_unit = [&](const char* when) {
    int constrained = 0;
    for (size_t i = 0; i < p.entries().size(); ++i) {
      const ParamEntry& e = p.entries()[i];
      const bool reads = e.name == "tok_emb.weight" || e.name.ends_with(".qkv.weight") ||
                         e.name.ends_with(".fc1.weight");
      const bool writes = e.name.ends_with(".proj.weight") || e.name.ends_with(".fc2.weight");
      EXPECT_EQ(e.unit, reads    ? UnitAxis::Rows
                        : writes ? UnitAxis::Columns
                                 : UnitAxis::None)
          << e.name;
      if (!reads && !writes) continue;
      ++constrained;
      EXPECT_LT(unit_error(p.value(i), e.shape[0], e.shape[1], reads), 1e-5) << e.name << when;
    }
    EXPECT_EQ(constrained, 1 + 2 * 4) << when;  // the embedding, 2 blocks x 4 matrices
  };
  check_unit(" after initialisation");
  const std::vector<float> before = p.values();
  const StepResult r = f.step.run(1);
  ASSERT_TRUE(r.updated);
  check_unit(" after a step");
  for (const char* name : {"blocks.0.attn.alpha", "blocks.1.mlp.s_v", "s_z"}) {
    const size_t i = p.index_of(name);
    EXPECT_NE(p.value(i)[0], before[p.entries()[i].offset]) << name << " did not train";
  }
}

// The unigram model's loss on a training batch (TrainingTask::unigram_batch_loss, the sanity
// check's plateau level of the same tokens) against the batch's targets scored directly.
TEST(LanguageModelTask, UnigramBatchLossScoresTheBatchTargets) {
  const Config c = tiny_lm(1, "0");
  const std::vector<int32_t> tokens = markov_tokens(32, 2048, 5);
  Fixture f(c);
  const std::vector<double> surprisal = unigram_surprisal(tokens);
  BatchSampler sampler(tokens, 2, 8, static_cast<uint64_t>(c.get_int("seed")), "markov");
  std::vector<int32_t> x(16), y(16);
  for (uint64_t index : {0u, 1u, 7u}) {
    sampler.sample(index, x.data(), y.data());
    double want = 0;
    for (int32_t t : y) want += surprisal[static_cast<size_t>(t)] / 16;
    EXPECT_NEAR(f.task->unigram_batch_loss(index), want, 1e-12) << "batch " << index;
  }
  // Batches differ in their mix of frequent and rare tokens, so their levels differ from U.
  EXPECT_NE(f.task->unigram_batch_loss(0), f.task->unigram_batch_loss(1));
}
