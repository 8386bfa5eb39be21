// SPDX-License-Identifier: MIT
// Private: one client connection — its fid and tag tables, and the requests in flight.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <ninep/server/server.hpp>
#include <ninep/transport/frame_reader.hpp>
#include <ninep/wire/codec.hpp>
#include <optional>
#include <stop_token>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "identity.hpp"
#include "worker_pool.hpp"

namespace ninep::server::detail {

/// Memory shared by all connections for one purpose, with a limit. Thread-safe.
class memory_budget {
 public:
  explicit memory_budget(std::size_t limit) : limit_(limit) {}
  /// Charges `n` bytes if they fit under the limit; false (nothing charged) otherwise.
  bool take(std::size_t n) noexcept {
    std::size_t u = used_.load(std::memory_order_relaxed);
    do {
      if (n > limit_ || u > limit_ - n) return false;
    } while (!used_.compare_exchange_weak(u, u + n, std::memory_order_relaxed));
    return true;
  }
  /// Charges `n` bytes whatever the limit (memory already allocated). Use above a quarter of
  /// the limit counts as a flood.
  void add(std::size_t n) noexcept {
    if (used_.fetch_add(n, std::memory_order_relaxed) + n > limit_ / 4)
      flooded_.store(true, std::memory_order_relaxed);
  }
  /// Gives back `n` bytes. True once per flood, when use has fallen back under 1/32 of the
  /// limit: the moment to hand the freed memory back to the system.
  bool give(std::size_t n) noexcept {
    std::size_t left = used_.fetch_sub(n, std::memory_order_relaxed) - n;
    return left <= limit_ / 32 && flooded_.load(std::memory_order_relaxed) &&
           flooded_.exchange(false, std::memory_order_relaxed);
  }
  bool over() const noexcept { return used_.load(std::memory_order_relaxed) > limit_; }
  std::size_t used() const noexcept { return used_.load(std::memory_order_relaxed); }

 private:
  const std::size_t limit_;
  std::atomic<std::size_t> used_{0};
  std::atomic<bool> flooded_{false};
};

/// State only some fids need (xattr transfers, 9P2000 directory reads), shared with workers
/// and guarded by `mu`. Kept out of fid_state so that the common fid stays small: a client
/// may hold a hundred thousand of them.
struct fid_extra {
  fid_extra() = default;
  fid_extra(const fid_extra&) = delete;
  fid_extra& operator=(const fid_extra&) = delete;
  ~fid_extra() {
    if (budget) budget->give(charged);
  }
  memory_budget* budget = nullptr;  ///< what the xattr value is charged to, `charged` bytes
  std::size_t charged = 0;
  std::mutex mu;
  std::string xattr_name;
  std::string xattr;  ///< value read (xattr_read) or being written (xattr_write)
  std::uint64_t xattr_size = 0;
  std::uint32_t xattr_flags = 0;
  std::uint64_t dir_offset = 0;  ///< 9P2000 directory reads: next offset expected
  std::uint64_t dir_cookie = 0;  ///< ...and the backend cookie it corresponds to
  std::string dir_pending;       ///< encoded stat entries not yet returned
  bool dir_eof = false;
  std::string auth;  ///< afid: the credential written so far
};

struct mount;  // mount.hpp

/// What a fid refers to. Owned by the connection's fid table (network thread); requests hold
/// shared references while a worker uses them. Its fields change only on the network thread
/// (a new state replaces the old one on open, create and walk); `extra` is created with the
/// state when its kind or an open directory needs it.
struct fid_state {
  node_ptr node;
  wire::qid qid;  ///< as the client was told it (salted by `mnt`)
  /// The filesystem `node` belongs to when it is not the server's own (a routed attach, a
  /// mount point crossed by walk); null: shared::fs. See mount.hpp.
  std::shared_ptr<const mount> mnt;
  std::shared_ptr<const ninep::server::user> user;
  node_ptr parent;   ///< the directory this fid was walked from (9P2000 remove and wstat)
  std::string name;  ///< last walked name ("/" at the root), for Rstat
  /// Walks below the root of `mnt`, for ".." out of a mount point.
  std::uint32_t depth = 0;
  bool open = false;
  int flags = 0;  ///< host open(2) flags when open
  bool rclose = false;
  /// auth: an afid (Tauth), with no node; only Tread, Twrite, Tclunk and Tattach take it.
  enum class kind : std::uint8_t { file, xattr_read, xattr_write, auth } kind = kind::file;
  std::unique_ptr<fid_extra> extra;
};
using fid_ptr = std::shared_ptr<fid_state>;

class connection;

/// One request in flight. Pooled per connection: recycled, not freed, so steady traffic does
/// not allocate.
struct request {
  std::shared_ptr<connection> conn;
  std::chrono::steady_clock::time_point received;  ///< for the latency counters
  buffer frame;                                    ///< owns the bytes `msg` views
  wire::message msg;
  fid_ptr f1, f2;  ///< fids named by the request, looked up on receipt
  fid_ptr result;  ///< a fid state to install on completion (walk, attach, open, create)
  std::stop_source stop;
  bool flushed = false;
  std::vector<wire::tag_t> flushers;  ///< Tflush tags waiting for this request
  // The reply: header bytes in `out`, then `payload` bytes, written with one gather write.
  buffer out;
  std::size_t out_len = 0;
  buffer payload;
  std::size_t payload_len = 0;
  bool cancelled = false;  ///< the backend gave up because of a flush: suppress the reply
  /// The fid this request creates (walk, attach, xattrwalk), held in pending_fids_ until it ends.
  std::optional<wire::fid_t> new_fid;
  std::size_t frame_charged = 0;  ///< bytes of `frame` charged to shared::queued
  /// Tattach: the uid the connection had proven when the request arrived (read by the worker)
  /// and the uid this attach proved (applied to the connection when it completes).
  std::optional<std::uint32_t> proven, now_proven;
};

/// State shared by the connections of one server.
struct shared {
  std::shared_ptr<filesystem> fs;
  options opts;
  transport::frame_pools pools;
  worker_pool workers;
  memory_budget queued{opts.max_queued_bytes};  ///< request frames in flight
  memory_budget xattrs{opts.max_xattr_bytes};   ///< xattr values held by fids
  counters stats;
  std::atomic<int> level;
  std::atomic<std::size_t> live_connections{0};
  user_db users;                                               ///< for deciding attach identities
  const user self = user_db::self();                           ///< the server's own identity
  worker_pool::queue_ptr housekeeping = workers.make_queue();  ///< the server's own jobs

