
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/tests/kernels/test_attention.cpp" "tests/CMakeFiles/test_kernels.dir/kernels/test_attention.cpp.o" "gcc" "tests/CMakeFiles/test_kernels.dir/kernels/test_attention.cpp.o.d"
  "/work/main/tests/kernels/test_cross_entropy.cpp" "tests/CMakeFiles/test_kernels.dir/kernels/test_cross_entropy.cpp.o" "gcc" "tests/CMakeFiles/test_kernels.dir/kernels/test_cross_entropy.cpp.o.d"
  "/work/main/tests/kernels/test_linear.cpp" "tests/CMakeFiles/test_kernels.dir/kernels/test_linear.cpp.o" "gcc" "tests/CMakeFiles/test_kernels.dir/kernels/test_linear.cpp.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build-kernA/CMakeFiles/normlab_core.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
