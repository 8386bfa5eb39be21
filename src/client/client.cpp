// SPDX-License-Identifier: MIT
#include <asio/co_spawn.hpp>
#include <asio/use_future.hpp>
#include <ninep/client/client.hpp>
#include <ninep/core/error.hpp>

namespace ninep::client {

result<std::unique_ptr<client>> client::connect(std::string_view address, options o) {
  auto a = transport::parse_address(address);
  if (!a) return fail(a.error());
  std::unique_ptr<client> c(new client());
  auto s = transport::dial(c->io_, *a);
  if (!s) return fail(s.error());
  if (o.tls) {
    // The handshake over the dialled socket; the session then talks to the relay's plaintext
    // end (transport/tls.hpp).
    if (a->type != transport::address::kind::tcp) return fail(make_error_code(errc::bad_address));
    auto peer = o.tls->connect(s->release(), a->host, std::chrono::seconds(30));
    if (!peer) return fail(peer.error());
    s.emplace(c->io_, asio::generic::stream_protocol(AF_UNIX, SOCK_STREAM), peer->fd);
    c->tls_ = o.tls;
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
