# Warning flags and sanitizer switches shared by every NeedlePlan target.
add_library(np_warnings INTERFACE)
target_compile_options(np_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
  -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough
  $<$<BOOL:${NP_WARNINGS_AS_ERRORS}>:-Werror>)

option(NP_WARNINGS_AS_ERRORS "Treat warnings as errors" OFF)
option(NP_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(NP_FUZZ "Build the libFuzzer targets in fuzz/ (clang): every object gets fuzzer coverage, ASan and UBSan" OFF)
if(NP_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "NP_FUZZ needs clang (libFuzzer): configure with the fuzz preset")
  endif()
  # pointer-overflow is left out as in NP_SANITIZE (ITK 5.2's neighbourhood iterator).
  # Coverage is left out of the compute-heavy sources that no fuzz target reaches
  # (fuzz/coverage-ignorelist.txt): the sanitized tests of this same build run several times faster.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=pointer-overflow
                      -fsanitize-coverage-ignorelist=${PROJECT_SOURCE_DIR}/fuzz/coverage-ignorelist.txt
                      -fsanitize-ignorelist=${PROJECT_SOURCE_DIR}/cmake/sanitizer-ignorelist.txt
                      -fno-omit-frame-pointer -fno-sanitize-recover=undefined
                      -include ${PROJECT_SOURCE_DIR}/fuzz/compat/ItkClangCompat.h)
  add_link_options(-fsanitize=address,undefined)
endif()
if(NP_SANITIZE AND NOT NP_FUZZ)
  # pointer-overflow is left out: ITK 5.2's ConstNeighborhoodIterator (used by the distance-map
  # filters, instantiated in our files) applies offsets to a null pointer, which would abort every
  # clearance-field test without pointing at NeedlePlan code.
  # (With NP_FUZZ the flags above already hold; adding them again would let CMake's de-duplication
  # put a second -fsanitize=undefined after -fno-sanitize=pointer-overflow and undo it.)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize=pointer-overflow -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
if(NP_SANITIZE)
  # ctest hands every test tests/lsan.supp (toolkit-internal leaks only) unless LSAN_OPTIONS
  # already names a suppressions file.
  set(np_lsan_env "${PROJECT_BINARY_DIR}/NpSanitizerEnvironment.cmake")
  file(WRITE ${np_lsan_env}
    "if(NOT \"\$ENV{LSAN_OPTIONS}\" MATCHES \"suppressions=\")\n"
    "  set(ENV{LSAN_OPTIONS} \"\$ENV{LSAN_OPTIONS}:suppressions=${PROJECT_SOURCE_DIR}/tests/lsan.supp\")\n"
    "endif()\n"
    # The list of suppressions used would be a second stderr block after every CLI run: the tests
    # check that an error is one line.
    "if(NOT \"\$ENV{LSAN_OPTIONS}\" MATCHES \"print_suppressions=\")\n"
    "  set(ENV{LSAN_OPTIONS} \"\$ENV{LSAN_OPTIONS}:print_suppressions=0\")\n"
    "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${np_lsan_env})
endif()

# np_add_library(NAME <target> FOLDER <dir> [PUBLIC_LIBS ...] [PRIVATE_LIBS ...])
# Sources are src/*.cpp of the folder; headers live in include/needleplan/<name>/.
function(np_add_library target)
  cmake_parse_arguments(ARG "" "" "PUBLIC_LIBS;PRIVATE_LIBS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/*.cpp)
  file(GLOB_RECURSE headers CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/include/*.h)
  add_library(${target} STATIC ${sources} ${headers})
  target_include_directories(${target} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
                                        PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(${target} PUBLIC ${ARG_PUBLIC_LIBS} PRIVATE np_warnings ${ARG_PRIVATE_LIBS})
endfunction()

# np_add_gtest(<target> LABEL <label> SOURCES ... LIBS ... [SANITIZED_FILTER <gtest filter>])
# One GoogleTest executable per (library, label); every discovered test carries the label.
# SANITIZED_FILTER: the googletest filter of the tests that run in the sanitizer build (NP_SANITIZE).
function(np_add_gtest target)
  cmake_parse_arguments(ARG "" "LABEL;TIMEOUT;SANITIZED_FILTER" "SOURCES;LIBS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_executable(${target} ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE np_warnings np_test_support GTest::gtest GTest::gtest_main ${ARG_LIBS})
  if(NP_SANITIZE)
    # A sanitized test process takes about a second to start and to check for leaks at exit, so the
    # sanitizer build runs each executable in a few shards (googletest's own sharding) instead of
    # one process per test: every test still runs, once.
    set(shards 4)
    math(EXPR last_shard "${shards} - 1")
    foreach(shard RANGE ${last_shard})
      add_test(NAME ${target}/shard${shard} COMMAND ${target})
      set(environment "GTEST_TOTAL_SHARDS=${shards};GTEST_SHARD_INDEX=${shard}")
      if(ARG_SANITIZED_FILTER)
        # Only these tests run in the sanitizer build; the others run in the release build.
        list(APPEND environment "GTEST_FILTER=${ARG_SANITIZED_FILTER}")
      endif()
      set_tests_properties(${target}/shard${shard} PROPERTIES LABELS ${ARG_LABEL} TIMEOUT 1800
        ENVIRONMENT "${environment}")
    endforeach()
  else()
    gtest_discover_tests(${target}
      PROPERTIES LABELS ${ARG_LABEL} TIMEOUT ${ARG_TIMEOUT}
      DISCOVERY_TIMEOUT 60)
  endif()
endfunction()
