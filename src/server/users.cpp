// SPDX-License-Identifier: MIT
#include <grp.h>
#include <pwd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <ninep/core/error.hpp>
#include <ninep/server/users.hpp>
#include <ninep/wire/types.hpp>
#include <vector>

namespace ninep::server {
namespace {

constexpr auto cache_ttl = std::chrono::seconds(60);

/// getpwuid_r/getpwnam_r with a growing buffer. Returns false when there is no such user.
template <class Lookup>
result<bool> lookup_passwd(Lookup lookup, user& out) {
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
    out.name = pw.pw_name;
    return true;
  }
  return fail(errno_code(ERANGE));
}

std::vector<std::uint32_t> group_list(const std::string& name, gid_t gid) {
  int n = 32;
  std::vector<gid_t> groups;
  for (int i = 0; i < 8; ++i) {
    groups.resize(static_cast<std::size_t>(n));
    int got = n;
    if (getgrouplist(name.c_str(), gid, groups.data(), &got) >= 0) {
      groups.resize(static_cast<std::size_t>(got));
      return {groups.begin(), groups.end()};
    }
    n = got > n ? got : n * 2;
  }
  return {gid};
}

}  // namespace

result<user> user_db::lookup(const std::string& key, std::uint32_t uid, std::string_view name) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lk(mu_);
    if (auto it = cache_.find(key); it != cache_.end() && now - it->second.at < cache_ttl)
      return it->second.u;
  }
  user u;
  result<bool> found = false;
  if (name.empty()) {
    found = lookup_passwd([uid](passwd* pw, char* b, std::size_t n,
                                passwd** r) { return getpwuid_r(uid, pw, b, n, r); },
                          u);
  } else {
    std::string n(name);
    found = lookup_passwd([&n](passwd* pw, char* b, std::size_t len,
                               passwd** r) { return getpwnam_r(n.c_str(), pw, b, len, r); },
                          u);
  }
  if (!found) return fail(found.error());
  if (*found) {
    u.groups = group_list(u.name, u.gid);
  } else if (name.empty()) {
    u.uid = uid;
    u.gid = nogroup;
    u.name = std::to_string(uid);
  } else {
    return fail(errno_code(EPERM));
  }
  std::lock_guard lk(mu_);
  if (cache_.size() > 4096) cache_.clear();  // bound the memory a client can make us use
  cache_[key] = cached{u, now};
  return u;
}

result<user> user_db::by_uid(std::uint32_t uid) {
  return lookup("#" + std::to_string(uid), uid, {});
}

result<user> user_db::by_name(std::string_view name) {
  if (name.empty()) return fail(errno_code(EPERM));
  std::uint32_t v = 0;
  auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), v);
  if (ec == std::errc() && p == name.data() + name.size() && v != wire::no_id) return by_uid(v);
  return lookup("@" + std::string(name), 0, name);
}

result<user> user_db::complete(const user& u) {
  if (u.gid != wire::no_id) return u;
  auto r = u.uid != wire::no_id ? by_uid(u.uid) : by_name(u.name);
  if (!r) return r;
  r->aname = u.aname;
  return r;
}

user user_db::self() {
  user u;
  u.uid = ::geteuid();
  u.gid = ::getegid();
  const long n = syscall(SYS_getgroups, 0, nullptr);
  std::vector<gid_t> g(static_cast<std::size_t>(n > 0 ? n : 0));
  if (n > 0 && syscall(SYS_getgroups, n, g.data()) == n) u.groups.assign(g.begin(), g.end());
  passwd pw{};
  passwd* found = nullptr;
  char buf[4096];
  if (getpwuid_r(u.uid, &pw, buf, sizeof buf, &found) == 0 && found != nullptr)
    u.name = pw.pw_name;
  else
    u.name = std::to_string(u.uid);
  return u;
}

}  // namespace ninep::server
