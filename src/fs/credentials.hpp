// SPDX-License-Identifier: MIT
#pragma once

// Per-thread identity switching for multiuser mode.

#include <sys/types.h>

#include <ninep/core/result.hpp>
#include <ninep/server/filesystem.hpp>
#include <vector>

namespace ninep::fs::detail {

/// Who a request runs as on the host.
struct credentials {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
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
