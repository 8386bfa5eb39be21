// SPDX-License-Identifier: MIT
#pragma once

// Small POSIX helpers private to the local backend: an owning descriptor, /proc/self/fd paths.

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ninep/core/error.hpp>
#include <ninep/core/result.hpp>
#include <string_view>
#include <utility>

namespace ninep::fs::detail {

/// Owns one file descriptor; closes it on destruction. Move-only.
class unique_fd {
 public:
  unique_fd() noexcept = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& o) noexcept {
    if (this != &o) reset(std::exchange(o.fd_, -1));
    return *this;
  }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  /// Gives up ownership: the caller closes the returned descriptor.
  [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
  void reset(int fd = -1) noexcept {
    // close() errors are not actionable here: the descriptor is gone either way (Linux).
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

/// "/proc/self/fd/N": opening it reaches exactly the inode `fd` refers to, whatever its name
/// has become, so a symlink swapped in under the name cannot redirect the open.
class proc_path {
 public:
  explicit proc_path(int fd) noexcept { std::snprintf(buf_, sizeof buf_, "/proc/self/fd/%d", fd); }
  const char* c_str() const noexcept { return buf_; }

 private:
  char buf_[32];
};

/// The current errno as an error result.
inline tl::unexpected<std::error_code> fail_errno() noexcept { return fail(errno_code(errno)); }
/// `e` as an error result.
inline tl::unexpected<std::error_code> fail_with(int e) noexcept { return fail(errno_code(e)); }

/// Retries `f` while it fails with EINTR.
template <class F>
auto retry_eintr(F f) noexcept {
  for (;;) {
    auto r = f();
    if (r != -1 || errno != EINTR) return r;
  }
}

}  // namespace ninep::fs::detail
