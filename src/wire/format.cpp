// SPDX-License-Identifier: MIT
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <ninep/wire/codec.hpp>
#include <ninep/wire/format.hpp>
#include <string_view>

#include "fields.hpp"

namespace ninep::wire {
namespace {

// Length of the well-formed UTF-8 sequence at the start of `s`, or 0 if it is not one.
std::size_t utf8_length(std::string_view s) noexcept {
  auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = b(0);
  std::size_t n = c < 0x80                 ? 1
                  : c >= 0xc2 && c <= 0xdf ? 2
                  : c >= 0xe0 && c <= 0xef ? 3
                  : c >= 0xf0 && c <= 0xf4 ? 4
                                           : 0;
  if (n == 0 || n > s.size()) return 0;
  for (std::size_t i = 1; i < n; ++i)
    if ((b(i) & 0xc0) != 0x80) return 0;
  // Overlong forms, surrogates and code points above U+10FFFF.
  if ((c == 0xe0 && b(1) < 0xa0) || (c == 0xed && b(1) >= 0xa0) || (c == 0xf0 && b(1) < 0x90) ||
      (c == 0xf4 && b(1) >= 0x90))
    return 0;
  return n;
}

// True for a well-formed character that some readers take as a line end or control: C1
// controls (U+0080..U+009F, with NEL) and U+2028/U+2029.
bool unicode_control(std::string_view s, std::size_t n) {
  auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  return (n == 2 && b(0) == 0xc2 && b(1) < 0xa0) ||
         (n == 3 && b(0) == 0xe2 && b(1) == 0x80 && (b(2) == 0xa8 || b(2) == 0xa9));
}

// A double-quoted string, one line for any reader, valid UTF-8: control characters (C0, DEL,
// C1, U+2028/U+2029) and bytes that are not well-formed UTF-8 (peers send any bytes; payload
// previews are binary) are written as \xNN, one per byte.
void quoted(fmt::memory_buffer& out, std::string_view s) {
  out.push_back('"');
  while (!s.empty()) {
    char c = s[0];
    auto u = static_cast<unsigned char>(c);
    std::size_t n = utf8_length(s);  // 0: not well-formed
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (n == 0 || u < 0x20 || u == 0x7f || unicode_control(s, n)) {
      n = std::max<std::size_t>(n, 1);
      for (std::size_t i = 0; i < n; ++i)
        fmt::format_to(std::back_inserter(out), "\\x{:02x}", static_cast<unsigned char>(s[i]));
    } else {
      out.append(s.substr(0, n));
    }
    s.remove_prefix(n);
  }
  out.push_back('"');
}

// Appends " name value" for each field, as fcallfmt does.
class printer {
 public:
  printer(fmt::memory_buffer& out, wire::dialect d) : out_(out), d_(d) {}
  wire::dialect dialect() const noexcept { return d_; }
  std::back_insert_iterator<fmt::memory_buffer> it() { return std::back_inserter(out_); }

  template <class T>
  requires std::is_integral_v<T>
  void operator()(std::string_view name, const T& v) {
    // Modes and permissions read best in octal, flags and masks in hex.
    if (name == "mode" || name == "perm")
      fmt::format_to(it(), " {} 0{:o}", name, v);
    else if (name == "flags" || name == "valid" || name == "request_mask")
      fmt::format_to(it(), " {} {:#x}", name, v);
    else
      fmt::format_to(it(), " {} {}", name, +v);
  }
  void operator()(std::string_view name, const qid& q) {
    fmt::format_to(it(), " {} ", name), put(q);
  }
  void operator()(std::string_view name, std::string_view s) {
    fmt::format_to(it(), " {} ", name);
    quoted(out_, s);
  }
  void operator()(std::string_view name, const payload& p) {
    fmt::format_to(it(), " {} {}", name, p.data.size());
    // A short preview, like fcallfmt's dumpsome: enough to recognise text.
    constexpr std::size_t preview = 24;
    std::string_view text(reinterpret_cast<const char*>(p.data.data()),
                          std::min(p.data.size(), preview));
    out_.push_back(' ');
    quoted(out_, text);
    if (p.data.size() > preview) fmt::format_to(it(), "...");
  }
  void operator()(std::string_view name, const bounded_array<std::string_view, max_welem>& a) {
    fmt::format_to(it(), " {} {}", name, a.size());
    for (auto s : a) out_.push_back(' '), quoted(out_, s);
  }
  void operator()(std::string_view name, const bounded_array<qid, max_welem>& a) {
    fmt::format_to(it(), " {} {}", name, a.size());
    for (const auto& q : a) out_.push_back(' '), put(q);
  }
  // " count N { qid ... name "x" } ...", or false (nothing printed) if `data` is not whole dirents.
  bool dirents(std::span<const std::byte> data) {
    for (auto rest = data; !rest.empty();) {
      auto e = decode_dirent(rest);
      if (!e) return false;
      rest = rest.subspan(e->size);
    }
    fmt::format_to(it(), " count {}", data.size());
    while (!data.empty()) {
      auto e = decode_dirent(data);
      fmt::format_to(it(), " {{");
      dirent::fields(e->value, *this);
      fmt::format_to(it(), " }}");
      data = data.subspan(e->size);
    }
    return true;
  }
  void operator()(std::string_view name, const stat& s) {
    fmt::format_to(it(), " {} {{", name);
    stat::fields(s, *this);
    fmt::format_to(it(), " }}");
  }

 private:
  void put(const qid& q) {
    // (path version type), with type as Plan 9's letters: d directory, a append, l exclusive,
    // A auth, t temporary, L symlink.
    std::string t;
    if (q.type & qt::dir) t += 'd';
    if (q.type & qt::append) t += 'a';
    if (q.type & qt::excl) t += 'l';
    if (q.type & qt::auth) t += 'A';
    if (q.type & qt::tmp) t += 't';
    if (q.type & qt::symlink) t += 'L';
    fmt::format_to(it(), "({:016x} {} {})", q.path, q.version, t.empty() ? "f" : t);
  }
  fmt::memory_buffer& out_;
  wire::dialect d_;
};

constexpr std::array<std::string_view, 128> type_names = [] {
  std::array<std::string_view, 128> t{};
  detail::for_each_message_type(
      [&]<class M>() { t[static_cast<std::size_t>(M::type)] = M::spec_name; });
  t[6] = "Tlerror";
  t[106] = "Terror";
  return t;
}();

}  // namespace

std::string_view type_name(std::uint8_t t) noexcept { return t < 128 ? type_names[t] : ""; }

void format_message(fmt::memory_buffer& out, const message& m, dialect d) {
  std::visit(
      [&](const auto& b) {
        using M = std::decay_t<decltype(b)>;
        fmt::format_to(std::back_inserter(out), "{} tag {}", M::spec_name, m.tag);
        printer p(out, d);
        if constexpr (std::is_same_v<M, Rreaddir>) {
          // Whole dirents (decode() checks that) read better than a byte preview.
          if (p.dirents(b.data.data)) return;
        }
        M::fields(b, p);
      },
      m.body);
}

}  // namespace ninep::wire
