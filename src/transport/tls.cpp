// SPDX-License-Identifier: MIT
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/ssl.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <future>
#include <mutex>
#include <ninep/core/error.hpp>
#include <ninep/transport/tls.hpp>
#include <thread>

namespace ninep::transport {
namespace {

constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);
using tcp = asio::ip::tcp;
using tls_stream = asio::ssl::stream<tcp::socket>;
/// Bytes moved per relay step in each direction: one msize-sized frame of the usual 512 KiB
/// client msize crosses in a few steps.
constexpr std::size_t relay_chunk = std::size_t{256} * 1024;

std::string file_error(const std::string& file, const std::error_code& ec) {
  return file + ": " + ec.message();
}

/// Checks that `file` can be read before OpenSSL tries, so that the error names the cause
/// ("No such file or directory") rather than a PEM library code.
std::string unreadable(const std::string& file) {
  if (::access(file.c_str(), R_OK) == 0) return {};
  return file + ": " + std::strerror(errno);
}

std::string subject_of(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return {};
  std::string out;
  if (BIO* b = BIO_new(BIO_s_mem())) {
    if (X509_NAME_print_ex(b, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0) {
      char* p = nullptr;
      long n = BIO_get_mem_data(b, &p);
      if (n > 0) out.assign(p, static_cast<std::size_t>(n));
    }
    BIO_free(b);
  }
  X509_free(cert);
  return out;
}

/// One TLS connection and the socketpair end it relays to.
struct link : std::enable_shared_from_this<link> {
  link(asio::io_context& io, asio::ssl::context& ctx) : tls(io, ctx), plain(io), timer(io) {}
  tls_stream tls;
  asio::local::stream_protocol::socket plain;
  asio::steady_timer timer;

  void close() {
    std::error_code ignored;
    tls.lowest_layer().close(ignored);
    plain.close(ignored);
  }
};

/// TLS -> plaintext. At the peer's end of stream, the 9P side sees end of stream too.
asio::awaitable<void> pump_in(std::shared_ptr<link> l) {
  std::vector<unsigned char> buf(relay_chunk);
  for (;;) {
    auto [ec, n] = co_await l->tls.async_read_some(asio::buffer(buf), as_tuple);
    if (ec) break;
    auto [wec, m] = co_await asio::async_write(l->plain, asio::buffer(buf.data(), n), as_tuple);
    if (wec) {
      l->close();
      co_return;
    }
  }
  std::error_code ignored;
  l->plain.shutdown(asio::socket_base::shutdown_send, ignored);
}

/// Plaintext -> TLS. When the 9P side closes, say close_notify and hang up.
asio::awaitable<void> pump_out(std::shared_ptr<link> l) {
  std::vector<unsigned char> buf(relay_chunk);
  for (;;) {
    auto [ec, n] = co_await l->plain.async_read_some(asio::buffer(buf), as_tuple);
    if (ec) break;
    auto [wec, m] = co_await asio::async_write(l->tls, asio::buffer(buf.data(), n), as_tuple);
    if (wec) break;
  }
  // Bounded: the peer may never answer close_notify.
  l->timer.expires_after(std::chrono::seconds(2));
  l->timer.async_wait([l](std::error_code ec) {
    if (!ec) l->close();
  });
  co_await l->tls.async_shutdown(as_tuple);
  l->close();
}

/// Makes the socketpair, starts both pumps, and returns the caller's end.
result<tls_peer> start_relay(const std::shared_ptr<link>& l) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return fail(std::error_code(errno, std::generic_category()));
  std::error_code ec;
  l->plain.assign(asio::local::stream_protocol(), sv[0], ec);
  if (ec) {
    ::close(sv[0]);
    ::close(sv[1]);
    return fail(ec);
  }
  tls_peer p{sv[1], subject_of(l->tls.native_handle())};
  auto& io = static_cast<asio::io_context&>(l->timer.get_executor().context());
  asio::co_spawn(io, pump_in(l), asio::detached);
  asio::co_spawn(io, pump_out(l), asio::detached);
  return p;
}

/// Runs the handshake of `l` against its armed deadline, then starts the relay; `done` is called
/// once with the peer or the reason.
void handshake(const std::shared_ptr<link>& l, asio::ssl::stream_base::handshake_type role,
               std::function<void(result<tls_peer>)> done) {
  auto timed_out = std::make_shared<bool>(false);
  l->timer.async_wait([l, timed_out](std::error_code ec) {
    if (ec) return;  // cancelled: the handshake ended first
    *timed_out = true;
    l->close();
  });
  l->tls.async_handshake(role, [l, timed_out, done = std::move(done)](std::error_code ec) {
    l->timer.cancel();
    if (ec || *timed_out) {
      l->close();
      return done(fail(*timed_out ? make_error_code(std::errc::timed_out) : ec));
    }
    done(start_relay(l));
  });
}

}  // namespace

