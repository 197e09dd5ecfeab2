
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/src/cli/cmd_grad.cpp" "CMakeFiles/normlab.dir/src/cli/cmd_grad.cpp.o" "gcc" "CMakeFiles/normlab.dir/src/cli/cmd_grad.cpp.o.d"
  "/work/main/src/cli/cmd_init.cpp" "CMakeFiles/normlab.dir/src/cli/cmd_init.cpp.o" "gcc" "CMakeFiles/normlab.dir/src/cli/cmd_init.cpp.o.d"
  "/work/main/src/cli/main.cpp" "CMakeFiles/normlab.dir/src/cli/main.cpp.o" "gcc" "CMakeFiles/normlab.dir/src/cli/main.cpp.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build-kernA/CMakeFiles/normlab_core.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
