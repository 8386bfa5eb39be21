// SPDX-License-Identifier: MIT
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <ninep/core/result.hpp>
#include <ninep/server/cert_map.hpp>
#include <ninep/server/filesystem.hpp>
#include <ninep/transport/address.hpp>
#include <ninep/transport/tls.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ninep::server {

/// Log levels, most severe first.
enum class log_level { error, warn, info, debug, trace };
/// A level's name: "error", "warn", "info", "debug" or "trace".
std::string_view log_level_name(log_level l) noexcept;
/// The level called `name` (as log_level_name spells it); nullopt for any other string.
std::optional<log_level> log_level_of(std::string_view name) noexcept;

/// Where the server's log lines go; injected, never global. Called from any thread.
using log_sink = std::function<void(log_level, std::string_view)>;

/// How the server decides who each attach acts as (docs/man/ninep-serve.md, SECURITY). The
/// names a client sends are taken at their word only where these options say so.
///
/// In order, an attach acts as:
/// 1. on a unix socket whose peer (SO_PEERCRED) is neither root nor the server's own uid: that
///    peer, with its own groups (SO_PEERGROUPS), whatever uname/n_uname say;
/// 2. on a TLS connection (options::tls): a user that `tls_users` grants the client
///    certificate's subject: the one it names, or with no name the first granted; naming a
///    user not granted, or a subject granted nobody, is refused;
/// 3. with an afid holding a valid MUNGE credential (`munge`): the credential's uid; naming
///    another user is refused, except that a root credential may name anyone (as diod);
/// 4. on a connection that authenticated before (even before a later Tversion): that uid, or
///    anyone it names if it is root;
/// 5. on a unix socket whose peer is root or the server's own uid (and --stdio's socket pair),
///    or with `trust_uname`: the user it names (n_uname first, then uname);
/// 6. with `allow_anonymous`: the anonymous user;
/// 7. otherwise the attach is refused with EACCES (and a log line naming the peer).
struct identity_options {
  /// Serves each attach as the user it names (diod -n): for a single-tenant VM or a test rig
  /// where nothing else can reach the listener.
  bool trust_uname = false;
  /// Tauth offers MUNGE, as diod does (wire-compatible). Without it Tauth answers ENOENT,
  /// which diod's and Linux's clients read as "no authentication needed".
  bool munge = false;
  /// munged's socket; empty: libmunge's default.
  std::string munge_socket;
  /// Attaches that prove nothing are served as `anonymous` (rather than refused).
  bool allow_anonymous = true;
  /// The anonymous identity, by name; empty: the server's own.
  std::string anonymous_user;
  /// Identities other than the server's own uid can be acted as (the backend switches
  /// credentials: a root server). When false, an attach whose identity is another uid is
  /// refused with EPERM rather than served as the server.
  bool act_as_others = false;
  /// Whom each TLS client certificate may act as (`--tls-users`).
  cert_map tls_users;
};

/// Limits and knobs, each with a safe default.
struct options {
  /// Who attaches act as.
  identity_options identity;
  /// When set, every tcp listener speaks TLS 1.3 through this relay and requires a client
  /// certificate (unix sockets have peer credentials and stay plain). The handshake must end
  /// within handshake_timeout.
  std::shared_ptr<transport::tls_relay> tls;
  /// The largest msize offered; the client's, if smaller, wins. 1 MiB is the Linux tcp maximum.
  std::uint32_t max_msize = 1u << 20;
  /// Connections served at once; more are accepted and closed immediately.
  std::size_t max_connections = 1024;
  /// Connections served at once from one peer (a tcp peer is its IP address; a unix-socket
  /// peer is its uid, from SO_PEERCRED); more from it are accepted and closed immediately.
  /// 0: no limit beyond max_connections.
  std::size_t max_connections_per_peer = 64;
  /// Time a new connection has to complete Tversion and a Tattach; otherwise it is closed.
  /// An attached connection is never cut for being idle. 0: no limit.
  std::chrono::milliseconds handshake_timeout{10000};
  /// Fids per connection, counting those that Twalk/Tattach/Txattrwalk requests in flight will
  /// create; requests beyond it fail with EMFILE.
  std::size_t max_fids = 1u << 20;
  /// Requests in flight per connection; beyond it the server stops reading that connection.
  std::size_t max_inflight = 256;
  /// Bytes of request frames held in memory by all connections together (requests waiting
  /// for or running in a worker). Past it, a connection with requests in flight reads no more
  /// until the total drops (one with none still reads, so every client keeps being served).
  std::size_t max_queued_bytes = 128u << 20;
  /// Bytes of extended attribute values held by all connections together (read through
  /// Txattrwalk, or being written after Txattrcreate) until their fids are clunked; a
  /// Txattrwalk or Txattrcreate beyond it fails with ENOMEM.
  std::size_t max_xattr_bytes = 64u << 20;
  /// How long a peer may take to finish sending a frame it started, from its first byte.
  std::chrono::milliseconds frame_timeout{30000};
  /// Threads that run filesystem calls (which may block). More start, for as long as needed,
  /// when every one is busy and another connection has work: one connection's blocked calls
  /// never hold up the others (at most workers + max_connections threads in all).
  std::size_t workers = 8;
  /// Filesystem calls of one connection running at once; its other requests wait their turn,
  /// which the connections with work take in rotation. 0: as many as `workers`.
  std::size_t worker_share = 0;
  /// Threads running the network loops (each connection stays on one).
  std::size_t network_threads = 1;
  /// Busy-polling: once every request of a connection is answered, its loop keeps reading
  /// the socket for up to this long before it sleeps in the reactor. A client that sends its
  /// next request at once (one thread doing small operations) is then served without a
  /// sleep and a wakeup, which cost tens of microseconds each on virtual machines. Only while
  /// the loops serve no more connections than there are loops; a connection stops being polled
  /// after a few polls in a row find nothing (an idle client costs a few windows, once), and is
  /// polled again when requests come quickly. 0: off.
  std::chrono::microseconds poll_window{50};
  /// Messages at or below this level are logged; log_level::trace prints every message.
  log_level level = log_level::info;
  log_sink log;
};

