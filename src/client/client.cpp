// SPDX-License-Identifier: MIT
#include <asio/co_spawn.hpp>
#include <asio/use_future.hpp>
#include <ninep/client/client.hpp>
#include <ninep/core/error.hpp>

namespace ninep::client {

outcome<std::unique_ptr<client>> client::connect(std::string_view address, options o) {
  auto a = transport::parse_address(address);
  if (!a) return fail(a.error());
  std::unique_ptr<client> c(new client());
  // connect_timeout covers the dial and the handshake together.
  auto start = std::chrono::steady_clock::now();
  auto s = transport::dial(c->io_, *a, o.connect_timeout);
  if (!s) return fail(s.error());
  if (o.tls) {
    // The handshake over the dialled socket; the session then talks to the relay's plaintext
    // end (transport/tls.hpp).
    if (a->type != transport::address::kind::tcp) return fail(make_error_code(errc::bad_address));
    auto left =
        o.connect_timeout.count() > 0 ? o.connect_timeout : std::chrono::milliseconds(30000);
    auto peer = o.tls->connect(s->release(), a->host, left);
    if (!peer) return fail(peer.error());
    s.emplace(c->io_, asio::generic::stream_protocol(AF_UNIX, SOCK_STREAM), peer->fd);
    c->tls_ = o.tls;
  }
  if (o.connect_timeout.count() > 0) {
    auto left = o.connect_timeout - std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now() - start);
    if (left.count() <= 0) return fail(std::make_error_code(std::errc::timed_out));
    o.connect_timeout = left;
  }
  c->work_.emplace(c->io_.get_executor());
  c->thread_ = std::thread([io = &c->io_] { io->run(); });
  auto r =
      asio::co_spawn(c->io_, session::start(std::move(*s), std::move(o)), asio::use_future).get();
  if (!r) return fail(r.error());
  c->s_ = std::move(*r);
  return c;
}

client::~client() {
  if (s_) run(s_->shutdown(call_options::timeout(std::chrono::seconds(2))));
  work_.reset();
  // Let the close and the read loop's exit run; then stop whatever is left (background clunks).
  if (thread_.joinable()) {
    asio::post(io_, [this] { io_.stop(); });
    thread_.join();
  }
}

}  // namespace ninep::client
