// SPDX-License-Identifier: MIT
// stat_load: a small-op load generator built on the ninep client library. It attaches to ADDR,
// walks to PATH once, then keeps --depth stat calls of that fid (Tgetattr in 9P2000.L, Tstat
// otherwise) in flight on one connection for --seconds, and prints the completed calls per second
// as a bare number on stdout (-v: details on stderr). bench/run.sh runs it against diod and
// against `ninep serve`.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <ninep/client/session.hpp>
#include <ninep/transport/address.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "client_common.hpp"

namespace {

using namespace ninep;
using clock_type = std::chrono::steady_clock;
constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);

struct load_args {
  tools::client_args c;  // ADDR, --dialect, --msize, --uname, --aname as the ninep CLI has them
  std::string path;
  unsigned depth = 64;
  double seconds = 5;
  double warmup = 0.5;
  double grace = 10;  // seconds a call may still be outstanding after the run
  bool verbose = false;
};

/// The run's state. Everything runs on the one thread that runs the io_context, so plain
/// counters do.
struct load_state {
  explicit load_state(const load_args& a) : args(a) {}
  const load_args& args;
  std::shared_ptr<client::session> s;
  client::file f;
  const char* call = "getattr";  // what the calls are, for messages
  clock_type::time_point measure_from, end, last;
  std::uint64_t ops = 0;                   // calls completed since measure_from
  std::uint64_t in_flight = 0;             // calls issued and not yet completed
  std::uint64_t depth_sum = 0;             // in_flight summed at each counted completion
  unsigned active = 0;                     // workers still running
  bool failed = false;                     // a call failed (and was reported): the workers stop
  std::optional<asio::steady_timer> done;  // cancelled when the last worker exits
};

/// Prints `stat_load: WHAT ADDR DETAIL: REASON` to stderr.
void report(const load_args& a, std::string_view what, std::string_view detail,
            std::string_view reason) {
  fmt::print(stderr, "stat_load: {} {}{}{}: {}\n", what, a.c.address, detail.empty() ? "" : " ",
             detail, reason);
}

/// One of the --depth workers: issues a stat, waits for it, checks it, repeats until the end.
asio::awaitable<void> worker(load_state& st) {
  const wire::qid want = st.f.qid();
  for (auto now = clock_type::now(); !st.failed && now < st.end;) {
    ++st.in_flight;
    auto a = co_await st.s->stat(st.f, tools::call_opts(st.args.c));
    now = clock_type::now();
    if (now >= st.measure_from) {
      ++st.ops;
      st.depth_sum += st.in_flight;
      st.last = now;
    }
    --st.in_flight;
    if (st.failed) break;
    if (!a) {
      st.failed = true;
      report(st.args, st.call, st.args.path, a.error().message());
    } else if (a->qid.path != want.path || a->qid.type != want.type) {
      st.failed = true;
      report(st.args, st.call, st.args.path,
             fmt::format("reply has qid {:#x} (type {:#x}), the walk gave {:#x} (type {:#x})",
                         a->qid.path, a->qid.type, want.path, want.type));
    }
  }
  if (--st.active == 0) st.done->cancel();
}

asio::awaitable<void> run_load(asio::io_context& io, transport::stream sock, client::options o,
                               load_state& st) {
  using fsec = std::chrono::duration<double>;
  const load_args& a = st.args;
  auto started = co_await client::session::start(std::move(sock), std::move(o));
  if (!started) {
    st.failed = true;
    report(a, "attach", a.c.aname.empty() ? "" : "aname " + a.c.aname, started.error().message());
    co_return;
  }
  st.s = std::move(*started);
  if (st.s->dialect() != wire::dialect::v2000L) st.call = "stat";
  auto f = co_await st.s->walk(a.path);
  if (!f) {
    st.failed = true;
    report(a, "walk", a.path, f.error().message());
    st.s->close();
    co_return;
  }
  st.f = std::move(*f);

  auto start = clock_type::now();
  st.measure_from = start + std::chrono::duration_cast<clock_type::duration>(fsec(a.warmup));
  st.end = st.measure_from + std::chrono::duration_cast<clock_type::duration>(fsec(a.seconds));
  st.last = st.measure_from;
  // A server that stops answering must not hang the benchmark.
  asio::steady_timer watchdog(
      io, st.end + std::chrono::duration_cast<clock_type::duration>(fsec(a.grace)));
  watchdog.async_wait([&st](std::error_code ec) {
    if (ec) return;
    report(
        st.args, st.call, st.args.path,
        fmt::format("{} call(s) unanswered {} s after the run ended", st.in_flight, st.args.grace));
    std::_Exit(1);
  });

  st.done.emplace(io, clock_type::time_point::max());
  st.active = a.depth;
  for (unsigned i = 0; i < a.depth; ++i) asio::co_spawn(io, worker(st), asio::detached);
  while (st.active > 0) co_await st.done->async_wait(as_tuple);
  watchdog.cancel();
  if (st.failed) {
    st.s->close();
    co_return;
  }

  if (a.verbose) {
    auto c = st.s->stats();
    fmt::print(stderr,
               "stat_load: {} {} {} ({}, msize {}): {} calls in {:.3f} s, depth {}, "
               "mean in flight {:.1f}; session sent {}, replies {}, flushes {}\n",
               st.call, a.c.address, a.path, wire::version_string(st.s->dialect()), st.s->msize(),
               st.ops, fsec(st.last - st.measure_from).count(), a.depth,
               st.ops ? static_cast<double>(st.depth_sum) / static_cast<double>(st.ops) : 0.0,
               c.sent, c.replies, c.flushes);
  }
  auto clunked = co_await st.s->clunk(std::move(st.f));
  if (!clunked) {
    st.failed = true;
    report(a, "clunk", a.path, clunked.error().message());
  }
  co_await st.s->shutdown(client::call_options::timeout(std::chrono::seconds(2)));
}

int run(const load_args& a) {
  auto addr = transport::parse_address(a.c.address);
  if (!addr) {
    report(a, "address", "", addr.error().message());
    return 2;
  }
  client::options o = tools::session_options(a.c);

  // One thread: the session's strand, the workers and the counters all live on it.
  asio::io_context io(1);
  auto sock = transport::dial(io, *addr);
  if (!sock) {
    report(a, "dial", "", sock.error().message());
    return 1;
  }
  load_state st(a);
  asio::co_spawn(io, run_load(io, std::move(*sock), std::move(o), st), asio::detached);
  io.run();
  if (st.failed) return 1;
  double elapsed = std::chrono::duration<double>(st.last - st.measure_from).count();
  if (st.ops == 0 || elapsed <= 0) {
    report(a, st.call, a.path, fmt::format("no call completed in {} s", a.seconds));
    return 1;
  }
  fmt::print("{:.0f}\n", static_cast<double>(st.ops) / elapsed);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  load_args a;
  CLI::App app{
      "Small-op load: keeps DEPTH stat calls (Tgetattr in 9P2000.L) of one file in flight on one "
      "connection and prints the completed calls per second."};
  a.c.msize = 65536;  // as diodload
  tools::add_client_options(app, a.c);
  app.add_option("PATH", a.path, "File to stat, relative to the attach root")->required();
  app.add_option("--depth", a.depth, "Calls kept in flight")
      ->check(CLI::Range(1u, 4096u))
      ->capture_default_str();
  app.add_option("--seconds", a.seconds, "Length of the measured run")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--warmup", a.warmup, "Seconds of load before the measured run")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_flag("-v,--verbose", a.verbose, "Print the run's details on stderr");
  CLI11_PARSE(app, argc, argv);
  return run(a);
}
