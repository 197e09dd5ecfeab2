#include "model/sphere_scales.hpp"

#include <cmath>
#include <stdexcept>

namespace normlab {

namespace {
struct Spec {
  SphereScale which;
  const char* name;
  double init;
  bool scale_is_inverse_sqrt_d;  // s_scale = 1/sqrt(d), else 1
};
constexpr Spec kSpecs[] = {
    {SphereScale::Alpha, "alpha", 0.05, true},
    {SphereScale::QueryKey, "s_qk", 1.0, true},
    {SphereScale::Mlp, "s_v", 1.0, false},
    {SphereScale::Logit, "s_z", 1.0, true},
};

double scale_of(const Spec& s, int d) {
  return s.scale_is_inverse_sqrt_d ? 1.0 / std::sqrt(static_cast<double>(d)) : 1.0;
}
const Spec& spec(SphereScale which) {
  for (const Spec& s : kSpecs)
    if (s.which == which) return s;
  throw std::logic_error("sphere scale missing from kSpecs");
}
}  // namespace

const char* sphere_scale_name(SphereScale which) {
  return spec(which).name;
}

float sphere_scale_factor(SphereScale which, int d) {
  const Spec& s = spec(which);
  return static_cast<float>(s.init / scale_of(s, d));
}

float sphere_scale_initial(const std::string& name, int d) {
  for (const Spec& s : kSpecs) {
    const std::string suffix = std::string(".") + s.name;
    if (name == s.name || (name.size() > suffix.size() &&
                           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0))
      return static_cast<float>(scale_of(s, d));
  }
  throw std::logic_error("not an nGPT scale: " + name);
}

}  // namespace normlab
