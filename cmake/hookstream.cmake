# Project-wide compile settings and the one-library-per-folder helper.

add_library(hookstream_warnings INTERFACE)
target_compile_options(hookstream_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
  -Wold-style-cast -Woverloaded-virtual -Wimplicit-fallthrough
  # GCC 12's optimiser reports false positives inside libstdc++'s std::string at -O2 and above
  # (-Wrestrict: GCC bug 105329; -Wmaybe-uninitialized on small-string copies: GCC bug 105562).
  # Debug builds, where these are reliable, keep -Wmaybe-uninitialized on. Clang (the fuzz
  # build) has neither warning and refuses unknown ones.
  $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>
  $<$<AND:$<CXX_COMPILER_ID:GNU>,$<NOT:$<CONFIG:Debug>>>:-Wno-maybe-uninitialized>
  $<$<BOOL:${HOOKSTREAM_WERROR}>:-Werror>)

add_library(hookstream_build_flags INTERFACE)
target_compile_definitions(hookstream_build_flags INTERFACE
  BOOST_ASIO_NO_DEPRECATED BOOST_BEAST_USE_STD_STRING_VIEW
  HOOKSTREAM_VERSION="${PROJECT_VERSION}")
if(HOOKSTREAM_SANITIZE)
  target_compile_options(hookstream_build_flags INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(hookstream_build_flags INTERFACE -fsanitize=address,undefined)
endif()

# hookstream_library(<folder-name> SOURCES ... DEPS ...) -> target hookstream_<name>, alias hookstream::<name>
function(hookstream_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(hookstream_${name} STATIC ${ARG_SOURCES})
  add_library(hookstream::${name} ALIAS hookstream_${name})
  target_include_directories(hookstream_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(hookstream_${name} PUBLIC ${ARG_DEPS} hookstream_build_flags
                                           PRIVATE hookstream_warnings)
endfunction()

# hookstream_executable(<binary-name> SOURCES ... DEPS ...)
function(hookstream_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} hookstream_build_flags hookstream_warnings)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bin)
endfunction()

# The services allocate with jemalloc: their hot paths make many short-lived blocks larger than
# glibc's per-thread cache holds (1 KiB bodies, coroutine frames), and glibc's malloc took about a
# third of the dispatcher's CPU (bench/README.md). Not under sanitizers, which bring their own.
function(hookstream_use_jemalloc target)
  if(NOT HOOKSTREAM_SANITIZE AND NOT HOOKSTREAM_FUZZ)
    target_link_libraries(${target} PRIVATE PkgConfig::JEMALLOC)
  endif()
endfunction()
