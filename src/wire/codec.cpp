// SPDX-License-Identifier: MIT
#include <array>
#include <bit>
#include <cstring>
#include <ninep/core/error.hpp>
#include <ninep/wire/codec.hpp>

#include "fields.hpp"

namespace ninep::wire {
namespace {

// std::byteswap is C++23.
template <class T>
constexpr T byteswap(T v) noexcept {
  T out = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i)
    out = static_cast<T>(out << 8 | ((v >> (8 * i)) & 0xff));
  return out;
}

// Little-endian helpers: the wire is little-endian; never reinterpret_cast a struct. memcpy of
// one integer compiles to one load or store (the byte-at-a-time loop did not, see wire_bench).
template <class T>
T get_le(const std::byte* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof(T));
  if constexpr (std::endian::native == std::endian::big) v = byteswap(v);
  return v;
}
template <class T>
void put_le(std::byte* p, T v) noexcept {
  if constexpr (std::endian::native == std::endian::big) v = byteswap(v);
  std::memcpy(p, &v, sizeof(T));
}

// Reads fields in wire order. The first error sticks; later reads are no-ops, so a message's
// field list can be walked without checks after each field.
class reader {
 public:
  reader(std::span<const std::byte> in, wire::dialect d) noexcept
      : p_(in.data()), end_(in.data() + in.size()), d_(d) {}

  wire::dialect dialect() const noexcept { return d_; }
  bool ok() const noexcept { return !ec_; }
  std::error_code error() const noexcept { return ec_; }
  std::size_t left() const noexcept { return static_cast<std::size_t>(end_ - p_); }
  void fail(errc e) noexcept {
    if (!ec_) ec_ = e;
  }

  template <class T>
  requires std::is_integral_v<T>
  void operator()(const char*, T& v) noexcept {
    if (take(sizeof(T))) v = get_le<T>(p_ - sizeof(T));
  }
  void operator()(const char*, qid& q) noexcept {
    if (!take(13)) return;
    const std::byte* p = p_ - 13;
    q.type = get_le<std::uint8_t>(p);
    q.version = get_le<std::uint32_t>(p + 1);
    q.path = get_le<std::uint64_t>(p + 5);
  }
  void operator()(const char*, std::string_view& s) noexcept {
    std::uint16_t n = 0;
    (*this)("", n);
    if (take(n)) s = {reinterpret_cast<const char*>(p_ - n), n};
  }
  void operator()(const char*, payload& pl) noexcept {
    std::uint32_t n = 0;
    (*this)("", n);
    if (take(n)) pl.data = {p_ - n, n};
  }
  template <class T, std::size_t N>
  void operator()(const char*, bounded_array<T, N>& a) noexcept {
    std::uint16_t n = 0;
    (*this)("", n);
    if (!ok()) return;
    if (n > N) return fail(errc::too_many_elements);
    for (std::uint16_t i = 0; i < n && ok(); ++i) {
      T v{};
      (*this)("", v);
      a.push_back(v);
    }
  }
  // A stat inside Rstat/Twstat: n[2] stat[n], where the stat's own size[2] must equal n - 2.
  void operator()(const char*, stat& s) noexcept {
    std::uint16_t n = 0;
    (*this)("", n);
    if (!ok()) return;
    if (n > left()) return fail(errc::field_overrun);
    // n[2] is within the frame, so any failure inside it is n and size[2] disagreeing.
    auto r = decode_stat({p_, n}, d_);
    if (!r || r->size != n) return fail(errc::bad_stat_size);
    s = r->value;
    p_ += n;
  }

 private:
  bool take(std::size_t n) noexcept {
    if (ec_) return false;
    if (n > left()) {
      ec_ = errc::field_overrun;
      return false;
    }
    p_ += n;
    return true;
  }

  const std::byte* p_;
  const std::byte* end_;
  wire::dialect d_;
  std::error_code ec_;
};

// Writes fields in wire order, or only counts them when `out` is empty (the sizer).
// With skip_payload, a payload's count is written but its bytes are not (gather writes).
class writer {
 public:
  writer(std::span<std::byte> out, wire::dialect d, bool count_only, bool skip_payload) noexcept
      : p_(out.data()),
        end_(out.data() + out.size()),
        d_(d),
        count_only_(count_only),
        skip_payload_(skip_payload) {}

  wire::dialect dialect() const noexcept { return d_; }
  std::size_t size() const noexcept { return n_; }
  std::size_t header_size() const noexcept { return n_ - skipped_; }
  bool ok() const noexcept { return !ec_; }
  std::error_code error() const noexcept { return ec_; }

