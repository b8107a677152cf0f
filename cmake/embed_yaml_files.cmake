# Writes OUTPUT, a C++ source holding each of the FILES (YAML shipped inside the binary:
# workflows/builtin/*.yaml, presets/builtin/*.yaml) as a string, named by its file name without
# .yaml (builtin://agent is agent.yaml), in a table of STRUCT {name, yaml} that FUNCTION returns,
# declared in HEADER. Run by the build (cmake -P) whenever one of the files changes.
set(body "// Generated from ${SOURCE_DIR}/*.yaml by cmake/embed_yaml_files.cmake.\n")
string(APPEND body "#include \"${HEADER}\"\n\nnamespace reliant::workflow {\nnamespace {\n")
string(APPEND body "constexpr ${STRUCT} kEmbedded[] = {\n")
string(REPLACE "," ";" files "${FILES}")
list(SORT files)
foreach(file IN LISTS files)
  get_filename_component(name ${file} NAME_WE)
  file(READ ${file} text)
  string(FIND "${text}" ")reliant_yaml\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${file} holds the embedding's delimiter")
  endif()
  string(APPEND body "    {\"${name}\", R\"reliant_yaml(${text})reliant_yaml\"},\n")
endforeach()
string(APPEND body "};\n}  // namespace\n\n")
string(APPEND body "std::span<const ${STRUCT}> ${FUNCTION}() { return kEmbedded; }\n\n")
string(APPEND body "}  // namespace reliant::workflow\n")
file(WRITE ${OUTPUT}.tmp "${body}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUTPUT}.tmp ${OUTPUT})
