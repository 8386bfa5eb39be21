// SPDX-License-Identifier: MIT
#pragma once

#include <ninep/core/result.hpp>
#include <string>
#include <system_error>
#include <tl/expected.hpp>
#include <type_traits>
#include <utility>

/// \file
/// Why a client operation failed: an error code, plus the server's own words when the code alone
/// would lose them. Each call's result carries its own error, so concurrent calls on one session
/// never see each other's text.

namespace ninep::client {

/// An error_code and, when the server explained itself in words our errno table does not know
/// (a 9P2000/.u Rerror string such as go-p9p's "mkdir /srv/x/dir1: file exists"), that text.
/// Converts to and compares like std::error_code, so code written for result<T> keeps working.
struct error {
  std::error_code code;
  /// The server's error string when it is not one of the known spellings; else empty.
  std::string text;

  error() = default;
  error(std::error_code c) noexcept : code(c) {}  // NOLINT(google-explicit-constructor)
  template <class E>
  requires std::is_error_code_enum_v<E> error(E e)
  noexcept : code(make_error_code(e)) {}  // NOLINT(google-explicit-constructor)
  error(std::error_code c, std::string t) : code(c), text(std::move(t)) {}

  operator std::error_code() const noexcept { return code; }  // NOLINT
  int value() const noexcept { return code.value(); }
  const std::error_category& category() const noexcept { return code.category(); }
  /// The server's text if it sent one we keep, else the code's message.
  std::string message() const { return text.empty() ? code.message() : text; }
  explicit operator bool() const noexcept { return static_cast<bool>(code); }

  friend bool operator==(const error& a, const std::error_code& b) noexcept { return a.code == b; }
  friend bool operator==(const error& a, const std::error_condition& b) noexcept {
    return a.code == b;
  }
  template <class E>
  requires std::is_error_code_enum_v<E> || std::is_error_condition_enum_v<E>
  friend bool operator==(const error& a, E e) noexcept { return a.code == e; }
};

/// The result of a client operation: a value, or an error with the server's text.
/// For non-void T, converts to ninep::result<T> (keeping the code only).
template <class T>
using outcome = tl::expected<T, error>;

/// Builds the error alternative of an outcome<T> (or, converting, of a result<T>).
inline tl::unexpected<error> fail(error e) noexcept { return tl::unexpected<error>(std::move(e)); }

}  // namespace ninep::client
