// SPDX-License-Identifier: MIT
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ninep/core/error.hpp>
#include <ninep/transport/address.hpp>

namespace ninep::transport {

result<address> parse_address(std::string_view s, std::string_view port) noexcept {
  address a;
  auto bad = [] { return fail(make_error_code(errc::bad_address)); };
  if (s.empty()) return bad();
  if (s.find('!') != std::string_view::npos) {
    // Plan 9 dial string: net!host!port or unix!path.
    auto first = s.find('!');
    std::string_view net = s.substr(0, first), rest = s.substr(first + 1);
    if (net == "unix") {
      if (rest.empty()) return bad();
      a.type = address::kind::unix_socket;
      a.path = std::string(rest);
      return a;
    }
    if (net != "tcp" && net != "net" && net != "tcp4" && net != "tcp6") return bad();
    auto second = rest.find('!');
    std::string_view host = rest.substr(0, second);
    std::string_view p = second == std::string_view::npos ? port : rest.substr(second + 1);
    if (host.empty() || p.empty() || p.find('!') != std::string_view::npos) return bad();
    if (host == "*") host = "::";
    a.host = std::string(host);
    a.port = std::string(p);
    return a;
  }
  if (s.front() == '/' || s.front() == '.') {
    a.type = address::kind::unix_socket;
    a.path = std::string(s);
    return a;
  }
  // host:port, [v6]:port, or a bare host.
  if (s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos || close == 1) return bad();
    a.host = std::string(s.substr(1, close - 1));
    std::string_view tail = s.substr(close + 1);
    if (tail.empty()) {
      a.port = std::string(port);
    } else if (tail.front() == ':' && tail.size() > 1) {
      a.port = std::string(tail.substr(1));
    } else {
      return bad();
    }
    return a;
  }
  auto colon = s.rfind(':');
  if (colon != std::string_view::npos && s.find(':') != colon) {
    a.host = std::string(s);  // a bare IPv6 literal
    a.port = std::string(port);
    return a;
  }
  a.host = std::string(s.substr(0, colon));
  a.port = colon == std::string_view::npos ? std::string(port) : std::string(s.substr(colon + 1));
  if (a.host.empty() || a.port.empty()) return bad();
  return a;
}

std::string to_string(const address& a) {
  if (a.type == address::kind::unix_socket) return "unix!" + a.path;
  return "tcp!" + a.host + "!" + a.port;
}

result<std::vector<asio::generic::stream_protocol::endpoint>> resolve(asio::io_context& io,
                                                                      const address& a) {
  std::vector<asio::generic::stream_protocol::endpoint> out;
  if (a.type == address::kind::unix_socket) {
    out.emplace_back(asio::local::stream_protocol::endpoint(a.path));
    return out;
  }
  asio::ip::tcp::resolver r(io);
  std::error_code ec;
  auto results = r.resolve(a.host, a.port, asio::ip::tcp::resolver::numeric_service, ec);
  if (ec) results = r.resolve(a.host, a.port, ec);
  if (ec) return fail(ec);
  for (const auto& e : results) out.emplace_back(e.endpoint());
  if (out.empty()) return fail(make_error_code(errc::bad_address));
  return out;
}

namespace {
// An endpoint holding a sockaddr_in or sockaddr_in6, as a tcp endpoint.
asio::ip::tcp::endpoint as_tcp(const asio::generic::stream_protocol::endpoint& ep) {
  asio::ip::tcp::endpoint tcp;
  std::memcpy(tcp.data(), ep.data(), std::min<std::size_t>(ep.size(), sizeof(sockaddr_in6)));
  return tcp;
}
}  // namespace

result<listener> listen(asio::io_context& io, const address& a) {
  auto eps = resolve(io, a);
  if (!eps) return fail(eps.error());
  if (a.type == address::kind::unix_socket) ::unlink(a.path.c_str());
  std::error_code ec;
  for (const auto& ep : *eps) {
    acceptor acc(io);
    acc.open(ep.protocol(), ec);
    if (ec) continue;
    if (a.type == address::kind::tcp) acc.set_option(asio::socket_base::reuse_address(true), ec);
    acc.bind(ep, ec);
    if (ec) continue;
    acc.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) continue;
    address bound = a;
    if (a.type == address::kind::tcp) {
      auto tcp = as_tcp(acc.local_endpoint());
      bound.host = tcp.address().to_string();
      bound.port = std::to_string(tcp.port());
    }
    return listener{std::move(acc), std::move(bound)};
  }
  return fail(ec);
}

std::string peer_name(const stream& s) {
  std::error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) return "peer";
  if (ep.protocol().family() == AF_UNIX) return "unix";
  auto tcp = as_tcp(ep);
  return tcp.address().to_string() + "!" + std::to_string(tcp.port());
}

namespace {

// connect(2) bounded by `deadline`: started non-blocking, then poll(2) for the outcome.
std::error_code connect_before(stream& s, const asio::generic::stream_protocol::endpoint& ep,
                               std::chrono::steady_clock::time_point deadline) {
  std::error_code ec;
  s.open(ep.protocol(), ec);
  if (ec) return ec;
  s.non_blocking(true, ec);
  if (ec) return ec;
  s.connect(ep, ec);
  if (ec == asio::error::in_progress || ec == asio::error::would_block) {
    for (;;) {
      auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::make_error_code(std::errc::timed_out);
      pollfd p{s.native_handle(), POLLOUT, 0};
      int n = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 1 << 30)));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return {errno, std::generic_category()};
      if (n == 0) continue;  // the deadline check above ends it
      int err = 0;
      socklen_t len = sizeof err;
      if (::getsockopt(s.native_handle(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      ec = err == 0 ? std::error_code{} : std::error_code{err, std::generic_category()};
      break;
    }
  }
  if (ec) return ec;
  s.non_blocking(false, ec);
  return ec;
}

}  // namespace

result<stream> dial(asio::io_context& io, const address& a, std::chrono::milliseconds timeout) {
  auto deadline = timeout.count() > 0 ? std::chrono::steady_clock::now() + timeout
                                      : std::chrono::steady_clock::time_point::max();
  auto eps = resolve(io, a);
  if (!eps) return fail(eps.error());
  std::error_code ec = make_error_code(errc::bad_address);
  for (const auto& ep : *eps) {
    stream s(io);
    if (timeout.count() > 0)
      ec = connect_before(s, ep, deadline);
    else
      s.connect(ep, ec);
    if (ec) {
      if (ec == std::errc::timed_out) break;
      continue;
    }
    if (a.type == address::kind::tcp) {
      std::error_code ignored;  // Nagle only delays small requests; failure to disable is benign
      s.set_option(asio::ip::tcp::no_delay(true), ignored);
    }
    return s;
  }
  return fail(ec);
}

}  // namespace ninep::transport
