// SPDX-License-Identifier: MIT
#include <cerrno>
#include <ninep/core/error.hpp>
#include <ninep/wire/errors.hpp>

namespace ninep::wire {
namespace {

struct entry {
  int err;
  std::string_view text;
};

// The first entry for an errno is the string we send; later ones are spellings we accept from
// peers (Plan 9 kernel, lib9p, diod, Linux strerror).
constexpr entry table[] = {
    {EPERM, "operation not permitted"},
    {ENOENT, "file does not exist"},
    {ENOENT, "file not found"},
    {ENOENT, "No such file or directory"},
    {EIO, "i/o error"},
    {ENXIO, "no such device or address"},
    {E2BIG, "argument list too long"},
    {EBADF, "unknown fid"},
    {EBADF, "fid unknown or out of range"},
    {EAGAIN, "resource temporarily unavailable"},
    {ENOMEM, "out of memory"},
    {EACCES, "permission denied"},
    {EACCES, "Permission denied"},
    {EFAULT, "bad address"},
    {EBUSY, "device or resource busy"},
    {EEXIST, "file already exists"},
    {EEXIST, "File exists"},
    {EXDEV, "cross-device link"},
    {ENODEV, "no such device"},
    {ENOTDIR, "not a directory"},
    {ENOTDIR, "walk in non-directory"},
    {EISDIR, "is a directory"},
    {EINVAL, "invalid argument"},
    {EINVAL, "bad arg in system call"},
    {EINVAL, "bad offset"},
    {EINVAL, "bad count"},
    {EMFILE, "too many open files"},
    {ETXTBSY, "text file busy"},
    {EFBIG, "file too large"},
    {ENOSPC, "no space left on device"},
    {ENOSPC, "file system full"},
    {ESPIPE, "illegal seek"},
    {EROFS, "read-only file system"},
    {EMLINK, "too many links"},
    {ERANGE, "result too large"},
    {EDEADLK, "resource deadlock avoided"},
    {ENAMETOOLONG, "file name too long"},
    {ENOLCK, "no locks available"},
    {ENOSYS, "function not implemented"},
    {ENOTEMPTY, "directory is not empty"},
    {ENOTEMPTY, "directory not empty"},
    {ELOOP, "too many levels of symbolic links"},
    {ENODATA, "no data available"},
    {EPROTO, "9P protocol botch"},
    {EPROTO, "protocol error"},
    {EOVERFLOW, "value too large for defined data type"},
    {EILSEQ, "invalid or incomplete multibyte or wide character"},
    {EOPNOTSUPP, "operation not supported"},
    {EOPNOTSUPP, "not supported"},
    {ECONNRESET, "connection reset by peer"},
    {ETIMEDOUT, "connection timed out"},
    {ESTALE, "stale file handle"},
    {EDQUOT, "disk quota exceeded"},
    {ECANCELED, "operation canceled"},
    {EINTR, "interrupted"},
    {EINTR, "interrupted system call"},
};

bool iequal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

std::string_view error_string(int e) noexcept {
  for (const auto& t : table)
    if (t.err == e) return t.text;
  return "i/o error";
}

namespace {

int exact_errno(std::string_view s) noexcept {
  for (const auto& t : table)
    if (iequal(t.text, s)) return t.err;
  return 0;
}

}  // namespace

int errno_of_string(std::string_view s) noexcept {
  if (int e = exact_errno(s)) return e;
  // Go servers (go-p9p, styx) send os errors: "mkdir /srv/x/dir1: file exists".
  if (auto colon = s.rfind(": "); colon != std::string_view::npos)
    if (int e = exact_errno(s.substr(colon + 2))) return e;
  return EIO;
}

std::string_view error_text_of(const message_body& b) noexcept {
  const auto* r = std::get_if<Rerror>(&b);
  if (r == nullptr || r->ename.empty() || exact_errno(r->ename) != 0) return {};
  return r->ename;
}

int to_errno(std::error_code ec) noexcept {
  if (!ec) return 0;
  if (ec.category() == std::generic_category() || ec.category() == std::system_category())
    return ec.value() > 0 ? ec.value() : EIO;
  if (ec.category() == ninep_category()) {
    switch (static_cast<errc>(ec.value())) {
      case errc::unknown_fid:
        return EBADF;
      case errc::fid_in_use:
        return EBADF;
      case errc::tag_in_use:
        return EPROTO;
      case errc::buffer_too_small:
      case errc::message_too_large:
        return EMSGSIZE;
      case errc::connection_closed:
        return ECONNRESET;
      case errc::cancelled:
        return EINTR;
      case errc::bad_address:
        return EINVAL;
      case errc::unknown_aname:
        return ENOENT;
      case errc::unsupported_version:
        return EPROTONOSUPPORT;
      default:
        return EPROTO;
    }
  }
  return EIO;
}

message_body error_reply(std::error_code ec, dialect d) noexcept {
  int e = to_errno(ec);
  if (d == dialect::v2000L) return Rlerror{static_cast<std::uint32_t>(e)};
  Rerror r;
  r.ename = error_string(e);
  r.errnum = static_cast<std::uint32_t>(e);  // encoded only in 9P2000.u
  return r;
}

namespace {

// An error reply is never success: errno 0, or one no errno can be, reads as EIO.
std::error_code errno_or_eio(std::uint32_t e) noexcept {
  constexpr std::uint32_t max_errno = 4095;  // Linux MAX_ERRNO
  return errno_code(e == 0 || e > max_errno ? EIO : static_cast<int>(e));
}

}  // namespace

std::error_code error_of(const message_body& b) noexcept {
  if (const auto* l = std::get_if<Rlerror>(&b)) return errno_or_eio(l->ecode);
  if (const auto* r = std::get_if<Rerror>(&b)) {
    // 9P2000.u carries errno; 0 there (and all of 9P2000) means "use the string".
    if (r->errnum != 0) return errno_or_eio(r->errnum);
    return errno_code(errno_of_string(r->ename));
  }
  return {};
}

}  // namespace ninep::wire
