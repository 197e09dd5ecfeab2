# normlab's Python package (docs/python.md): python/normlab/*.py and the compiled normlab._core,
# assembled in BUILD/python/normlab (PYTHONPATH=BUILD/python), and installed by `cmake --install`
# into PREFIX/lib/python3.X/dist-packages (on the path of Debian's python3 for PREFIX /usr/local).
# Built with Debian's pybind11 (pybind11-dev) for Debian's /usr/bin/python3 (python3-dev), also
# when another python3 comes first on PATH (pyenv, a virtualenv): the interpreter is named, and
# FindPython takes the headers and the extension suffix (.cpython-311-x86_64-linux-gnu.so) from it.
option(NORMLAB_PYTHON "Build the Python module normlab._core (needs pybind11-dev, python3-dev)" ON)
if(NOT NORMLAB_PYTHON)
  return()
endif()

set(Python_EXECUTABLE /usr/bin/python3)
find_package(Python 3 REQUIRED COMPONENTS Interpreter Development.Module)
find_package(pybind11 CONFIG)
if(NOT pybind11_FOUND)
  message(FATAL_ERROR "normlab: the Python module needs pybind11 (apt-get install pybind11-dev "
                      "python3-dev, or bash scripts/setup.sh); -DNORMLAB_PYTHON=OFF builds without it")
endif()

set(NORMLAB_PYTHON_DIR ${CMAKE_BINARY_DIR}/python/normlab)
# NO_EXTRAS: no LTO and no stripping, as the rest of the build.
pybind11_add_module(normlab_python MODULE NO_EXTRAS python/bindings/core.cpp)
set_target_properties(normlab_python PROPERTIES OUTPUT_NAME _core
                      LIBRARY_OUTPUT_DIRECTORY ${NORMLAB_PYTHON_DIR})
target_link_libraries(normlab_python PRIVATE normlab_core)

# The pure-Python files join the extension as links to the sources, so that an edit needs no
# rebuild.
file(GLOB NORMLAB_PYTHON_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/python/normlab/*.py)
file(MAKE_DIRECTORY ${NORMLAB_PYTHON_DIR})
foreach(source ${NORMLAB_PYTHON_SOURCES})
  get_filename_component(name ${source} NAME)
  file(CREATE_LINK ${source} ${NORMLAB_PYTHON_DIR}/${name} SYMBOLIC)
endforeach()

set(NORMLAB_PYTHON_INSTALL_DIR
    lib/python${Python_VERSION_MAJOR}.${Python_VERSION_MINOR}/dist-packages/normlab)
install(TARGETS normlab_python LIBRARY DESTINATION ${NORMLAB_PYTHON_INSTALL_DIR})
install(FILES ${NORMLAB_PYTHON_SOURCES} DESTINATION ${NORMLAB_PYTHON_INSTALL_DIR})
