# CMake generated Testfile for 
# Source directory: /work/main/tests
# Build directory: /work/main/build-kernA/tests
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
include("/work/main/build-kernA/tests/test_kernels[1]_include.cmake")
add_test([=[reference.test_parity]=] "/usr/bin/python3" "/work/main/tests/reference/test_parity.py" "/work/main/build-kernA/normlab")
set_tests_properties([=[reference.test_parity]=] PROPERTIES  _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;22;add_test;/work/main/tests/CMakeLists.txt;0;")
