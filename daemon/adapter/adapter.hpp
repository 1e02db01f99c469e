// An exchange adapter: a constant table of a venue's URLs, stream naming, message parser factory,
// REST kline request/response and limits, plus the registry that finds one by name.
// A new venue is one folder in daemon/ defining its Adapter, plus one line in the registry
// (adapter.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapter/types.hpp"

namespace mdfeed::adapter {

// Owns one venue's concrete message parser behind a plain function pointer. The session needs
// one parser type for every venue; this costs one indirect call per message (the same as a
// virtual), while venue parsers stay concrete classes with no vtable that tests and benchmarks
// call directly.
class MessageParser {
 public:
  MessageParser() = default;

  // P must offer parse(data, len, capacity, KlineMsg&) noexcept and last_error() noexcept.
  template <class P>
  [[nodiscard]] static MessageParser own(std::unique_ptr<P> p) {
    MessageParser m;
    m.obj_ = Owned(p.release(), [](void* o) noexcept { delete static_cast<P*>(o); });
    m.parse_ = [](void* o, const char* d, std::size_t n, std::size_t cap,
                  KlineMsg& out) noexcept { return static_cast<P*>(o)->parse(d, n, cap, out); };
    m.error_ = [](const void* o) noexcept { return static_cast<const P*>(o)->last_error(); };
    return m;
  }

  // capacity >= len + kParsePadding: the bytes past len must be readable.
  [[nodiscard]] MsgKind parse(const char* data, std::size_t len, std::size_t capacity,
                              KlineMsg& out) noexcept {
    return parse_(obj_.get(), data, len, capacity, out);
  }
  [[nodiscard]] const char* last_error() const noexcept { return error_(obj_.get()); }
  [[nodiscard]] explicit operator bool() const noexcept { return obj_ != nullptr; }

 private:
  using ParseFn = MsgKind (*)(void*, const char*, std::size_t, std::size_t, KlineMsg&) noexcept;
  using ErrorFn = const char* (*)(const void*) noexcept;
  using Owned = std::unique_ptr<void, void (*)(void*) noexcept>;

  Owned obj_{nullptr, nullptr};
  ParseFn parse_ = nullptr;
  ErrorFn error_ = nullptr;
};

// One venue. Every member is set; the table is constant and lives for the whole process.
struct Adapter {
  std::string_view name;              // registry key and exchange: value in the config
  std::string_view default_ws_url;    // scheme://host:port, no path
  std::string_view default_rest_url;  // scheme://host
  const VenueLimits* limits;

  // --- WebSocket ---
  std::string (*stream_name)(std::string_view symbol, std::string_view interval);
  std::string (*combined_path)(const std::vector<std::string>& streams);
  // method: "SUBSCRIBE" / "UNSUBSCRIBE"
  std::string (*subscribe_message)(std::string_view method, std::int64_t id,
                                   const std::vector<std::string>& streams);
  // max_bytes bounds the message size and so the parser's memory.
  MessageParser (*make_parser)(std::size_t max_bytes);

  // --- REST ---
  std::string (*klines_target)(std::string_view symbol, std::string_view interval,
                               std::int64_t start_ms, std::optional<std::int64_t> end_ms,
                               int limit);
  RestResult (*parse_klines)(std::string_view body, std::vector<Bar>& out);
  std::string_view server_time_target;
  std::optional<std::int64_t> (*parse_server_time)(std::string_view body);
};

// The adapter registered under name, or nullptr.
[[nodiscard]] const Adapter* find_adapter(std::string_view name) noexcept;

// Every registered adapter, for listing in errors ("unknown exchange X; known: binance").
[[nodiscard]] std::pair<const Adapter* const*, std::size_t> all_adapters() noexcept;

}  // namespace mdfeed::adapter
