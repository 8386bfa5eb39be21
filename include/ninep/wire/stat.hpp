// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <ninep/wire/types.hpp>
#include <string_view>

namespace ninep::wire {

/// A directory entry of 9P2000 (stat(5)), with the 9P2000.u extension fields.
/// Wire: size[2] type[2] dev[4] qid[13] mode[4] atime[4] mtime[4] length[8] name[s] uid[s]
///       gid[s] muid[s]; 9P2000.u appends extension[s] n_uid[4] n_gid[4] n_muid[4].
/// Strings borrow from the decoded buffer.
struct stat {
  std::uint16_t type = 0;
  std::uint32_t dev = 0;
  wire::qid qid;
  std::uint32_t mode = 0;
  std::uint32_t atime = 0;
  std::uint32_t mtime = 0;
  std::uint64_t length = 0;
  std::string_view name{}, uid{}, gid{}, muid{};
  std::string_view extension{};                                ///< 9P2000.u only
  std::uint32_t n_uid = no_id, n_gid = no_id, n_muid = no_id;  ///< 9P2000.u only

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("type", s.type);
    v("dev", s.dev);
    v("qid", s.qid);
    v("mode", s.mode);
    v("atime", s.atime);
    v("mtime", s.mtime);
    v("length", s.length);
    v("name", s.name);
    v("uid", s.uid);
    v("gid", s.gid);
    v("muid", s.muid);
    if (v.dialect() == dialect::v2000u) {
      v("extension", s.extension);
      v("n_uid", s.n_uid);
      v("n_gid", s.n_gid);
      v("n_muid", s.n_muid);
    }
  }
  bool operator==(const stat&) const = default;

  /// A Twstat stat whose every field means "don't touch" (stat(5): ~0, and "" for strings); a
  /// client sets the fields it changes, a server changes the fields that differ from it.
  static constexpr stat unchanged() noexcept {
    stat s;
    s.type = 0xffff;
    s.dev = ~std::uint32_t{0};
    s.qid = {0xff, ~std::uint32_t{0}, ~std::uint64_t{0}};
    s.mode = s.atime = s.mtime = ~std::uint32_t{0};
    s.length = ~std::uint64_t{0};
    return s;
  }
};

/// dm bits of stat.mode (stat(5), and 9P2000.u's extra file kinds).
namespace dm {
inline constexpr std::uint32_t dir = 0x80000000, append = 0x40000000, excl = 0x20000000,
                               mount = 0x10000000, auth = 0x08000000, tmp = 0x04000000,
                               symlink = 0x02000000, link = 0x01000000, device = 0x00800000,
                               namedpipe = 0x00200000, socket = 0x00100000, setuid = 0x00080000,
                               setgid = 0x00040000,
                               setvtx = 0x00010000;  ///< sticky (Linux v9fs P9_DMSETVTX)
}  // namespace dm

/// POSIX st_mode bits as 9P2000.L carries them (Linux's values, whatever the host).
namespace posix {
inline constexpr std::uint32_t ifmt = 0170000, ifsock = 0140000, iflnk = 0120000, ifreg = 0100000,
                               ifblk = 0060000, ifdir = 0040000, ifchr = 0020000, ififo = 0010000,
                               isuid = 04000, isgid = 02000, isvtx = 01000;
}  // namespace posix

/// The stat mode of POSIX mode `m`: permission bits and DMDIR; in 9P2000.u also the file kind
/// (DMSYMLINK, DMDEVICE, DMNAMEDPIPE, DMSOCKET) and setuid, setgid and sticky, as Linux v9fs
/// maps them. 9P2000 has no such bits.
constexpr std::uint32_t dm_mode(std::uint32_t m, dialect d) noexcept {
  std::uint32_t s = m & 0777;
  const bool u = d == dialect::v2000u;
  switch (m & posix::ifmt) {
    case posix::ifdir:
      s |= dm::dir;
      break;
    case posix::iflnk:
      s |= u ? dm::symlink : 0;
      break;
    case posix::ifchr:
    case posix::ifblk:
      s |= u ? dm::device : 0;
      break;
    case posix::ififo:
      s |= u ? dm::namedpipe : 0;
      break;
    case posix::ifsock:
      s |= u ? dm::socket : 0;
      break;
    default:
      break;
  }
  if (u && (m & posix::isuid)) s |= dm::setuid;
  if (u && (m & posix::isgid)) s |= dm::setgid;
  if (u && (m & posix::isvtx)) s |= dm::setvtx;
  return s;
}

/// The POSIX mode of stat mode `m`: the file kind from the dm bits (a 9P2000.u device is a block
/// device when its `extension` starts with 'b', else a character device; no kind bit: a regular
/// file), the permission bits, and in 9P2000.u setuid, setgid and sticky.
constexpr std::uint32_t posix_mode(std::uint32_t m, dialect d,
                                   std::string_view extension = {}) noexcept {
  std::uint32_t p = m & 0777;
  if (m & dm::dir)
    p |= posix::ifdir;
  else if (m & dm::symlink)
    p |= posix::iflnk;
  else if (m & dm::device)
    p |= !extension.empty() && extension[0] == 'b' ? posix::ifblk : posix::ifchr;
  else if (m & dm::namedpipe)
    p |= posix::ififo;
  else if (m & dm::socket)
    p |= posix::ifsock;
  else
    p |= posix::ifreg;
  if (d == dialect::v2000u) {
    if (m & dm::setuid) p |= posix::isuid;
    if (m & dm::setgid) p |= posix::isgid;
    if (m & dm::setvtx) p |= posix::isvtx;
  }
  return p;
}

/// A 9P2000.L directory entry in Rreaddir data: qid[13] offset[8] type[1] name[s].
/// `offset` is the opaque cookie a client passes to the next Treaddir to continue after it.
struct dirent {
  wire::qid qid;
  std::uint64_t offset = 0;
  std::uint8_t type = 0;  ///< DT_* value
  std::string_view name{};

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("qid", s.qid);
    v("offset", s.offset);
    v("type", s.type);
    v("name", s.name);
  }
  bool operator==(const dirent&) const = default;
};

}  // namespace ninep::wire
