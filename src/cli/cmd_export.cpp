// `normlab export --format hf-gpt2 CHECKPOINT OUT_DIR` (docs/export.md).
#include "cli/commands.hpp"
#include "export/hf_gpt2.hpp"

namespace normlab::cli {

Runner setup_export(CLI::App& app) {
  auto format = std::make_shared<std::string>();
  auto checkpoint = std::make_shared<std::string>();
  auto out_dir = std::make_shared<std::string>();
  app.add_option("--format", *format,
                 "Target layout: hf-gpt2 (Hugging Face GPT2LMHeadModel; Pre-LN LayerNorm models "
                 "only, docs/export.md)")
      ->required()
      ->check(CLI::IsMember({"hf-gpt2"}));
  app.add_option("checkpoint", *checkpoint, "Model (.safetensors, or a run directory)")->required();
  app.add_option("out_dir", *out_dir, "Output directory")->required();
  return [=]() {
    export_hf_gpt2(*checkpoint, *out_dir);
    std::fprintf(stderr, "export: %s -> %s (%s)\n", checkpoint->c_str(), out_dir->c_str(),
                 format->c_str());
    return 0;
  };
}

}  // namespace normlab::cli