  template <class T>
  requires std::is_integral_v<T>
  void operator()(const char*, const T& v) noexcept {
    if (std::byte* p = take(sizeof(T))) put_le<T>(p, v);
  }
  void operator()(const char*, const qid& q) noexcept {
    if (std::byte* p = take(13)) {
      put_le<std::uint8_t>(p, q.type);
      put_le<std::uint32_t>(p + 1, q.version);
      put_le<std::uint64_t>(p + 5, q.path);
    }
  }
  void operator()(const char*, const std::string_view& s) noexcept {
    if (s.size() > 0xffff) return fail(errc::message_too_large);
    (*this)("", static_cast<std::uint16_t>(s.size()));
    // An empty view may have a null data(): memcpy must not see it, even for 0 bytes.
    if (std::byte* p = take(s.size()); p && !s.empty()) std::memcpy(p, s.data(), s.size());
  }
  void operator()(const char*, const payload& pl) noexcept {
    (*this)("", static_cast<std::uint32_t>(pl.data.size()));
    if (skip_payload_) {
      n_ += pl.data.size();
      skipped_ += pl.data.size();
      return;
    }
    if (std::byte* p = take(pl.data.size()); p && !pl.data.empty())
      std::memcpy(p, pl.data.data(), pl.data.size());
  }
  template <class T, std::size_t N>
  void operator()(const char*, const bounded_array<T, N>& a) noexcept {
    (*this)("", static_cast<std::uint16_t>(a.size()));
    for (const auto& v : a) (*this)("", v);
  }
  void operator()(const char*, const stat& s) noexcept {
    std::size_t n = stat_size(s, d_);
    if (n > 0xffff) return fail(errc::message_too_large);
    (*this)("", static_cast<std::uint16_t>(n));
    (*this)("", static_cast<std::uint16_t>(n - 2));
    stat::fields(s, *this);
  }
  void fail(errc e) noexcept {
    if (!ec_) ec_ = e;
  }
  // Reserves n bytes; returns where to write them, or nullptr when only counting or on error.
  std::byte* take(std::size_t n) noexcept {
    n_ += n;
    if (count_only_ || ec_) return nullptr;
    if (n > static_cast<std::size_t>(end_ - p_)) {
      ec_ = errc::buffer_too_small;
      return nullptr;
    }
    std::byte* p = p_;
    p_ += n;
    return p;
  }

 private:
  std::byte* p_;
  std::byte* end_;
  wire::dialect d_;
  bool count_only_;
  bool skip_payload_;
  std::size_t n_ = 0;
  std::size_t skipped_ = 0;
  std::error_code ec_;
};

// Checks that Rreaddir data is a sequence of whole dirents: a partial one makes the kernel
// fail the whole directory read with EIO.
bool whole_dirents(std::span<const std::byte> data) noexcept {
  while (!data.empty()) {
    auto e = decode_dirent(data);
    if (!e) return false;
    data = data.subspan(e->size);
  }
  return true;
}

template <class M>
result<message> decode_body(reader& r, tag_t tag) noexcept {
  // Decoded into the result's own message (a message is ~300 bytes; building one and converting
  // it into the result cost an extra copy). TODO(wire): #2 the value-initialization of the result
  // and its copy out still take about half of a small message's decode time.
  result<message> m(tl::in_place);
  m->tag = tag;
  M& body = m->body.template emplace<M>();
  M::fields(body, r);
  if (!r.ok()) return fail(r.error());
  if (r.left() != 0) return fail(errc::trailing_bytes);
  if constexpr (std::is_same_v<M, Rreaddir>) {
    if (!whole_dirents(body.data.data)) return fail(errc::bad_stat_size);
  }
  return m;
}

using decode_fn = result<message> (*)(reader&, tag_t) noexcept;

constexpr std::array<decode_fn, 128> decoders = [] {
  std::array<decode_fn, 128> t{};
  detail::for_each_message_type(
      [&]<class M>() { t[static_cast<std::size_t>(M::type)] = &decode_body<M>; });
  return t;
}();

writer encode_with(const message& m, dialect d, std::span<std::byte> out, bool count_only,
                   bool skip_payload) noexcept {
  writer w(out, d, count_only, skip_payload);
  std::byte* size_field = w.take(4);
  w("", static_cast<std::uint8_t>(type_of(m.body)));
  w("", m.tag);
  std::visit([&](const auto& b) { std::decay_t<decltype(b)>::fields(b, w); }, m.body);
  if (size_field != nullptr && w.ok())
    put_le<std::uint32_t>(size_field, static_cast<std::uint32_t>(w.size()));
  return w;
}

}  // namespace

