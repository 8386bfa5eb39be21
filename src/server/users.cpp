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

constexpr std::size_t max_cached = 4096;  // bounds the memory a client can make us use

/// A get{pw,gr}{uid,gid,nam}_r call with a buffer that grows until the entry fits: calls
/// take(entry) and returns true, or returns false when there is no such entry.
template <class Entry, class Lookup, class Take>
result<bool> lookup_entry(Lookup lookup, Take take) {
  std::vector<char> buf(4096);
  for (int i = 0; i < 8; ++i) {
    Entry e{};
    Entry* found = nullptr;
    int rc = lookup(&e, buf.data(), buf.size(), &found);
    if (rc == ERANGE) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (rc != 0 && rc != ENOENT && rc != ESRCH) return fail(errno_code(rc));
    if (found == nullptr) return false;
    take(e);
    return true;
  }
  return fail(errno_code(ERANGE));
}

/// getpwuid_r/getpwnam_r into `out`'s uid, gid and name.
template <class Lookup>
result<bool> lookup_passwd(Lookup lookup, user& out) {
  return lookup_entry<passwd>(lookup, [&out](const passwd& pw) {
    out.uid = pw.pw_uid;
    out.gid = pw.pw_gid;
    out.name = pw.pw_name;
  });
}

/// A whole decimal number that is not no_id.
std::optional<std::uint32_t> decimal_id(std::string_view s) {
  std::uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc() && p == s.data() + s.size() && v != wire::no_id) return v;
  return std::nullopt;
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
  if (cache_.size() > max_cached) cache_.clear();
  cache_[key] = cached{u, now};
  return u;
}

result<user> user_db::by_uid(std::uint32_t uid) {
  return lookup("#" + std::to_string(uid), uid, {});
}

result<user> user_db::by_name(std::string_view name) {
  if (name.empty()) return fail(errno_code(EPERM));
  if (auto v = decimal_id(name)) return by_uid(*v);
  return lookup("@" + std::string(name), 0, name);
}

result<user> user_db::complete(const user& u) {
  if (u.gid != wire::no_id) return u;
  auto r = u.uid != wire::no_id ? by_uid(u.uid) : by_name(u.name);
  if (!r) return r;
  r->aname = u.aname;
  return r;
}

user_db::group_entry user_db::group_lookup(const std::string& key, std::uint32_t gid,
                                           std::string_view name) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lk(mu_);
    if (auto it = groups_.find(key); it != groups_.end() && now - it->second.at < cache_ttl)
      return it->second;
  }
  group_entry e;
  auto take = [&e](const struct group& g) {
    e.gid = g.gr_gid;
    e.name = g.gr_name;
  };
  std::string n(name);
  auto found = name.empty()
                   ? lookup_entry<struct group>(
                         [gid](struct group* g, char* b, std::size_t len, struct group** r) {
                           return getgrgid_r(gid, g, b, len, r);
                         },
                         take)
                   : lookup_entry<struct group>(
                         [&n](struct group* g, char* b, std::size_t len, struct group** r) {
                           return getgrnam_r(n.c_str(), g, b, len, r);
                         },
                         take);
  e.found = found && *found;  // a failed lookup is cached as unknown for the ttl too
  e.at = now;
  std::lock_guard lk(mu_);
  if (groups_.size() > max_cached) groups_.clear();
  groups_[key] = e;
  return e;
}

std::string user_db::id_name(std::uint32_t id, bool is_group) {
  if (is_group) {
    auto g = group_lookup("#" + std::to_string(id), id, {});
    return g.found ? g.name : std::to_string(id);
  }
  auto u = by_uid(id);
  return u ? u->name : std::to_string(id);  // by_uid names an unknown uid by its number
}

std::optional<std::uint32_t> user_db::id_of(std::string_view name, bool is_group) {
  if (auto v = decimal_id(name)) return v;
  if (name.empty()) return std::nullopt;
  if (is_group) {
    auto g = group_lookup("@" + std::string(name), 0, name);
    return g.found ? std::optional(g.gid) : std::nullopt;
  }
  auto u = by_name(name);
  return u ? std::optional(u->uid) : std::nullopt;
}

user user_db::self() {
  user u;
  u.uid = ::geteuid();
  u.gid = ::getegid();
  const long n = syscall(SYS_getgroups, 0, nullptr);
  std::vector<gid_t> g(static_cast<std::size_t>(n > 0 ? n : 0));
  if (n > 0 && syscall(SYS_getgroups, n, g.data()) == n) u.groups.assign(g.begin(), g.end());
  user named;
  auto found = lookup_passwd([uid = u.uid](passwd* pw, char* b, std::size_t len,
                                           passwd** r) { return getpwuid_r(uid, pw, b, len, r); },
                             named);
  u.name = found && *found ? named.name : std::to_string(u.uid);
  return u;
}

}  // namespace ninep::server
