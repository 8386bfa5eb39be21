// SPDX-License-Identifier: MIT
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <ninep/client/error.hpp>
#include <ninep/client/tag_table.hpp>
#include <ninep/core/buffer.hpp>
#include <ninep/core/result.hpp>
#include <ninep/transport/address.hpp>
#include <ninep/transport/frame_reader.hpp>
#include <ninep/transport/tls.hpp>
#include <ninep/wire/messages.hpp>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

/// \file
/// The asynchronous 9P client: one connection, many concurrent calls multiplexed by tag, and a
/// file API that works across 9P2000, 9P2000.u and 9P2000.L. Every operation is an awaitable
/// yielding outcome<T>; it may be co_awaited from a coroutine on any executor, any thread. The
/// connection state (tags, fids, write queue) lives on the session's strand.

namespace ninep::client {

/// How to connect.
struct options {
  /// The dialect to insist on. Empty: offer 9P2000.L, then 9P2000.u, then 9P2000.
  std::optional<wire::dialect> dialect;
  /// The msize to offer; the server may lower it (not below 4096).
  std::uint32_t msize = 512 * 1024;
  /// Tattach uname, aname and (9P2000.u/.L) n_uname.
  std::string uname = "nobody";
  std::string aname;
  std::uint32_t n_uname = wire::no_id;
  /// The gid sent with Tlcreate, Tmkdir and Tsymlink (9P2000.L).
  std::uint32_t n_gid = wire::no_id;
  /// A frame that has started arriving must finish within this time.
  std::chrono::milliseconds frame_timeout{30000};
  /// Requests one large read or write keeps in flight at once.
  std::size_t pipeline_depth = 16;
  /// Authentication before Tattach: empty for none, or "munge" (diod's protocol: Tauth, the
  /// MUNGE credential of this process's uid written to the afid, Tattach with it).
  std::string auth;
  /// munged's socket for auth "munge"; empty: libmunge's default.
  std::string munge_socket;
  /// TLS 1.3 with a client certificate, through this relay (made with
  /// transport::tls_relay::make(config, false); one may serve many clients). Used by
  /// client::connect, for tcp addresses only: the server's certificate is verified against the
  /// relay's CA (or the system's) and the dialled host name.
  std::shared_ptr<transport::tls_relay> tls;
  /// Time allowed from dialling (client::connect) or start() to an attached session: connect,
  /// Tversion and Tattach. Zero: no limit. Past it, the connection fails with
  /// std::errc::timed_out.
  std::chrono::milliseconds connect_timeout{0};
  /// Memory one readdir() may use for its entries (names, attributes, duplicate check): a server
  /// that never ends a listing gets an error, not all of the client's memory.
  std::size_t max_listing_bytes = std::size_t{256} << 20;
};

/// Deadline and cancellation of one operation. A deadline or a stop request fails the operation
/// (std::errc::timed_out or errc::cancelled); a request already sent is flushed (Tflush), and its
/// tag stays reserved until the server answers with Rflush.
struct call_options {
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::stop_token stop;

  /// Options with a deadline `d` from now.
  static call_options timeout(std::chrono::steady_clock::duration d) {
    return {std::chrono::steady_clock::now() + d, {}};
  }
};

/// A reply from the server: the frame and the message decoded from it, which borrows the frame.
/// Move-only; the message stays valid while the reply lives.
struct reply {
  buffer frame;
  wire::message msg;
};

/// POSIX st_mode file type bits (Linux values, as on the 9P2000.L wire).
namespace mode_bits {
inline constexpr std::uint32_t ifmt = 0170000, ifsock = 0140000, iflnk = 0120000, ifreg = 0100000,
                               ifblk = 0060000, ifdir = 0040000, ifchr = 0020000, ififo = 0010000;
}  // namespace mode_bits

using wire::no_id;

/// File attributes in one shape for every dialect. Owns its strings.
struct attr {
  wire::qid qid;
  std::uint32_t mode = 0;  ///< st_mode: mode_bits type and permission bits
  std::uint32_t uid = no_id, gid = no_id;
  std::string uname, gname;  ///< 9P2000/.u names (empty in 9P2000.L)
  std::string name;          ///< 9P2000/.u: the name in the stat; empty in 9P2000.L
  std::string extension;     ///< 9P2000.u: symlink target or device description
  std::uint64_t nlink = 1, rdev = 0, size = 0, blksize = 0, blocks = 0;
  std::int64_t atime_sec = 0, atime_nsec = 0, mtime_sec = 0, mtime_nsec = 0, ctime_sec = 0,
               ctime_nsec = 0;

