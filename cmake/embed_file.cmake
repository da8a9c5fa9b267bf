# Writes OUTPUT, a C++ header holding INPUT's bytes as
#   namespace kubabase::embedded { inline constexpr std::string_view <NAME> = R"...(...)..."; }
# Run by kubabase_embed() (CMakeLists.txt) at build time: `cmake -DINPUT=.. -DOUTPUT=.. -DNAME=.. -P`.
file(READ "${INPUT}" content)
set(delimiter "kubabase_embed")
string(FIND "${content}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains )${delimiter}\" and cannot be embedded as a raw string")
endif()
file(WRITE "${OUTPUT}.tmp"
     "// Generated from ${INPUT} by cmake/embed_file.cmake. Do not edit.\n"
     "#pragma once\n#include <string_view>\n"
     "namespace kubabase::embedded {\n"
     "inline constexpr std::string_view ${NAME} = R\"${delimiter}(${content})${delimiter}\";\n"
     "}  // namespace kubabase::embedded\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
