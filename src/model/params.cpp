#include "model/params.hpp"

#include <algorithm>
#include <stdexcept>

#include "kernels/sphere.hpp"
#include "kernels/vector_ops.hpp"
#include "model/memory_plan.hpp"

namespace normlab {

size_t ParamStore::add(const std::string& name, std::vector<int64_t> shape, ParamRole role) {
  if (!values_.empty()) throw std::logic_error("ParamStore::add after allocate");
  if (!index_.emplace(name, entries_.size()).second)
    throw std::logic_error("duplicate parameter " + name);
  size_t n = 1;
  for (auto s : shape) n *= static_cast<size_t>(s);
  entries_.push_back({name, std::move(shape), role, total_, n});
  // Keep every tensor 16-float aligned (64 bytes) for vector loads.
  total_ += (n + 15) / 16 * 16;
  return entries_.size() - 1;
}

void ParamStore::allocate() {
  if (MemoryCount* count = MemoryCount::active()) {
    count->parameter_floats += total_;
    return;
  }
  values_.assign(total_, 0.0f);
  grads_.assign(total_, 0.0f);
}

const ParamEntry* ParamStore::find(const std::string& name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

size_t ParamStore::index_of(const std::string& name) const {
  const auto it = index_.find(name);
  if (it == index_.end()) throw std::logic_error("no parameter " + name);
  return it->second;
}

void ParamStore::zero_grads() {
  zero(grads_.data(), grads_.size());
}

void ParamStore::project_to_sphere() {
  for (size_t i = 0; i < entries_.size(); ++i) {
    const ParamEntry& e = entries_[i];
    if (e.unit == UnitAxis::None) continue;
    unit_matrix(value(i), static_cast<size_t>(e.shape[0]), static_cast<size_t>(e.shape[1]),
                e.unit == UnitAxis::Rows);
  }
}

size_t ParamStore::parameter_count() const {
  size_t n = 0;
  for (const auto& e : entries_) n += e.numel;
  return n;
}

}  // namespace normlab