struct tls_relay::impl {
  explicit impl(bool server)
      : ctx(server ? asio::ssl::context::tls_server : asio::ssl::context::tls_client),
        is_server(server) {}
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  asio::ssl::context ctx;
  bool is_server;
  std::mutex stop_mu;  ///< stop() may race with itself (a signal thread and the destructor)
  std::thread thread;

  /// Adopts a connected TCP socket into a new link, arming the handshake deadline.
  result<std::shared_ptr<link>> adopt(int fd, std::chrono::milliseconds d) {
    auto l = std::make_shared<link>(io, ctx);
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
      std::error_code ec(errno, std::generic_category());
      ::close(fd);
      return fail(ec);
    }
    std::error_code ec;
    l->tls.lowest_layer().assign(ss.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd, ec);
    if (ec) {
      ::close(fd);
      return fail(ec);
    }
    l->timer.expires_after(d);
    return l;
  }
};

tls_relay::tls_relay(std::unique_ptr<impl> i) : impl_(std::move(i)) {
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

tls_relay::~tls_relay() { stop(); }

void tls_relay::stop() {
  std::lock_guard lock(impl_->stop_mu);
  impl_->work.reset();
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

tl::expected<std::shared_ptr<tls_relay>, std::string> tls_relay::make(const tls_config& c,
                                                                      bool server) {
  auto i = std::make_unique<impl>(server);
  SSL_CTX* raw = i->ctx.native_handle();
  // TLS 1.3 only: no renegotiation, forward secrecy always, nothing older to downgrade to.
  SSL_CTX_set_min_proto_version(raw, TLS1_3_VERSION);
  std::error_code ec;
  if (server && c.cert_file.empty()) return tl::unexpected(std::string("no certificate file"));
  if (server && c.ca_file.empty())
    return tl::unexpected(std::string("no client CA file: client certificates are required"));
  if (!c.cert_file.empty()) {
    if (auto e = unreadable(c.cert_file); !e.empty()) return tl::unexpected(e);
    if (i->ctx.use_certificate_chain_file(c.cert_file, ec); ec)
      return tl::unexpected(file_error(c.cert_file, ec));
    const std::string& key = c.key_file.empty() ? c.cert_file : c.key_file;
    if (auto e = unreadable(key); !e.empty()) return tl::unexpected(e);
    if (i->ctx.use_private_key_file(key, asio::ssl::context::pem, ec); ec)
      return tl::unexpected(file_error(key, ec));
    if (SSL_CTX_check_private_key(raw) != 1)
      return tl::unexpected(key + ": the key does not match " + c.cert_file);
  }
  if (!c.ca_file.empty()) {
    if (auto e = unreadable(c.ca_file); !e.empty()) return tl::unexpected(e);
    if (i->ctx.load_verify_file(c.ca_file, ec); ec)
      return tl::unexpected(file_error(c.ca_file, ec));
  } else if (i->ctx.set_default_verify_paths(ec); ec) {
    return tl::unexpected("system trust store: " + ec.message());
  }
  i->ctx.set_verify_mode(server ? asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert
                                : asio::ssl::verify_peer);
  return std::shared_ptr<tls_relay>(new tls_relay(std::move(i)));
}

void tls_relay::accept(int fd, std::chrono::milliseconds deadline,
                       std::function<void(result<tls_peer>)> done) {
  asio::post(impl_->io, [this, fd, deadline, done = std::move(done)]() mutable {
    auto l = impl_->adopt(fd, deadline);
    if (!l) return done(fail(l.error()));
    handshake(*l, asio::ssl::stream_base::server, std::move(done));
  });
}

result<tls_peer> tls_relay::connect(int fd, std::string_view host,
                                    std::chrono::milliseconds deadline) {
  std::promise<result<tls_peer>> done;
  auto fut = done.get_future();
  asio::post(impl_->io, [this, fd, deadline, h = std::string(host), &done] {
    auto l = impl_->adopt(fd, deadline);
    if (!l) return done.set_value(fail(l.error()));
    asio::error_code not_literal;
    // A literal address is checked against the certificate's IP entries, a name against its
    // DNS names; only names go in SNI.
    if (asio::ip::make_address(h, not_literal), not_literal)
      SSL_set_tlsext_host_name((*l)->tls.native_handle(), h.c_str());
    (*l)->tls.set_verify_callback(asio::ssl::host_name_verification(h));
    handshake(*l, asio::ssl::stream_base::client,
              [&done](result<tls_peer> r) { done.set_value(std::move(r)); });
  });
  return fut.get();
}

}  // namespace ninep::transport
