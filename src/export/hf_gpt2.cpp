// GPT-2 (Radford et al. 2019) is the Pre-LN decoder-only Transformer:
//   x_0 = wte[tokens] + wpe[t];  x += attn(ln_1(x));  x += mlp(ln_2(x));  logits = ln_f(x) wte^T
// with LayerNorm, biases everywhere, GELU in its tanh form ("gelu_new") and no scaling of the
// embeddings or the residual branches. In Hugging Face's implementation (modeling_gpt2.py) the
// linear maps are Conv1D modules, y = x W + b with W stored [in, out], the transpose of
// normlab's nn.Linear layout; q, k and v are the three column blocks of c_attn, heads contiguous,
// as normlab's qkv rows.
#include "export/hf_gpt2.hpp"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/config.hpp"
#include "core/placement_presets.hpp"
#include "data/staged_files.hpp"
#include "io/safetensors.hpp"
#include "model/block_description.hpp"
#include "model/checkpoint.hpp"

namespace normlab {
namespace {

// Pre-LN's recipe, u = N(x), x + F(u); dropout on F's output is GPT-2's resid_pdrop.
bool is_pre_ln(const SublayerRecipe& r) {
  const bool dropout_then_add = r.post == std::vector<Op>{Op::Dropout, Op::Residual} ||
                                r.post == std::vector<Op>{Op::Residual};
  return r.pre == std::vector<Op>{Op::Norm} && dropout_then_add;
}

// Every property of the model that GPT-2 cannot compute exactly, as "key=value (why)".
std::vector<std::string> inexpressible(const Config& c) {
  std::vector<std::string> out;
  if (c.get_string("arch") != "lm") {
    out.push_back("arch=" + c.get_string("arch") + " (GPT-2 is a decoder-only language model)");
    return out;
  }
  if (c.get_string("norm") != "layernorm")
    out.push_back("norm=" + c.get_string("norm") + " (GPT-2's norms are LayerNorm)");
  if (c.get_string("positions") != "learned")
    out.push_back("positions=" + c.get_string("positions") + " (GPT-2 learns its positions, wpe)");
  if (c.get_bool("scale_embedding"))
    out.push_back("scale_embedding=true (GPT-2 adds wte and wpe unscaled)");
  const StackDescription s = describe_stack(c);
  const std::string placement = expand_placement(c).get_string("placement");
  for (size_t l = 0; l < s.blocks.size(); ++l)
    if (!is_pre_ln(s.blocks[l].attn) || !is_pre_ln(s.blocks[l].mlp)) {
      out.push_back("block " + std::to_string(l) + " '" + s.blocks[l].text() + "' of placement " +
                    placement + " (GPT-2's blocks are Pre-LN, 'attn:n|da mlp:n|da')");
      break;
    }
  if (!s.final_norm) out.push_back("final_norm=false (GPT-2 ends with the norm ln_f)");
  if (c.get_string("completep_alpha") != "off")
    out.push_back("completep_alpha=" + c.get_string("completep_alpha") +
                  " (GPT-2 adds x + F(x), not x + m_L^-alpha F(x))");
  else if (s.dt != 1.0f)
    out.push_back("dt=" + c.get_string("dt") + " (GPT-2 adds x + F(x))");
  if (s.alpha != 1.0f) {
    char alpha[32];
    std::snprintf(alpha, sizeof alpha, "%g", s.alpha);
    out.push_back("residual_alpha=" + std::string(alpha) + " (GPT-2 adds x + F(x))");
  }
  return out;
}

// [rows, cols] -> [cols, rows]: nn.Linear's [out, in] to Conv1D's [in, out].
SafeTensor transposed(const float* w, int64_t rows, int64_t cols) {
  std::vector<float> t(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) t[static_cast<size_t>(c * rows + r)] = w[r * cols + c];
  return make_f32_tensor(t.data(), {cols, rows});
}

nlohmann::json gpt2_config(const Config& c, int eos_id) {
  const double dropout = c.get_float("dropout");
  nlohmann::json j = {
      {"architectures", {"GPT2LMHeadModel"}},
      {"model_type", "gpt2"},
      {"vocab_size", c.get_int("vocab_size")},
      {"n_positions", c.get_int("seq_len")},
      {"n_embd", c.get_int("d_model")},
      {"n_layer", c.get_int("n_layers")},
      {"n_head", c.get_int("n_heads")},
      {"n_inner", c.get_int("d_ff")},
      {"activation_function", "gelu_new"},  // GELU's tanh approximation, as normlab's
      {"layer_norm_epsilon", c.get_float("norm_eps")},
      {"resid_pdrop", dropout},  // normlab's 'd' on each sublayer output
      {"embd_pdrop", dropout},   // and on the embedding
      {"attn_pdrop", 0.0},       // normlab has no dropout on attention probabilities
      {"scale_attn_weights", true},
      {"scale_attn_by_inverse_layer_idx", false},
      {"reorder_and_upcast_attn", false},
      {"tie_word_embeddings", true},
      {"initializer_range", 0.02},
      {"torch_dtype", "float32"},
  };
  if (eos_id >= 0) j["bos_token_id"] = j["eos_token_id"] = eos_id;
  return j;
}

}  // namespace

void export_hf_gpt2(const std::string& checkpoint, const std::string& out_dir) {
  CheckpointInfo info;
  std::unique_ptr<Model> model = load_model(checkpoint, &info);
  const Config& c = model->config();
  const std::vector<std::string> refused = inexpressible(c);
  if (!refused.empty()) {
    std::string line = checkpoint + ": GPT-2 cannot express " + refused[0];
    for (size_t i = 1; i < refused.size(); ++i) line += "; " + refused[i];
    throw UserError(line);
  }
  // The tokenizer must match the checkpoint before anything is written.
  std::unique_ptr<Tokenizer> tokenizer;
  if (!info.tokenizer_identity.empty())
    tokenizer = std::make_unique<Tokenizer>(
        checkpoint_tokenizer(checkpoint, "", info, static_cast<int>(c.get_int("vocab_size"))));

  ParamStore& p = model->params();
  auto value = [&](const std::string& name) { return p.value(p.index_of(name)); };
  auto vector = [&](const std::string& name) {
    return make_f32_tensor(value(name), p.entries()[p.index_of(name)].shape);
  };
  auto conv1d = [&](const std::string& name) {
    const auto& shape = p.entries()[p.index_of(name)].shape;
    return transposed(value(name), shape[0], shape[1]);
  };
  SafeTensorsFile file;
  file.metadata["format"] = "pt";
  auto add = [&](const std::string& name, SafeTensor t) {
    file.tensors.emplace_back("transformer." + name, std::move(t));
  };
  add("wte.weight", vector("tok_emb.weight"));  // also the head: tie_word_embeddings
  add("wpe.weight", vector("pos_emb.weight"));
  // GPT-2's block tensors and normlab's: names, and whether the weight is a Conv1D matrix.
  struct Rename {
    const char *gpt2, *normlab;
    bool conv1d;
  };
  const Rename block_tensors[] = {
      {"ln_1", "attn.norm_in", false},    {"attn.c_attn", "attn.qkv", true},
      {"attn.c_proj", "attn.proj", true}, {"ln_2", "mlp.norm_in", false},
      {"mlp.c_fc", "mlp.fc1", true},      {"mlp.c_proj", "mlp.fc2", true}};
  for (long i = 0; i < c.get_int("n_layers"); ++i)
    for (const Rename& r : block_tensors) {
      const std::string to = "h." + std::to_string(i) + "." + r.gpt2 + ".",
                        from = "blocks." + std::to_string(i) + "." + r.normlab + ".";
      add(to + "weight", r.conv1d ? conv1d(from + "weight") : vector(from + "weight"));
      add(to + "bias", vector(from + "bias"));
    }
  add("ln_f.weight", vector("final_norm.weight"));
  add("ln_f.bias", vector("final_norm.bias"));

  // Every file is staged beside its final name and renamed only once all are written.
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw UserError(out_dir + ": cannot create: " + ec.message());
  const fs::path dir(out_dir);
  TempFiles temps;
  std::vector<std::pair<std::string, std::string>> staged;  // temporary -> final
  auto stage = [&](const std::string& name, const std::string& data) {
    const std::string path = (dir / name).string();
    staged.emplace_back(stage_file(path, data, temps), path);
  };
  const std::string weights = (dir / "model.safetensors").string();
  const std::string weights_tmp = weights + ".staged";
  temps.paths.push_back(weights_tmp);
  write_safetensors(weights_tmp, file);
  staged.emplace_back(weights_tmp, weights);
  stage("config.json", gpt2_config(c, tokenizer ? tokenizer->eos_id() : -1).dump(2) + "\n");
  if (tokenizer) {
    // GPT-2's own tokenizer files (byte-level BPE) cannot hold a SentencePiece model: the model
    // file is shipped unchanged, for SentencePiece or transformers' SentencePiece tokenizers.
    stage("tokenizer.model", read_whole_file(tokenizer->path()));
    const nlohmann::json tc = {{"tokenizer_class", "LlamaTokenizer"},
                               {"add_bos_token", false},
                               {"add_eos_token", false},
                               {"legacy", true},
                               {"model_max_length", c.get_int("seq_len")}};
    stage("tokenizer_config.json", tc.dump(2) + "\n");
  }
  for (const auto& [from, to] : staged) {
    fs::rename(from, to, ec);
    if (ec) throw UserError(to + ": cannot write: " + ec.message());
  }
  temps.paths.clear();
}

}  // namespace normlab
