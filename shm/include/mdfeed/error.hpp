// Exceptions thrown at start-up (open, map, validate). Hot-path calls never throw.
#pragma once

#include <stdexcept>
#include <string>

namespace mdfeed {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The ring file (or its directory) does not exist.
class NotFound : public Error {
 public:
  using Error::Error;
};

// Wrong magic, major version or layout hash, or a header that fails validation.
class IncompatibleLayout : public Error {
 public:
  using Error::Error;
};

}  // namespace mdfeed
