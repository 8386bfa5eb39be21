// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <ninep/core/result.hpp>
#include <ninep/server/filesystem.hpp>
#include <string>
#include <string_view>
#include <unordered_map>

/// \file
/// The host's user database, as the server uses it to turn a proven uid or a trusted name
/// into a whole identity (uid, primary group, supplementary groups, name).

namespace ninep::server {

/// The group of a numeric uid that has no passwd entry ("nogroup" on Debian).
inline constexpr std::uint32_t nogroup = 65534;

/// Looks users up (getpwuid_r/getpwnam_r, getgrouplist), caching each answer for a minute (a
/// user's groups changed on the host take effect within that time). Thread-safe.
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

  /// The process's own identity (euid, egid, its supplementary groups, its name).
  static user self();

 private:
  struct cached {
    user u;
    std::chrono::steady_clock::time_point at;
  };
  result<user> lookup(const std::string& key, std::uint32_t uid, std::string_view name);
  std::mutex mu_;
  std::unordered_map<std::string, cached> cache_;
};

}  // namespace ninep::server
