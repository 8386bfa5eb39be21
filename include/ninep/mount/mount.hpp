// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <functional>
#include <ninep/client/session.hpp>
#include <ninep/core/result.hpp>
#include <string>
#include <string_view>

/// \file
/// A 9P server mounted through FUSE (libfuse3's low-level API): every FUSE request becomes 9P
/// requests on one client session, in flight concurrently, with the FUSE request's interrupt
/// turned into Tflush. 9P2000.L carries the POSIX semantics; 9P2000.u and 9P2000 are mapped as
/// far as they go (no xattrs, locks or device nodes; 9P2000 has no links).

namespace ninep::mount {

/// What to mount and how.
struct options {
  /// The server's dial string (tcp!host!port, unix!/path, host:port).
  std::string address;
  /// An existing directory to mount on.
  std::string mountpoint;
  /// Version, msize, uname, aname, n_uname... of the 9P session.
  client::options session;
  /// Mount read-only (MS_RDONLY; the kernel refuses writes before they reach us).
  bool read_only = false;
  /// Let users other than the mounter use the mount (needs root or user_allow_other).
  bool allow_other = false;
  /// Let the kernel check permissions from the mode bits, as a local filesystem does.
  bool default_permissions = false;
  /// cache=none: attributes and names are never cached and file pages are dropped at each open.
  /// Default (cache=loose): cached for attr_timeout/entry_timeout, pages kept while the file's
  /// qid.version (or, when the server sends 0, its mtime and size) is unchanged.
  bool cache_none = false;
  double attr_timeout = 1.0;
  double entry_timeout = 1.0;
  /// After the connection drops: how long calls wait for a redial before failing with EIO.
  /// Zero: no reconnecting; the first drop makes every call fail with EIO.
  std::chrono::milliseconds reconnect_timeout{60000};
  /// Read and write every file past the page cache (FUSE direct_io; no shared mmap then).
  /// Without it, only files that look synthetic (size 0, qid.version 0) are.
  bool direct_io = false;
  /// Print every FUSE request (libfuse's debug output) on stderr.
  bool debug = false;
  /// The most threads reading FUSE requests at once.
  unsigned max_threads = 8;
};

/// Applies one `-o` argument, a comma-separated list as mount(8) and sshfs take it: ro, rw,
/// allow_other, default_permissions, version=, msize=, aname=, uname=, cache=none|loose,
/// attr_timeout=, entry_timeout=, reconnect_timeout= (seconds), direct_io, debug.
/// Errors: std::errc::invalid_argument; `why` then names the option and what is wrong with it.
[[nodiscard]] result<void> apply_option_list(std::string_view list, options& o, std::string& why);

/// Connects, attaches and mounts, then serves FUSE requests until the filesystem is unmounted
/// (`ninep umount`, fusermount3 -u, umount) or the process gets SIGINT, SIGTERM or SIGHUP, which
/// unmount it. `ready` is called once the mount answers (a stat of the mountpoint came back
/// through it); a failure before that returns without calling it, with nothing left mounted.
/// Returns 0 after a clean unmount; else 1, after printing one line naming the address or the
/// mountpoint and the reason to stderr.
int run(const options& o, const std::function<void()>& ready);

/// Unmounts a FUSE mount at `mountpoint` (fusermount3 -u; as root, umount2(2) if that fails).
/// Errors: the reason, in `why`.
[[nodiscard]] result<void> unmount(const std::string& mountpoint, std::string& why);

}  // namespace ninep::mount
