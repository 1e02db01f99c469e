// Shared by the fuzz targets: the libFuzzer entry point and an invariant check that fails loudly
// in every build (libFuzzer, ASan replay, plain replay), unlike assert() under NDEBUG.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

// abort() is what libFuzzer reports as a crash and saves the input for.
#define MDFEED_FUZZ_CHECK(cond)                                                         \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)
