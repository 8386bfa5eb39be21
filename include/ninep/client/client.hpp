// SPDX-License-Identifier: MIT
#pragma once

#include <asio/io_context.hpp>
#include <memory>
#include <ninep/client/session.hpp>
#include <optional>
#include <string_view>
#include <thread>

/// \file
/// The blocking 9P client: a session driven by its own I/O thread. Every member may be called
/// from any thread, concurrently; each blocks its caller until the operation completes. Errors
/// are those of session (session.hpp).

namespace ninep::client {

/// A blocking client. Files obtained from it must be destroyed before it is.
class client {
 public:
  /// Dials `address` (tcp!host!port, unix!/path, host:port), negotiates and attaches.
  /// Errors: errc::bad_address, connect(2) errors, TLS handshake errors (transport/tls.hpp;
  /// errc::bad_address for TLS over a unix socket), errc::unsupported_version, attach errors.
  [[nodiscard]] static outcome<std::unique_ptr<client>> connect(std::string_view address,
                                                                options o = {});
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// The underlying asynchronous session, for awaitable use and options.
  session& async() noexcept { return *s_; }
  wire::dialect dialect() const noexcept { return s_->dialect(); }
  std::uint32_t msize() const noexcept { return s_->msize(); }

  outcome<reply> call(wire::message_body req, call_options o = {}) {
    return run(s_->call(std::move(req), std::move(o)));
  }
  outcome<file> walk(std::string_view path, call_options o = {}) {
    return run(s_->walk(path, std::move(o)));
  }
  outcome<file> open(std::string_view path, std::uint32_t flags, call_options o = {}) {
    return run(s_->open(path, flags, std::move(o)));
  }
  outcome<file> create(std::string_view path, std::uint32_t flags, std::uint32_t mode,
                       call_options o = {}) {
    return run(s_->create(path, flags, mode, std::move(o)));
  }
  outcome<std::size_t> read(const file& f, std::uint64_t offset, std::span<std::byte> out,
                            call_options o = {}) {
    return run(s_->read(f, offset, out, std::move(o)));
  }
  outcome<std::size_t> write(const file& f, std::uint64_t offset, std::span<const std::byte> data,
                             call_options o = {}) {
    return run(s_->write(f, offset, data, std::move(o)));
  }
  outcome<std::vector<dir_entry>> readdir(std::string_view path, bool with_attr = false,
                                          call_options o = {}) {
    return run(s_->readdir(path, with_attr, std::move(o)));
  }
  outcome<attr> stat(std::string_view path, call_options o = {}) {
    return run(s_->stat(path, std::move(o)));
  }
  outcome<attr> stat(const file& f, call_options o = {}) { return run(s_->stat(f, std::move(o))); }
  outcome<void> setattr(std::string_view path, set_attr a, call_options o = {}) {
    return run(s_->setattr(path, std::move(a), std::move(o)));
  }
  outcome<void> remove(std::string_view path, call_options o = {}) {
    return run(s_->remove(path, std::move(o)));
  }
  outcome<void> rename(std::string_view from, std::string_view to, call_options o = {}) {
    return run(s_->rename(from, to, std::move(o)));
  }
  outcome<void> mkdir(std::string_view path, std::uint32_t mode, call_options o = {}) {
    return run(s_->mkdir(path, mode, std::move(o)));
  }
  outcome<void> symlink(std::string_view target, std::string_view path, call_options o = {}) {
    return run(s_->symlink(target, path, std::move(o)));
  }
  outcome<void> link(std::string_view existing, std::string_view path, call_options o = {}) {
    return run(s_->link(existing, path, std::move(o)));
  }
  outcome<std::string> readlink(std::string_view path, call_options o = {}) {
    return run(s_->readlink(path, std::move(o)));
  }
  outcome<void> fsync(const file& f, call_options o = {}) {
    return run(s_->fsync(f, std::move(o)));
  }
  outcome<fs_stat> statfs(std::string_view path, call_options o = {}) {
    return run(s_->statfs(path, std::move(o)));
  }
  outcome<void> clunk(file f, call_options o = {}) {
    return run(s_->clunk(std::move(f), std::move(o)));
  }

 private:
  client() = default;
  /// Runs `a` on the I/O thread and waits for it. Must not be called from the I/O thread.
  template <class T>
  T run(asio::awaitable<T> a);

  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  std::shared_ptr<session> s_;
  std::shared_ptr<transport::tls_relay> tls_;  ///< relays this client's TLS, if any
};

}  // namespace ninep::client

#include <asio/co_spawn.hpp>
#include <asio/use_future.hpp>

template <class T>
T ninep::client::client::run(asio::awaitable<T> a) {
  return asio::co_spawn(io_, std::move(a), asio::use_future).get();
}
