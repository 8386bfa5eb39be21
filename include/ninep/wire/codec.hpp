// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <ninep/core/result.hpp>
#include <ninep/wire/messages.hpp>
#include <span>

/// \file
/// The 9P codec: sans-I/O, noexcept, allocation-free. Decoding validates before it reads: the
/// size field, the type for the dialect, every length against the bytes left, walk counts, stat
/// and dirent sizes, and that nothing trails the last field.

namespace ninep::wire {

/// The fixed start of every frame: size[4] type[1] tag[2].
struct frame_header {
  std::uint32_t size = 0;
  std::uint8_t type = 0;
  tag_t tag = 0;
};

/// Reads the header at the start of `bytes` (at least 7 bytes) and checks 7 <= size <= msize.
/// Errors: errc::need_more (fewer than 7 bytes), errc::bad_size.
[[nodiscard]] result<frame_header> decode_header(std::span<const std::byte> bytes,
                                                 std::uint32_t msize) noexcept;

/// Decodes exactly one frame (size[4] prefix included) for dialect `d`.
/// The result borrows from `frame`; it is valid only while `frame` lives.
/// Errors: errc::need_more (frame shorter than its size field), errc::bad_size,
/// errc::unknown_type (not a message of `d`), errc::field_overrun, errc::trailing_bytes,
/// errc::too_many_elements, errc::bad_stat_size.
[[nodiscard]] result<message> decode(std::span<const std::byte> frame, dialect d,
                                     std::uint32_t msize = UINT32_MAX) noexcept;

/// The encoded size of `m` in dialect `d`, payload included.
[[nodiscard]] std::size_t encoded_size(const message& m, dialect d) noexcept;

/// Encodes `m` (payload copied) into `out`; returns the number of bytes written.
/// Errors: errc::buffer_too_small, errc::message_too_large (a string or a stat entry longer
/// than its 16-bit size field allows, or a frame over 4 GiB).
[[nodiscard]] result<std::size_t> encode(const message& m, dialect d,
                                         std::span<std::byte> out) noexcept;

/// Encodes everything but the bulk payload of Twrite, Rread and Rreaddir into `out`, with a
/// size[4] that counts the payload. Send the returned bytes followed by bulk_payload(m) in one
/// gather write: the payload is never copied. For other messages this is encode().
/// Errors: as encode().
[[nodiscard]] result<std::size_t> encode_header(const message& m, dialect d,
                                                std::span<std::byte> out) noexcept;

/// The bulk payload of a Twrite, Rread or Rreaddir (a view into the message), else empty.
[[nodiscard]] std::span<const std::byte> bulk_payload(const message& m) noexcept;

/// A value decoded from the start of a buffer, and how many bytes it took.
template <class T>
struct decoded {
  T value;
  std::size_t size = 0;
};

/// Encoded size of a stat entry, its size[2] included.
[[nodiscard]] std::size_t stat_size(const stat& s, dialect d) noexcept;
/// Encodes one stat entry (size[2] first) into `out`.
/// Errors: errc::buffer_too_small, errc::message_too_large (the entry exceeds 65535 bytes).
[[nodiscard]] result<std::size_t> encode_stat(const stat& s, dialect d,
                                              std::span<std::byte> out) noexcept;
/// Decodes the stat entry at the start of `bytes` (directory data of Rread, 9P2000/.u).
/// Borrows from `bytes`. Errors: errc::field_overrun, errc::bad_stat_size.
[[nodiscard]] result<decoded<stat>> decode_stat(std::span<const std::byte> bytes,
                                                dialect d) noexcept;

/// Encoded size of a dirent: 24 + name length.
[[nodiscard]] std::size_t dirent_size(const dirent& e) noexcept;
/// Encodes one dirent into `out`.
/// Errors: errc::buffer_too_small, errc::message_too_large (a name longer than 65535).
[[nodiscard]] result<std::size_t> encode_dirent(const dirent& e, std::span<std::byte> out) noexcept;
/// Decodes the dirent at the start of `bytes` (Rreaddir data). Borrows from `bytes`.
/// Errors: errc::field_overrun.
[[nodiscard]] result<decoded<dirent>> decode_dirent(std::span<const std::byte> bytes) noexcept;

/// The smallest valid encoding of a message type in a dialect (empty strings and arrays),
/// or 0 if the type is not in the dialect. Used to reject short frames before decoding.
[[nodiscard]] std::size_t min_size(std::uint8_t type, dialect d) noexcept;

}  // namespace ninep::wire
