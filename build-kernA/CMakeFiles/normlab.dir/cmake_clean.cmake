file(REMOVE_RECURSE
  "CMakeFiles/normlab.dir/src/cli/cmd_grad.cpp.o"
  "CMakeFiles/normlab.dir/src/cli/cmd_grad.cpp.o.d"
  "CMakeFiles/normlab.dir/src/cli/cmd_init.cpp.o"
  "CMakeFiles/normlab.dir/src/cli/cmd_init.cpp.o.d"
  "CMakeFiles/normlab.dir/src/cli/main.cpp.o"
  "CMakeFiles/normlab.dir/src/cli/main.cpp.o.d"
  "normlab"
  "normlab.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/normlab.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
