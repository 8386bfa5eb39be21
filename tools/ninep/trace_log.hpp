// SPDX-License-Identifier: MIT
#pragma once
// The sans-I/O half of `ninep trace`: splits each direction of a relayed byte stream into 9P
// frames, decodes them, matches replies to requests, prints the log and keeps the per-type
// table. trace.cpp owns the sockets; the fuzz target fuzz/trace_log_fuzz.cpp feeds it bytes.
//
// Bytes are never altered or held back here: decoding is a side view. A frame that does not
// decode is printed as malformed (with a hex preview). A size below the 7-byte header loses the
// frame boundaries: that direction goes undecoded from there on.
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <ninep/wire/codec.hpp>
#include <ninep/wire/errors.hpp>
#include <ninep/wire/format.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ninep::tools::tracing {

using steady = std::chrono::steady_clock;
using wall = std::chrono::system_clock;

struct log_options {
  bool json = false;   // JSON lines instead of text
  bool quiet = false;  // no per-message lines, only the table
};

// Frames larger than this are not buffered for decoding (no 9P implementation negotiates an
// msize near it); they are flagged and relayed.
constexpr std::uint32_t max_decoded_frame = 64u << 20;

// Latencies in nanoseconds, bucketed with at most 1/64 relative error: values below 128 exactly,
// above that 64 buckets per power of two. Fixed memory however long the trace runs.
class latency_histogram {
 public:
  void add(std::uint64_t ns) {
    if (counts_.empty()) counts_.resize(buckets);
    ++counts_[bucket(ns)];
    ++n_;
  }
  std::uint64_t count() const noexcept { return n_; }
  // The q-quantile (0 < q <= 1), as the middle of its bucket; 0 if empty.
  std::uint64_t quantile(double q) const noexcept {
    if (n_ == 0) return 0;
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(n_) + 0.999999);
    rank = std::clamp<std::uint64_t>(rank, 1, n_);
    std::uint64_t seen = 0;
    for (std::size_t b = 0; b < counts_.size(); ++b) {
      seen += counts_[b];
      if (seen >= rank) return middle(b);
    }
    return middle(counts_.size() - 1);
  }

 private:
  static constexpr std::size_t exact = 128, per_octave = 64;
  static constexpr std::size_t buckets = exact + (64 - 7) * per_octave;
  static std::size_t bucket(std::uint64_t v) noexcept {
    if (v < exact) return v;
    int msb = std::bit_width(v) - 1;  // >= 7
    int shift = msb - 6;
    return exact + static_cast<std::size_t>(msb - 7) * per_octave + ((v >> shift) - per_octave);
  }
  static std::uint64_t middle(std::size_t b) noexcept {
    if (b < exact) return b;
    std::size_t octave = (b - exact) / per_octave, sub = (b - exact) % per_octave;
    int shift = static_cast<int>(octave) + 1;
    return ((per_octave + sub) << shift) + (std::uint64_t{1} << shift) / 2;
  }
  std::vector<std::uint64_t> counts_;
  std::uint64_t n_ = 0;
};

// Per request type: what iostats prints.
struct type_stats {
  std::uint64_t count = 0, request_bytes = 0, reply_bytes = 0, errors = 0;
  latency_histogram latency;
};

// JSON string contents for `s` (which the trace formatter already keeps valid UTF-8).
inline std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += c;
    }
  }
  return out;
}

inline std::string hex_preview(std::span<const std::byte> b, std::size_t max = 32) {
  std::string out;
  for (std::size_t i = 0; i < std::min(b.size(), max); ++i)
    out += fmt::format("{:02x}", static_cast<unsigned>(b[i]));
  if (b.size() > max) out += "...";
  return out;
}

// Everything one trace run knows: the output, the totals, the connection count.
class tracer {
 public:
  tracer(log_options o, std::FILE* out) : opts_(o), out_(out) {}

  // Writes out what the lines since the last flush buffered. The proxy calls this once per
  // burst of events, not per line: a busy mount produces thousands a second.
  void flush() {
    if (!unflushed_) return;
    unflushed_ = false;
    std::fflush(out_);
  }

