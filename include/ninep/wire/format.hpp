// SPDX-License-Identifier: MIT
#pragma once

#include <fmt/format.h>

#include <ninep/wire/messages.hpp>
#include <string_view>

/// \file
/// One-line human traces of messages, after Plan 9's fcallfmt:
///   Twalk tag 3 fid 1 newfid 2 nwname 2 "usr" "lib"

namespace ninep::wire {

/// A message paired with its dialect, which decides the dialect-dependent fields printed.
struct traced {
  const message& msg;
  wire::dialect dialect;
};

/// `fmt::format("{}", trace(m, d))` prints `m` as read in dialect `d`.
inline traced trace(const message& m, dialect d) noexcept { return {m, d}; }

/// Appends the trace of `m` to `out`.
void format_message(fmt::memory_buffer& out, const message& m, dialect d);

}  // namespace ninep::wire

template <>
struct fmt::formatter<ninep::wire::traced> : fmt::formatter<std::string_view> {
  auto format(const ninep::wire::traced& t, fmt::format_context& ctx) const {
    fmt::memory_buffer b;
    ninep::wire::format_message(b, t.msg, t.dialect);
    return fmt::formatter<std::string_view>::format(std::string_view(b.data(), b.size()), ctx);
  }
};

/// A message printed as 9P2000.L (all fields of .u/.L Tattach and Tauth are shown).
template <>
struct fmt::formatter<ninep::wire::message> : fmt::formatter<ninep::wire::traced> {
  auto format(const ninep::wire::message& m, fmt::format_context& ctx) const {
    return fmt::formatter<ninep::wire::traced>::format({m, ninep::wire::dialect::v2000L}, ctx);
  }
};
