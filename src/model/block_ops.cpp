// Look-ups in the op table of the block language (block_ops.hpp).
#include "model/block_ops.hpp"

#include <stdexcept>

namespace normlab {

const OpSpec& op_spec(Op op) {
  for (const OpSpec& s : block_ops())
    if (s.op == op) return s;
  throw std::logic_error("op_spec: op missing from block_ops()");
}

const OpSpec* find_op(char letter, bool pre, bool seen_residual) {
  const OpSpec* any = nullptr;
  for (const OpSpec& s : block_ops()) {
    if (s.letter != letter || (s.place == OpPlace::Pre) != pre) continue;
    const bool fits = pre || s.place == OpPlace::AnyPost || s.place == OpPlace::Residual ||
                      (s.place == OpPlace::AfterResidual) == seen_residual;
    if (fits) return &s;
    any = &s;
  }
  return any;  // the letter exists here but not on this side of 'a' (the parser says so)
}

}  // namespace normlab
