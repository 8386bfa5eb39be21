// SPDX-License-Identifier: MIT
// Issue 11: one client must not stop the server serving the others. Each test mounts one
// attack (bounded in connections and time, loopback only) while a well-behaved second client
// checks that it is still served.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <ninep/server/server.hpp>
#include <ninep/wire/dotl.hpp>
#include <thread>
#include <vector>

#include "../../support/local_harness.hpp"
#include "../../support/raw_client.hpp"
#include "../../support/server_harness.hpp"

namespace ninep {
namespace {

using namespace wire;
using namespace std::chrono_literals;
using test::as;
using test::local;
using test::raw_client;
using test::running_server;
using test::temp_dir;
using test::text;
using clock_type = std::chrono::steady_clock;

/// The encoded bytes of one message.
std::vector<std::byte> encoded(tag_t tag, const message_body& body, dialect d = dialect::v2000L) {
  message m{tag, body};
  std::vector<std::byte> out(encoded_size(m, d));
  if (!encode(m, d, out)) throw std::runtime_error("encode failed");
  return out;
}

/// A well-behaved client's round: attach on a fresh connection, then walk, open, read and
/// clunk `name`. Returns how long it took; fails the test if any step is refused.
clock_type::duration good_client_round(const transport::address& a, const std::string& name) {
  auto t0 = clock_type::now();
  raw_client cl(a);
  as<Rattach>(cl.handshake(dialect::v2000L));
  as<Rwalk>(cl.rpc(Twalk{0, 1, {name}}));
  as<Rlopen>(cl.rpc(Tlopen{1, dotl::rdonly}));
  as<Rread>(cl.rpc(Tread{1, 0, 64}));
  as<Rclunk>(cl.rpc(Tclunk{1}));
  return clock_type::now() - t0;
}

// Frame deadline: runs from the frame's first byte, however slowly the rest trickles in.
// Before the fix every byte restarted the timer of a small frame, so these connections were
// answered once the last byte came, instead of being cut off.
TEST(server_fairness, trickled_frame_is_cut_off_from_its_first_byte) {
  temp_dir d;
  std::ofstream(d.path / "f") << "data";
  server::options o;
  o.frame_timeout = 300ms;
  running_server srv(local(d.path), o);
  const auto frame = encoded(notag, Tversion{8192, "9P2000.L"});  // 21 bytes
  constexpr int n = 4;
  std::vector<std::unique_ptr<raw_client>> slow;
  for (int i = 0; i < n; ++i) slow.push_back(std::make_unique<raw_client>(srv.addr));
  std::vector<clock_type::duration> cut(n, clock_type::duration::max());
  const auto t0 = clock_type::now();
  // One byte every 60 ms: each gap is far under the timeout, the whole frame (1.2 s) far over.
  for (std::size_t b = 0; b < frame.size(); ++b) {
    for (int i = 0; i < n; ++i) {
      if (cut[i] != clock_type::duration::max()) continue;
      try {
        slow[i]->send_bytes(std::span(frame).subspan(b, 1));
      } catch (const std::runtime_error&) {
        cut[i] = clock_type::now() - t0;
      }
    }
    if (b == 8) good_client_round(srv.addr, "f");  // served meanwhile
    std::this_thread::sleep_for(60ms);
  }
  for (int i = 0; i < n; ++i) {
    EXPECT_TRUE(slow[i]->closed_by_peer()) << "connection " << i << " was answered, not cut off";
    if (cut[i] != clock_type::duration::max()) {
      EXPECT_LT(cut[i], 1100ms) << "cut off late";
    }
  }
  EXPECT_LT(good_client_round(srv.addr, "f"), 5s);
}

}  // namespace
}  // namespace ninep
