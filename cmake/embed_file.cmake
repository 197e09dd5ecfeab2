# Embeds text files (the report page's .js and .css) into the library as a C string, so the files
# stay real, lintable sources while the binary stays self-contained.
#
# Included from CMakeLists.txt it defines
#   normlab_embed_file(TARGET SYMBOL FILE...)
# which adds to TARGET a generated source defining `const char* const SYMBOL` (SYMBOL may be
# namespace-qualified, e.g. normlab::report::kReportPageStyle) holding the FILEs' bytes, one after
# the other in the order given, regenerated whenever a FILE or this script changes.
#
# Run as `cmake -DINPUT=FILE[|FILE...] -DNAME=REL_PATH -DOUTPUT=FILE.cpp -DSYMBOL=NS::NAME -P
# embed_file.cmake` it writes that source (REL_PATH only names the first FILE in a comment; '|'
# separates files because ';' would split the argument). The bytes go in as an array of '\xNN'
# characters, not a string literal, so no content (quotes, backslashes, a raw-string delimiter,
# non-ASCII) needs escaping.

if(CMAKE_SCRIPT_MODE_FILE)
  foreach(var INPUT NAME OUTPUT SYMBOL)
    if(NOT DEFINED ${var})
      message(FATAL_ERROR "embed_file.cmake: -D${var}=... is required")
    endif()
  endforeach()
  string(REPLACE "|" ";" inputs "${INPUT}")
  set(hex "")
  foreach(input IN LISTS inputs)
    file(READ "${input}" part HEX)
    string(APPEND hex "${part}")
  endforeach()
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
  string(REPEAT "'\\\\x[0-9a-f][0-9a-f]'," 16 line)  # CMake's regex has no {n}
  string(REGEX REPLACE "(${line})" "\\1\n    " bytes "${bytes}")
  string(REGEX MATCH "^(.*)::([A-Za-z_][A-Za-z0-9_]*)$" qualified "${SYMBOL}")
  if(qualified)
    set(namespace "${CMAKE_MATCH_1}")
    set(name "${CMAKE_MATCH_2}")
  else()
    set(namespace "")
    set(name "${SYMBOL}")
  endif()
  set(text "// Generated at build time from ${NAME} by cmake/embed_file.cmake: edit that file.\n")
  if(namespace)
    string(APPEND text "namespace ${namespace} {\n")
  endif()
  string(APPEND text "namespace {\nconst char k_embedded_bytes[] = {\n    ${bytes}'\\0'};\n}  // namespace\n")
  string(APPEND text "extern const char* const ${name};\nconst char* const ${name} = k_embedded_bytes;\n")
  if(namespace)
    string(APPEND text "}  // namespace ${namespace}\n")
  endif()
  file(WRITE "${OUTPUT}" "${text}")
  return()
endif()

set(NORMLAB_EMBED_SCRIPT "${CMAKE_CURRENT_LIST_FILE}")

function(normlab_embed_file target symbol file)
  set(inputs "")
  foreach(f IN ITEMS ${file} ${ARGN})
    get_filename_component(input "${f}" ABSOLUTE)
    list(APPEND inputs "${input}")
  endforeach()
  list(GET inputs 0 first)
  file(RELATIVE_PATH rel "${CMAKE_SOURCE_DIR}" "${first}")
  string(REPLACE ";" "|" joined "${inputs}")
  set(output "${CMAKE_BINARY_DIR}/embedded/${rel}.cpp")
  add_custom_command(
    OUTPUT "${output}"
    COMMAND "${CMAKE_COMMAND}" "-DINPUT=${joined}" "-DNAME=${rel}" "-DOUTPUT=${output}" "-DSYMBOL=${symbol}" -P
            "${NORMLAB_EMBED_SCRIPT}"
    DEPENDS ${inputs} "${NORMLAB_EMBED_SCRIPT}"
    COMMENT "Embedding ${rel}"
    VERBATIM)
  target_sources(${target} PRIVATE "${output}")
endfunction()