result<frame_header> decode_header(std::span<const std::byte> bytes, std::uint32_t msize) noexcept {
  if (bytes.size() < header_size) return fail(errc::need_more);
  frame_header h{get_le<std::uint32_t>(bytes.data()), get_le<std::uint8_t>(bytes.data() + 4),
                 get_le<std::uint16_t>(bytes.data() + 5)};
  if (h.size < header_size || h.size > msize) return fail(errc::bad_size);
  return h;
}

result<message> decode(std::span<const std::byte> frame, dialect d, std::uint32_t msize) noexcept {
  auto h = decode_header(frame, msize);
  if (!h) return fail(h.error());
  if (frame.size() < h->size) return fail(errc::need_more);
  if (frame.size() > h->size) return fail(errc::trailing_bytes);
  if (!in_dialect(h->type, d) && !tolerated(h->type, d)) return fail(errc::unknown_type);
  reader r(frame.subspan(header_size), d);
  return decoders[h->type](r, h->tag);
}

std::size_t encoded_size(const message& m, dialect d) noexcept {
  return encode_with(m, d, {}, true, false).size();
}

result<std::size_t> encode(const message& m, dialect d, std::span<std::byte> out) noexcept {
  writer w = encode_with(m, d, out, false, false);
  if (!w.ok()) return fail(w.error());
  if (w.size() > UINT32_MAX) return fail(errc::message_too_large);
  return w.size();
}

result<std::size_t> encode_header(const message& m, dialect d, std::span<std::byte> out) noexcept {
  writer w = encode_with(m, d, out, false, true);
  if (!w.ok()) return fail(w.error());
  return w.header_size();
}

std::span<const std::byte> bulk_payload(const message& m) noexcept {
  if (const auto* w = std::get_if<Twrite>(&m.body)) return w->data.data;
  if (const auto* r = std::get_if<Rread>(&m.body)) return r->data.data;
  if (const auto* r = std::get_if<Rreaddir>(&m.body)) return r->data.data;
  return {};
}

std::size_t stat_size(const stat& s, dialect d) noexcept {
  writer w({}, d, true, false);
  w("", std::uint16_t{});
  stat::fields(s, w);
  return w.size();
}

result<std::size_t> encode_stat(const stat& s, dialect d, std::span<std::byte> out) noexcept {
  std::size_t n = stat_size(s, d);
  if (n > 0xffff + 2) return fail(errc::message_too_large);
  writer w(out, d, false, false);
  w("", static_cast<std::uint16_t>(n - 2));
  stat::fields(s, w);
  if (!w.ok()) return fail(w.error());
  return w.size();
}

result<decoded<stat>> decode_stat(std::span<const std::byte> bytes, dialect d) noexcept {
  reader r(bytes, d);
  std::uint16_t size = 0;
  r("size", size);
  if (!r.ok()) return fail(r.error());
  if (size > r.left()) return fail(errc::field_overrun);
  // The entry must be exactly `size` bytes: read it from a reader that ends there.
  reader body(bytes.subspan(2, size), d);
  decoded<stat> out;
  stat::fields(out.value, body);
  if (!body.ok()) return fail(errc::bad_stat_size);
  if (body.left() != 0) return fail(errc::bad_stat_size);
  out.size = 2u + size;
  return out;
}

std::size_t dirent_size(const dirent& e) noexcept { return 13 + 8 + 1 + 2 + e.name.size(); }

result<std::size_t> encode_dirent(const dirent& e, std::span<std::byte> out) noexcept {
  writer w(out, dialect::v2000L, false, false);
  dirent::fields(e, w);
  if (!w.ok()) return fail(w.error());
  return w.size();
}

result<decoded<dirent>> decode_dirent(std::span<const std::byte> bytes) noexcept {
  reader r(bytes, dialect::v2000L);
  decoded<dirent> out;
  dirent::fields(out.value, r);
  if (!r.ok()) return fail(r.error());
  out.size = bytes.size() - r.left();
  return out;
}

std::size_t min_size(std::uint8_t type, dialect d) noexcept {
  if (type >= 128 || !in_dialect(type, d)) return 0;
  std::size_t n = 0;
  detail::for_each_message_type([&]<class M>() {
    if (static_cast<std::uint8_t>(M::type) == type) n = encoded_size(message{0, M{}}, d);
  });
  return n;
}

}  // namespace ninep::wire
