// SPDX-License-Identifier: MIT
// Private: 9P2000 and 9P2000.u served by a 9P2000.L-shaped filesystem (compat.cpp).
#pragma once

#include <cstdint>
#include <ninep/core/result.hpp>
#include <ninep/server/filesystem.hpp>
#include <ninep/server/users.hpp>
#include <ninep/wire/messages.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace ninep::server::detail {

/// The strings a wire::stat from stat_of() points into: keep them while the stat is used.
struct stat_strings {
  std::string uid, gid, extension;
};

/// The 9P2000/.u stat of node `n` under `name`: its attributes, owner names from `users`, and
/// in 9P2000.u the extension (symlink target, device numbers, link count).
result<wire::stat> stat_of(filesystem& fs, const context& cx, node& n, std::string_view name,
                           wire::dialect d, user_db& users, stat_strings& keep);

/// The attribute changes a Twstat asks for; wstat(5)'s "don't touch" values (~0, "") are left
/// out. The name is not looked at (a rename is the caller's). Errors: EINVAL for a group name
/// `users` does not know.
result<set_attr> set_attr_of(const wire::stat& s, wire::dialect d, user_db& users);

/// Collects (name, cookie) pairs for a 9P2000 directory read, which needs a stat per entry.
class name_collector final : public dirent_sink {
 public:
  explicit name_collector(std::size_t max) : max_(max) {}
  bool add(const wire::qid&, std::uint64_t next, std::uint8_t, std::string_view name) override {
    if (entries.size() >= max_) return false;
    entries.push_back({std::string(name), next});
    return true;
  }
  struct entry {
    std::string name;
    std::uint64_t next;
  };
  std::vector<entry> entries;

 private:
  std::size_t max_;
};

}  // namespace ninep::server::detail
