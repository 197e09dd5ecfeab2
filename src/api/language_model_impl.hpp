// What the installed LanguageModel holds: normlab's DecoderLM and the checkpoint facts to save it
// again. Shared by the API's sources (and the Python module), never installed.
#pragma once
#include <memory>

#include "model/checkpoint.hpp"
#include "model/decoder_lm.hpp"
#include "normlab/language_model.hpp"

namespace normlab::api {

struct LanguageModel::Impl {
  std::unique_ptr<DecoderLM> lm;
  CheckpointInfo info;
  int planned_batch = 0, planned_seq = 0;
  bool has_forward = false;
};

}  // namespace normlab::api
