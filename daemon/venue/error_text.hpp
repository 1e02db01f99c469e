// A parser's "why the last parse failed", formatted into a fixed buffer: no allocation on the
// hot path, and last_error() can return a pointer that stays valid until the next parse.
#pragma once

#include <cstdarg>
#include <cstddef>
#include <cstdio>

namespace mdfeed::venue {

class ErrorText {
 public:
  static constexpr std::size_t kSize = 256;

  void clear() noexcept { buf_[0] = '\0'; }
  void format(const char* fmt, ...) noexcept __attribute__((format(printf, 2, 3))) {
    std::va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf_, sizeof buf_, fmt, ap);
    va_end(ap);
  }
  // A venue parser's fail(fmt, args...): sets the text and returns `result`.
  template <class R, class... A>
  R fail(R result, const char* fmt, A... args) noexcept {
    if constexpr (sizeof...(A) == 0)
      format("%s", fmt);
    else
      format(fmt, args...);
    return result;
  }
  [[nodiscard]] const char* c_str() const noexcept { return buf_; }
  [[nodiscard]] char* data() noexcept { return buf_; }

 private:
  char buf_[kSize] = {};
};

}  // namespace mdfeed::venue
