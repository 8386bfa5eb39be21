// SPDX-License-Identifier: MIT
#include <fmt/core.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/use_future.hpp>
#include <atomic>
#include <charconv>
#include <cstring>
#include <ninep/core/error.hpp>
#include <ninep/transport/address.hpp>
#include <ninep/wire/errors.hpp>
#include <optional>
#include <thread>

#include "filesystem.hpp"

extern char** environ;

namespace ninep::mount {
namespace {

std::error_code invalid() { return std::make_error_code(std::errc::invalid_argument); }

std::optional<double> parse_seconds(std::string_view v) {
  double d = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  if (ec != std::errc() || end != v.data() + v.size() || d < 0 || d > 1e9) return std::nullopt;
  return d;
}

/// Text for a client error: the server's own words when it sent some we keep, the 9P2000
/// string for an errno, else the code's message.
std::string reason(const client::error& e) {
  if (!e.text.empty()) return e.text;
  if (e.code.category() == std::generic_category() || e.code.category() == std::system_category())
    return std::strerror(e.code.value());
  return e.code.message();
}

}  // namespace

result<void> apply_option_list(std::string_view list, options& o, std::string& why) {
  while (!list.empty()) {
    auto comma = list.find(',');
    std::string_view opt = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    if (opt.empty()) continue;
    auto eq = opt.find('=');
    std::string_view key = opt.substr(0, eq);
    std::string_view val = eq == std::string_view::npos ? std::string_view{} : opt.substr(eq + 1);
    const bool has_val = eq != std::string_view::npos;
    auto bad = [&](std::string_view what) {
      why = fmt::format("option {}: {}", opt, what);
      return tl::unexpected(invalid());
    };
    auto flag = [&](bool& b, bool v) -> result<void> {
      if (has_val) return bad("takes no value");
      b = v;
      return {};
    };
    result<void> r;
    if (key == "ro") {
      r = flag(o.read_only, true);
    } else if (key == "rw") {
      r = flag(o.read_only, false);
    } else if (key == "allow_other") {
      r = flag(o.allow_other, true);
    } else if (key == "default_permissions") {
      r = flag(o.default_permissions, true);
    } else if (key == "direct_io") {
      r = flag(o.direct_io, true);
    } else if (key == "debug") {
      r = flag(o.debug, true);
    } else if (key == "version") {
      std::string v(val);
      if (v == "L" || v == "u") v = "9P2000." + v;
      auto d = wire::dialect_of(v);
      if (!d) return bad("expected 9P2000.L, 9P2000.u or 9P2000");
      o.session.dialect = d;
    } else if (key == "msize") {
      std::uint32_t m = 0;
      auto [end, ec] = std::from_chars(val.data(), val.data() + val.size(), m);
      if (ec != std::errc() || end != val.data() + val.size() || m < 4096 || m > (16u << 20))
        return bad("expected a number from 4096 to 16777216");
      o.session.msize = m;
    } else if (key == "aname") {
      o.session.aname = std::string(val);
    } else if (key == "uname") {
      if (val.empty()) return bad("needs a user name");
      o.session.uname = std::string(val);
    } else if (key == "cache") {
      if (val == "none") {
        o.cache_none = true;
      } else if (val == "loose") {
        o.cache_none = false;
      } else {
        return bad("expected none or loose");
      }
    } else if (key == "attr_timeout" || key == "entry_timeout" || key == "reconnect_timeout") {
      auto s = parse_seconds(val);
      if (!s) return bad("expected seconds (a number, 0 or more)");
      if (key == "attr_timeout") o.attr_timeout = *s;
      if (key == "entry_timeout") o.entry_timeout = *s;
      if (key == "reconnect_timeout")
        o.reconnect_timeout = std::chrono::milliseconds(static_cast<std::int64_t>(*s * 1000));
    } else {
      return bad("unknown option");
    }
    if (!r) return r;
  }
  return {};
}

int run(const options& o, const std::function<void()>& ready) {
  const std::string& mp = o.mountpoint;
  auto say = [](std::string_view what, std::string_view why) {
    fmt::print(stderr, "ninep: mount {}: {}\n", what, why);
    return 1;
  };
  struct stat st {};
  if (::stat(mp.c_str(), &st) != 0) return say(mp, std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) return say(mp, std::strerror(ENOTDIR));
  if (::access(mp.c_str(), W_OK) != 0 && ::getuid() != 0) return say(mp, std::strerror(errno));
  auto addr = transport::parse_address(o.address);
  if (!addr) return say(o.address, "not an address (tcp!host!port, unix!/path or host:port)");

  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::vector<std::thread> threads;
  auto stop_io = [&] {
    work.reset();
    io.stop();
    for (auto& t : threads) t.join();
    threads.clear();
  };
  auto s = transport::dial(io, *addr, o.session.connect_timeout);
  if (!s) return say(o.address, s.error().message());
  // Two threads run the coroutines: the session's strand serialises the connection, the rest
  // (copies, the inode table) may run beside it.
  for (int i = 0; i < 2; ++i) threads.emplace_back([&io] { io.run(); });
  auto sess =
      asio::co_spawn(io, client::session::start(std::move(*s), o.session), asio::use_future).get();
  if (!sess) {
    stop_io();
    return say(o.address, reason(sess.error()));
  }
  std::shared_ptr<client::session> session = std::move(*sess);
  auto root = asio::co_spawn(io, session->stat(""), asio::use_future).get();
  if (!root) {
    session->close();
    stop_io();
    return say(o.address, "the root: " + reason(root.error()));
  }

  int rc = 0;
  {
    filesystem fs(io, session, o, *root);
    // libfuse's own options: the mount's name in /proc/mounts, reads as large as writes, and
    // what the caller asked of the kernel.
    const std::uint32_t io_size = filesystem::io_size(*session);
    std::string fuse_opts = fmt::format("fsname={},subtype=ninep,max_read={}", o.address, io_size);
    if (o.allow_other) fuse_opts += ",allow_other";
    if (o.default_permissions) fuse_opts += ",default_permissions";
    if (o.read_only) fuse_opts += ",ro";
    std::vector<std::string> argv_s = {"ninep", "-o", fuse_opts};
    if (o.debug) argv_s.emplace_back("-d");
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
    fuse_session* se =
        fuse_session_new(&args, &filesystem::operations(), sizeof(fuse_lowlevel_ops), &fs);
    if (se == nullptr) {
      session->close();
      stop_io();
      return say(mp, "cannot start a FUSE session (see above)");
    }
    if (fuse_set_signal_handlers(se) != 0 || fuse_session_mount(se, mp.c_str()) != 0) {
      fuse_remove_signal_handlers(se);
      fuse_session_destroy(se);
      session->close();
      stop_io();
      return say(mp, "cannot mount (fusermount3 said why above)");
    }
    fuse_opt_free_args(&args);
    // The mount answers once a stat of its root comes back through our own loop. If it comes
    // back with an error, nothing works: say so, and unmount, which ends the loop.
    std::atomic<bool> probe_failed{false};
    std::thread probe([&] {
      struct stat pst {};
      if (::stat(mp.c_str(), &pst) == 0) {
        if (ready) ready();
        return;
      }
      say(mp, fmt::format("the mount does not answer: {}", std::strerror(errno)));
      probe_failed = true;
      fuse_session_exit(se);
      std::string why;
      (void)unmount(mp, why);
    });
    fuse_loop_config* cfg = fuse_loop_cfg_create();
    fuse_loop_cfg_set_max_threads(cfg, std::max(2u, o.max_threads));
    fuse_loop_cfg_set_clone_fd(cfg, 0);
    // The loop returns the number of the signal that ended it (SIGINT, SIGTERM, SIGHUP: a
    // clean unmount), or a negative errno.
    rc = fuse_session_loop_mt(se, cfg) >= 0 && !probe_failed ? 0 : 1;
    fuse_loop_cfg_destroy(cfg);
    fuse_session_unmount(se);
    probe.join();
    fuse_remove_signal_handlers(se);
    // Requests still in flight fail with the connection; their replies go nowhere.
    fs.stop();
    fs.session()->close();
    session->close();
    stop_io();
    fuse_session_destroy(se);
  }
  return rc;
}

result<void> unmount(const std::string& mountpoint, std::string& why) {
  std::vector<std::string> argv_s = {"fusermount3", "-u", "-q", "--", mountpoint};
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int status = -1;
  if (::posix_spawnp(&pid, "fusermount3", nullptr, nullptr, argv.data(), environ) == 0) {
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (status == 0) return {};
  if (::geteuid() == 0) {
    if (::umount2(mountpoint.c_str(), 0) == 0) return {};
    why = std::strerror(errno);
    return tl::unexpected(errno_code(errno));
  }
  struct stat st {};
  why = ::stat(mountpoint.c_str(), &st) != 0
            ? std::strerror(errno)
            : "not a FUSE mount, or not ours (fusermount3 -u failed)";
  return tl::unexpected(errno_code(EINVAL));
}

}  // namespace ninep::mount
