#include "train/run_banner.hpp"

#include <cstdio>

namespace normlab {

namespace {

// 1234567 -> "1,234,567".
std::string grouped(size_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

// "2 x attn:n|da mlp:n|da", or with a lower block (Mix-LN) "1-2 attn:|dan mlp:|dan, 3-8
// attn:n|da mlp:n|da"; then what else wires the stack.
std::string stack_text(const StackDescription& s) {
  std::string text;
  size_t first = 0;
  const size_t n = s.blocks.size();
  for (size_t l = 1; l <= n; ++l) {
    if (l < n && s.blocks[l].text() == s.blocks[first].text()) continue;
    const std::string recipe = s.blocks[first].text();
    if (first == 0 && l == n)
      text = std::to_string(n) + " x " + recipe;
    else
      text += (text.empty() ? "" : ", ") + std::to_string(first + 1) +
              (l > first + 1 ? "-" + std::to_string(l) : "") + " " + recipe;
    first = l;
  }
  text += s.final_norm ? ", final norm" : ", no final norm";
  if (s.dual_stream) text += ", dual stream";
  text += ", dt " + number(s.dt);
  if (s.alpha != 1.0f) text += ", alpha " + number(s.alpha);
  if (s.block_lr_scale != 1.0f || s.block_eps_scale != 1.0f)  // CompleteP
    text += ", lr x " + number(s.block_lr_scale) + " adam_eps x " + number(s.block_eps_scale);
  text += ", init " + s.init;
  return text;
}

std::string field(const std::string& label, const std::string& value) {
  std::string l = "  " + label;
  l.resize(std::max<size_t>(l.size() + 1, 13), ' ');
  return l + value;
}

}  // namespace

std::vector<std::string> run_banner(const Config& c, const Model& model,
                                    const PrecisionChoice& precision, int threads, int ranks,
                                    long start_step, const std::string& epoch) {
  const std::string arch = c.get_string("arch");
  std::vector<std::string> lines;
  lines.push_back("normlab train: " + arch + ", " + grouped(model.params().parameter_count()) +
                  " parameters");
  lines.push_back(field("model", "d_model " + std::to_string(c.get_int("d_model")) + ", " +
                                     std::to_string(c.get_int("n_heads")) + " heads, d_ff " +
                                     std::to_string(c.get_int("d_ff")) + ", seq_len " +
                                     std::to_string(c.get_int("seq_len")) + ", vocab " +
                                     std::to_string(c.get_int("vocab_size"))));
  lines.push_back(field("placement", c.get_string("placement") + ", norm " + c.get_string("norm")));
  const std::vector<const TransformerStack*> stacks = model.stacks();
  const std::vector<std::string> prefixes = model.stack_prefixes();
  for (size_t i = 0; i < stacks.size(); ++i) {
    std::string label = prefixes[i].empty() ? "blocks" : prefixes[i];
    if (label.back() == '.') label.pop_back();
    lines.push_back(field(label, stack_text(stacks[i]->description())));
  }
  lines.push_back(field("precision", std::string(precision_name(precision.precision)) +
                                         (precision.emulated ? " (emulated)" : "")));
  lines.push_back(field("threads", ranks > 1 ? std::to_string(threads) + " per rank, " +
                                                   std::to_string(ranks) + " ranks"
                                             : std::to_string(threads)));
  const std::string batch = arch == "encdec" ? std::to_string(c.get_int("batch_tokens")) + " tokens"
                                             : std::to_string(c.get_int("batch_size")) + " x " +
                                                   std::to_string(c.get_int("seq_len")) + " tokens";
  const long accum = c.get_int("grad_accum");
  lines.push_back(field("data", c.get_string("data") + ", batch " + batch +
                                    (accum > 1 ? ", grad_accum " + std::to_string(accum) : "")));
  if (!epoch.empty()) lines.push_back(field("epoch", epoch));
  std::string steps = std::to_string(c.get_int("steps"));
  if (start_step > 0) steps += " (resuming at " + std::to_string(start_step) + ")";
  lines.push_back(field("steps", steps + ", lr " + number(c.get_float("lr")) + " " +
                                     c.get_string("schedule") + ", warmup " +
                                     std::to_string(c.get_int("warmup"))));
  lines.push_back(field("run", c.get_string("out_dir")));
  return lines;
}

std::vector<std::string> run_warnings(const Config& c) {
  std::vector<std::string> w;
  const long warmup = c.get_int("warmup"), steps = c.get_int("steps");
  if (warmup >= steps)
    w.push_back("warmup " + std::to_string(warmup) + " >= steps " + std::to_string(steps) +
                ": the whole run is the linear warmup, the " + c.get_string("schedule") +
                " schedule never starts (give a warmup below steps)");
  return w;
}

}  // namespace normlab
