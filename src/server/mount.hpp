// SPDX-License-Identifier: MIT
// Private: the filesystem a fid is in when it is not the server's own (walked::fs).
#pragma once

#include <cstdint>
#include <memory>
#include <ninep/server/filesystem.hpp>
#include <string>

namespace ninep::server::detail {

/// A filesystem that an attach or a walk step entered (walked::fs): it serves every fid
/// walked or cloned from there. Made once per crossing, never changed, shared by those fids.
struct mount {
  std::shared_ptr<filesystem> fs;
  /// XORed into qid.path of every qid `fs` returns: the walked::qid_salt of each crossing on
  /// the way here, combined.
  std::uint64_t qid_salt = 0;
  /// The mount this one was entered from; null: the server's own filesystem.
  std::shared_ptr<const mount> outer{};
  // Where ".." from the root of `fs` leads: the directory holding the mount point, as the
  // fid that crossed it had it. Null `at` (an attach): ".." stays at the root.
  node_ptr at{};
  wire::qid at_qid{};  ///< as the client was told it
  node_ptr at_parent{};
  std::string at_name{};
  std::uint32_t at_depth = 0;
};

/// The filesystem serving fids in `m`: its own, or the server's (`own`) when `m` is null.
inline filesystem& fs_in(const std::shared_ptr<const mount>& m, filesystem& own) noexcept {
  return m ? *m->fs : own;
}

/// The salt of qids from fids in `m`.
inline std::uint64_t salt_in(const std::shared_ptr<const mount>& m) noexcept {
  return m ? m->qid_salt : 0;
}

/// `q` as the client sees it, with `salt` applied.
inline wire::qid salted(wire::qid q, std::uint64_t salt) noexcept {
  q.path ^= salt;
  return q;
}

}  // namespace ninep::server::detail
