#include "diag/coord_check.hpp"

#include "diag/json_number.hpp"

namespace normlab {

nlohmann::json coord_check_json(const std::vector<CoordStep>& steps) {
  nlohmann::json out = nlohmann::json::array();
  for (const CoordStep& s : steps) {
    nlohmann::json blocks = nlohmann::json::array();
    for (const CoordBlock& b : s.blocks) {
      nlohmann::json subs = nlohmann::json::array();
      for (double v : b.sublayer_out_rms) subs.push_back(finite_or_null(v));
      blocks.push_back({{"input_rms", finite_or_null(b.input_rms)},
                        {"sublayer_out_rms", subs},
                        {"update_ratio", finite_or_null(b.update_ratio)},
                        {"grad_rms", finite_or_null(b.grad_rms)}});
    }
    out.push_back({{"step", s.step}, {"top_rms", finite_or_null(s.top_rms)}, {"blocks", blocks}});
  }
  return out;
}

}  // namespace normlab
