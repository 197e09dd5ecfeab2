// Checkpoint metadata written by other tools or damaged on disk: every problem is a UserError
// naming the file, never an exception from the C++ library.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "io/safetensors.hpp"
#include "model/checkpoint.hpp"
#include "tiny_model.hpp"

namespace normlab {
namespace {

TEST(CheckpointMetadata, BadStepIsAnErrorNamingTheFile) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("normlab_ckpt_step_" + std::to_string(::getpid()) + ".safetensors"))
                               .string();
  auto model = Model::create(tiny_config("pre", "layernorm", 4));
  save_model(path, *model, {"0123456789abcdef", 12, "bf16"});
  CheckpointInfo info;
  load_model(path, &info);
  EXPECT_EQ(info.step, 12);
  EXPECT_EQ(info.matmul_precision, "bf16");

  // "12x" used to reach std::stol and end as "internal error: stol".
  SafeTensorsFile file = read_safetensors(path);
  for (const char* bad : {"12x", "-3", "99999999999999999999999"}) {
    file.metadata["normlab.step"] = bad;
    write_safetensors(path, file);
    try {
      load_model(path, &info);
      ADD_FAILURE() << "accepted step '" << bad << "'";
    } catch (const UserError& e) {
      EXPECT_EQ(std::string(e.what()), path + ": metadata 'normlab.step' is '" + bad +
                                           "', expected a non-negative integer");
    }
  }
  std::filesystem::remove(path);
}

TEST(CheckpointMetadata, PrecisionIsRecordedOnlyWhenKnown) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("normlab_ckpt_prec_" + std::to_string(::getpid()) + ".safetensors"))
                               .string();
  auto model = Model::create(tiny_config("pre", "layernorm", 4));
  save_model(path, *model, {"", 0, ""});  // as `init` writes it: nothing trained the model
  EXPECT_EQ(read_safetensors(path).metadata.count("normlab.matmul_precision"), 0u);
  CheckpointInfo info;
  info.matmul_precision = "stale";
  load_model(path, &info);
  EXPECT_EQ(info.matmul_precision, "");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace normlab
