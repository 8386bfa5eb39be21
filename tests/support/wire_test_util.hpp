// SPDX-License-Identifier: MIT
// Test helpers for the wire layer: hex bytes, per-type iteration, random messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <fstream>
#include <iterator>
#include <ninep/wire/codec.hpp>
#include <ninep/wire/messages.hpp>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ninep::test {

using bytes = std::vector<std::byte>;

/// Parses hex text, ignoring whitespace: "0b00 0000" -> {0x0b, 0, 0, 0}. Throws on bad input.
inline bytes from_hex(std::string_view hex) {
  bytes out;
  int hi = -1;
  for (char c : hex) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') continue;
    int v = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (v < 0) throw std::invalid_argument("bad hex digit");
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<std::byte>(hi << 4 | v));
      hi = -1;
    }
  }
  if (hi >= 0) throw std::invalid_argument("odd number of hex digits");
  return out;
}

/// "0b 00 00 00 ...": bytes as spaced lowercase hex, for failure messages.
inline std::string to_hex(std::span<const std::byte> b) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i) s += ' ';
    auto v = std::to_integer<unsigned>(b[i]);
    s += digits[v >> 4];
    s += digits[v & 15];
  }
  return s;
}

/// Bytes that live until the end of the test program (messages borrow; this is the lender).
inline std::span<const std::byte> keep(bytes b) {
  static std::deque<bytes> store;
  return store.emplace_back(std::move(b));
}
inline std::span<const std::byte> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

/// A whole file's bytes. Throws if it cannot be read.
inline bytes read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path);
  std::vector<char> c((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  bytes out(c.size());
  for (std::size_t i = 0; i < c.size(); ++i) out[i] = static_cast<std::byte>(c[i]);
  return out;
}

/// Splits a capture (frames back to back) into frames by their size[4]. Throws if it does not
/// split exactly.
inline std::vector<std::span<const std::byte>> split_frames(std::span<const std::byte> all) {
  std::vector<std::span<const std::byte>> out;
  while (!all.empty()) {
    auto h = wire::decode_header(all, UINT32_MAX);
    if (!h || h->size > all.size()) throw std::runtime_error("capture does not split into frames");
    out.push_back(all.first(h->size));
    all = all.subspan(h->size);
  }
  return out;
}

/// Calls f.template operator()<M>() for every message type M.
template <class F>
void for_each_type(F&& f) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (f.template operator()<std::variant_alternative_t<I, wire::message_body>>(), ...);
  }
  (std::make_index_sequence<std::variant_size_v<wire::message_body>>{});
}

inline constexpr wire::dialect all_dialects[] = {wire::dialect::v2000, wire::dialect::v2000u,
                                                 wire::dialect::v2000L};

/// Fills every field a dialect encodes with random values. Strings and payloads are views into
/// a pool of random bytes (every byte value, NUL included), so they live as long as the filler.
class random_filler {
 public:
  random_filler(std::uint64_t seed, wire::dialect d) : rng_(seed), d_(d), pool_(8192) {
    for (auto& b : pool_) b = static_cast<std::byte>(rng_());
  }
  wire::dialect dialect() const noexcept { return d_; }
  std::mt19937_64& rng() noexcept { return rng_; }

  template <class T>
  requires std::is_integral_v<T>
  void operator()(const char*, T& v) {
    // Edge values often, random ones otherwise.
    switch (rng_() % 4) {
      case 0:
        v = 0;
        break;
      case 1:
        v = static_cast<T>(~T{});
        break;
      default:
        v = static_cast<T>(rng_());
    }
  }
  void operator()(const char*, wire::qid& q) {
    (*this)("", q.type), (*this)("", q.version), (*this)("", q.path);
  }
  void operator()(const char*, std::string_view& s) {
    auto b = span(rng_() % 3 == 0 ? 0 : rng_() % 64);
    s = {reinterpret_cast<const char*>(b.data()), b.size()};
  }
  void operator()(const char*, wire::payload& p) { p.data = span(rng_() % 512); }
  template <class T, std::size_t N>
  void operator()(const char*, wire::bounded_array<T, N>& a) {
    a.clear();
    std::size_t n = rng_() % (N + 1);
    for (std::size_t i = 0; i < n; ++i) {
      T v{};
      (*this)("", v);
      a.push_back(v);
    }
  }
  void operator()(const char*, wire::stat& s) { wire::stat::fields(s, *this); }

  /// Random whole dirents (Rreaddir data), stored in the filler.
  std::span<const std::byte> dirents() {
    auto& buf = dirents_.emplace_back();
    std::size_t n = rng_() % 6;
    for (std::size_t i = 0; i < n; ++i) {
      wire::dirent e;
      wire::dirent::fields(e, *this);
      std::size_t at = buf.size();
      buf.resize(at + wire::dirent_size(e));
      (void)wire::encode_dirent(e, std::span(buf).subspan(at));
    }
    return buf;
  }

  /// A random message of type M with a random tag.
  template <class M>
  wire::message make() {
    wire::message m{static_cast<wire::tag_t>(rng_()), M{}};
    M& body = std::get<M>(m.body);
    M::fields(body, *this);
    if constexpr (std::is_same_v<M, wire::Rreaddir>) body.data.data = dirents();
    return m;
  }

 private:
  std::span<const std::byte> span(std::size_t n) {
    std::size_t at = rng_() % (pool_.size() - n + 1);
    return std::span<const std::byte>(pool_).subspan(at, n);
  }

  std::mt19937_64 rng_;
  wire::dialect d_;
  bytes pool_;
  std::deque<bytes> dirents_;
};

}  // namespace ninep::test
