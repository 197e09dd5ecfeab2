
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/src/core/config.cpp" "CMakeFiles/normlab_core.dir/src/core/config.cpp.o" "gcc" "CMakeFiles/normlab_core.dir/src/core/config.cpp.o.d"
  "/work/main/src/core/options.cpp" "CMakeFiles/normlab_core.dir/src/core/options.cpp.o" "gcc" "CMakeFiles/normlab_core.dir/src/core/options.cpp.o.d"
  "/work/main/src/core/tensor.cpp" "CMakeFiles/normlab_core.dir/src/core/tensor.cpp.o" "gcc" "CMakeFiles/normlab_core.dir/src/core/tensor.cpp.o.d"
  "/work/main/src/data/batches.cpp" "CMakeFiles/normlab_core.dir/src/data/batches.cpp.o" "gcc" "CMakeFiles/normlab_core.dir/src/data/batches.cpp.o.d"
  "/work/main/src/data/token_file.cpp" "CMakeFiles/normlab_core.dir/src/data/token_file.cpp.o" "gcc" "CMakeFiles/normlab_core.dir/src/data/token_file.cpp.o.d"
  "/work/main/src/data/tokenizer.cpp" "CMakeFiles/normlab_core.dir/src/data/tokenizer.cpp.o" "gcc" "CMakeFiles/normlab_core.dir/src/data/tokenizer.cpp.o.d"
  "/work/main/src/io/safetensors.cpp" "CMakeFiles/normlab_core.dir/src/io/safetensors.cpp.o" "gcc" "CMakeFiles/normlab_core.dir/src/io/safetensors.cpp.o.d"
  "/work/main/src/kernels/activation.cpp" "CMakeFiles/normlab_core.dir/src/kernels/activation.cpp.o" "gcc" "CMakeFiles/normlab_core.dir/src/kernels/activation.cpp.o.d"
  "/work/main/src/kernels/adamw.cpp" "CMakeFiles/normlab_core.dir/src/kernels/adamw.cpp.o" "gcc" "CMakeFiles/normlab_core.dir/src/kernels/adamw.cpp.o.d"
  "/work/main/src/kernels/attention.cpp" "CMakeFiles/normlab_core.dir/src/kernels/attention.cpp.o" "gcc" "CMakeFiles/normlab_core.dir/src/kernels/attention.cpp.o.d"
  "/work/main/src/kernels/cross_entropy.cpp" "CMakeFiles/normlab_core.dir/src/kernels/cross_entropy.cpp.o" "gcc" "CMakeFiles/normlab_core.dir/src/kernels/cross_entropy.cpp.o.d"
  "/work/main/src/kernels/dropout.cpp" "CMakeFiles/normlab_core.dir/src/kernels/dropout.cpp.o" "gcc" "CMakeFiles/normlab_core.dir/src/kernels/dropout.cpp.o.d"
  "/work/main/src/kernels/embedding.cpp" "CMakeFiles/normlab_core.dir/src/kernels/embedding.cpp.o" "gcc" "CMakeFiles/normlab_core.dir/src/kernels/embedding.cpp.o.d"
  "/work/main/src/kernels/linear.cpp" "CMakeFiles/normlab_core.dir/src/kernels/linear.cpp.o" "gcc" "CMakeFiles/normlab_core.dir/src/kernels/linear.cpp.o.d"
  "/work/main/src/kernels/norms.cpp" "CMakeFiles/normlab_core.dir/src/kernels/norms.cpp.o" "gcc" "CMakeFiles/normlab_core.dir/src/kernels/norms.cpp.o.d"
  "/work/main/src/kernels/residual.cpp" "CMakeFiles/normlab_core.dir/src/kernels/residual.cpp.o" "gcc" "CMakeFiles/normlab_core.dir/src/kernels/residual.cpp.o.d"
  "/work/main/src/model/block_description.cpp" "CMakeFiles/normlab_core.dir/src/model/block_description.cpp.o" "gcc" "CMakeFiles/normlab_core.dir/src/model/block_description.cpp.o.d"
  "/work/main/src/model/checkpoint.cpp" "CMakeFiles/normlab_core.dir/src/model/checkpoint.cpp.o" "gcc" "CMakeFiles/normlab_core.dir/src/model/checkpoint.cpp.o.d"
  "/work/main/src/model/decoder_lm.cpp" "CMakeFiles/normlab_core.dir/src/model/decoder_lm.cpp.o" "gcc" "CMakeFiles/normlab_core.dir/src/model/decoder_lm.cpp.o.d"
  "/work/main/src/model/init.cpp" "CMakeFiles/normlab_core.dir/src/model/init.cpp.o" "gcc" "CMakeFiles/normlab_core.dir/src/model/init.cpp.o.d"
  "/work/main/src/model/norm_layer.cpp" "CMakeFiles/normlab_core.dir/src/model/norm_layer.cpp.o" "gcc" "CMakeFiles/normlab_core.dir/src/model/norm_layer.cpp.o.d"
  "/work/main/src/model/params.cpp" "CMakeFiles/normlab_core.dir/src/model/params.cpp.o" "gcc" "CMakeFiles/normlab_core.dir/src/model/params.cpp.o.d"
  "/work/main/src/train/optimizer.cpp" "CMakeFiles/normlab_core.dir/src/train/optimizer.cpp.o" "gcc" "CMakeFiles/normlab_core.dir/src/train/optimizer.cpp.o.d"
  "/work/main/src/train/progress.cpp" "CMakeFiles/normlab_core.dir/src/train/progress.cpp.o" "gcc" "CMakeFiles/normlab_core.dir/src/train/progress.cpp.o.d"
  "/work/main/src/train/schedule.cpp" "CMakeFiles/normlab_core.dir/src/train/schedule.cpp.o" "gcc" "CMakeFiles/normlab_core.dir/src/train/schedule.cpp.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