  bool is_dir() const noexcept { return (mode & mode_bits::ifmt) == mode_bits::ifdir; }
  bool is_symlink() const noexcept { return (mode & mode_bits::ifmt) == mode_bits::iflnk; }
  bool is_regular() const noexcept { return (mode & mode_bits::ifmt) == mode_bits::ifreg; }
};

/// Attribute changes for setattr(); unset members are left alone.
struct set_attr {
  struct time {
    std::int64_t sec = 0, nsec = 0;
  };
  std::optional<std::uint32_t> mode;  ///< permission bits only
  std::optional<std::uint32_t> uid, gid;
  std::optional<std::uint64_t> size;
  std::optional<time> atime, mtime;
};

/// One directory entry. `attr` is filled when asked for (9P2000 and .u always carry it).
struct dir_entry {
  std::string name;
  wire::qid qid;
  std::optional<client::attr> attr;
};

/// Filesystem statistics (9P2000.L Rstatfs).
using fs_stat = wire::Rstatfs;

class session;

/// A fid on the server: walked to, and possibly opened. Move-only. Destroying a file that still
/// holds its fid clunks it in the background; session::clunk() does it and reports errors.
class file {
 public:
  file() noexcept = default;
  file(std::shared_ptr<session> s, wire::fid_t fid, wire::qid q) noexcept
      : s_(std::move(s)), fid_(fid), qid_(q) {}
  file(file&& o) noexcept { *this = std::move(o); }
  file& operator=(file&& o) noexcept;
  ~file();

  wire::fid_t fid() const noexcept { return fid_; }
  const wire::qid& qid() const noexcept { return qid_; }
  /// Bytes per read/write the server asked for at open (0: msize-based).
  std::uint32_t iounit() const noexcept { return iounit_; }
  bool is_open() const noexcept { return open_; }
  bool valid() const noexcept { return fid_ != wire::nofid; }
  /// Gives up the fid without clunking it.
  wire::fid_t release() noexcept;

 private:
  friend class session;
  std::shared_ptr<session> s_;
  wire::fid_t fid_ = wire::nofid;
  wire::qid qid_;
  std::uint32_t iounit_ = 0;
  bool open_ = false;
};

/// One client connection. Create with start(); share it as std::shared_ptr. All members may be
/// called from any thread; calls are serialised on the session's strand and many may be in
/// flight at once. A coroutine that runs on strand() itself calls them without a hop. Paths are
/// '/'-separated and relative to the attach root ("/a/b" = "a/b"). Strings and spans passed to an
/// operation must stay valid until it completes. Operations yield outcome<T> (error.hpp): on
/// failure an error code and, when the server sent an error string our table does not know, its
/// text. Operation errors: the server's errno (std::generic_category()),
/// std::errc::operation_not_supported (no equivalent in the dialect), std::errc::timed_out /
/// errc::cancelled (call_options), errc::connection_closed or the socket's error once the
/// connection is lost (every pending call fails with it), errc::unexpected_reply and decode errors
/// for a misbehaving server.
class session : public std::enable_shared_from_this<session> {
 public:
  using strand_type = asio::strand<asio::any_io_executor>;

  /// Negotiates the version and msize on a connected stream and attaches. The session then owns
  /// the stream and reads from it until close(). Errors: errc::unsupported_version, the server's
  /// Tattach error, connection errors.
  static asio::awaitable<outcome<std::shared_ptr<session>>> start(transport::stream s, options o);

  ~session();
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  /// Closes the connection; pending calls fail with errc::connection_closed. Idempotent.
  void close();
  /// Clunks the root fid (waiting as `o` allows), then close()s: a polite goodbye.
  asio::awaitable<void> shutdown(call_options o = {});
  const strand_type& strand() const noexcept { return strand_; }
  /// The negotiated dialect and msize (fixed after start()).
  wire::dialect dialect() const noexcept { return dialect_; }
  std::uint32_t msize() const noexcept { return msize_; }
  /// The largest count of one Tread/Twrite: msize - IOHDRSZ, or the iounit if smaller.
  std::uint32_t max_io(std::uint32_t iounit = 0) const noexcept;

  /// Sends `req` (any T-message but Tversion/Tflush) and waits for its reply. The tag is
  /// chosen here; while every tag is in flight the call waits for one (first come, first
  /// served; its deadline and stop token apply while it waits). Errors: as above; the server's
  /// error reply as its errno.
  asio::awaitable<outcome<reply>> call(wire::message_body req, call_options o = {});

  // File API ------------------------------------------------------------------------------

