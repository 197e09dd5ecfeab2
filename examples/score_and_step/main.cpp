// normlab as a library, built against an installed tree (docs/library.md): load a checkpoint and
// its tokenizer, score a text (mean cross-entropy in nats per token), take one AdamW step on it
// and score it again.
//
//   score_and_step CHECKPOINT "some text" [LR]
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <normlab/normlab.hpp>
#include <stdexcept>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s CHECKPOINT TEXT [LR]\n", argv[0]);
    return 2;
  }
  try {
    using namespace normlab::api;
    LanguageModel model = LanguageModel::load(argv[1]);
    const Tokenizer tokenizer = Tokenizer::of_checkpoint(argv[1]);
    std::vector<std::int32_t> ids = tokenizer.encode(argv[2]);
    ids.insert(ids.begin(), tokenizer.eos_id());  // the text starts after a document boundary
    if (static_cast<int>(ids.size()) > model.max_seq_len() + 1) ids.resize(model.max_seq_len() + 1);
    const int T = static_cast<int>(ids.size()) - 1;
    if (T < 1) throw std::runtime_error("the text has no token to predict");
    const std::vector<std::int32_t> inputs(ids.begin(), ids.end() - 1),
        targets(ids.begin() + 1, ids.end());

    model.plan(1, T);  // the contract: plan before forward
    const double before = model.forward(inputs.data(), targets.data(), 1, T);
    model.zero_grads();
    model.backward();
    AdamW optimizer(model);
    const double grad_norm = optimizer.step(argc > 3 ? std::strtof(argv[3], nullptr) : 1e-3f);
    const double after = model.forward(inputs.data(), targets.data(), 1, T);
    std::printf("tokens %d\nloss %.6f\ngrad_norm %.6f\nloss_after_step %.6f\n", T, before,
                grad_norm, after);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "score_and_step: %s\n", e.what());
    return 1;
  }
}
