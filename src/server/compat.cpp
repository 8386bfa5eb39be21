// SPDX-License-Identifier: MIT
// 9P2000 and 9P2000.u on the 9P2000.L-shaped backend interface: stats from attributes and back,
// open(5) modes, .u extensions. The handlers call these; nothing else here knows the dialects.
#include "compat.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <ninep/core/error.hpp>
#include <ninep/wire/dotl.hpp>

namespace ninep::server::detail {

using namespace wire;

namespace {

/// A 9P2000/.u stat entry from backend attributes, with the extension already in `keep`.
wire::stat to_stat(const attr& a, std::string_view name, dialect d, user_db& users,
                   stat_strings& keep) {
  wire::stat s;
  s.qid = a.qid;
  s.mode = dm_mode(a.mode, d);
  s.atime = static_cast<std::uint32_t>(a.atime_sec);
  s.mtime = static_cast<std::uint32_t>(a.mtime_sec);
  s.length = (a.mode & S_IFMT) == S_IFDIR ? 0 : a.size;
  s.name = name;
  keep.uid = users.id_name(a.uid, false);
  keep.gid = users.id_name(a.gid, true);
  s.uid = keep.uid;
  s.gid = keep.gid;
  s.muid = keep.uid;
  s.extension = keep.extension;
  s.n_uid = a.uid;
  s.n_gid = a.gid;
  s.n_muid = a.uid;
  return s;
}

/// The .u extension string of a file: symlink target, "c major minor" for devices, and for
/// files and directories "HARDLINKCOUNT n", which Linux v9fs reads as nlink (QEMU sends it
/// too; 9P2000.u's stat has no link count of its own).
std::string extension_of(filesystem& fs, const context& cx, node& n, const attr& a) {
  switch (a.mode & S_IFMT) {
    case S_IFREG:
    case S_IFDIR:
      return fmt::format("HARDLINKCOUNT {}", a.nlink);
    case S_IFLNK:
      return fs.readlink(cx, n).value_or("");
    case S_IFCHR:
    case S_IFBLK:
      return fmt::format("{} {} {}", (a.mode & S_IFMT) == S_IFCHR ? 'c' : 'b', major(a.rdev),
                         minor(a.rdev));
    default:
      return "";
  }
}

}  // namespace

result<wire::stat> stat_of(filesystem& fs, const context& cx, node& n, std::string_view name,
                           dialect d, user_db& users, stat_strings& keep) {
  auto a = fs.getattr(cx, n, dotl::getattr_basic);
  if (!a) return fail(a.error());
  keep.extension = d == dialect::v2000u ? extension_of(fs, cx, n, *a) : "";
  return to_stat(*a, name, d, users, keep);
}

result<set_attr> set_attr_of(const wire::stat& s, dialect d, user_db& users) {
  set_attr sa;
  constexpr wire::stat keep = wire::stat::unchanged();
  if (s.mode != keep.mode) {
    sa.valid |= dotl::setattr_mode;
    sa.mode = s.mode & 07777;
  }
  if (s.length != keep.length) {
    sa.valid |= dotl::setattr_size;
    sa.size = s.length;
  }
  if (s.mtime != keep.mtime) {
    sa.valid |= dotl::setattr_mtime | dotl::setattr_mtime_set;
    sa.mtime_sec = s.mtime;
  }
  if (s.atime != keep.atime) {
    sa.valid |= dotl::setattr_atime | dotl::setattr_atime_set;
    sa.atime_sec = s.atime;
  }
  std::optional<std::uint32_t> gid;
  if (d == dialect::v2000u && s.n_gid != no_id)
    gid = s.n_gid;
  else if (!s.gid.empty())
    gid = users.id_of(s.gid, true);
  if (!s.gid.empty() && !gid) return fail(errno_code(EINVAL));
  if (gid) {
    sa.valid |= dotl::setattr_gid;
    sa.gid = *gid;
  }
  return sa;
}

}  // namespace ninep::server::detail
