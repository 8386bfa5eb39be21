// SPDX-License-Identifier: MIT
#pragma once

#include <system_error>

namespace ninep {

/// Errors raised by ninep itself (as opposed to errno values from the host or the peer,
/// which travel as std::errc in std::generic_category()).
enum class errc {
  /// A frame is shorter than its size[4] field says, or than its message type needs.
  /// Resumable: more bytes are needed (stream reader) or the message is truncated (decoder).
  need_more = 1,
  /// size[4] is below 7 or above the negotiated msize.
  bad_size,
  /// The type[1] byte is not a message of the negotiated dialect.
  unknown_type,
  /// A field runs past the end of the frame (string, array or payload length too large).
  field_overrun,
  /// Bytes remain after the last field of the message.
  trailing_bytes,
  /// nwname or nwqid is above 16.
  too_many_elements,
  /// A stat or dirent's own size field disagrees with its contents.
  bad_stat_size,
  /// The destination buffer is too small for the encoded message.
  buffer_too_small,
  /// A message is too large to be sent with the negotiated msize.
  message_too_large,
  /// A reply does not match the request it answers (client side).
  unexpected_reply,
  /// The peer sent a version string we do not speak.
  unsupported_version,
  /// The fid is not known on this connection.
  unknown_fid,
  /// The fid is already in use on this connection.
  fid_in_use,
  /// The tag is already in use by a request in flight.
  tag_in_use,
  /// The connection was closed.
  connection_closed,
  /// A dial string could not be parsed.
  bad_address,
  /// The operation was cancelled (Tflush, deadline, or shutdown).
  cancelled,
  /// Tattach named an aname that nothing is served under (server::router, local_fs exports).
  /// Travels as ENOENT.
  unknown_aname,
};

/// Groups of errc values, usable for comparisons like `ec == condition::protocol_violation`.
enum class condition {
  /// The peer sent bytes that are not a valid 9P message.
  protocol_violation = 1,
};

/// The "ninep" error category.
const std::error_category& ninep_category() noexcept;
/// The category of `condition`.
const std::error_category& ninep_condition_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), ninep_category()};
}
inline std::error_condition make_error_condition(condition c) noexcept {
  return {static_cast<int>(c), ninep_condition_category()};
}

/// An errno value as a std::error_code in the generic category.
inline std::error_code errno_code(int e) noexcept { return {e, std::generic_category()}; }

}  // namespace ninep

template <>
struct std::is_error_code_enum<ninep::errc> : std::true_type {};
template <>
struct std::is_error_condition_enum<ninep::condition> : std::true_type {};
