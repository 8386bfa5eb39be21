// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <ninep/core/result.hpp>
#include <ninep/server/filesystem.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

/// \file
/// The host's user database, as the server uses it to turn a proven uid or a trusted name
/// into a whole identity (uid, primary group, supplementary groups, name).

namespace ninep::server {

/// The group of a numeric uid that has no passwd entry ("nogroup" on Debian).
inline constexpr std::uint32_t nogroup = 65534;

/// Looks users and groups up (getpwuid_r/getpwnam_r, getgrouplist, getgrgid_r/getgrnam_r),
/// caching each answer for a minute (a user's groups changed on the host take effect within
/// that time) and at most a few thousand of them. Thread-safe. The server owns one, shared by
/// its attaches and its 9P2000/.u stat conversions; the local backend owns its own.
class user_db {
 public:
  /// The identity of `uid`: its passwd entry's group and name and its groups; a uid without
  /// an entry gets group nogroup, no supplementary groups and its number as name.
  /// Errors: as getpwuid_r. Throws only std::bad_alloc.
  result<user> by_uid(std::uint32_t uid);
  /// The identity of the user named `name` (a decimal number is taken as a uid).
  /// Errors: EPERM (no such user). Throws only std::bad_alloc.
  result<user> by_name(std::string_view name);
  /// `u` with gid and groups filled in when it names a user (uid, else name) but has no gid.
  /// Errors: as by_uid/by_name; EPERM when `u` names no one. Throws only std::bad_alloc.
  result<user> complete(const user& u);

  /// The name a 9P2000/.u stat gives user `id` (with `group`, group `id`): its name in the
  /// database, else the number in decimal.
  std::string id_name(std::uint32_t id, bool group);
  /// The user (group) id a 9P2000/.u stat's name means: a decimal number, or a name in the
  /// database; nullopt for a name it does not know.
  std::optional<std::uint32_t> id_of(std::string_view name, bool group);

  /// The process's own identity (euid, egid, its supplementary groups, its name).
  static user self();

 private:
  struct cached {
    user u;
    std::chrono::steady_clock::time_point at;
  };
  struct group_entry {
    bool found = false;
    std::uint32_t gid = 0;
    std::string name;
    std::chrono::steady_clock::time_point at;
  };
  result<user> lookup(const std::string& key, std::uint32_t uid, std::string_view name);
  group_entry group_lookup(const std::string& key, std::uint32_t gid, std::string_view name);
  std::mutex mu_;
  std::unordered_map<std::string, cached> cache_;        // "#uid" or "@name"
  std::unordered_map<std::string, group_entry> groups_;  // "#gid" or "@name"
};

}  // namespace ninep::server
