# Per-target warning and dependency helpers (spdlog's shape: applied to our targets only, never
# forced on consumers through INTERFACE options).

function(mdfeed_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wconversion -Wsign-conversion -pedantic
                                           -Wshadow -Wnon-virtual-dtor)
  if(MDFEED_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# libwebsockets: prefer its CMake package, fall back to pkg-config (Debian ships both).
macro(mdfeed_find_libwebsockets)
  find_package(libwebsockets CONFIG QUIET)
  if(TARGET websockets_shared)
    add_library(mdfeed_lws INTERFACE)
    target_link_libraries(mdfeed_lws INTERFACE websockets_shared OpenSSL::SSL OpenSSL::Crypto)
  elseif(TARGET websockets)
    add_library(mdfeed_lws INTERFACE)
    target_link_libraries(mdfeed_lws INTERFACE websockets OpenSSL::SSL OpenSSL::Crypto)
  else()
    find_package(PkgConfig REQUIRED)
    pkg_check_modules(LWS REQUIRED IMPORTED_TARGET libwebsockets)
    add_library(mdfeed_lws INTERFACE)
    target_link_libraries(mdfeed_lws INTERFACE PkgConfig::LWS OpenSSL::SSL OpenSSL::Crypto)
  endif()
endmacro()

# A Catch2 v2 test binary, registered with ctest. The Catch main is compiled once (slow) and
# shared by every test binary.
#   mdfeed_add_catch_test(NAME name SOURCES a.cpp ... [LIBS ...] [LABELS ...] [TIMEOUT s] [ARGS ...])
function(mdfeed_add_catch_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS;ARGS" ${ARGN})
  if(NOT TARGET mdfeed_catch_main)
    add_library(mdfeed_catch_main OBJECT ${PROJECT_SOURCE_DIR}/tests/catch_main.cpp)
    target_link_libraries(mdfeed_catch_main PUBLIC Catch2::Catch2)
  endif()
  add_executable(${T_NAME} ${T_SOURCES} $<TARGET_OBJECTS:mdfeed_catch_main>)
  target_link_libraries(${T_NAME} PRIVATE Catch2::Catch2 ${T_LIBS})
  mdfeed_target_warnings(${T_NAME})
  add_test(NAME ${T_NAME} COMMAND ${T_NAME} ${T_ARGS})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT}
                       ENVIRONMENT "MDFEED_FIXTURES=${MDFEED_FIXTURES_DIR};MDFEED_BUILD_DIR=${PROJECT_BINARY_DIR}")
  if(T_LABELS)
    set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}")
  endif()
endfunction()

# Add every listed subdirectory that has a CMakeLists.txt (components land independently).
function(mdfeed_add_subdirs)
  foreach(d ${ARGN})
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${d}/CMakeLists.txt)
      add_subdirectory(${d})
    endif()
  endforeach()
endfunction()
