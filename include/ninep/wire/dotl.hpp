// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>

/// \file
/// Constants of 9P2000.L (diod protocol.md; Linux include/net/9p/9p.h). These are wire values:
/// Linux-generic, not the host's O_* values, which can differ (arm64 swaps O_DIRECT and
/// O_DIRECTORY). Servers translate them; see server::open_flags_from_dotl().

namespace ninep::wire::dotl {

// Tlopen/Tlcreate flags.
inline constexpr std::uint32_t rdonly = 00000000, wronly = 00000001, rdwr = 00000002,
                               accmode = 00000003, create = 00000100, excl = 00000200,
                               noctty = 00000400, trunc = 00001000, append = 00002000,
                               nonblock = 00004000, dsync = 00010000, fasync = 00020000,
                               direct = 00040000, largefile = 00100000, directory = 00200000,
                               nofollow = 00400000, noatime = 01000000, cloexec = 02000000,
                               sync = 04000000;

// Tgetattr request_mask / Rgetattr valid.
inline constexpr std::uint64_t getattr_mode = 0x1, getattr_nlink = 0x2, getattr_uid = 0x4,
                               getattr_gid = 0x8, getattr_rdev = 0x10, getattr_atime = 0x20,
                               getattr_mtime = 0x40, getattr_ctime = 0x80, getattr_ino = 0x100,
                               getattr_size = 0x200, getattr_blocks = 0x400, getattr_btime = 0x800,
                               getattr_gen = 0x1000, getattr_data_version = 0x2000,
                               getattr_basic = 0x7ff, getattr_all = 0x3fff;

// Tsetattr valid.
inline constexpr std::uint32_t setattr_mode = 0x1, setattr_uid = 0x2, setattr_gid = 0x4,
                               setattr_size = 0x8, setattr_atime = 0x10, setattr_mtime = 0x20,
                               setattr_ctime = 0x40, setattr_atime_set = 0x80,
                               setattr_mtime_set = 0x100;

// Tlock type / Rlock status / Tlock flags.
inline constexpr std::uint8_t lock_type_rdlck = 0, lock_type_wrlck = 1, lock_type_unlck = 2;
inline constexpr std::uint8_t lock_success = 0, lock_blocked = 1, lock_error = 2, lock_grace = 3;
inline constexpr std::uint32_t lock_flags_block = 1, lock_flags_reclaim = 2;

// Tunlinkat flags.
inline constexpr std::uint32_t at_removedir = 0x200;

// Txattrcreate flags.
inline constexpr std::uint32_t xattr_create = 1, xattr_replace = 2;

// Rstatfs type when not passing the host's through.
inline constexpr std::uint32_t v9fs_magic = 0x01021997;

}  // namespace ninep::wire::dotl

namespace ninep::wire {

/// The mode byte of Topen and Tcreate (open(5)).
namespace omode {
inline constexpr std::uint8_t read = 0, write = 1, rdwr = 2, exec = 3, trunc = 0x10, rclose = 0x40;
}  // namespace omode

/// The 9P2000.L flags of open(5) mode `m`: its access mode (OEXEC reads) and OTRUNC. ORCLOSE
/// has no flag: the caller handles it.
constexpr std::uint32_t dotl_flags(std::uint8_t m) noexcept {
  const std::uint32_t acc[] = {dotl::rdonly, dotl::wronly, dotl::rdwr, dotl::rdonly};
  return acc[m & 3] | ((m & omode::trunc) ? dotl::trunc : 0);
}

/// The open(5) mode of 9P2000.L flags `f`: the access mode and OTRUNC; the other flags have no
/// equivalent and are dropped.
constexpr std::uint8_t open_mode(std::uint32_t f) noexcept {
  return static_cast<std::uint8_t>((f & dotl::accmode) | ((f & dotl::trunc) ? omode::trunc : 0));
}

}  // namespace ninep::wire
