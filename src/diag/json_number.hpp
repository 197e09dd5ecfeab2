// JSON has no inf or NaN: a measurement that is not finite is written as null.
#pragma once
#include <cmath>
#include <nlohmann/json.hpp>

namespace normlab {

inline nlohmann::json finite_or_null(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

}  // namespace normlab
