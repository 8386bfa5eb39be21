// SPDX-License-Identifier: MIT
#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>
#include <ninep/core/error.hpp>
#include <ninep/server/server.hpp>
#include <thread>

#include "connection.hpp"

namespace ninep::server {

namespace {
constexpr std::array<std::string_view, 5> level_names = {"error", "warn", "info", "debug", "trace"};
}  // namespace

std::string_view log_level_name(log_level l) noexcept {
  return level_names.at(static_cast<std::size_t>(l));
}

std::optional<log_level> log_level_of(std::string_view name) noexcept {
  for (std::size_t i = 0; i < level_names.size(); ++i)
    if (name == level_names[i]) return static_cast<log_level>(i);
  return std::nullopt;
}

using detail::connection;

namespace {
asio::awaitable<void> serve_connection(std::shared_ptr<connection> c) { co_await c->serve(); }

// Who a connection is counted against for max_connections_per_peer: a unix-socket peer's uid
// (all local processes of one user are one peer), else a tcp peer's IP address (`peer` is
// "address!port").
std::string peer_key(const std::string& peer, const std::optional<detail::peer_cred>& cred) {
  if (cred) return fmt::format("uid {}", cred->uid);
  return peer.substr(0, peer.rfind('!'));
}
}  // namespace

struct file_server::impl {
  detail::shared sh;
  std::vector<std::unique_ptr<asio::io_context>> loops;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::vector<std::unique_ptr<transport::acceptor>> acceptors;
  std::vector<transport::address> bound;
  std::mutex mu;
  std::vector<std::weak_ptr<connection>> conns;  ///< for stop(); guarded by mu
  std::size_t next_loop = 0;
  std::atomic<bool> stopping{false};

  // The relay's thread posts to loops[0]: it must be stopped before the loops go.
  ~impl() {
    if (sh.opts.tls) sh.opts.tls->stop();
  }

  impl(std::shared_ptr<filesystem> fs, options o) : sh(std::move(fs), std::move(o)) {
    std::size_t n = std::max<std::size_t>(1, sh.opts.network_threads);
    for (std::size_t i = 0; i < n; ++i) {
      loops.push_back(std::make_unique<asio::io_context>(1));
      guards.emplace_back(loops.back()->get_executor());
    }
  }

  asio::io_context& pick_loop() { return *loops[next_loop++ % loops.size()]; }

  void start_connection(transport::stream s, std::string name) {
    if (sh.live_connections.load() >= sh.opts.max_connections) {
      sh.log(log_level::warn, fmt::format("{}: too many connections; refused", name));
      return;  // the socket closes as `s` goes out of scope
    }
    // Who a unix-socket peer is, as the kernel saw it at connect (identity_options, rule 1).
    detail::peer_info peer{std::move(name), {}, detail::read_peer_cred(s.native_handle()), {}};
    std::string key = peer_key(peer.name, peer.cred);
    if (!sh.take_peer_slot(key)) {
      sh.log(log_level::warn, fmt::format("{}: more than {} connections from {}; refused",
                                          peer.name, sh.opts.max_connections_per_peer, key));
      return;
    }
    peer.slot_key = std::move(key);
    sh.live_connections++;  // given back by ~connection, or by start_tls when it fails
    if (peer.cred) peer.name += fmt::format(" (uid {})", peer.cred->uid);
    if (sh.opts.tls && s.local_endpoint().protocol().family() != AF_UNIX)
      return start_tls(s.release(), std::move(peer));
    launch(std::move(s), std::move(peer));
  }

  // The handshake runs on the relay's thread and must end within handshake_timeout (its slot
  // is taken meanwhile, so handshakes count against the per-peer limit); the connection then
  // serves the plaintext end of the relay like any socket.
  void start_tls(int fd, detail::peer_info peer) {
    auto p = std::make_shared<detail::peer_info>(std::move(peer));
    sh.opts.tls->accept(fd, sh.opts.handshake_timeout, [this, p](auto r) {
      asio::post(*loops[0], [this, p, r = std::move(r)]() mutable {
        if (!r || stopping) {
          sh.log(log_level::warn, fmt::format("{}: TLS: {}; closed", p->name,
                                              r ? "server stopping" : r.error().message()));
          if (r) ::close(r->fd);
          sh.release_peer_slot(p->slot_key);
          sh.live_connections--;
          return;
        }
        p->tls_subject = std::move(r->subject);
        p->name += fmt::format(" (TLS \"{}\")", *p->tls_subject);
        launch(transport::stream(*loops[0], asio::generic::stream_protocol(AF_UNIX, SOCK_STREAM),
                                 r->fd),
               std::move(*p));
      });
    });
  }

