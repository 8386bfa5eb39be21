// SPDX-License-Identifier: MIT
#pragma once

#include <ninep/wire/messages.hpp>
#include <string_view>
#include <system_error>

/// \file
/// The one table between errno values and 9P2000 error strings, and the error replies of each
/// dialect. Backends return errno (as std::error_code); each dialect gets the right reply:
/// 9P2000 an Rerror string, 9P2000.u an Rerror string plus errno, 9P2000.L an Rlerror errno.
/// Errno values on the wire are Linux's, which on Linux are the host's.

namespace ninep::wire {

/// The 9P2000 error string for errno `e` ("file does not exist" for ENOENT); for an errno not in
/// the table, the host's strerror text is not used (it is locale- and libc-dependent), "i/o error".
[[nodiscard]] std::string_view error_string(int e) noexcept;

/// The errno for a 9P2000 error string, accepting the spellings of Plan 9, lib9p, diod and
/// Linux strerror, and, for a string not in the table, of its part after the last ": " (Go
/// servers send "op path: file exists"); EIO when neither is known.
[[nodiscard]] int errno_of_string(std::string_view s) noexcept;

/// The peer's own words in an error reply: the Rerror string when it is none of the table's
/// spellings (so errno alone would lose what the server said); empty for a known string, for
/// Rlerror and for any other message. Borrows `b`.
[[nodiscard]] std::string_view error_text_of(const message_body& b) noexcept;

/// The errno that best describes `ec`: generic/system codes as they are, ninep::errc mapped
/// (unknown_fid -> EBADF, protocol errors -> EPROTO, ...). Never 0 for a non-empty `ec`.
[[nodiscard]] int to_errno(std::error_code ec) noexcept;

/// The error reply for `ec` in dialect `d`: Rlerror for 9P2000.L, Rerror otherwise.
/// The string of an Rerror is static; the result borrows nothing.
[[nodiscard]] message_body error_reply(std::error_code ec, dialect d) noexcept;

/// The error carried by an Rerror or Rlerror (generic category), or an empty error_code for any
/// other message. An error reply never reads as success: errno 0, or above 4095, gives EIO.
[[nodiscard]] std::error_code error_of(const message_body& b) noexcept;

}  // namespace ninep::wire
