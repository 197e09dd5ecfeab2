#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "model/params.hpp"

namespace normlab {
namespace {

TEST(ParamStore, OffsetsAlignedAndNamesUnique) {
  ParamStore p;
  EXPECT_EQ(p.add("a", {3, 5}, ParamRole::Matrix), 0u);
  EXPECT_EQ(p.add("b", {2}, ParamRole::Bias), 1u);
  EXPECT_THROW(p.add("a", {1}, ParamRole::Bias), std::logic_error);
  EXPECT_EQ(p.entries().size(), 2u);  // the rejected duplicate left no entry
  EXPECT_EQ(p.entries()[1].offset, 16u);
  EXPECT_EQ(p.total(), 32u);            // floats stored, each tensor padded to 16
  EXPECT_EQ(p.parameter_count(), 17u);  // parameters: 3*5 + 2, without the padding
  EXPECT_EQ(p.index_of("b"), 1u);
  EXPECT_EQ(p.find("b"), &p.entries()[1]);
  EXPECT_EQ(p.find("c"), nullptr);
  EXPECT_THROW(p.index_of("c"), std::logic_error);
  p.allocate();
  EXPECT_THROW(p.add("c", {1}, ParamRole::Bias), std::logic_error);
}

TEST(ParamStore, MillionTensorsRegisterInLinearTime) {
  // A config can ask for a million tensors (n_layers 100000). Registration used to scan every
  // earlier name for a duplicate: 5e11 string comparisons here, far beyond the ctest timeout.
  // Short names and scalar shapes keep the test's own memory small (no heap per entry).
  constexpr size_t kTensors = 1000000;
  ParamStore p;
  for (size_t i = 0; i < kTensors; ++i)
    ASSERT_EQ(p.add("p" + std::to_string(i), {}, ParamRole::Norm), i);
  EXPECT_EQ(p.index_of("p123456"), 123456u);
  EXPECT_EQ(p.find("p999999")->offset, 999999u * 16);
  EXPECT_THROW(p.add("p5", {}, ParamRole::Norm), std::logic_error);
}

}  // namespace
}  // namespace normlab
