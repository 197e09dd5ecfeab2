#include "model/completep.hpp"

#include <cmath>
#include <cstdlib>
#include <string>

#include "core/config.hpp"

namespace normlab {

CompleteP CompleteP::from_config(const Config& config) {
  CompleteP c;
  const std::string& a = config.get_string("completep_alpha");
  c.base_depth = static_cast<int>(config.get_int("completep_base_depth"));
  // "auto" is resolved by the placement's preset (expand_placement); unexpanded, it is off.
  if (a == "off" || a == "auto") return c;
  char* end = nullptr;
  const double v = std::strtod(a.c_str(), &end);
  if (a.empty() || *end != '\0' || !(v >= 0.5 && v <= 1.0))
    throw UserError(
        "option 'completep_alpha': expected 'auto', 'off' or a number in [0.5, 1], got '" + a +
        "'");
  c.on = true;
  c.alpha = v;
  return c;
}

double CompleteP::residual_scale(int L) const {
  return on ? std::pow(static_cast<double>(L) / base_depth, -alpha) : 1.0;
}

double CompleteP::block_lr_scale(int L) const {
  return on ? std::pow(static_cast<double>(L) / base_depth, alpha - 1.0) : 1.0;
}

double CompleteP::block_eps_scale(int L) const {
  return residual_scale(L);
}

}  // namespace normlab
