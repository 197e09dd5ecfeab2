// A tensor is a typed view into memory owned by an arena (see memory_plan.hpp).
// Kernels take raw pointers (llm.c style) so that each reads as the equation it implements;
// the dtype travels with the view so that bf16 storage can be added without touching callers.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace normlab {

enum class DType : uint8_t { f32, bf16 };

inline size_t dtype_size(DType t) {
  return t == DType::f32 ? 4 : 2;
}
inline const char* dtype_name(DType t) {
  return t == DType::f32 ? "F32" : "BF16";
}

struct Tensor {
  void* data = nullptr;
  DType dtype = DType::f32;
  std::vector<int64_t> shape;

  int64_t numel() const {
    int64_t n = 1;
    for (auto s : shape) n *= s;
    return n;
  }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype); }
  float* f32() const {
    if (dtype != DType::f32) throw std::logic_error("tensor is not f32");
    return static_cast<float*>(data);
  }
};

std::string shape_string(const std::vector<int64_t>& shape);

}  // namespace normlab
