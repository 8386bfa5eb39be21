// SPDX-License-Identifier: MIT
#pragma once

// Per-thread identity switching for multiuser mode.

#include <sys/types.h>

#include <chrono>
#include <mutex>
#include <ninep/core/result.hpp>
#include <ninep/server/filesystem.hpp>
#include <string>
#include <unordered_map>
#include <vector>

namespace ninep::fs::detail {

/// Who a request runs as on the host.
struct credentials {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
};

/// Resolves attach users to host credentials, caching each answer for a minute (a user's
/// groups changed on the host take effect within that time). Thread-safe.
class credential_cache {
 public:
  /// uid from `u.uid` unless it is 0xffffffff, else `u.name` through getpwnam_r. Errors: EPERM
  /// (unknown name, or no name and no uid). Throws only std::bad_alloc.
  result<credentials> resolve(const server::user& u);

 private:
  struct cached {
    credentials creds;
    std::chrono::steady_clock::time_point at;
  };
  std::mutex mu_;
  std::unordered_map<std::string, cached> cache_;
};

/// While alive, the calling thread's fsuid, fsgid and supplementary groups are those of a
/// user; the destructor restores the thread's previous ones. Only this thread is affected:
/// setfsuid/setfsgid are per thread, and the groups are set with the raw setgroups syscall
/// because glibc's setgroups() changes every thread of the process.
class identity_scope {
 public:
  identity_scope() noexcept = default;
  identity_scope(const identity_scope&) = delete;
  identity_scope& operator=(const identity_scope&) = delete;
  ~identity_scope();

  /// Switches to `c`. Must be called at most once. Errors: EPERM (the kernel refused).
  result<void> enter(const credentials& c);

 private:
  bool active_ = false;
  uid_t old_uid_ = 0;
  gid_t old_gid_ = 0;
  std::vector<gid_t> old_groups_;
};

}  // namespace ninep::fs::detail
