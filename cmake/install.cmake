# `cmake --install build [--prefix P]`: the library (libnormlab.a), the API headers
# (include/normlab/), the normlab binary, a CMake package (find_package(normlab) ->
# normlab::core) and a pkg-config file (normlab.pc). docs/library.md.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set_target_properties(normlab_core PROPERTIES OUTPUT_NAME normlab EXPORT_NAME core)
install(TARGETS normlab_core EXPORT normlabTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS normlab RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY include/normlab DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
set(NORMLAB_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/normlab)
install(EXPORT normlabTargets NAMESPACE normlab:: DESTINATION ${NORMLAB_CMAKE_DIR})
configure_package_config_file(cmake/normlabConfig.cmake.in
                              ${CMAKE_CURRENT_BINARY_DIR}/normlabConfig.cmake
                              INSTALL_DESTINATION ${NORMLAB_CMAKE_DIR})
# find_package(normlab 0.1) checks the version; releases of one minor version are compatible.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/normlabConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/normlabConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/normlabConfigVersion.cmake DESTINATION ${NORMLAB_CMAKE_DIR})
configure_file(cmake/normlab.pc.in ${CMAKE_CURRENT_BINARY_DIR}/normlab.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/normlab.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
