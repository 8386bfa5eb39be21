// SPDX-License-Identifier: MIT
// `ninep trace`: a transparent 9P proxy that prints the conversation it relays, and a table per
// message type on exit, after Plan 9's iostats (docs/man/ninep-trace.md).
// This file owns the sockets; trace_log.hpp decodes and prints.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <cstdio>
#include <cstring>
#include <memory>
#include <ninep/transport/address.hpp>
#include <string>
#include <vector>

#include "command.hpp"
#include "trace_log.hpp"

namespace ninep::tools {
namespace {

using tracing::conversation;
using tracing::tracer;
using tracing::wall;
constexpr auto tok = asio::experimental::as_tuple(asio::use_awaitable);

struct trace_options {
  std::string listen = "tcp!127.0.0.1!5641";
  std::string to;
  std::string output = "-";
  tracing::log_options log;
  unsigned connections = 0;  // exit after this many have ended; 0: run until a signal
};

// A client connection, its upstream connection and their conversation. Lives while either
// direction is still relaying.
struct link {
  link(tracer& t, transport::stream c, transport::stream s)
      : conv(t, t.next_connection()), client(std::move(c)), server(std::move(s)) {}
  conversation conv;
  transport::stream client, server;
  int directions_open = 2;
  std::string end_reason;
};

// The running proxy: one thread, every connection.
class proxy {
 public:
  proxy(const trace_options& o, std::FILE* out) : opts_(o), log_(o.log, out) {}

  // Relays until a signal or opts.connections have ended; prints the table. Exit status.
  int run(const transport::address& listen_at, const transport::address& to);

 private:
  static constexpr std::size_t buffer_size = 256 * 1024;

  // Read buffers are lent to a direction only while it has bytes in hand: idle connections
  // hold none.
  std::unique_ptr<std::byte[]> get_buffer() {
    if (free_.empty()) return std::make_unique<std::byte[]>(buffer_size);
    auto b = std::move(free_.back());
    free_.pop_back();
    return b;
  }

  // One flush of the log per burst of events, not per line.
  void schedule_flush() {
    if (flush_pending_) return;
    flush_pending_ = true;
    asio::post(io_, [this] {
      flush_pending_ = false;
      log_.flush();
    });
  }

  using endpoints = std::vector<asio::generic::stream_protocol::endpoint>;
  asio::awaitable<void> accept_loop(transport::acceptor& a, const endpoints& upstream);
  asio::awaitable<void> relay(std::shared_ptr<link> l, bool requests);

