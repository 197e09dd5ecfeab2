// Export of a normlab checkpoint to Hugging Face's GPT-2 layout (`normlab export --format
// hf-gpt2`, docs/export.md): model.safetensors and config.json as `GPT2LMHeadModel` loads them,
// and the checkpoint's SentencePiece tokenizer.
#pragma once
#include <string>

namespace normlab {

// Writes OUT_DIR/{model.safetensors, config.json} (and tokenizer.model, tokenizer_config.json
// when the checkpoint names a tokenizer), all staged and renamed together. A checkpoint whose
// model GPT-2 cannot compute exactly is refused with UserError("CHECKPOINT: GPT-2 cannot express
// PROPERTY; ...") listing every such property; nothing is written then.
void export_hf_gpt2(const std::string& checkpoint, const std::string& out_dir);

}  // namespace normlab