/// Counters, readable while the server runs (relaxed atomics: each value is exact, a set of
/// them read together is not a snapshot).
struct counters {
  std::atomic<std::uint64_t> connections{0}, requests{0}, bytes_in{0}, bytes_out{0}, fids{0};
  /// Times the allocator's free memory was handed back to the system after a flood of
  /// request frames (options::max_queued_bytes) drained.
  std::atomic<std::uint64_t> memory_returns{0};

  /// Latency buckets: bucket b counts replies sent within [2^(b-1), 2^b) microseconds of the
  /// request's arrival (bucket 0: under 1 us); the last bucket holds everything slower.
  static constexpr std::size_t latency_buckets = 24;
  struct per_type {
    std::atomic<std::uint64_t> count{0};
    std::array<std::atomic<std::uint64_t>, latency_buckets> latency{};
  };
  /// Indexed by the request's type byte (Twalk = 110, ...).
  std::array<per_type, 128> by_type{};

  /// Records one answered request of type `t` that took `us` microseconds.
  void record(std::uint8_t t, std::uint64_t us) noexcept {
    if (t >= by_type.size()) return;
    std::size_t b = 0;
    while (us != 0 && b + 1 < latency_buckets) us >>= 1, ++b;
    by_type[t].count.fetch_add(1, std::memory_order_relaxed);
    by_type[t].latency[b].fetch_add(1, std::memory_order_relaxed);
  }
};

/// A 9P server: serves one filesystem over any number of listeners and connections, in all
/// three dialects. Thread-safe: stop() may be called from any thread or a signal handler's
/// helper thread.
class file_server {
 public:
  file_server(std::shared_ptr<filesystem> fs, options opts);
  ~file_server();
  file_server(const file_server&) = delete;
  file_server& operator=(const file_server&) = delete;

  /// Starts listening on `a` (tcp: SO_REUSEADDR; unix: replaces a stale socket file).
  /// Errors: as bind(2)/listen(2), naming nothing: the caller knows the address.
  result<void> listen(const transport::address& a);
  /// The local address of the n-th listener (useful with port 0).
  transport::address local_address(std::size_t n) const;
  /// Serves an already connected stream socket (e.g. one end of a socketpair for --stdio).
  void adopt(int fd);
  /// Runs the network loops and workers until stop(); returns when everything has finished.
  void run();
  /// Stops accepting, cancels requests in flight, closes connections; run() then returns.
  void stop();
  /// Sets the log level at run time.
  void set_level(log_level l);
  const counters& stats() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// For programs that serve until told to stop: blocks SIGINT and SIGTERM in the calling thread
/// (and so in every thread it creates afterwards) and ignores SIGPIPE. Call it first in main(),
/// before a file_server exists, so that run_until_signal() can take the signals.
void block_stop_signals();

/// Runs `srv` until SIGINT or SIGTERM (then stops it) or until something else calls stop().
/// Needs block_stop_signals() first. No signal handler runs: one thread takes them with sigwait.
void run_until_signal(file_server& srv);

}  // namespace ninep::server