  const trace_options& opts_;
  transport::address to_;
  asio::io_context io_{1};
  tracer log_;
  std::vector<std::unique_ptr<std::byte[]>> free_;
  bool flush_pending_ = false;
  unsigned ended_ = 0;
};

asio::awaitable<void> proxy::accept_loop(transport::acceptor& a, const endpoints& upstream) {
  for (;;) {
    auto [ec, client] = co_await a.async_accept(tok);
    if (ec) {
      fmt::print(stderr, "ninep trace: accept: {}\n", ec.message());
      asio::steady_timer pause(io_, std::chrono::milliseconds(100));
      co_await pause.async_wait(tok);
      continue;
    }
    std::string peer = transport::peer_name(client);
    std::error_code ignored;  // unix sockets have no Nagle
    client.set_option(asio::ip::tcp::no_delay(true), ignored);
    transport::stream server(io_);
    auto [cec, ep] = co_await asio::async_connect(server, upstream, tok);
    if (cec) {
      fmt::print(stderr, "ninep trace: {}: cannot reach {}: {}\n", peer, transport::to_string(to_),
                 cec.message());
      continue;  // closing `client` tells the client
    }
    server.set_option(asio::ip::tcp::no_delay(true), ignored);
    auto lk = std::make_shared<link>(log_, std::move(client), std::move(server));
    if (opts_.log.json)
      log_.line(wall::now(), lk->conv.id(), "\"event\":\"connect\",\"peer\":\"{}\"}}",
                tracing::json_escape(peer));
    else
      log_.line(wall::now(), lk->conv.id(), "connected from {}", peer);
    schedule_flush();
    asio::co_spawn(io_, relay(lk, true), asio::detached);
    asio::co_spawn(io_, relay(lk, false), asio::detached);
  }
}

// Relays one direction until end of file or an error, observing every byte on the way.
asio::awaitable<void> proxy::relay(std::shared_ptr<link> l, bool requests) {
  transport::stream& from = requests ? l->client : l->server;
  transport::stream& to = requests ? l->server : l->client;
  const char* self = requests ? "client" : "server";
  const char* other = requests ? "server" : "client";
  std::string why = fmt::format("{} closed", self);
  std::error_code ec;
  from.non_blocking(true, ec);
  for (;;) {
    std::tie(ec) = co_await from.async_wait(asio::socket_base::wait_read, tok);
    std::size_t n = 0;
    auto buf = get_buffer();
    if (!ec) n = from.read_some(asio::buffer(buf.get(), buffer_size), ec);
    if (ec) {
      free_.push_back(std::move(buf));
      if (ec == asio::error::would_block) continue;
      if (ec != asio::error::eof) why = fmt::format("{}: {}", self, ec.message());
      break;
    }
    // Decode before forwarding: a reply then cannot be printed before its request.
    l->conv.observe(requests, std::span(buf.get(), n), tracing::steady::now(), wall::now());
    schedule_flush();
    auto [wec, wn] = co_await asio::async_write(to, asio::buffer(buf.get(), n), tok);
    free_.push_back(std::move(buf));
    if (wec) {
      why = fmt::format("{}: {}", other, wec.message());
      std::error_code ignored;
      from.close(ignored);  // the other side is gone: stop reading this one too
      break;
    }
  }
  // Pass the end of file on: the peer may still have replies to send.
  std::error_code ignored;
  to.shutdown(asio::socket_base::shutdown_send, ignored);
  if (l->end_reason.empty()) l->end_reason = why;
  if (--l->directions_open == 0) {
    l->conv.close(l->end_reason);
    schedule_flush();
    if (opts_.connections != 0 && ++ended_ >= opts_.connections) io_.stop();
  }
}

int proxy::run(const transport::address& listen_at, const transport::address& to) {
  to_ = to;
  auto upstream = transport::resolve(io_, to);
  if (!upstream) {
    fmt::print(stderr, "ninep trace: --to {}: {}\n", opts_.to, upstream.error().message());
    return 1;
  }
  auto l = transport::listen(io_, listen_at);
  if (!l) {
    fmt::print(stderr, "ninep trace: --listen {}: {}\n", opts_.listen, l.error().message());
    return 1;
  }
  fmt::print(stderr, "ninep trace: relaying {} to {}\n", transport::to_string(l->bound),
             transport::to_string(to));
  asio::signal_set signals(io_, SIGINT, SIGTERM);
  signals.async_wait([this](std::error_code ec, int) {
    if (!ec) io_.stop();
  });
  asio::co_spawn(io_, accept_loop(l->socket, *upstream), asio::detached);
  io_.run();
  if (listen_at.type == transport::address::kind::unix_socket) ::unlink(listen_at.path.c_str());
  log_.summary(stderr);
  return 0;
}

int run_trace(const trace_options& o) {
  auto bad_address = [](std::string_view opt, const std::string& a) {
    fmt::print(stderr,
               "ninep trace: {} {}: not a dial string (tcp!host!port, unix!/path or host:port)\n",
               opt, a);
    return 2;
  };
  auto listen_at = transport::parse_address(o.listen, "5641");
  if (!listen_at) return bad_address("--listen", o.listen);
  auto to = transport::parse_address(o.to);
  if (!to) return bad_address("--to", o.to);
  std::FILE* out = stdout;
  if (o.output != "-") {
    out = std::fopen(o.output.c_str(), "w");
    if (!out) {
      fmt::print(stderr, "ninep trace: --output {}: {}\n", o.output, std::strerror(errno));
      return 1;
    }
  }
  int status = proxy(o, out).run(*listen_at, *to);
  if (out != stdout && std::fclose(out) != 0) {
    fmt::print(stderr, "ninep trace: --output {}: {}\n", o.output, std::strerror(errno));
    return 1;
  }
  return status;
}

const bool registered = register_command(
    "trace", "Relay a 9P conversation and print every message", [](CLI::App& app) -> run_fn {
      auto o = std::make_shared<trace_options>();
      app.add_option("-l,--listen", o->listen,
                     "Address to accept clients on (default tcp!127.0.0.1!5641)")
          ->option_text("ADDR");
      app.add_option("-t,--to", o->to, "Address of the 9P server to relay to (required)")
          ->option_text("ADDR")
          ->required();
      app.add_flag("--json", o->log.json,
                   "Print JSON lines (one object per message or event) instead of text");
      app.add_option("-o,--output", o->output, "Write the trace to FILE instead of standard output")
          ->option_text("FILE");
      app.add_flag("-q,--quiet", o->log.quiet, "Print only the table on exit, not each message");
      app.add_option("-n,--connections", o->connections,
                     "Exit after N client connections have ended (default: run until "
                     "SIGINT/SIGTERM)")
          ->option_text("N");
      app.footer(
          "Each message is printed as it passes, with the time, the connection number, -> for "
          "requests and <- for replies, and the reply's latency in brackets. Frames that do not "
          "decode are relayed unchanged and flagged `!! malformed`.\nOn exit, a table per "
          "message type goes to standard error: count, bytes each way, error replies, latency "
          "median and p99.\nExample: ninep trace --listen tcp!127.0.0.1!5641 --to "
          "tcp!127.0.0.1!5640, then point the client at port 5641.");
      return [o] { return run_trace(*o); };
    });

}  // namespace
}  // namespace ninep::tools