  /// Walks from the root to `path` (any number of elements). Errors: ENOENT.
  asio::awaitable<outcome<file>> walk(std::string_view path, call_options o = {});
  /// Walks to `path` and opens it with 9P2000.L flags (wire::dotl: rdonly, wronly, rdwr, trunc,
  /// append...), mapped to Topen modes in 9P2000/.u.
  asio::awaitable<outcome<file>> open(std::string_view path, std::uint32_t flags,
                                      call_options o = {});
  /// Creates and opens `path` (its parent must exist) with permission `mode`.
  asio::awaitable<outcome<file>> create(std::string_view path, std::uint32_t flags,
                                        std::uint32_t mode, call_options o = {});
  /// Reads up to out.size() bytes at `offset` from an open file, split into max_io() requests
  /// with up to options::pipeline_depth in flight. Returns the bytes read; fewer only at EOF.
  asio::awaitable<outcome<std::size_t>> read(const file& f, std::uint64_t offset,
                                             std::span<std::byte> out, call_options o = {});
  /// Writes `data` at `offset`, split and pipelined as read(). Returns the bytes written.
  asio::awaitable<outcome<std::size_t>> write(const file& f, std::uint64_t offset,
                                              std::span<const std::byte> data, call_options o = {});
  /// The entries of directory `path` without "." and "..". With `with_attr`, each entry's
  /// attributes too (9P2000.L: a pipelined walk+getattr per entry).
  asio::awaitable<outcome<std::vector<dir_entry>>> readdir(std::string_view path, bool with_attr,
                                                           call_options o = {});
  /// Attributes of `path` (Tgetattr, or Tstat in 9P2000/.u); of a walked fid.
  asio::awaitable<outcome<attr>> stat(std::string_view path, call_options o = {});
  asio::awaitable<outcome<attr>> stat(const file& f, call_options o = {});
  /// Changes attributes (Tsetattr, or Twstat).
  asio::awaitable<outcome<void>> setattr(std::string_view path, set_attr a, call_options o = {});
  /// Removes a file or an empty directory (Tunlinkat, falling back to Tremove).
  asio::awaitable<outcome<void>> remove(std::string_view path, call_options o = {});
  /// Renames `from` to `to` (Trenameat/Trename; 9P2000/.u: Twstat, same directory only, else
  /// EOPNOTSUPP).
  asio::awaitable<outcome<void>> rename(std::string_view from, std::string_view to,
                                        call_options o = {});
  /// Makes a directory (Tmkdir, or Tcreate with DMDIR).
  asio::awaitable<outcome<void>> mkdir(std::string_view path, std::uint32_t mode,
                                       call_options o = {});
  /// Makes `path` a symbolic link to `target` (9P2000.L, 9P2000.u only).
  asio::awaitable<outcome<void>> symlink(std::string_view target, std::string_view path,
                                         call_options o = {});
  /// Makes `path` a hard link to `existing` (9P2000.L, 9P2000.u only).
  asio::awaitable<outcome<void>> link(std::string_view existing, std::string_view path,
                                      call_options o = {});
  /// The target of symbolic link `path` (9P2000.L, 9P2000.u only).
  asio::awaitable<outcome<std::string>> readlink(std::string_view path, call_options o = {});
  /// Flushes an open file to stable storage (Tfsync, or the 9P2000 "no change" Twstat).
  asio::awaitable<outcome<void>> fsync(const file& f, call_options o = {});
  /// Filesystem statistics for the filesystem holding `path` (9P2000.L only).
  asio::awaitable<outcome<fs_stat>> statfs(std::string_view path, call_options o = {});
  /// Clunks `f`'s fid and reports the server's answer.
  asio::awaitable<outcome<void>> clunk(file f, call_options o = {});

  /// Counters for tests and diagnostics (read on the strand or after the session is idle).
  struct counters {
    std::uint64_t sent = 0, flushes = 0, replies = 0, discarded = 0;
  };
  counters stats() const noexcept { return counters_; }

 private:
  struct pending;
  struct outgoing {
    wire::tag_t tag = 0;
    buffer header;
    std::span<const std::byte> payload;
    pending* owner = nullptr;  // null for Tflush and background Tclunk
  };
  enum class slot_kind : std::uint8_t { none, call, flushed, flush, clunk };
  struct tag_slot {
    slot_kind kind = slot_kind::none;
    pending* call = nullptr;
    wire::tag_t oldtag = 0;  // flush: the tag being flushed
    wire::fid_t fid = 0;     // clunk: the fid to free on Rclunk
  };
  /// What waits for a tag while every one is in flight: a call (its coroutine resumes when
  /// granted one) or a background Tflush or Tclunk (sent when granted). First come, first served.
  struct tag_waiter {
    slot_kind kind = slot_kind::none;  // call, flush or clunk
    pending* call = nullptr;
    expectation expect;
    wire::tag_t oldtag = 0;
    wire::fid_t fid = 0;
  };

  session(transport::stream s, options o);
  friend class file;