  shared(std::shared_ptr<filesystem> f, options o);
  /// Takes one of peer `key`'s connection slots (options::max_connections_per_peer); false
  /// when it has none left. Thread-safe.
  bool take_peer_slot(const std::string& key);
  /// Gives back a slot taken by take_peer_slot(). Thread-safe.
  void release_peer_slot(const std::string& key);
  /// After a flood of request frames has drained, hands the allocator's free pages back to the
  /// system (malloc_trim, on a worker: it can take milliseconds). Thread-safe.
  void return_memory();
  bool logs(log_level l) const noexcept { return static_cast<int>(l) <= level.load(); }
  void log(log_level l, std::string_view msg) const;

 private:
  std::mutex peers_mu_;
  std::unordered_map<std::string, std::size_t> peers_;  ///< connections per peer key
};

class connection : public std::enable_shared_from_this<connection> {
 public:
  /// `peer`: who the peer is; its slot (if any) is given back when the connection ends.
  connection(shared& sh, transport::stream s, peer_info peer);
  ~connection();
  /// Reads and serves requests until the peer closes, a frame is malformed, or close().
  asio::awaitable<void> serve();
  /// Closes the socket; requests in flight are cancelled and their replies dropped.
  void close();

  asio::any_io_executor executor() { return sock_.get_executor(); }

  // Used by request handlers (handlers.cpp).
  shared& sh() noexcept { return sh_; }
  wire::dialect dialect() const noexcept { return dialect_; }
  std::uint32_t msize() const noexcept { return msize_; }
  /// The unix-socket peer's credentials (fixed at accept, so readable from any thread).
  const peer_cred* peer_credentials() const noexcept { return peer_.cred ? &*peer_.cred : nullptr; }
  const std::string* tls_subject() const noexcept {
    return peer_.tls_subject ? &*peer_.tls_subject : nullptr;
  }
  const std::string& peer_name() const noexcept { return peer_.name; }
  /// Encodes `body` as the reply of `r` (header into r.out; payload stays in r.payload).
  void set_reply(request& r, const wire::message_body& body);
  void set_error(request& r, std::error_code ec);
  /// Called on the network thread when a worker has finished `r`.
  void finish(request* r);
  /// Hands `r`, whose reply is set, back to the network thread; callable from any thread.
  void complete(request* r);

 private:
  void dispatch(request* r);
  void reply_now(request* r);
  void send(request* r);
  void release(request* r);
  void flush_writes();
  bool poll();
  request* get_request();
  bool version(request& r);
  void run_flush(request* r);
  bool auth_message(request* r);
  void start(request* r);

  shared& sh_;
  transport::stream sock_;
  const peer_info peer_;
  /// The uid this connection proved with MUNGE; kept across Tversion (as diod does).
  std::optional<std::uint32_t> proven_;
  transport::frame_reader reader_;
  worker_pool::queue_ptr work_;  ///< this connection's share of the workers
  wire::dialect dialect_ = wire::dialect::v2000L;
  bool versioned_ = false;
  bool attached_ = false;  ///< a Tattach has succeeded: never cut for idleness from then on
  std::uint32_t msize_ = 0;
  bool closed_ = false;

  std::unordered_map<wire::fid_t, fid_ptr> fids_;
  std::unordered_map<wire::tag_t, request*> inflight_;
  /// Fids that requests in flight will create: counted against max_fids, and not reusable as
  /// a newfid until their request ends.
  std::unordered_set<wire::fid_t> pending_fids_;
  std::vector<std::unique_ptr<request>> all_requests_;
  std::vector<request*> free_requests_;

  std::deque<request*> write_queue_;
  bool writing_ = false;
  bool flush_posted_ = false;
  bool serving_ = false;  ///< serve() is handling frames and will flush before it next waits
  int poll_misses_ = 0;   ///< busy-polls in a row that found no request (see poll())
  // Replies gathered into one write: bounded so a burst cannot starve the reader for long.
  static constexpr std::size_t max_batch = 64;
  std::array<asio::const_buffer, 2 * max_batch> bufs_;  ///< header and payload of each reply
  std::array<request*, max_batch> batch_{};  ///< the requests whose replies the write carries
  asio::steady_timer read_wake_;        ///< wakes the reader when in-flight drops below the limit
  asio::steady_timer handshake_timer_;  ///< closes the connection unless attached in time
  bool reader_waiting_ = false;
};

/// Runs a request's operation (on a worker thread). Returns false when the operation completes
/// later and will call connection::complete() itself. Defined in handlers.cpp.
bool execute(request& r);
/// Tries the backend's network-thread fast path for `r` (Tread, Tgetattr); true if `r` now
/// has its reply. Defined in handlers.cpp.
bool execute_fast(request& r);
/// Installs r.result into the fid table as the request type requires (network thread).
/// Returns how many fids were added.
int commit(request& r, std::unordered_map<wire::fid_t, fid_ptr>& fids);

}  // namespace ninep::server::detail
