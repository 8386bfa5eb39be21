// SPDX-License-Identifier: MIT
#include "credentials.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ninep/core/error.hpp>

namespace ninep::fs::detail {
namespace {

constexpr auto cache_ttl = std::chrono::seconds(60);
/// The group of a numeric uid that has no passwd entry ("nogroup" on Debian).
constexpr gid_t nogroup = 65534;

/// getpwuid_r/getpwnam_r with a growing buffer. Returns false when there is no such user.
template <class Lookup>
result<bool> lookup_passwd(Lookup lookup, credentials& out, std::string& name) {
  std::vector<char> buf(4096);
  for (int i = 0; i < 8; ++i) {
    passwd pw{};
    passwd* found = nullptr;
    int rc = lookup(&pw, buf.data(), buf.size(), &found);
    if (rc == ERANGE) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (rc != 0 && rc != ENOENT && rc != ESRCH) return fail(errno_code(rc));
    if (found == nullptr) return false;
    out.uid = pw.pw_uid;
    out.gid = pw.pw_gid;
    name = pw.pw_name;
    return true;
  }
  return fail(errno_code(ERANGE));
}

std::vector<gid_t> group_list(const std::string& name, gid_t gid) {
  int n = 32;
  std::vector<gid_t> groups;
  for (int i = 0; i < 8; ++i) {
    groups.resize(static_cast<std::size_t>(n));
    int got = n;
    if (getgrouplist(name.c_str(), gid, groups.data(), &got) >= 0) {
      groups.resize(static_cast<std::size_t>(got));
      return groups;
    }
    n = got > n ? got : n * 2;
  }
  return {gid};
}

[[noreturn]] void cannot_restore() noexcept {
  // Carrying on would leave this worker thread acting as another user.
  std::fputs("ninep: local_fs: cannot restore thread credentials; aborting\n", stderr);
  std::abort();
}

}  // namespace

result<credentials> credential_cache::resolve(const server::user& u) {
  const bool by_uid = u.uid != 0xffffffff;
  if (!by_uid && u.name.empty()) return fail(errno_code(EPERM));
  std::string key = by_uid ? "#" + std::to_string(u.uid) : "@" + u.name;
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lk(mu_);
    if (auto it = cache_.find(key); it != cache_.end() && now - it->second.at < cache_ttl) {
      return it->second.creds;
    }
  }
  credentials c;
  std::string name;
  result<bool> found = false;
  if (by_uid) {
    const uid_t uid = u.uid;
    found = lookup_passwd([uid](passwd* pw, char* b, std::size_t n,
                                passwd** r) { return getpwuid_r(uid, pw, b, n, r); },
                          c, name);
  } else {
    found = lookup_passwd([&u](passwd* pw, char* b, std::size_t n,
                               passwd** r) { return getpwnam_r(u.name.c_str(), pw, b, n, r); },
                          c, name);
  }
  if (!found) return fail(found.error());
  if (*found) {
    c.groups = group_list(name, c.gid);
  } else if (by_uid) {
    c.uid = u.uid;
    c.gid = nogroup;
    c.groups.clear();
  } else {
    return fail(errno_code(EPERM));
  }
  std::lock_guard lk(mu_);
  if (cache_.size() > 4096) cache_.clear();  // bound the memory a client can make us use
  cache_[key] = cached{c, now};
  return c;
}

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
