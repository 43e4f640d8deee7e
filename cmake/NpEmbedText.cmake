# cmake -DINPUT=<file> -DOUTPUT=<file.cpp> -DSYMBOL=<namespace-qualified function> -P NpEmbedText.cmake
# Writes a C++ source whose function SYMBOL() returns the text of INPUT (a data file compiled into
# a library, so that no path has to be found at run time).
file(READ "${INPUT}" text)
string(FIND "${text}" ")npembed\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter )npembed\"")
endif()
string(REGEX MATCH "^(.*)::([^:]+)$" _ "${SYMBOL}")
set(namespace "${CMAKE_MATCH_1}")
set(function "${CMAKE_MATCH_2}")
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by cmake/NpEmbedText.cmake; do not edit.\n"
  "#include <string_view>\n"
  "namespace ${namespace} {\n"
  "std::string_view ${function}()\n{\n"
  "    static constexpr const char text[] = R\"npembed(${text})npembed\";\n"
  "    return {text, sizeof(text) - 1};\n}\n"
  "} // namespace ${namespace}\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
