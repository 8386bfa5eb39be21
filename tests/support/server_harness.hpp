// SPDX-License-Identifier: MIT
// A file_server on 127.0.0.1:0 for tests, and helpers for checking raw replies.
#pragma once

#include <fmt/format.h>

#include <memory>
#include <ninep/server/server.hpp>
#include <ninep/transport/address.hpp>
#include <ninep/wire/format.hpp>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>

namespace ninep::test {

/// Runs a file_server on 127.0.0.1:0 in the background for the life of the object. Logs only
/// errors, unless `o` has a log sink of its own (then at o.level).
class running_server {
 public:
  explicit running_server(std::shared_ptr<server::filesystem> fs, server::options o = {}) {
    if (!o.log) o.level = server::log_level::error;
    srv = std::make_unique<server::file_server>(std::move(fs), o);
    auto ok = srv->listen(*transport::parse_address("tcp!127.0.0.1!0"));
    if (!ok) throw std::runtime_error("listen: " + ok.error().message());
    addr = srv->local_address(0);
    thread = std::thread([this] { srv->run(); });
  }
  ~running_server() {
    srv->stop();
    thread.join();
  }
  std::unique_ptr<server::file_server> srv;
  transport::address addr;
  std::thread thread;
};

/// The body of reply `m` as R; throws (failing the test) naming the reply otherwise.
template <class R>
const R& as(const wire::message& m) {
  if (!std::holds_alternative<R>(m.body))
    throw std::runtime_error(fmt::format("unexpected reply {}", m));
  return std::get<R>(m.body);
}

inline std::string text(std::span<const std::byte> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline std::span<const std::byte> bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

}  // namespace ninep::test
