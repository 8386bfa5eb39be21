// SPDX-License-Identifier: MIT
// errors.hpp: the errno <-> string table and the error replies of each dialect.
#include <gtest/gtest.h>

#include <cerrno>
#include <future>
#include <ninep/core/error.hpp>
#include <ninep/wire/codec.hpp>
#include <ninep/wire/errors.hpp>

#include "wire_test_util.hpp"

namespace ninep::wire {
namespace {

// Every errno the table sends a string for.
constexpr int table_errnos[] = {
    EPERM,      ENOENT,    EIO,       ENXIO,  E2BIG,     EBADF,   EAGAIN,    ENOMEM,  EACCES,
    EFAULT,     EBUSY,     EEXIST,    EXDEV,  ENODEV,    ENOTDIR, EISDIR,    EINVAL,  EMFILE,
    ETXTBSY,    EFBIG,     ENOSPC,    ESPIPE, EROFS,     EMLINK,  ERANGE,    EDEADLK, ENAMETOOLONG,
    ENOLCK,     ENOSYS,    ENOTEMPTY, ELOOP,  ENODATA,   EPROTO,  EOVERFLOW, EILSEQ,  EOPNOTSUPP,
    ECONNRESET, ETIMEDOUT, ESTALE,    EDQUOT, ECANCELED, EINTR};

TEST(errors, table_round_trips_both_ways) {
  for (int e : table_errnos) {
    std::string_view s = error_string(e);
    EXPECT_FALSE(s.empty()) << e;
    EXPECT_EQ(errno_of_string(s), e) << e << " " << s;
  }
}

TEST(errors, strings_we_send) {
  EXPECT_EQ(error_string(ENOENT), "file does not exist");
  EXPECT_EQ(error_string(EACCES), "permission denied");
  EXPECT_EQ(error_string(EBADF), "unknown fid");
  EXPECT_EQ(error_string(ENOTEMPTY), "directory is not empty");
  // Not in the table: a fixed string, not strerror.
  EXPECT_EQ(error_string(9999), "i/o error");
  EXPECT_EQ(error_string(0), "i/o error");
  EXPECT_EQ(error_string(-1), "i/o error");
}

TEST(errors, spellings_we_accept) {
  EXPECT_EQ(errno_of_string("file not found"), ENOENT);
  EXPECT_EQ(errno_of_string("No such file or directory"), ENOENT);  // Linux strerror
  EXPECT_EQ(errno_of_string("FILE DOES NOT EXIST"), ENOENT);        // case-insensitive
  EXPECT_EQ(errno_of_string("Permission denied"), EACCES);
  EXPECT_EQ(errno_of_string("walk in non-directory"), ENOTDIR);
  EXPECT_EQ(errno_of_string("fid unknown or out of range"), EBADF);
  EXPECT_EQ(errno_of_string("something else"), EIO);
  EXPECT_EQ(errno_of_string(""), EIO);
  EXPECT_EQ(errno_of_string("file does not exist "), EIO);  // exact match only
  // Go servers: "op path: reason"; the part after the last ": " chooses the errno.
  EXPECT_EQ(errno_of_string("mkdir /srv/x/dir1: file exists"), EEXIST);
  EXPECT_EQ(errno_of_string("open a: b: permission denied"), EACCES);
  EXPECT_EQ(errno_of_string("open a: frobbed"), EIO);
}

TEST(errors, to_errno_of_generic_and_system) {
  EXPECT_EQ(to_errno({}), 0);
  EXPECT_EQ(to_errno(std::make_error_code(std::errc::no_such_file_or_directory)), ENOENT);
  EXPECT_EQ(to_errno(std::error_code(EROFS, std::system_category())), EROFS);
  EXPECT_EQ(to_errno(errno_code(ENOTDIR)), ENOTDIR);
  EXPECT_EQ(to_errno(std::error_code(-3, std::generic_category())), EIO);
  EXPECT_EQ(to_errno(std::make_error_code(std::future_errc::no_state)), EIO);
}

TEST(errors, to_errno_of_ninep_errc) {
  EXPECT_EQ(to_errno(errc::unknown_fid), EBADF);
  EXPECT_EQ(to_errno(errc::fid_in_use), EBADF);
  EXPECT_EQ(to_errno(errc::tag_in_use), EPROTO);
  EXPECT_EQ(to_errno(errc::buffer_too_small), EMSGSIZE);
  EXPECT_EQ(to_errno(errc::message_too_large), EMSGSIZE);
  EXPECT_EQ(to_errno(errc::connection_closed), ECONNRESET);
  EXPECT_EQ(to_errno(errc::cancelled), EINTR);
  EXPECT_EQ(to_errno(errc::bad_address), EINVAL);
  EXPECT_EQ(to_errno(errc::unsupported_version), EPROTONOSUPPORT);
  EXPECT_EQ(to_errno(errc::unknown_aname), ENOENT);
  for (errc e :
       {errc::need_more, errc::bad_size, errc::unknown_type, errc::field_overrun,
        errc::trailing_bytes, errc::too_many_elements, errc::bad_stat_size, errc::unexpected_reply})
    EXPECT_EQ(to_errno(e), EPROTO) << make_error_code(e).message();
  // Never 0 for an error.
  for (int v = 1; v <= static_cast<int>(errc::unknown_aname); ++v)
    EXPECT_NE(to_errno(make_error_code(static_cast<errc>(v))), 0) << v;
}

TEST(errors, error_reply_per_dialect) {
  auto ec = errno_code(ENOENT);
  auto l = error_reply(ec, dialect::v2000L);
  ASSERT_TRUE(std::holds_alternative<Rlerror>(l));
  EXPECT_EQ(std::get<Rlerror>(l).ecode, static_cast<std::uint32_t>(ENOENT));

  auto u = error_reply(ec, dialect::v2000u);
  ASSERT_TRUE(std::holds_alternative<Rerror>(u));
  EXPECT_EQ(std::get<Rerror>(u).ename, "file does not exist");
  EXPECT_EQ(std::get<Rerror>(u).errnum, static_cast<std::uint32_t>(ENOENT));

  auto p = error_reply(ec, dialect::v2000);
  ASSERT_TRUE(std::holds_alternative<Rerror>(p));
  EXPECT_EQ(std::get<Rerror>(p).ename, "file does not exist");
  // On the wire, 9P2000 carries the string only.
  message m{1, p};
  EXPECT_EQ(encoded_size(m, dialect::v2000), 7u + 2 + 19);

  auto fid = error_reply(errc::unknown_fid, dialect::v2000);
  EXPECT_EQ(std::get<Rerror>(fid).ename, "unknown fid");
  auto fid_l = error_reply(errc::unknown_fid, dialect::v2000L);
  EXPECT_EQ(std::get<Rlerror>(fid_l).ecode, static_cast<std::uint32_t>(EBADF));
}

TEST(errors, error_of) {
  EXPECT_EQ(error_of(Rlerror{ENOENT}), std::errc::no_such_file_or_directory);
  EXPECT_EQ(error_of(Rlerror{ENOENT}).category(), std::generic_category());
  EXPECT_EQ(error_of(Rerror{"whatever", EACCES}), std::errc::permission_denied);
  EXPECT_EQ(error_of(Rerror{"file does not exist"}), std::errc::no_such_file_or_directory);
  EXPECT_EQ(error_of(Rerror{"not a known string"}), std::errc::io_error);
  EXPECT_FALSE(error_of(Rwalk{}));
  EXPECT_FALSE(error_of(Tversion{}));
}

// Regression: an Rlerror with ecode 0 (or an Rerror with a bogus errno) gave an empty
// error_code, i.e. "success", for an error reply.
TEST(errors, error_of_an_error_reply_is_never_success) {
  EXPECT_EQ(error_of(Rlerror{0}), std::errc::io_error);
  EXPECT_EQ(error_of(Rlerror{0x80000000u}), std::errc::io_error);
  EXPECT_EQ(error_of(Rerror{"", 0xffffffffu}), std::errc::io_error);
  EXPECT_TRUE(error_of(Rerror{}));
}

TEST(errors, reply_and_back) {
  for (dialect d : test::all_dialects)
    for (int e : table_errnos) EXPECT_EQ(error_of(error_reply(errno_code(e), d)).value(), e);
}

TEST(errors, error_text_of_keeps_only_unknown_strings) {
  EXPECT_EQ(error_text_of(Rerror{"mkdir /x: file exists", 0}), "mkdir /x: file exists");
  EXPECT_EQ(error_text_of(Rerror{"something else", 5}), "something else");
  EXPECT_EQ(error_text_of(Rerror{"file does not exist", 0}), "");
  EXPECT_EQ(error_text_of(Rerror{"", 0}), "");
  EXPECT_EQ(error_text_of(Rlerror{2}), "");
  EXPECT_EQ(error_text_of(Rclunk{}), "");
}

}  // namespace
}  // namespace ninep::wire
