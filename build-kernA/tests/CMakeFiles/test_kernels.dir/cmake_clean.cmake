file(REMOVE_RECURSE
  "CMakeFiles/test_kernels.dir/kernels/test_attention.cpp.o"
  "CMakeFiles/test_kernels.dir/kernels/test_attention.cpp.o.d"
  "CMakeFiles/test_kernels.dir/kernels/test_cross_entropy.cpp.o"
  "CMakeFiles/test_kernels.dir/kernels/test_cross_entropy.cpp.o.d"
  "CMakeFiles/test_kernels.dir/kernels/test_linear.cpp.o"
  "CMakeFiles/test_kernels.dir/kernels/test_linear.cpp.o.d"
  "test_kernels"
  "test_kernels.pdb"
  "test_kernels[1]_tests.cmake"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/test_kernels.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