  /// Whether a coroutine whose executor is `ex` runs off the strand. Each public operation
  /// starts with it: off the strand, it calls itself again through hop(); on it (the file API
  /// calling itself, or a caller that lives on the strand), it goes on in place, with no hop.
  /// Written as two statements, `const auto caller = co_await asio::this_coro::executor;` then
  /// `if (off_strand(caller))`: g++ 12 miscompiles a co_await inside the if's condition in
  /// these coroutines (the frame is resumed at an invalid point: SIGILL).
  bool off_strand(const asio::any_io_executor& ex) const noexcept { return ex != strand_ex_; }
  /// Runs `a` on the strand and yields its result (session_detail.hpp).
  template <class T>
  asio::awaitable<T> hop(asio::awaitable<T> a);
  /// call() for replies that borrow nothing from their frame: the message of type R.
  template <class R>
  asio::awaitable<outcome<R>> rpc(wire::message_body req, const call_options& o);
  asio::awaitable<outcome<void>> handshake();
  asio::awaitable<void> read_loop(std::shared_ptr<session> self);
  asio::awaitable<void> write_loop(std::shared_ptr<session> self);
  void enqueue(outgoing out);
  outcome<outgoing> encode_request(wire::tag_t tag, const wire::message_body& req);
  void cancel_call(pending* p, std::error_code why);
  void send_flush(wire::tag_t oldtag);
  void clunk_detached(wire::fid_t fid);
  /// Tags only a Tflush may take: cancelling calls that hold every other tag must stay possible
  /// (a flushed tag is freed by its Rflush, so flushes always make progress).
  static constexpr std::size_t flush_reserve = 16;
  bool tag_for_call_free() const noexcept;
  /// A free tag for `w` (a call or a clunk), or none: then `w` waits in tag_waiters_ for
  /// free_tag() to grant one.
  std::optional<wire::tag_t> take_tag(const tag_waiter& w);
  /// Frees an answered (or never sent) tag and grants it: to a waiting Tflush first, else to
  /// the first waiting call or clunk.
  void free_tag(wire::tag_t t);
  void grant(pending* p, wire::tag_t t);
  void send_background(const tag_waiter& w, wire::tag_t t);
  void fail_all(std::error_code ec);
  std::unique_ptr<pending> acquire_pending();
  void recycle(std::unique_ptr<pending> p);

  wire::fid_t take_fid();
  /// Tauth and the MUNGE credential written to the afid (options::auth "munge"); nofid when
  /// the server needs no authentication.
  asio::awaitable<result<wire::fid_t>> authenticate_munge();
  void give_fid(wire::fid_t f) { fids_in_use_.erase(f); }
  asio::awaitable<outcome<file>> walk_from(wire::fid_t from, std::span<const std::string> names,
                                           const call_options& o);
  asio::awaitable<outcome<file>> walk_once(wire::fid_t from, std::span<const std::string> names,
                                           const call_options& o);
  asio::awaitable<outcome<attr>> stat_fid(wire::fid_t fid, const call_options& o);
  asio::awaitable<outcome<void>> open_fid(file& f, std::uint32_t flags, const call_options& o);
  /// read() and write(): one transfer split into max_io() requests, pipelined.
  asio::awaitable<outcome<std::size_t>> transfer(const file& f, std::uint64_t offset,
                                                 std::span<std::byte> in,
                                                 std::span<const std::byte> out,
                                                 const call_options& o);
  template <class F>
  asio::awaitable<void> parallel_for(std::size_t n, std::size_t depth, F f);

  transport::stream sock_;
  strand_type strand_;
  asio::any_io_executor strand_ex_;  ///< strand_, as coroutines see their executor
  options opts_;
  transport::frame_pools pools_;
  std::unique_ptr<transport::frame_reader> reader_;
  tag_table tags_;
  std::vector<tag_slot> slots_;
  std::deque<outgoing> queue_;
  std::deque<tag_waiter> tag_waiters_;
  std::deque<wire::tag_t> flush_waiters_;  // the old tags of Tflushes waiting for a tag
  std::vector<outgoing> batch_;
  bool writing_ = false;
  std::error_code failed_;
  // Tflushes sent and not yet answered: a server that owes one is not answering, so the
  // goodbye in shutdown() does not wait for it.
  std::size_t flushes_unanswered_ = 0;
  std::vector<std::unique_ptr<pending>> pending_pool_;
  // Fids come from a wrapping counter that skips the ones in use, so a number just freed is not
  // handed out again for a long while: some servers (go-p9p, styx) keep a fid bound after a
  // failed walk or a remove, and would answer its reuse with "duplicate fid".
  std::unordered_set<wire::fid_t> fids_in_use_;
  wire::fid_t next_fid_ = 1;
  wire::fid_t root_fid_ = 0;
  wire::qid root_qid_;
  wire::dialect dialect_ = wire::dialect::v2000L;
  std::uint32_t msize_ = 8192;
  counters counters_;
};

}  // namespace ninep::client
