// SPDX-License-Identifier: MIT
// The sans-I/O half of `ninep trace` (tools/ninep/trace_log.hpp): latency quantiles, frames cut
// at every byte boundary, reply matching and flushes.
#include "trace_log.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <ninep/wire/codec.hpp>
#include <string>
#include <vector>

namespace ninep::tools::tracing {
namespace {

std::vector<std::byte> frame(const wire::message& m, wire::dialect d = wire::dialect::v2000L) {
  std::vector<std::byte> b(wire::encoded_size(m, d));
  EXPECT_TRUE(wire::encode(m, d, b));
  return b;
}

// A tracer writing to a temporary file, and what it wrote.
struct captured {
  std::FILE* f = std::tmpfile();
  tracer log;
  explicit captured(bool json = false) : log({.json = json, .quiet = false}, f) {}
  ~captured() { std::fclose(f); }
  std::string text() {
    std::fflush(f);
    std::rewind(f);
    std::string s;
    for (int c; (c = std::fgetc(f)) != EOF;) s += static_cast<char>(c);
    return s;
  }
};

// Drops each line's timestamp (the first field), which differs between runs.
std::string without_times(const std::string& log) {
  std::string out;
  std::size_t pos = 0;
  while (pos < log.size()) {
    auto end = log.find('\n', pos);
    auto line = log.substr(pos, end - pos);
    out += line.substr(line.find(' ') + 1) + "\n";
    pos = end + 1;
  }
  return out;
}

TEST(trace_latency, quantiles_within_bucket_error) {
  latency_histogram h;
  EXPECT_EQ(h.quantile(0.5), 0u);
  for (std::uint64_t v = 1; v <= 100000; ++v) h.add(v);
  EXPECT_EQ(h.count(), 100000u);
  EXPECT_NEAR(static_cast<double>(h.quantile(0.5)), 50000.0, 50000.0 / 64);
  EXPECT_NEAR(static_cast<double>(h.quantile(0.99)), 99000.0, 99000.0 / 64);
  EXPECT_NEAR(static_cast<double>(h.quantile(1.0)), 100000.0, 100000.0 / 64);
  latency_histogram small;
  small.add(5);
  EXPECT_EQ(small.quantile(0.5), 5u);  // below 128 ns, values are exact
  latency_histogram huge;
  huge.add(UINT64_MAX);
  EXPECT_GT(huge.quantile(0.5), UINT64_MAX / 2);
}

// A short 9P2000.L session: version, attach, a failing walk, a flushed read.
std::vector<std::pair<bool, std::vector<std::byte>>> session() {
  using namespace wire;
  return {
      {true, frame({notag, Tversion{8192, "9P2000.L"}}, dialect::v2000)},
      {false, frame({notag, Rversion{8192, "9P2000.L"}}, dialect::v2000)},
      {true, frame({1, Tattach{1, nofid, "me", "", 1000}})},
      {false, frame({1, Rattach{qid{qt::dir, 0, 7}}})},
      {true, frame({2, Twalk{1, 2, {"nope"}}})},
      {false, frame({2, Rlerror{2}})},
      {true, frame({3, Tread{1, 0, 100}})},
      {true, frame({4, Tflush{3}})},
      {false, frame({4, Rflush{}})},
  };
}

void feed(conversation& c, std::size_t piece) {
  auto t = steady::now();
  for (auto& [requests, bytes] : session()) {
    t += std::chrono::microseconds(10);  // per frame, so latencies do not depend on the cuts
    for (std::size_t off = 0; off < bytes.size(); off += piece) {
      auto n = std::min(piece, bytes.size() - off);
      c.observe(requests, std::span(bytes).subspan(off, n), t, wall::now());
    }
  }
  c.close("test");
}

TEST(trace_conversation, decodes_frames_cut_anywhere_the_same) {
  captured whole;
  conversation c1(whole.log, 1);
  feed(c1, 1 << 20);
  std::string expected = without_times(whole.text());
  EXPECT_NE(expected.find("-> Twalk tag 2 fid 1 newfid 2 nwname 1 \"nope\""), std::string::npos);
  EXPECT_NE(expected.find("<- Rlerror tag 2 ecode 2 [10us]"), std::string::npos);
  EXPECT_EQ(expected.find("malformed"), std::string::npos);
  EXPECT_NE(expected.find("closed (test), 0 request(s) unanswered"), std::string::npos);
  for (std::size_t piece : {1, 2, 3, 5, 7, 11}) {
    captured cut;
    conversation c2(cut.log, 1);
    feed(c2, piece);
    EXPECT_EQ(without_times(cut.text()), expected) << "pieces of " << piece;
  }
}

TEST(trace_conversation, counts_errors_flushes_and_latency) {
  captured out;
  conversation c(out.log, 1);
  feed(c, 4);
  const type_stats& walk = out.log.stats(static_cast<std::uint8_t>(wire::msg_type::Twalk));
  EXPECT_EQ(walk.count, 1u);
  EXPECT_EQ(walk.errors, 1u);
  EXPECT_EQ(walk.latency.count(), 1u);
  EXPECT_NEAR(static_cast<double>(walk.latency.quantile(0.5)), 10e3, 10e3 / 64);  // 10 us apart
  const type_stats& read = out.log.stats(static_cast<std::uint8_t>(wire::msg_type::Tread));
  EXPECT_EQ(read.count, 1u);
  EXPECT_EQ(read.latency.count(), 0u);  // flushed: no reply of its own, and not unanswered
  std::FILE* table = std::tmpfile();
  out.log.summary(table);
  std::rewind(table);
  std::string t;
  for (int ch; (ch = std::fgetc(table)) != EOF;) t += static_cast<char>(ch);
  std::fclose(table);
  EXPECT_NE(t.find("0 malformed frame(s), 0 peer quirk(s), 0 request(s) never answered"),
            std::string::npos)
      << t;
}

// NFS-Ganesha answers errors in 9P2000.L with Rerror (type 107) carrying an errno[4]: decoded
// as the Linux kernel reads it, and counted as a peer quirk, not as a malformed frame.
TEST(trace_conversation, counts_rerror_in_dotl_as_a_peer_quirk) {
  captured out;
  conversation c(out.log, 1);
  auto t = steady::now();
  c.observe(true, frame({wire::notag, wire::Tversion{8192, "9P2000.L"}}, wire::dialect::v2000), t,
            wall::now());
  c.observe(false, frame({wire::notag, wire::Rversion{8192, "9P2000.L"}}, wire::dialect::v2000), t,
            wall::now());
  c.observe(true, frame({3, wire::Twalk{0, 1, {"x"}}}), t, wall::now());
  std::vector<std::byte> rerror = {std::byte{11}, {}, {}, {}, std::byte{107}, std::byte{3}, {},
                                   std::byte{2},  {}, {}, {}};
  c.observe(false, rerror, t, wall::now());
  std::string log = out.text();
  EXPECT_NE(log.find("peer quirk: Rerror is not a 9P2000.L message"), std::string::npos) << log;
  EXPECT_EQ(log.find("malformed"), std::string::npos) << log;
  EXPECT_EQ(out.log.stats(static_cast<std::uint8_t>(wire::msg_type::Twalk)).errors, 1u);
  std::FILE* table = std::tmpfile();
  out.log.summary(table);
  std::rewind(table);
  std::string tb;
  for (int ch; (ch = std::fgetc(table)) != EOF;) tb += static_cast<char>(ch);
  std::fclose(table);
  EXPECT_NE(tb.find("0 malformed frame(s), 1 peer quirk(s)"), std::string::npos) << tb;
}

TEST(trace_conversation, flags_malformed_frames_and_keeps_going) {
  captured out;
  conversation c(out.log, 1);
  auto t = steady::now();
  auto good = frame({5, wire::Tclunk{1}});
  std::vector<std::byte> bad = good;
  bad.push_back(std::byte{0});
  bad[0] = std::byte{static_cast<unsigned char>(bad.size())};  // one trailing byte
  c.observe(true, bad, t, wall::now());
  c.observe(true, good, t, wall::now());  // decodes: the bad frame's bytes were skipped
  c.observe(true, good, t, wall::now());  // the same tag again, still unanswered
  std::vector<std::byte> lost = {std::byte{3}, std::byte{0}, std::byte{0}, std::byte{0}};
  c.observe(true, lost, t, wall::now());
  c.observe(true, good, t, wall::now());  // undecoded now: framing was lost
  std::string log = out.text();
  EXPECT_NE(log.find("!! malformed request (12 bytes, type 120 Tclunk): trailing bytes"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("-> Tclunk tag 5 fid 1 !! tag 5 reused while outstanding"), std::string::npos)
      << log;
  EXPECT_NE(log.find("size 3 is below the 7-byte header"), std::string::npos) << log;
  EXPECT_EQ(out.log.stats(static_cast<std::uint8_t>(wire::msg_type::Tclunk)).count, 2u);
}

TEST(trace_conversation, json_lines_escape_strings) {
  captured out(true);
  conversation c(out.log, 1);
  c.observe(true, frame({1, wire::Twalk{1, 2, {"a\"b\\c"}}}), steady::now(), wall::now());
  std::string log = out.text();
  EXPECT_NE(log.find(R"("dir":"T","type":"Twalk","tag":1,"size":)"), std::string::npos) << log;
  EXPECT_NE(log.find(R"(\"a\\\"b\\\\c\")"), std::string::npos) << log;
}

}  // namespace
}  // namespace ninep::tools::tracing