  // Writes one event line: a timestamp and connection number, then `text` (or its JSON fields).
  template <class... Args>
  void line(wall::time_point t, unsigned conn, fmt::format_string<Args...> f, Args&&... args) {
    if (opts_.quiet) return;
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
    std::time_t secs = us / 1'000'000;
    auto frac = us % 1'000'000;
    if (opts_.json)
      fmt::print(out_, "{{\"time\":\"{:%FT%T}.{:06}Z\",\"conn\":{},", fmt::gmtime(secs), frac,
                 conn);
    else
      fmt::print(out_, "{:%T}.{:06} {} ", fmt::localtime(secs), frac, conn);
    fmt::print(out_, f, std::forward<Args>(args)...);
    std::fputc('\n', out_);
    unflushed_ = true;
  }

  type_stats& stats(std::uint8_t type) { return stats_[type]; }
  void count_malformed() { ++malformed_; }
  void count_quirk() { ++quirks_; }
  void count_unanswered(std::size_t n) { unanswered_ += n; }
  bool json() const noexcept { return opts_.json; }
  unsigned next_connection() { return ++connections_; }

  // Prints the per-type table to `table` (and, with --json, as a last JSON line of the trace).
  void summary(std::FILE* table) {
    std::fflush(out_);
    fmt::print(table, "{:<12} {:>9} {:>13} {:>13} {:>7} {:>11} {:>11}\n", "message", "count",
               "bytes out", "bytes in", "errors", "median", "p99");
    type_stats total;
    std::string json_rows;
    for (std::size_t t = 0; t < stats_.size(); ++t) {
      const type_stats& s = stats_[t];
      if (s.count == 0) continue;
      auto name = wire::type_name(static_cast<std::uint8_t>(t));
      std::string label = name.empty() ? fmt::format("type {}", t) : std::string(name);
      fmt::print(table, "{:<12} {:>9} {:>13} {:>13} {:>7} {:>11} {:>11}\n", label, s.count,
                 s.request_bytes, s.reply_bytes, s.errors, duration(s.latency.quantile(0.5)),
                 duration(s.latency.quantile(0.99)));
      total.count += s.count;
      total.request_bytes += s.request_bytes;
      total.reply_bytes += s.reply_bytes;
      total.errors += s.errors;
      json_rows += fmt::format(
          "{}{{\"type\":\"{}\",\"count\":{},\"bytes_out\":{},\"bytes_in\":{},\"errors\":{},"
          "\"replies\":{},\"median_us\":{:.3f},\"p99_us\":{:.3f}}}",
          json_rows.empty() ? "" : ",", label, s.count, s.request_bytes, s.reply_bytes, s.errors,
          s.latency.count(), s.latency.quantile(0.5) / 1e3, s.latency.quantile(0.99) / 1e3);
    }
    fmt::print(table, "{:<12} {:>9} {:>13} {:>13} {:>7}\n", "total", total.count,
               total.request_bytes, total.reply_bytes, total.errors);
    fmt::print(table,
               "{} connection(s), {} malformed frame(s), {} peer quirk(s), {} request(s) never "
               "answered\n",
               connections_, malformed_, quirks_, unanswered_);
    if (opts_.json && !opts_.quiet) {
      fmt::print(out_,
                 "{{\"event\":\"summary\",\"connections\":{},\"malformed\":{},\"quirks\":{},"
                 "\"unanswered\":{},\"types\":[{}]}}\n",
                 connections_, malformed_, quirks_, unanswered_, json_rows);
      std::fflush(out_);
    }
  }

