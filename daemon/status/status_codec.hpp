// Internal to the status segment: the record codec and header checks shared by the writer
// (status.cpp) and the reader (status_reader.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "mdfeed/mapped_file.hpp"
#include "status/status.hpp"
#include "status/status_layout.hpp"

namespace mdfeed::status::codec {

void put_text(char* dst, std::size_t cap, const std::string& s) noexcept;
[[nodiscard]] std::uint64_t random_u64() noexcept;
[[nodiscard]] StatusHeader* header_of(void* base) noexcept;
[[nodiscard]] const StatusHeader* header(const MappedFile& f) noexcept;
void init_header(StatusHeader& h, std::uint32_t conn_cap, std::uint32_t stream_cap) noexcept;
void validate_header(const StatusHeader& h, std::size_t size, const std::string& path);
[[nodiscard]] bool same_layout(const StatusHeader& h, std::size_t size, const std::string& path) noexcept;
[[nodiscard]] std::uint64_t begin_write(std::uint64_t& seq) noexcept;
[[nodiscard]] DaemonRecord encode_daemon(const DaemonInfo& d) noexcept;
void encode_conn(const ConnectionInfo& c, ConnRecord& r) noexcept;
void encode_stream(const StreamInfo& s, StreamRecord& r) noexcept;
[[nodiscard]] DaemonInfo decode_daemon(const DaemonRecord& r);
[[nodiscard]] ConnectionInfo decode_conn(const ConnRecord& r);
[[nodiscard]] StreamInfo decode_stream(const StreamRecord& r);
[[nodiscard]] std::uint32_t grown(std::uint32_t cap, std::size_t need, std::uint32_t limit) noexcept;

}  // namespace mdfeed::status::codec
