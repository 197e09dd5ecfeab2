#include "train/memory_estimate.hpp"

#include <algorithm>
#include <climits>

#include "core/memory.hpp"
#include "model/decoder_lm.hpp"
#include "model/encoder_decoder.hpp"

namespace normlab {

namespace fs = std::filesystem;

TrainingMemory estimate_training_memory(const Config& config, const fs::path& data) {
  const long T = config.get_int("seq_len");
  MemoryCount count;
  std::unique_ptr<Model> model = Model::create(config);
  if (auto* lm = dynamic_cast<DecoderLM*>(model.get())) {
    const long B = config.get_int("batch_size");
    if (B > INT_MAX / T)
      throw UserError("option 'batch_size': batch_size x seq_len = " + std::to_string(B) + " x " +
                      std::to_string(T) + " tokens exceeds 2^31");
    lm->plan(static_cast<int>(B), static_cast<int>(T));
  } else if (auto* encdec = dynamic_cast<EncoderDecoder*>(model.get())) {
    const long cells = std::max(config.get_int("batch_tokens"), T);
    if (cells > INT_MAX)
      throw UserError("option 'batch_tokens': " + std::to_string(cells) + " exceeds 2^31");
    encdec->plan(static_cast<int>(cells), static_cast<int>(T), static_cast<int>(T), cells, cells);
  }
  TrainingMemory m;
  m.parameters = uint64_t{4} * sizeof(float) * count.parameter_floats;
  m.activations = uint64_t{sizeof(float)} * count.activation_floats;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(data, ec))
    if (e.path().extension() == ".bin") m.data += e.file_size(ec);
  return m;
}

void check_training_memory(const Config& config, const fs::path& data) {
  const TrainingMemory m = estimate_training_memory(config, data);
  check_memory(m.total(), "train",
               "parameters, gradients and AdamW moments " + format_bytes(m.parameters) +
                   ", activations " + format_bytes(m.activations) + ", token files " +
                   format_bytes(m.data));
}

}  // namespace normlab
