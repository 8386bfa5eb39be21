// SPDX-License-Identifier: MIT
#pragma once

#include <system_error>
#include <tl/expected.hpp>

namespace ninep {

/// The result of a synchronous operation that can fail: a value or a std::error_code.
/// Only the subset that std::expected shares is used (has_value, value, error, *, and_then,
/// or_else, transform), so this alias can become std::expected at C++23.
template <class T>
using result = tl::expected<T, std::error_code>;

/// Builds the error alternative of a result<T>.
inline tl::unexpected<std::error_code> fail(std::error_code ec) noexcept {
  return tl::unexpected<std::error_code>(ec);
}

}  // namespace ninep