  void launch(transport::stream s, detail::peer_info peer) {
    // Move the socket onto a network loop of its own; its state then lives on that thread only.
    asio::io_context& loop = pick_loop();
    auto proto = s.local_endpoint().protocol();
    int fd = s.release();
    transport::stream moved(loop, proto, fd);
    auto c = std::make_shared<connection>(sh, std::move(moved), std::move(peer));
    {
      std::lock_guard lock(mu);
      std::erase_if(conns, [](auto& w) { return w.expired(); });
      conns.push_back(c);
    }
    sh.log(log_level::debug, "connection accepted");
    // The coroutine must own the connection from the start: on another loop it begins later,
    // after `c` here is gone (a coroutine's parameters live in its frame; `this` does not).
    asio::co_spawn(loop, serve_connection(std::move(c)), asio::detached);
  }

  asio::awaitable<void> accept_loop(transport::acceptor& a) {
    const auto tok = asio::experimental::as_tuple(asio::use_awaitable);
    while (!stopping) {
      auto [ec, s] = co_await a.async_accept(tok);
      if (ec == asio::error::operation_aborted || stopping) break;
      if (ec) {
        // EMFILE and friends: log and keep going after a breath rather than spin.
        sh.log(log_level::warn, fmt::format("accept: {}", ec.message()));
        asio::steady_timer t(a.get_executor(), std::chrono::milliseconds(100));
        co_await t.async_wait(tok);
        continue;
      }
      std::string peer = transport::peer_name(s);
      std::error_code ignored;  // fails on unix sockets, which have no Nagle
      s.set_option(asio::ip::tcp::no_delay(true), ignored);
      start_connection(std::move(s), std::move(peer));
    }
  }
};

file_server::file_server(std::shared_ptr<filesystem> fs, options opts)
    : impl_(std::make_unique<impl>(std::move(fs), std::move(opts))) {}

file_server::~file_server() {
  stop();
  impl_->sh.workers.join();
}

result<void> file_server::listen(const transport::address& a) {
  auto l = transport::listen(*impl_->loops[0], a);
  if (!l) return fail(l.error());
  impl_->bound.push_back(l->bound);
  impl_->acceptors.push_back(std::make_unique<transport::acceptor>(std::move(l->socket)));
  asio::co_spawn(*impl_->loops[0], impl_->accept_loop(*impl_->acceptors.back()), asio::detached);
  return {};
}

transport::address file_server::local_address(std::size_t n) const { return impl_->bound.at(n); }

void file_server::adopt(int fd) {
  auto& io = *impl_->loops[0];
  asio::post(io, [this, fd] {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    transport::stream s(
        *impl_->loops[0],
        asio::generic::stream_protocol(ss.ss_family == 0 ? AF_UNIX : ss.ss_family, SOCK_STREAM),
        fd);
    impl_->start_connection(std::move(s), "stdio");
  });
}

void file_server::run() {
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < impl_->loops.size(); ++i)
    threads.emplace_back([this, i] { impl_->loops[i]->run(); });
  impl_->loops[0]->run();
  for (auto& t : threads) t.join();
}

void file_server::stop() {
  if (impl_->stopping.exchange(true)) return;
  auto& io0 = *impl_->loops[0];
  asio::post(io0, [this] {
    for (auto& a : impl_->acceptors) {
      std::error_code ignored;
      a->close(ignored);
    }
  });
  std::vector<std::shared_ptr<connection>> live;
  {
    std::lock_guard lock(impl_->mu);
    for (auto& w : impl_->conns)
      if (auto c = w.lock()) live.push_back(std::move(c));
  }
  for (auto& c : live) asio::post(c->executor(), [c] { c->close(); });
  // Let the loops finish what is posted (replies of cancelled requests are dropped), then end.
  for (auto& g : impl_->guards) g.reset();
}

void file_server::set_level(log_level l) { impl_->sh.level = static_cast<int>(l); }

const counters& file_server::stats() const { return impl_->sh.stats; }

namespace {
sigset_t stop_signals() {
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  return sigs;
}
}  // namespace

void block_stop_signals() {
  sigset_t sigs = stop_signals();
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

void run_until_signal(file_server& srv) {
  sigset_t sigs = stop_signals();
  std::thread signals([&] {
    int sig = 0;
    sigwait(&sigs, &sig);
    srv.stop();
  });
  srv.run();
  // If the server stopped for another reason, wake the signal thread so it can end.
  // The signal thread has SIGTERM blocked and waits for it in sigwait(): this wakes it, it does
  // not end it.
  ::pthread_kill(signals.native_handle(), SIGTERM);  // NOLINT(bugprone-bad-signal-to-kill-thread)
  signals.join();
}

}  // namespace ninep::server