  // "37us", "1.25ms", "2.003s"
  static std::string duration(std::uint64_t ns) {
    if (ns < 10'000) return fmt::format("{:.1f}us", ns / 1e3);
    if (ns < 10'000'000) return fmt::format("{:.0f}us", ns / 1e3);
    if (ns < 10'000'000'000) return fmt::format("{:.2f}ms", ns / 1e6);
    return fmt::format("{:.3f}s", ns / 1e9);
  }

 private:
  log_options opts_;
  std::FILE* out_;
  std::array<type_stats, 256> stats_{};
  std::uint64_t malformed_ = 0, unanswered_ = 0, quirks_ = 0;
  unsigned connections_ = 0;
  bool unflushed_ = false;
};

// One proxied connection: the decoding state of both directions.
class conversation {
 public:
  conversation(tracer& t, unsigned id) : t_(t), id_(id) {}

  unsigned id() const noexcept { return id_; }

  // Feeds bytes read from one side at `when`; `requests`: client-to-server.
  void observe(bool requests, std::span<const std::byte> bytes, steady::time_point when,
               wall::time_point wall_when) {
    direction& dir = requests ? out_ : in_;
    now_ = when;
    wall_now_ = wall_when;
    while (!bytes.empty() && !dir.lost) {
      if (dir.skip > 0) {  // the rest of an oversized frame
        auto n = std::min<std::uint64_t>(dir.skip, bytes.size());
        dir.skip -= n;
        bytes = bytes.subspan(n);
        continue;
      }
      // Frames arriving whole are decoded in place; pieces are gathered in dir.partial.
      std::span<const std::byte> avail = bytes;
      if (!dir.partial.empty()) {
        std::size_t want = dir.partial.size() < 4 ? 4 - dir.partial.size() : 0;
        if (dir.partial.size() >= 4) want = frame_size(dir.partial) - dir.partial.size();
        auto n = std::min(want, bytes.size());
        dir.partial.insert(dir.partial.end(), bytes.begin(), bytes.begin() + n);
        bytes = bytes.subspan(n);
        if (dir.partial.size() == 4) {
          if (!start_frame(requests, dir, dir.partial)) {
            dir.partial.clear();
            continue;
          }
          dir.partial.reserve(frame_size(dir.partial));
        }
        if (dir.partial.size() < 4 || dir.partial.size() < frame_size(dir.partial)) continue;
        frame(requests, dir.partial);
        dir.partial.clear();
        continue;
      }
      if (avail.size() < 4) {
        dir.partial.assign(avail.begin(), avail.end());
        break;
      }
      if (!start_frame(requests, dir, avail)) {
        bytes = avail.subspan(4);
        continue;
      }
      std::uint32_t size = frame_size(avail);
      if (avail.size() < size) {
        dir.partial.reserve(size);
        dir.partial.assign(avail.begin(), avail.end());
        break;
      }
      frame(requests, avail.first(size));
      bytes = avail.subspan(size);
    }
  }

  // The connection is over: requests still waiting for replies are counted.
  void close(std::string_view why) {
    t_.count_unanswered(pending_.size());
    if (t_.json())
      t_.line(wall::now(), id_, "\"event\":\"close\",\"unanswered\":{},\"reason\":\"{}\"}}",
              pending_.size(), json_escape(why));
    else
      t_.line(wall::now(), id_, "closed ({}), {} request(s) unanswered", why, pending_.size());
  }

 private:
  struct direction {
    std::vector<std::byte> partial;  // an incomplete frame (or size prefix)
    std::uint64_t skip = 0;          // bytes of an oversized frame still to pass
    bool lost = false;               // framing lost: relayed undecoded from here on
  };
  struct pending_request {
    steady::time_point sent;
    std::uint8_t type;
  };

  static std::uint32_t frame_size(std::span<const std::byte> b) noexcept {
    return static_cast<std::uint32_t>(b[0]) | static_cast<std::uint32_t>(b[1]) << 8 |
           static_cast<std::uint32_t>(b[2]) << 16 | static_cast<std::uint32_t>(b[3]) << 24;
  }

  // Checks the size prefix at the start of `b` (4 bytes at least). False when the frame will not
  // be decoded: framing lost, or an oversized frame now being skipped (its 4 bytes consumed).
  bool start_frame(bool requests, direction& dir, std::span<const std::byte> b) {
    std::uint32_t size = frame_size(b);
    if (size < wire::header_size) {
      malformed(requests, b.first(4),
                fmt::format("size {} is below the 7-byte header: frame boundaries lost, relaying "
                            "the rest of this direction undecoded",
                            size));
      dir.lost = true;
      return false;
    }
    if (size > max_decoded_frame) {
      malformed(
          requests, b.first(4),
          fmt::format("size {} exceeds {} bytes: relayed, not decoded", size, max_decoded_frame));
      dir.skip = size - 4;
      return false;
    }
    return true;
  }

  void frame(bool requests, std::span<const std::byte> f) {
    auto m = wire::decode(f, dialect_);
    if (!m) {
      auto type = static_cast<std::uint8_t>(f[4]);
      auto name = wire::type_name(type);
      malformed(requests, f,
                fmt::format("{} ({} bytes, type {}{}{}): {}", requests ? "request" : "reply",
                            f.size(), type, name.empty() ? "" : " ", name, m.error().message()));
      return;
    }
    std::string note;
    if (msize_ != 0 && f.size() > msize_) note = fmt::format("exceeds msize {}", msize_);
    if (auto t = static_cast<std::uint8_t>(f[4]); wire::tolerated(t, dialect_)) {
      // Decoded as its peers mean it, and counted: e.g. NFS-Ganesha's Rerror in 9P2000.L.
      t_.count_quirk();
      note = fmt::format("peer quirk: {} is not a {} message", wire::type_name(t),
                         wire::version_string(dialect_));
    }
    auto type = static_cast<std::uint8_t>(wire::type_of(m->body));
    std::optional<std::uint64_t> latency;
    if (requests) {
      request(*m, type, f.size(), note);
    } else {
      latency = reply(*m, f.size(), note);
    }
    print(requests, *m, f.size(), latency, note);
    // Rversion decides how the rest of the conversation decodes.
    if (const auto* v = std::get_if<wire::Rversion>(&m->body)) {
      if (auto d = wire::dialect_of(v->version)) dialect_ = *d;
      msize_ = v->msize;
    }
  }

  void request(const wire::message& m, std::uint8_t type, std::size_t bytes, std::string& note) {
    type_stats& s = t_.stats(type);
    ++s.count;
    s.request_bytes += bytes;
    if (std::holds_alternative<wire::Tversion>(m.body)) {
      // A new session: everything outstanding is aborted, and decoding restarts as 9P2000.
      t_.count_unanswered(pending_.size());
      pending_.clear();
      dialect_ = wire::dialect::v2000;
      msize_ = 0;
    }
    auto [it, fresh] = pending_.try_emplace(m.tag, pending_request{now_, type});
    if (!fresh) {
      note = fmt::format("tag {} reused while outstanding", m.tag);
      it->second = {now_, type};
    }
    if (const auto* f = std::get_if<wire::Tflush>(&m.body)) flushes_[m.tag] = f->oldtag;
  }

  // Matches a reply to its request; returns the latency, if the request was seen.
  std::optional<std::uint64_t> reply(const wire::message& m, std::size_t bytes, std::string& note) {
    auto it = pending_.find(m.tag);
    if (it == pending_.end()) {
      note = fmt::format("no request with tag {} is outstanding", m.tag);
      return std::nullopt;
    }
    auto ns = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(now_ - it->second.sent).count());
    type_stats& s = t_.stats(it->second.type);
    s.reply_bytes += bytes;
    s.latency.add(ns);
    if (wire::error_of(m.body)) ++s.errors;
    pending_.erase(it);
    // Rflush: the flushed request will get no reply of its own (if it got one, it is gone).
    if (auto f = flushes_.find(m.tag); f != flushes_.end()) {
      if (std::holds_alternative<wire::Rflush>(m.body)) pending_.erase(f->second);
      flushes_.erase(f);
    }
    return ns;
  }

  void print(bool requests, const wire::message& m, std::size_t bytes,
             std::optional<std::uint64_t> latency, const std::string& note) {
    if (t_.json()) {
      std::string extra;
      if (latency) extra += fmt::format(",\"latency_us\":{:.3f}", *latency / 1e3);
      if (!note.empty()) extra += fmt::format(",\"note\":\"{}\"", json_escape(note));
      t_.line(wall_now_, id_,
              "\"dir\":\"{}\",\"type\":\"{}\",\"tag\":{},\"size\":{}{},\"msg\":\"{}\"}}",
              requests ? "T" : "R",
              wire::type_name(static_cast<std::uint8_t>(wire::type_of(m.body))), m.tag, bytes,
              extra, json_escape(fmt::format("{}", wire::trace(m, dialect_))));
      return;
    }
    t_.line(wall_now_, id_, "{} {}{}{}{}", requests ? "->" : "<-", wire::trace(m, dialect_),
            latency ? " [" + tracer::duration(*latency) + "]" : "", note.empty() ? "" : " !! ",
            note);
  }

  void malformed(bool requests, std::span<const std::byte> bytes, const std::string& why) {
    t_.count_malformed();
    if (t_.json())
      t_.line(wall_now_, id_, "\"dir\":\"{}\",\"malformed\":\"{}\",\"hex\":\"{}\"}}",
              requests ? "T" : "R", json_escape(why), hex_preview(bytes));
    else
      t_.line(wall_now_, id_, "{} !! malformed {}: {}", requests ? "->" : "<-", why,
              hex_preview(bytes));
  }

  tracer& t_;
  unsigned id_;
  wire::dialect dialect_ = wire::dialect::v2000;
  std::uint32_t msize_ = 0;  // 0 until Rversion
  direction out_, in_;
  std::unordered_map<wire::tag_t, pending_request> pending_;
  std::unordered_map<wire::tag_t, wire::tag_t> flushes_;  // Tflush tag -> oldtag
  steady::time_point now_;
  wall::time_point wall_now_;
};

}  // namespace ninep::tools::tracing
