// SPDX-License-Identifier: MIT
#pragma once

#include <map>
#include <memory>
#include <ninep/server/filesystem.hpp>
#include <shared_mutex>
#include <string>
#include <string_view>

/// \file
/// Routes each Tattach by its aname to one of several filesystems.

namespace ninep::server {

/// Serves several filesystems on one server, chosen by the aname of Tattach: an aname that
/// was add()ed attaches that filesystem, any other the fallback (which sees the aname
/// unchanged, so a local_fs with named exports keeps working). The router only chooses: its
/// attach returns the chosen filesystem in walked::fs, so the server calls every later
/// operation on the fid, and on the fids walked from it, on that filesystem; a request naming
/// fids of two of them (rename, link) gets EXDEV from the server.
///
/// Thread-safe: routes may be added and erased while serving; fids already attached keep
/// the filesystem they were attached to.
class router final : public filesystem {
 public:
  /// `fallback` serves every aname without a route; null: such attaches fail with
  /// errc::unknown_aname.
  explicit router(std::shared_ptr<filesystem> fallback = nullptr);
  /// Routes `aname` to `fs`, replacing an earlier route for it.
  void add(std::string aname, std::shared_ptr<filesystem> fs);
  /// Removes the route for `aname` (attaches with it go to the fallback from then on); false if
  /// there was none.
  bool erase(std::string_view aname);
  /// The filesystem an attach with `aname` goes to: its route, else the fallback; null when
  /// there is neither.
  std::shared_ptr<filesystem> find(std::string_view aname) const;

  /// Attaches the filesystem find(cx.user.aname) names (walked::fs is set to it). Errors:
  /// errc::unknown_aname when there is none; that filesystem's attach errors.
  result<walked> attach(const context& cx) override;
  /// A router has no nodes of its own, so the server never walks one: EOPNOTSUPP.
  result<walked> walk(const context& cx, node& from, std::string_view name) override;

 private:
  const std::shared_ptr<filesystem> fallback_;
  mutable std::shared_mutex mu_;
  std::map<std::string, std::shared_ptr<filesystem>, std::less<>> routes_;
};

}  // namespace ninep::server
