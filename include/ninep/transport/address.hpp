// SPDX-License-Identifier: MIT
#pragma once

#include <asio/basic_socket_acceptor.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/io_context.hpp>
#include <chrono>
#include <ninep/core/result.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace ninep::transport {

/// Where to listen or dial. Parsed from a Plan 9 dial string (`tcp!host!port`, `unix!/path`,
/// `net!host!port`) or `host:port`, `[v6addr]:port`, `/path` (a unix socket).
struct address {
  enum class kind { tcp, unix_socket };
  kind type = kind::tcp;
  std::string host;  ///< tcp: name or literal address (IPv6 without brackets)
  std::string port;  ///< tcp: number or service name
  std::string path;  ///< unix: socket path
  bool operator==(const address&) const = default;
};

/// The default 9P port (the IANA "9pfs" service).
inline constexpr std::string_view default_port = "564";

/// Parses `s`; a missing port becomes `port`. Errors: errc::bad_address.
[[nodiscard]] result<address> parse_address(std::string_view s,
                                            std::string_view port = default_port) noexcept;

/// `tcp!host!port` or `unix!/path`.
[[nodiscard]] std::string to_string(const address& a);

/// The stream type every 9P connection uses: TCP and unix sockets alike.
using stream = asio::generic::stream_protocol::socket;

/// Resolves `a` to endpoints (blocking name lookup for tcp). Errors: resolver errors,
/// errc::bad_address.
[[nodiscard]] result<std::vector<asio::generic::stream_protocol::endpoint>> resolve(
    asio::io_context& io, const address& a);

/// A listening socket of either kind.
using acceptor = asio::basic_socket_acceptor<asio::generic::stream_protocol>;

/// A listener and the address it is bound to (with port 0, the port the kernel chose).
struct listener {
  acceptor socket;
  address bound;
};

/// Listens on `a` (tcp: SO_REUSEADDR, the first resolved address that binds; unix: replaces a
/// stale socket file). Errors: as bind(2)/listen(2), and resolve's.
[[nodiscard]] result<listener> listen(asio::io_context& io, const address& a);

/// The remote end of `s` for logs: `host!port` for tcp, `unix` for unix sockets.
[[nodiscard]] std::string peer_name(const stream& s);

/// Connects to `a` (blocking), giving up after `timeout` if it is positive (name lookup is not
/// bounded). Disables Nagle on tcp. Errors: as connect(2), std::errc::timed_out, with resolve's.
[[nodiscard]] result<stream> dial(asio::io_context& io, const address& a,
                                  std::chrono::milliseconds timeout = {});

}  // namespace ninep::transport
