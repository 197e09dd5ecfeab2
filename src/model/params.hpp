// Parameter memory, planned once: every parameter, its gradient and (in the optimizer) its AdamW
// moments live in single contiguous buffers with one offset per named tensor. Registration order
// is the checkpoint's tensor order.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace normlab {

// What a parameter is, for initialisation and weight decay. A Scale is one of nGPT's learnable
// per-channel scales (its eigen learning rates alpha, s_qk, s_v, s_z; model/hypersphere.hpp).
enum class ParamRole { Embedding, Matrix, Bias, Norm, Scale };

// nGPT keeps some matrices on the unit sphere along the embedding dimension: every row (a matrix
// that reads the stream, and the embedding) or every column (one that writes it) has unit
// length after initialisation and after every optimizer step (ParamStore::project_to_sphere).
enum class UnitAxis { None, Rows, Columns };

struct ParamEntry {
  std::string name;
  std::vector<int64_t> shape;
  ParamRole role;
  size_t offset;  // in floats, into values / grads
  size_t numel;
  UnitAxis unit = UnitAxis::None;
};

class ParamStore {
 public:
  // Registration phase: returns the entry index. Names must be unique.
  size_t add(const std::string& name, std::vector<int64_t> shape, ParamRole role);
  // Allocates values and grads (zeroed). No add() after this.
  void allocate();

  float* value(size_t index) { return values_.data() + entries_[index].offset; }
  float* grad(size_t index) { return grads_.data() + entries_[index].offset; }
  // An optional tensor (index -1: absent, e.g. the biases of nGPT's sublayers): nullptr.
  float* value_if(long index) { return index < 0 ? nullptr : value(index); }
  float* grad_if(long index) { return index < 0 ? nullptr : grad(index); }
  const std::vector<ParamEntry>& entries() const { return entries_; }
  const ParamEntry* find(const std::string& name) const;
  size_t index_of(const std::string& name) const;  // throws if absent

  std::vector<float>& values() { return values_; }
  const std::vector<float>& values() const { return values_; }
  const float* grad(size_t index) const { return grads_.data() + entries_[index].offset; }
  std::vector<float>& grads() { return grads_; }
  // Floats in values()/grads(): every tensor padded to a multiple of 16 (aligned SIMD rows).
  size_t total() const { return total_; }
  // The model's parameters: the sum of the tensors' sizes, without the padding.
  size_t parameter_count() const;
  void zero_grads();
  // Keeps tensor `index` (a matrix) on the unit sphere along `axis` from now on.
  void keep_unit(size_t index, UnitAxis axis) { entries_[index].unit = axis; }
  // Rescales every row or column of each tensor registered with keep_unit to unit length: the
  // end of initialisation and of every optimizer step (nGPT's normalize_matrices, NVIDIA/ngpt
  // train.py). Tensors without one are untouched.
  void project_to_sphere();

 private:
  std::vector<ParamEntry> entries_;
  // name -> index into entries_: add(), find() and index_of() are O(1), so a model with a
  // million tensors registers in linear time (a linear scan per add() made it quadratic).
  std::unordered_map<std::string, size_t> index_;
  std::vector<float> values_, grads_;
  size_t total_ = 0;
};

}  // namespace normlab
