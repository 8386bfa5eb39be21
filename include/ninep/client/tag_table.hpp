// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <ninep/core/result.hpp>
#include <ninep/wire/messages.hpp>
#include <span>
#include <string_view>
#include <vector>

/// \file
/// The client's reply matching, sans-I/O: which tags are in flight, what each expects back, and
/// whether a frame from the server is an acceptable answer. The session drives it from its strand;
/// the fuzz target drives it directly with arbitrary bytes.

namespace ninep::client {

/// What a request in flight expects back.
struct expectation {
  /// The R-message that answers the request (Twalk -> Rwalk). An error reply (Rlerror in
  /// 9P2000.L, Rerror otherwise) is always acceptable.
  wire::msg_type reply = wire::msg_type::Rversion;
  /// Tread/Treaddir: the count asked for. A reply carrying more bytes is rejected.
  std::uint32_t max_count = 0;
};

/// The expectation for request `req`: its reply type, and the count of a Tread or Treaddir.
[[nodiscard]] expectation expectation_for(const wire::message_body& req) noexcept;

/// A frame from the server matched to the request it answers.
struct matched_reply {
  wire::tag_t tag = wire::notag;
  /// The decoded reply, borrowing the frame; or why the call fails: the server's error (Rlerror
  /// or Rerror, as an errno in std::generic_category()), errc::unexpected_reply (a reply of the
  /// wrong type, or a count above the one asked for), or a decode error (errc::field_overrun,
  /// errc::trailing_bytes, ...). Either way the tag has been answered.
  result<wire::message> reply;
  /// With an error reply: the server's own text when errno alone would lose it
  /// (wire::error_text_of); borrows the frame.
  std::string_view error_text;
};

/// The tags of one connection and what each one expects. Not thread-safe: owned by the session's
/// strand. Never allocates after construction.
class tag_table {
 public:
  /// A table of `max_tags` tags (0 .. max_tags-1; at most 65535, since 0xffff is NOTAG).
  explicit tag_table(std::size_t max_tags = 4096);

  /// Sets the dialect and msize that replies are decoded with (after version negotiation).
  void configure(wire::dialect d, std::uint32_t msize) noexcept {
    dialect_ = d;
    msize_ = msize;
  }
  wire::dialect dialect() const noexcept { return dialect_; }
  std::uint32_t msize() const noexcept { return msize_; }

  /// Reserves a free tag for a request expecting `e`.
  /// Errors: std::errc::resource_unavailable_try_again when every tag is in flight.
  [[nodiscard]] result<wire::tag_t> reserve(expectation e) noexcept;
  /// Frees `t` once it has been answered (or flushed: only after Rflush), or was never sent.
  void release(wire::tag_t t) noexcept;
  /// Whether `t` is reserved.
  [[nodiscard]] bool in_use(wire::tag_t t) const noexcept {
    return t < slots_.size() && slots_[t].used;
  }
  /// How many tags there are.
  [[nodiscard]] std::size_t capacity() const noexcept { return slots_.size(); }
  /// How many tags are reserved.
  [[nodiscard]] std::size_t in_flight() const noexcept { return slots_.size() - free_.size(); }

  /// Matches one frame from the server (size[4] included) to its request. The tag stays reserved;
  /// the caller releases it. The result borrows `frame`.
  /// Errors, after which the connection cannot be trusted and must be closed: errc::need_more or
  /// errc::bad_size (not a whole frame), errc::unexpected_reply (a tag that is not in flight).
  [[nodiscard]] result<matched_reply> match(std::span<const std::byte> frame) const noexcept;

 private:
  struct slot {
    bool used = false;
    wire::msg_type reply = wire::msg_type::Rversion;
    std::uint32_t max_count = 0;
  };
  std::vector<slot> slots_;
  std::vector<wire::tag_t> free_;  // a stack: the lowest tags are handed out first
  wire::dialect dialect_ = wire::dialect::v2000L;
  std::uint32_t msize_ = 8192;
};

}  // namespace ninep::client
