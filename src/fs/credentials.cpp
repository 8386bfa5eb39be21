// SPDX-License-Identifier: MIT
#include "credentials.hpp"

#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ninep/core/error.hpp>

namespace ninep::fs::detail {
namespace {

[[noreturn]] void cannot_restore() noexcept {
  // Carrying on would leave this worker thread acting as another user.
  std::fputs("ninep: local_fs: cannot restore thread credentials; aborting\n", stderr);
  std::abort();
}

}  // namespace

result<void> identity_scope::enter(const credentials& c) {
  old_uid_ = static_cast<uid_t>(setfsuid(static_cast<uid_t>(-1)));
  old_gid_ = static_cast<gid_t>(setfsgid(static_cast<gid_t>(-1)));
  const long n = syscall(SYS_getgroups, 0, nullptr);
  if (n < 0) return fail(errno_code(errno));
  old_groups_.resize(static_cast<std::size_t>(n));
  if (n > 0 && syscall(SYS_getgroups, n, old_groups_.data()) < 0) return fail(errno_code(errno));
  active_ = true;
  // Groups and fsgid first: changing fsuid away from 0 drops the thread's file capabilities,
  // though CAP_SETGID stays, so the order only matters for clarity.
  if (syscall(SYS_setgroups, c.groups.size(), c.groups.data()) != 0) {
    return fail(errno_code(errno));
  }
  setfsgid(c.gid);
  setfsuid(c.uid);
  // setfsuid/setfsgid report no errors; read the values back to verify.
  if (static_cast<uid_t>(setfsuid(static_cast<uid_t>(-1))) != c.uid ||
      static_cast<gid_t>(setfsgid(static_cast<gid_t>(-1))) != c.gid) {
    return fail(errno_code(EPERM));
  }
  return {};
}

identity_scope::~identity_scope() {
  if (!active_) return;
  setfsuid(old_uid_);
  setfsgid(old_gid_);
  if (syscall(SYS_setgroups, old_groups_.size(), old_groups_.data()) != 0) cannot_restore();
  if (static_cast<uid_t>(setfsuid(static_cast<uid_t>(-1))) != old_uid_ ||
      static_cast<gid_t>(setfsgid(static_cast<gid_t>(-1))) != old_gid_) {
    cannot_restore();
  }
}

}  // namespace ninep::fs::detail
