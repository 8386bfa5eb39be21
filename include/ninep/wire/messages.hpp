// SPDX-License-Identifier: MIT
// Written with the help of a one-off table script; edit by hand from now on.
#pragma once

#include <cstdint>
#include <ninep/wire/stat.hpp>
#include <ninep/wire/types.hpp>
#include <string_view>
#include <variant>

/// \file
/// Every message of 9P2000, 9P2000.u and 9P2000.L, spelled as in the specs.
///
/// Borrowing: every message type here is a view. Its strings and payloads point into the frame it
/// was decoded from (or into caller memory when encoding) and are valid only while that memory
/// lives. A caller that needs a value beyond the frame copies it explicitly (std::string(view),
/// a vector of the payload's bytes): there is deliberately no implicit owning variant.
///
/// Each struct lists its fields once, in wire order, in `fields(self, visitor)`: the codec, the
/// size computation, the trace formatter and the tests all walk that one list. A visitor is called
/// as `v("wire-name", field)`; `v.dialect()` selects the dialect-dependent fields.

namespace ninep::wire {

/// The type[1] byte of every message.
enum class msg_type : std::uint8_t {
  Tlerror = 6,
  Rlerror = 7,
  Tstatfs = 8,
  Rstatfs = 9,
  Tlopen = 12,
  Rlopen = 13,
  Tlcreate = 14,
  Rlcreate = 15,
  Tsymlink = 16,
  Rsymlink = 17,
  Tmknod = 18,
  Rmknod = 19,
  Trename = 20,
  Rrename = 21,
  Treadlink = 22,
  Rreadlink = 23,
  Tgetattr = 24,
  Rgetattr = 25,
  Tsetattr = 26,
  Rsetattr = 27,
  Txattrwalk = 30,
  Rxattrwalk = 31,
  Txattrcreate = 32,
  Rxattrcreate = 33,
  Treaddir = 40,
  Rreaddir = 41,
  Tfsync = 50,
  Rfsync = 51,
  Tlock = 52,
  Rlock = 53,
  Tgetlock = 54,
  Rgetlock = 55,
  Tlink = 70,
  Rlink = 71,
  Tmkdir = 72,
  Rmkdir = 73,
  Trenameat = 74,
  Rrenameat = 75,
  Tunlinkat = 76,
  Runlinkat = 77,
  Tversion = 100,
  Rversion = 101,
  Tauth = 102,
  Rauth = 103,
  Tattach = 104,
  Rattach = 105,
  Terror = 106,
  Rerror = 107,
  Tflush = 108,
  Rflush = 109,
  Twalk = 110,
  Rwalk = 111,
  Topen = 112,
  Ropen = 113,
  Tcreate = 114,
  Rcreate = 115,
  Tread = 116,
  Rread = 117,
  Twrite = 118,
  Rwrite = 119,
  Tclunk = 120,
  Rclunk = 121,
  Tremove = 122,
  Rremove = 123,
  Tstat = 124,
  Rstat = 125,
  Twstat = 126,
  Rwstat = 127,
};

/// size[4] Rlerror tag[2] ecode[4]
struct Rlerror {
  static constexpr msg_type type = msg_type::Rlerror;
  static constexpr std::string_view spec_name = "Rlerror";
  std::uint32_t ecode{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("ecode", s.ecode);
  }
  bool operator==(const Rlerror&) const = default;
};

/// size[4] Tstatfs tag[2] fid[4]
struct Tstatfs {
  static constexpr msg_type type = msg_type::Tstatfs;
  static constexpr std::string_view spec_name = "Tstatfs";
  fid_t fid{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("fid", s.fid);
  }
  bool operator==(const Tstatfs&) const = default;
};

/// size[4] Rstatfs tag[2] type[4] bsize[4] blocks[8] bfree[8] bavail[8] files[8] ffree[8] fsid[8]
/// namelen[4]
struct Rstatfs {
  static constexpr msg_type type = msg_type::Rstatfs;
  static constexpr std::string_view spec_name = "Rstatfs";
  std::uint32_t fstype{};
  std::uint32_t bsize{};
  std::uint64_t blocks{};
  std::uint64_t bfree{};
  std::uint64_t bavail{};
  std::uint64_t files{};
  std::uint64_t ffree{};
  std::uint64_t fsid{};
  std::uint32_t namelen{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("type", s.fstype);
    v("bsize", s.bsize);
    v("blocks", s.blocks);
    v("bfree", s.bfree);
    v("bavail", s.bavail);
    v("files", s.files);
    v("ffree", s.ffree);
    v("fsid", s.fsid);
    v("namelen", s.namelen);
  }
  bool operator==(const Rstatfs&) const = default;
};

/// size[4] Tlopen tag[2] fid[4] flags[4]
struct Tlopen {
  static constexpr msg_type type = msg_type::Tlopen;
  static constexpr std::string_view spec_name = "Tlopen";
  fid_t fid{};
  std::uint32_t flags{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("fid", s.fid);
    v("flags", s.flags);
  }
  bool operator==(const Tlopen&) const = default;
};

/// size[4] Rlopen tag[2] qid[13] iounit[4]
struct Rlopen {
  static constexpr msg_type type = msg_type::Rlopen;
  static constexpr std::string_view spec_name = "Rlopen";
  wire::qid qid{};
  std::uint32_t iounit{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("qid", s.qid);
    v("iounit", s.iounit);
  }
  bool operator==(const Rlopen&) const = default;
};

/// size[4] Tlcreate tag[2] fid[4] name[s] flags[4] mode[4] gid[4]
struct Tlcreate {
  static constexpr msg_type type = msg_type::Tlcreate;
  static constexpr std::string_view spec_name = "Tlcreate";
  fid_t fid{};
  std::string_view name{};
  std::uint32_t flags{};
  std::uint32_t mode{};
  std::uint32_t gid{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("fid", s.fid);
    v("name", s.name);
    v("flags", s.flags);
    v("mode", s.mode);
    v("gid", s.gid);
  }
  bool operator==(const Tlcreate&) const = default;
};

/// size[4] Rlcreate tag[2] qid[13] iounit[4]
struct Rlcreate {
  static constexpr msg_type type = msg_type::Rlcreate;
  static constexpr std::string_view spec_name = "Rlcreate";
  wire::qid qid{};
  std::uint32_t iounit{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("qid", s.qid);
    v("iounit", s.iounit);
  }
  bool operator==(const Rlcreate&) const = default;
};

/// size[4] Tsymlink tag[2] fid[4] name[s] symtgt[s] gid[4]
struct Tsymlink {
  static constexpr msg_type type = msg_type::Tsymlink;
  static constexpr std::string_view spec_name = "Tsymlink";
  fid_t fid{};
  std::string_view name{};
  std::string_view symtgt{};
  std::uint32_t gid{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("fid", s.fid);
    v("name", s.name);
    v("symtgt", s.symtgt);
    v("gid", s.gid);
  }
  bool operator==(const Tsymlink&) const = default;
};

/// size[4] Rsymlink tag[2] qid[13]
struct Rsymlink {
  static constexpr msg_type type = msg_type::Rsymlink;
  static constexpr std::string_view spec_name = "Rsymlink";
  wire::qid qid{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("qid", s.qid);
  }
  bool operator==(const Rsymlink&) const = default;
};

/// size[4] Tmknod tag[2] dfid[4] name[s] mode[4] major[4] minor[4] gid[4]
struct Tmknod {
  static constexpr msg_type type = msg_type::Tmknod;
  static constexpr std::string_view spec_name = "Tmknod";
  fid_t dfid{};
  std::string_view name{};
  std::uint32_t mode{};
  std::uint32_t major{};
  std::uint32_t minor{};
  std::uint32_t gid{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("dfid", s.dfid);
    v("name", s.name);
    v("mode", s.mode);
    v("major", s.major);
    v("minor", s.minor);
    v("gid", s.gid);
  }
  bool operator==(const Tmknod&) const = default;
};

/// size[4] Rmknod tag[2] qid[13]
struct Rmknod {
  static constexpr msg_type type = msg_type::Rmknod;
  static constexpr std::string_view spec_name = "Rmknod";
  wire::qid qid{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("qid", s.qid);
  }
  bool operator==(const Rmknod&) const = default;
};

/// size[4] Trename tag[2] fid[4] dfid[4] name[s]
struct Trename {
  static constexpr msg_type type = msg_type::Trename;
  static constexpr std::string_view spec_name = "Trename";
  fid_t fid{};
  fid_t dfid{};
  std::string_view name{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("fid", s.fid);
    v("dfid", s.dfid);
    v("name", s.name);
  }
  bool operator==(const Trename&) const = default;
};

/// size[4] Rrename tag[2]
struct Rrename {
  static constexpr msg_type type = msg_type::Rrename;
  static constexpr std::string_view spec_name = "Rrename";
  template <class S, class V>
  static void fields(S&, V&) {}
  bool operator==(const Rrename&) const = default;
};

/// size[4] Treadlink tag[2] fid[4]
struct Treadlink {
  static constexpr msg_type type = msg_type::Treadlink;
  static constexpr std::string_view spec_name = "Treadlink";
  fid_t fid{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("fid", s.fid);
  }
  bool operator==(const Treadlink&) const = default;
};

/// size[4] Rreadlink tag[2] target[s]
struct Rreadlink {
  static constexpr msg_type type = msg_type::Rreadlink;
  static constexpr std::string_view spec_name = "Rreadlink";
  std::string_view target{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("target", s.target);
  }
  bool operator==(const Rreadlink&) const = default;
};

/// size[4] Tgetattr tag[2] fid[4] request_mask[8]
struct Tgetattr {
  static constexpr msg_type type = msg_type::Tgetattr;
  static constexpr std::string_view spec_name = "Tgetattr";
  fid_t fid{};
  std::uint64_t request_mask{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("fid", s.fid);
    v("request_mask", s.request_mask);
  }
  bool operator==(const Tgetattr&) const = default;
};

/// size[4] Rgetattr tag[2] valid[8] qid[13] mode[4] uid[4] gid[4] nlink[8] rdev[8] size[8]
/// blksize[8] blocks[8] atime_sec[8] atime_nsec[8] mtime_sec[8] mtime_nsec[8] ctime_sec[8]
/// ctime_nsec[8] btime_sec[8] btime_nsec[8] gen[8] data_version[8]
struct Rgetattr {
  static constexpr msg_type type = msg_type::Rgetattr;
  static constexpr std::string_view spec_name = "Rgetattr";
  std::uint64_t valid{};
  wire::qid qid{};
  std::uint32_t mode{};
  std::uint32_t uid{};
  std::uint32_t gid{};
  std::uint64_t nlink{};
  std::uint64_t rdev{};
  std::uint64_t size{};
  std::uint64_t blksize{};
  std::uint64_t blocks{};
  std::uint64_t atime_sec{};
  std::uint64_t atime_nsec{};
  std::uint64_t mtime_sec{};
  std::uint64_t mtime_nsec{};
  std::uint64_t ctime_sec{};
  std::uint64_t ctime_nsec{};
  std::uint64_t btime_sec{};
  std::uint64_t btime_nsec{};
  std::uint64_t gen{};
  std::uint64_t data_version{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("valid", s.valid);
    v("qid", s.qid);
    v("mode", s.mode);
    v("uid", s.uid);
    v("gid", s.gid);
    v("nlink", s.nlink);
    v("rdev", s.rdev);
    v("size", s.size);
    v("blksize", s.blksize);
    v("blocks", s.blocks);
    v("atime_sec", s.atime_sec);
    v("atime_nsec", s.atime_nsec);
    v("mtime_sec", s.mtime_sec);
    v("mtime_nsec", s.mtime_nsec);
    v("ctime_sec", s.ctime_sec);
    v("ctime_nsec", s.ctime_nsec);
    v("btime_sec", s.btime_sec);
    v("btime_nsec", s.btime_nsec);
    v("gen", s.gen);
    v("data_version", s.data_version);
  }
  bool operator==(const Rgetattr&) const = default;
};

/// size[4] Tsetattr tag[2] fid[4] valid[4] mode[4] uid[4] gid[4] size[8] atime_sec[8] atime_nsec[8]
/// mtime_sec[8] mtime_nsec[8]
struct Tsetattr {
  static constexpr msg_type type = msg_type::Tsetattr;
  static constexpr std::string_view spec_name = "Tsetattr";
  fid_t fid{};
  std::uint32_t valid{};
  std::uint32_t mode{};
  std::uint32_t uid{};
  std::uint32_t gid{};
  std::uint64_t size{};
  std::uint64_t atime_sec{};
  std::uint64_t atime_nsec{};
  std::uint64_t mtime_sec{};
  std::uint64_t mtime_nsec{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("fid", s.fid);
    v("valid", s.valid);
    v("mode", s.mode);
    v("uid", s.uid);
    v("gid", s.gid);
    v("size", s.size);
    v("atime_sec", s.atime_sec);
    v("atime_nsec", s.atime_nsec);
    v("mtime_sec", s.mtime_sec);
    v("mtime_nsec", s.mtime_nsec);
  }
  bool operator==(const Tsetattr&) const = default;
};

/// size[4] Rsetattr tag[2]
struct Rsetattr {
  static constexpr msg_type type = msg_type::Rsetattr;
  static constexpr std::string_view spec_name = "Rsetattr";
  template <class S, class V>
  static void fields(S&, V&) {}
  bool operator==(const Rsetattr&) const = default;
};

/// size[4] Txattrwalk tag[2] fid[4] newfid[4] name[s]
struct Txattrwalk {
  static constexpr msg_type type = msg_type::Txattrwalk;
  static constexpr std::string_view spec_name = "Txattrwalk";
  fid_t fid{};
  fid_t newfid{};
  std::string_view name{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("fid", s.fid);
    v("newfid", s.newfid);
    v("name", s.name);
  }
  bool operator==(const Txattrwalk&) const = default;
};

/// size[4] Rxattrwalk tag[2] size[8]
struct Rxattrwalk {
  static constexpr msg_type type = msg_type::Rxattrwalk;
  static constexpr std::string_view spec_name = "Rxattrwalk";
  std::uint64_t size{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("size", s.size);
  }
  bool operator==(const Rxattrwalk&) const = default;
};

/// size[4] Txattrcreate tag[2] fid[4] name[s] attr_size[8] flags[4]
struct Txattrcreate {
  static constexpr msg_type type = msg_type::Txattrcreate;
  static constexpr std::string_view spec_name = "Txattrcreate";
  fid_t fid{};
  std::string_view name{};
  std::uint64_t attr_size{};
  std::uint32_t flags{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("fid", s.fid);
    v("name", s.name);
    v("attr_size", s.attr_size);
    v("flags", s.flags);
  }
  bool operator==(const Txattrcreate&) const = default;
};

/// size[4] Rxattrcreate tag[2]
struct Rxattrcreate {
  static constexpr msg_type type = msg_type::Rxattrcreate;
  static constexpr std::string_view spec_name = "Rxattrcreate";
  template <class S, class V>
  static void fields(S&, V&) {}
  bool operator==(const Rxattrcreate&) const = default;
};

/// size[4] Treaddir tag[2] fid[4] offset[8] count[4]
struct Treaddir {
  static constexpr msg_type type = msg_type::Treaddir;
  static constexpr std::string_view spec_name = "Treaddir";
  fid_t fid{};
  std::uint64_t offset{};
  std::uint32_t count{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("fid", s.fid);
    v("offset", s.offset);
    v("count", s.count);
  }
  bool operator==(const Treaddir&) const = default;
};

/// size[4] Rreaddir tag[2] count[4] data[count]  (data: whole dirents, checked by decode())
struct Rreaddir {
  static constexpr msg_type type = msg_type::Rreaddir;
  static constexpr std::string_view spec_name = "Rreaddir";
  payload data{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("count", s.data);
  }
  bool operator==(const Rreaddir&) const = default;
};

/// size[4] Tfsync tag[2] fid[4] datasync[4]
struct Tfsync {
  static constexpr msg_type type = msg_type::Tfsync;
  static constexpr std::string_view spec_name = "Tfsync";
  fid_t fid{};
  std::uint32_t datasync{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("fid", s.fid);
    v("datasync", s.datasync);
  }
  bool operator==(const Tfsync&) const = default;
};

/// size[4] Rfsync tag[2]
struct Rfsync {
  static constexpr msg_type type = msg_type::Rfsync;
  static constexpr std::string_view spec_name = "Rfsync";
  template <class S, class V>
  static void fields(S&, V&) {}
  bool operator==(const Rfsync&) const = default;
};

/// size[4] Tlock tag[2] fid[4] type[1] flags[4] start[8] length[8] proc_id[4] client_id[s]
struct Tlock {
  static constexpr msg_type type = msg_type::Tlock;
  static constexpr std::string_view spec_name = "Tlock";
  fid_t fid{};
  std::uint8_t locktype{};
  std::uint32_t flags{};
  std::uint64_t start{};
  std::uint64_t length{};
  std::uint32_t proc_id{};
  std::string_view client_id{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("fid", s.fid);
    v("type", s.locktype);
    v("flags", s.flags);
    v("start", s.start);
    v("length", s.length);
    v("proc_id", s.proc_id);
    v("client_id", s.client_id);
  }
  bool operator==(const Tlock&) const = default;
};

/// size[4] Rlock tag[2] status[1]
struct Rlock {
  static constexpr msg_type type = msg_type::Rlock;
  static constexpr std::string_view spec_name = "Rlock";
  std::uint8_t status{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("status", s.status);
  }
  bool operator==(const Rlock&) const = default;
};

/// size[4] Tgetlock tag[2] fid[4] type[1] start[8] length[8] proc_id[4] client_id[s]
struct Tgetlock {
  static constexpr msg_type type = msg_type::Tgetlock;
  static constexpr std::string_view spec_name = "Tgetlock";
  fid_t fid{};
  std::uint8_t locktype{};
  std::uint64_t start{};
  std::uint64_t length{};
  std::uint32_t proc_id{};
  std::string_view client_id{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("fid", s.fid);
    v("type", s.locktype);
    v("start", s.start);
    v("length", s.length);
    v("proc_id", s.proc_id);
    v("client_id", s.client_id);
  }
  bool operator==(const Tgetlock&) const = default;
};

/// size[4] Rgetlock tag[2] type[1] start[8] length[8] proc_id[4] client_id[s]
struct Rgetlock {
  static constexpr msg_type type = msg_type::Rgetlock;
  static constexpr std::string_view spec_name = "Rgetlock";
  std::uint8_t locktype{};
  std::uint64_t start{};
  std::uint64_t length{};
  std::uint32_t proc_id{};
  std::string_view client_id{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("type", s.locktype);
    v("start", s.start);
    v("length", s.length);
    v("proc_id", s.proc_id);
    v("client_id", s.client_id);
  }
  bool operator==(const Rgetlock&) const = default;
};

/// size[4] Tlink tag[2] dfid[4] fid[4] name[s]
struct Tlink {
  static constexpr msg_type type = msg_type::Tlink;
  static constexpr std::string_view spec_name = "Tlink";
  fid_t dfid{};
  fid_t fid{};
  std::string_view name{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("dfid", s.dfid);
    v("fid", s.fid);
    v("name", s.name);
  }
  bool operator==(const Tlink&) const = default;
};

/// size[4] Rlink tag[2]
struct Rlink {
  static constexpr msg_type type = msg_type::Rlink;
  static constexpr std::string_view spec_name = "Rlink";
  template <class S, class V>
  static void fields(S&, V&) {}
  bool operator==(const Rlink&) const = default;
};

/// size[4] Tmkdir tag[2] dfid[4] name[s] mode[4] gid[4]
struct Tmkdir {
  static constexpr msg_type type = msg_type::Tmkdir;
  static constexpr std::string_view spec_name = "Tmkdir";
  fid_t dfid{};
  std::string_view name{};
  std::uint32_t mode{};
  std::uint32_t gid{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("dfid", s.dfid);
    v("name", s.name);
    v("mode", s.mode);
    v("gid", s.gid);
  }
  bool operator==(const Tmkdir&) const = default;
};

/// size[4] Rmkdir tag[2] qid[13]
struct Rmkdir {
  static constexpr msg_type type = msg_type::Rmkdir;
  static constexpr std::string_view spec_name = "Rmkdir";
  wire::qid qid{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("qid", s.qid);
  }
  bool operator==(const Rmkdir&) const = default;
};

/// size[4] Trenameat tag[2] olddirfid[4] oldname[s] newdirfid[4] newname[s]
struct Trenameat {
  static constexpr msg_type type = msg_type::Trenameat;
  static constexpr std::string_view spec_name = "Trenameat";
  fid_t olddirfid{};
  std::string_view oldname{};
  fid_t newdirfid{};
  std::string_view newname{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("olddirfid", s.olddirfid);
    v("oldname", s.oldname);
    v("newdirfid", s.newdirfid);
    v("newname", s.newname);
  }
  bool operator==(const Trenameat&) const = default;
};

/// size[4] Rrenameat tag[2]
struct Rrenameat {
  static constexpr msg_type type = msg_type::Rrenameat;
  static constexpr std::string_view spec_name = "Rrenameat";
  template <class S, class V>
  static void fields(S&, V&) {}
  bool operator==(const Rrenameat&) const = default;
};

/// size[4] Tunlinkat tag[2] dirfid[4] name[s] flags[4]
struct Tunlinkat {
  static constexpr msg_type type = msg_type::Tunlinkat;
  static constexpr std::string_view spec_name = "Tunlinkat";
  fid_t dirfid{};
  std::string_view name{};
  std::uint32_t flags{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("dirfid", s.dirfid);
    v("name", s.name);
    v("flags", s.flags);
  }
  bool operator==(const Tunlinkat&) const = default;
};

/// size[4] Runlinkat tag[2]
struct Runlinkat {
  static constexpr msg_type type = msg_type::Runlinkat;
  static constexpr std::string_view spec_name = "Runlinkat";
  template <class S, class V>
  static void fields(S&, V&) {}
  bool operator==(const Runlinkat&) const = default;
};

/// size[4] Tversion tag[2] msize[4] version[s]
struct Tversion {
  static constexpr msg_type type = msg_type::Tversion;
  static constexpr std::string_view spec_name = "Tversion";
  std::uint32_t msize{};
  std::string_view version{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("msize", s.msize);
    v("version", s.version);
  }
  bool operator==(const Tversion&) const = default;
};

/// size[4] Rversion tag[2] msize[4] version[s]
struct Rversion {
  static constexpr msg_type type = msg_type::Rversion;
  static constexpr std::string_view spec_name = "Rversion";
  std::uint32_t msize{};
  std::string_view version{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("msize", s.msize);
    v("version", s.version);
  }
  bool operator==(const Rversion&) const = default;
};

/// size[4] Tauth tag[2] afid[4] uname[s] aname[s] (.u/.L: n_uname[4])
struct Tauth {
  static constexpr msg_type type = msg_type::Tauth;
  static constexpr std::string_view spec_name = "Tauth";
  fid_t afid{};
  std::string_view uname{};
  std::string_view aname{};
  std::uint32_t n_uname{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("afid", s.afid);
    v("uname", s.uname);
    v("aname", s.aname);
    if (v.dialect() != dialect::v2000) v("n_uname", s.n_uname);
  }
  bool operator==(const Tauth&) const = default;
};

/// size[4] Rauth tag[2] aqid[13]
struct Rauth {
  static constexpr msg_type type = msg_type::Rauth;
  static constexpr std::string_view spec_name = "Rauth";
  wire::qid aqid{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("aqid", s.aqid);
  }
  bool operator==(const Rauth&) const = default;
};

/// size[4] Tattach tag[2] fid[4] afid[4] uname[s] aname[s] (.u/.L: n_uname[4])
struct Tattach {
  static constexpr msg_type type = msg_type::Tattach;
  static constexpr std::string_view spec_name = "Tattach";
  fid_t fid{};
  fid_t afid{};
  std::string_view uname{};
  std::string_view aname{};
  std::uint32_t n_uname{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("fid", s.fid);
    v("afid", s.afid);
    v("uname", s.uname);
    v("aname", s.aname);
    if (v.dialect() != dialect::v2000) v("n_uname", s.n_uname);
  }
  bool operator==(const Tattach&) const = default;
};

/// size[4] Rattach tag[2] qid[13]
struct Rattach {
  static constexpr msg_type type = msg_type::Rattach;
  static constexpr std::string_view spec_name = "Rattach";
  wire::qid qid{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("qid", s.qid);
  }
  bool operator==(const Rattach&) const = default;
};

/// size[4] Rerror tag[2] ename[s] (.u: errno[4]); in 9P2000.L, where it is a peer quirk
/// (tolerated()), size[4] Rerror tag[2] errno[4], as the Linux kernel reads it.
struct Rerror {
  static constexpr msg_type type = msg_type::Rerror;
  static constexpr std::string_view spec_name = "Rerror";
  std::string_view ename{};
  std::uint32_t errnum{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    if (v.dialect() != dialect::v2000L) v("ename", s.ename);
    if (v.dialect() != dialect::v2000) v("errno", s.errnum);
  }
  bool operator==(const Rerror&) const = default;
};

/// size[4] Tflush tag[2] oldtag[2]
struct Tflush {
  static constexpr msg_type type = msg_type::Tflush;
  static constexpr std::string_view spec_name = "Tflush";
  tag_t oldtag{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("oldtag", s.oldtag);
  }
  bool operator==(const Tflush&) const = default;
};

/// size[4] Rflush tag[2]
struct Rflush {
  static constexpr msg_type type = msg_type::Rflush;
  static constexpr std::string_view spec_name = "Rflush";
  template <class S, class V>
  static void fields(S&, V&) {}
  bool operator==(const Rflush&) const = default;
};

/// size[4] Twalk tag[2] fid[4] newfid[4] nwname[2] nwname*(wname[s])
struct Twalk {
  static constexpr msg_type type = msg_type::Twalk;
  static constexpr std::string_view spec_name = "Twalk";
  fid_t fid{};
  fid_t newfid{};
  bounded_array<std::string_view, max_welem> wnames{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("fid", s.fid);
    v("newfid", s.newfid);
    v("nwname", s.wnames);
  }
  bool operator==(const Twalk&) const = default;
};

/// size[4] Rwalk tag[2] nwqid[2] nwqid*(qid[13])
struct Rwalk {
  static constexpr msg_type type = msg_type::Rwalk;
  static constexpr std::string_view spec_name = "Rwalk";
  bounded_array<wire::qid, max_welem> qids{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("nwqid", s.qids);
  }
  bool operator==(const Rwalk&) const = default;
};

/// size[4] Topen tag[2] fid[4] mode[1]
struct Topen {
  static constexpr msg_type type = msg_type::Topen;
  static constexpr std::string_view spec_name = "Topen";
  fid_t fid{};
  std::uint8_t mode{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("fid", s.fid);
    v("mode", s.mode);
  }
  bool operator==(const Topen&) const = default;
};

/// size[4] Ropen tag[2] qid[13] iounit[4]
struct Ropen {
  static constexpr msg_type type = msg_type::Ropen;
  static constexpr std::string_view spec_name = "Ropen";
  wire::qid qid{};
  std::uint32_t iounit{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("qid", s.qid);
    v("iounit", s.iounit);
  }
  bool operator==(const Ropen&) const = default;
};

/// size[4] Tcreate tag[2] fid[4] name[s] perm[4] mode[1] (.u: extension[s])
struct Tcreate {
  static constexpr msg_type type = msg_type::Tcreate;
  static constexpr std::string_view spec_name = "Tcreate";
  fid_t fid{};
  std::string_view name{};
  std::uint32_t perm{};
  std::uint8_t mode{};
  std::string_view extension{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("fid", s.fid);
    v("name", s.name);
    v("perm", s.perm);
    v("mode", s.mode);
    if (v.dialect() == dialect::v2000u) v("extension", s.extension);
  }
  bool operator==(const Tcreate&) const = default;
};

/// size[4] Rcreate tag[2] qid[13] iounit[4]
struct Rcreate {
  static constexpr msg_type type = msg_type::Rcreate;
  static constexpr std::string_view spec_name = "Rcreate";
  wire::qid qid{};
  std::uint32_t iounit{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("qid", s.qid);
    v("iounit", s.iounit);
  }
  bool operator==(const Rcreate&) const = default;
};

/// size[4] Tread tag[2] fid[4] offset[8] count[4]
struct Tread {
  static constexpr msg_type type = msg_type::Tread;
  static constexpr std::string_view spec_name = "Tread";
  fid_t fid{};
  std::uint64_t offset{};
  std::uint32_t count{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("fid", s.fid);
    v("offset", s.offset);
    v("count", s.count);
  }
  bool operator==(const Tread&) const = default;
};

/// size[4] Rread tag[2] count[4] data[count]
struct Rread {
  static constexpr msg_type type = msg_type::Rread;
  static constexpr std::string_view spec_name = "Rread";
  payload data{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("count", s.data);
  }
  bool operator==(const Rread&) const = default;
};

/// size[4] Twrite tag[2] fid[4] offset[8] count[4] data[count]
struct Twrite {
  static constexpr msg_type type = msg_type::Twrite;
  static constexpr std::string_view spec_name = "Twrite";
  fid_t fid{};
  std::uint64_t offset{};
  payload data{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("fid", s.fid);
    v("offset", s.offset);
    v("count", s.data);
  }
  bool operator==(const Twrite&) const = default;
};

/// size[4] Rwrite tag[2] count[4]
struct Rwrite {
  static constexpr msg_type type = msg_type::Rwrite;
  static constexpr std::string_view spec_name = "Rwrite";
  std::uint32_t count{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("count", s.count);
  }
  bool operator==(const Rwrite&) const = default;
};

/// size[4] Tclunk tag[2] fid[4]
struct Tclunk {
  static constexpr msg_type type = msg_type::Tclunk;
  static constexpr std::string_view spec_name = "Tclunk";
  fid_t fid{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("fid", s.fid);
  }
  bool operator==(const Tclunk&) const = default;
};

/// size[4] Rclunk tag[2]
struct Rclunk {
  static constexpr msg_type type = msg_type::Rclunk;
  static constexpr std::string_view spec_name = "Rclunk";
  template <class S, class V>
  static void fields(S&, V&) {}
  bool operator==(const Rclunk&) const = default;
};

/// size[4] Tremove tag[2] fid[4]
struct Tremove {
  static constexpr msg_type type = msg_type::Tremove;
  static constexpr std::string_view spec_name = "Tremove";
  fid_t fid{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("fid", s.fid);
  }
  bool operator==(const Tremove&) const = default;
};

/// size[4] Rremove tag[2]
struct Rremove {
  static constexpr msg_type type = msg_type::Rremove;
  static constexpr std::string_view spec_name = "Rremove";
  template <class S, class V>
  static void fields(S&, V&) {}
  bool operator==(const Rremove&) const = default;
};

/// size[4] Tstat tag[2] fid[4]
struct Tstat {
  static constexpr msg_type type = msg_type::Tstat;
  static constexpr std::string_view spec_name = "Tstat";
  fid_t fid{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("fid", s.fid);
  }
  bool operator==(const Tstat&) const = default;
};

/// size[4] Rstat tag[2] n[2] stat[n]
struct Rstat {
  static constexpr msg_type type = msg_type::Rstat;
  static constexpr std::string_view spec_name = "Rstat";
  wire::stat stat{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("stat", s.stat);
  }
  bool operator==(const Rstat&) const = default;
};

/// size[4] Twstat tag[2] fid[4] n[2] stat[n]
struct Twstat {
  static constexpr msg_type type = msg_type::Twstat;
  static constexpr std::string_view spec_name = "Twstat";
  fid_t fid{};
  wire::stat stat{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("fid", s.fid);
    v("stat", s.stat);
  }
  bool operator==(const Twstat&) const = default;
};

/// size[4] Rwstat tag[2]
struct Rwstat {
  static constexpr msg_type type = msg_type::Rwstat;
  static constexpr std::string_view spec_name = "Rwstat";
  template <class S, class V>
  static void fields(S&, V&) {}
  bool operator==(const Rwstat&) const = default;
};

/// Any message; the index order is irrelevant, msg_type identifies it on the wire.
using message_body =
    std::variant<Rlerror, Tstatfs, Rstatfs, Tlopen, Rlopen, Tlcreate, Rlcreate, Tsymlink, Rsymlink,
                 Tmknod, Rmknod, Trename, Rrename, Treadlink, Rreadlink, Tgetattr, Rgetattr,
                 Tsetattr, Rsetattr, Txattrwalk, Rxattrwalk, Txattrcreate, Rxattrcreate, Treaddir,
                 Rreaddir, Tfsync, Rfsync, Tlock, Rlock, Tgetlock, Rgetlock, Tlink, Rlink, Tmkdir,
                 Rmkdir, Trenameat, Rrenameat, Tunlinkat, Runlinkat, Tversion, Rversion, Tauth,
                 Rauth, Tattach, Rattach, Rerror, Tflush, Rflush, Twalk, Rwalk, Topen, Ropen,
                 Tcreate, Rcreate, Tread, Rread, Twrite, Rwrite, Tclunk, Rclunk, Tremove, Rremove,
                 Tstat, Rstat, Twstat, Rwstat>;

/// One message: its tag and its body.
struct message {
  tag_t tag = notag;
  message_body body;
  bool operator==(const message&) const = default;
};

/// The wire type of a message body.
inline msg_type type_of(const message_body& b) noexcept {
  return std::visit([](const auto& m) { return std::decay_t<decltype(m)>::type; }, b);
}

/// The name of a message type ("Twalk"), or "" if `t` is not a 9P message type.
std::string_view type_name(std::uint8_t t) noexcept;

/// Whether `t` is a message outside dialect `d` that peers send anyway and decode() accepts:
/// Rerror in 9P2000.L, sent by NFS-Ganesha with an errno[4] body instead of Rlerror (the Linux
/// kernel reads it the same way). Never sent by ninep; `ninep trace` counts it as a peer quirk.
constexpr bool tolerated(std::uint8_t t, dialect d) noexcept {
  return t == 107 && d == dialect::v2000L;
}

/// Whether `t` is a message of dialect `d`. 9P2000.L replaces open, create, stat, wstat and
/// Rerror with its own messages; 9P2000 and 9P2000.u have none of the .L messages. Terror and
/// Tlerror are never valid.
constexpr bool in_dialect(std::uint8_t t, dialect d) noexcept {
  if (t == 6 || t == 106) return false;
  if (t >= 100 && t <= 127) {
    if (d != dialect::v2000L) return true;
    return !(t == 107 || (t >= 112 && t <= 115) || t >= 124);
  }
  if (d != dialect::v2000L) return false;
  switch (t) {
    case 7:
    case 8:
    case 9:
    case 12:
    case 13:
    case 14:
    case 15:
    case 16:
    case 17:
    case 18:
    case 19:
    case 20:
    case 21:
    case 22:
    case 23:
    case 24:
    case 25:
    case 26:
    case 27:
    case 30:
    case 31:
    case 32:
    case 33:
    case 40:
    case 41:
    case 50:
    case 51:
    case 52:
    case 53:
    case 54:
    case 55:
    case 70:
    case 71:
    case 72:
    case 73:
    case 74:
    case 75:
    case 76:
    case 77:
      return true;
    default:
      return false;
  }
}

}  // namespace ninep::wire
