// SPDX-License-Identifier: MIT
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace ninep::wire {

using tag_t = std::uint16_t;
using fid_t = std::uint32_t;

/// The tag of Tversion/Rversion.
inline constexpr tag_t notag = 0xffff;
/// "No fid", e.g. afid in Tattach without authentication.
inline constexpr fid_t nofid = 0xffffffff;
/// size[4] type[1] tag[2]
inline constexpr std::size_t header_size = 7;
/// Bytes of a Tread/Rread/Twrite header: a count of `msize - io_header_size` always fits.
/// Plan 9's IOHDRSZ; the largest is Twrite: size[4] type[1] tag[2] fid[4] offset[8] count[4],
/// 23 bytes, which Plan 9 rounds up to 24.
inline constexpr std::size_t io_header_size = 24;
/// Bytes of an Rread or Rreaddir before its data: size[4] type[1] tag[2] count[4].
inline constexpr std::uint32_t rread_header_size = 11;
/// "No numeric id": n_uname, n_gid and uid/gid fields without a value (9P2000.u/.L; 9P2000 has
/// only names). Also wstat(5)'s "don't touch" for a 32-bit stat field.
inline constexpr std::uint32_t no_id = 0xffffffff;
/// At most this many names in a Twalk and qids in an Rwalk (walk(5)).
inline constexpr std::size_t max_welem = 16;
/// The smallest msize the Linux client accepts.
inline constexpr std::uint32_t min_msize = 4096;

/// The three dialects of 9P. The codec is the only place that knows their differences.
enum class dialect : std::uint8_t {
  v2000,   ///< 9P2000 (Plan 9 intro(5))
  v2000u,  ///< 9P2000.u: numeric ids, errno in Rerror, stat extensions
  v2000L,  ///< 9P2000.L: Linux operations, Rlerror
};

/// Version string of a dialect: "9P2000", "9P2000.u" or "9P2000.L".
constexpr std::string_view version_string(dialect d) noexcept {
  switch (d) {
    case dialect::v2000u:
      return "9P2000.u";
    case dialect::v2000L:
      return "9P2000.L";
    default:
      return "9P2000";
  }
}

/// The dialect whose version string is exactly `version` ("9P2000", "9P2000.u", "9P2000.L").
constexpr std::optional<dialect> dialect_of(std::string_view version) noexcept {
  for (dialect d : {dialect::v2000, dialect::v2000u, dialect::v2000L})
    if (version == version_string(d)) return d;
  return std::nullopt;
}

/// A file name that a Twalk element, Tcreate or link may carry: not "", "." or "..", no '/' or NUL.
constexpr bool valid_name(std::string_view n) noexcept {
  return !n.empty() && n != "." && n != ".." && n.find('/') == std::string_view::npos &&
         n.find('\0') == std::string_view::npos;
}

/// qid.type bits (intro(5)).
namespace qt {
inline constexpr std::uint8_t dir = 0x80, append = 0x40, excl = 0x20, mount = 0x10, auth = 0x08,
                              tmp = 0x04, symlink = 0x02, link = 0x01, file = 0x00;
}  // namespace qt

/// qid[13]: type[1] version[4] path[8] — the server's unique identity of a file.
struct qid {
  std::uint8_t type = 0;
  std::uint32_t version = 0;
  std::uint64_t path = 0;
  bool operator==(const qid&) const = default;
};

/// A fixed-capacity array used for walk names and qids: decoding never allocates.
template <class T, std::size_t N>
class bounded_array {
 public:
  using value_type = T;
  static constexpr std::size_t capacity = N;

  constexpr bounded_array() = default;
  constexpr bounded_array(std::initializer_list<T> init) noexcept {
    for (const auto& v : init) push_back(v);
  }
  /// Appends `v`; returns false (and does nothing) when full.
  constexpr bool push_back(const T& v) noexcept {
    if (n_ == N) return false;
    items_[n_++] = v;
    return true;
  }
  constexpr void clear() noexcept { n_ = 0; }
  constexpr std::size_t size() const noexcept { return n_; }
  constexpr bool empty() const noexcept { return n_ == 0; }
  constexpr const T& operator[](std::size_t i) const noexcept { return items_[i]; }
  constexpr T& operator[](std::size_t i) noexcept { return items_[i]; }
  constexpr const T* begin() const noexcept { return items_.data(); }
  constexpr const T* end() const noexcept { return items_.data() + n_; }
  friend constexpr bool operator==(const bounded_array& a, const bounded_array& b) noexcept {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  std::array<T, N> items_{};
  std::size_t n_ = 0;
};

/// count[4] data[count]: a read/write payload. A view into the frame it was decoded from,
/// or into the caller's buffer when encoding; never owns.
struct payload {
  std::span<const std::byte> data;
  friend bool operator==(const payload& a, const payload& b) noexcept {
    return std::equal(a.data.begin(), a.data.end(), b.data.begin(), b.data.end());
  }
};

}  // namespace ninep::wire
