// SPDX-License-Identifier: MIT
// synth/files.hpp: the ready-made files, and stream_file's waiting readers above all.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <ninep/synth/files.hpp>
#include <ninep/synth/tree_fs.hpp>
#include <thread>

#include "synth_test_util.hpp"

namespace ninep {
namespace {

using namespace test;
using namespace std::chrono_literals;

class stream_test : public ::testing::Test {
 protected:
  std::shared_ptr<synth::dir> root = std::make_shared<synth::dir>();
  std::shared_ptr<synth::stream_file> stream = std::make_shared<synth::stream_file>(4);
  std::shared_ptr<synth::tree_fs> fs = synth::tree_fs::make(root);
  caller user;
  void SetUp() override { ASSERT_TRUE(root->add("stream", stream)); }
  server::node_ptr open_stream(const server::context& cx) {
    auto w = walk_path(*fs, cx, "stream");
    if (!fs->open(cx, *w.node, O_RDONLY)) throw std::runtime_error("open");
    return w.node;
  }
};

// Many readers wait at once without a thread each: async reads park, a publish completes them.
TEST_F(stream_test, many_async_readers_released_by_publish) {
  constexpr int n = 50;
  std::vector<server::node_ptr> nodes;
  std::vector<std::array<std::byte, 64>> bufs(n);
  std::vector<std::optional<result<std::size_t>>> got(n);
  for (int i = 0; i < n; ++i) {
    nodes.push_back(open_stream(user.cx()));
    fs->async_read(user.cx(), *nodes[i], 0, bufs[i],
                   [&got, i](result<std::size_t> r) { got[i] = r; });
  }
  EXPECT_EQ(stream->waiting(), static_cast<std::size_t>(n));
  for (auto& g : got) EXPECT_FALSE(g);
  stream->publish("sample 1\n");
  EXPECT_EQ(stream->waiting(), 0u);
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(got[i] && *got[i]) << i;
    EXPECT_EQ(text({bufs[i].data(), **got[i]}), "sample 1\n");
  }
}

TEST_F(stream_test, async_readers_cancelled_by_stop) {
  constexpr int n = 50;
  std::vector<caller> callers(n);
  std::vector<server::node_ptr> nodes;
  std::vector<std::array<std::byte, 64>> bufs(n);
  std::atomic<int> cancelled{0};
  for (int i = 0; i < n; ++i) {
    nodes.push_back(open_stream(callers[i].cx()));
    fs->async_read(callers[i].cx(), *nodes[i], 0, bufs[i], [&](result<std::size_t> r) {
      if (!r && r.error() == std::errc::operation_canceled) cancelled++;
    });
  }
  // Stop from other threads, as the server's network thread does on Tflush.
  std::vector<std::thread> stoppers;
  for (int i = 0; i < n; ++i) stoppers.emplace_back([&, i] { callers[i].stop.request_stop(); });
  for (auto& t : stoppers) t.join();
  EXPECT_EQ(cancelled.load(), n);
  EXPECT_EQ(stream->waiting(), 0u);
  // A stop requested before the read starts cancels it at once.
  caller late;
  late.stop.request_stop();
  auto node = open_stream(late.cx());
  std::optional<result<std::size_t>> r;
  fs->async_read(late.cx(), *node, 0, bufs[0], [&](result<std::size_t> v) { r = v; });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error(), std::errc::operation_canceled);
}

TEST_F(stream_test, blocking_read_waits_and_is_cancelled) {
  auto node = open_stream(user.cx());
  std::array<std::byte, 64> buf;
  auto reader = std::async(std::launch::async, [&] { return fs->read(user.cx(), *node, 0, buf); });
  EXPECT_EQ(reader.wait_for(100ms), std::future_status::timeout) << "no data yet: waits";
  stream->publish("x");
  auto r = reader.get();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 1u);
  auto waiting = std::async(std::launch::async, [&] { return fs->read(user.cx(), *node, 0, buf); });
  EXPECT_EQ(waiting.wait_for(100ms), std::future_status::timeout);
  user.stop.request_stop();
  ASSERT_EQ(waiting.wait_for(5s), std::future_status::ready) << "stop must end the wait";
  EXPECT_EQ(waiting.get().error(), std::errc::operation_canceled);
}

TEST_F(stream_test, records_backlog_and_close) {
  auto node = open_stream(user.cx());
  for (int i = 0; i < 10; ++i) stream->publish("record " + std::to_string(i) + "\n");
  // Backlog 4: a slow reader skips to the oldest record kept; small buffers split a record.
  std::array<std::byte, 4> small;
  auto r = fs->read(user.cx(), *node, 0, small);
  EXPECT_EQ(text({small.data(), *r}), "reco");
  std::array<std::byte, 64> buf;
  r = fs->read(user.cx(), *node, 0, buf);
  EXPECT_EQ(text({buf.data(), *r}), "rd 6\n") << "one record per read";
  r = fs->read(user.cx(), *node, 0, buf);
  EXPECT_EQ(text({buf.data(), *r}), "record 7\n");
  // A reader opened now sees only what comes after its open.
  auto late = open_stream(user.cx());
  stream->publish("record 10\n");
  r = fs->read(user.cx(), *late, 0, buf);
  EXPECT_EQ(text({buf.data(), *r}), "record 10\n");
  // close(): the backlog drains, then end of file for everyone, waiting or not.
  std::optional<result<std::size_t>> pending;
  fs->async_read(user.cx(), *late, 0, buf, [&](result<std::size_t> v) { pending = v; });
  EXPECT_FALSE(pending);
  stream->close();
  ASSERT_TRUE(pending);
  EXPECT_EQ(**pending, 0u);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(fs->read(user.cx(), *node, 0, buf));
  EXPECT_EQ(*fs->read(user.cx(), *node, 0, buf), 0u);
}

TEST_F(stream_test, clunk_with_read_pending_completes_it) {
  auto node = open_stream(user.cx());
  std::array<std::byte, 16> buf;
  std::optional<result<std::size_t>> r;
  fs->async_read(user.cx(), *node, 0, buf, [&](result<std::size_t> v) { r = v; });
  node.reset();  // the fid's node (and its handle) go away
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
  EXPECT_EQ(stream->waiting(), 0u);
}

TEST(files_test, static_dynamic_writable) {
  auto root = std::make_shared<synth::dir>();
  auto w = synth::writable_file("abc");
  ASSERT_TRUE(root->add("s", synth::static_file("static text")));
  ASSERT_TRUE(root->add("w", w));
  auto fs = synth::tree_fs::make(root);
  caller c;
  EXPECT_EQ(read_all(*fs, c.cx(), "s"), "static text");
  auto a = fs->getattr(c.cx(), *walk_path(*fs, c.cx(), "s").node, 0);
  EXPECT_EQ(a->size, 11u);
  auto n = walk_path(*fs, c.cx(), "w");
  ASSERT_TRUE(fs->open(c.cx(), *n.node, O_RDWR));
  ASSERT_TRUE(fs->write(c.cx(), *n.node, 5, bytes("xy")));
  EXPECT_EQ(w->content(), std::string("abc\0\0xy", 7)) << "a hole reads as zeros";
  EXPECT_EQ(fs->write(c.cx(), *n.node, 1ull << 40, bytes("x")).error(), std::errc::file_too_large);
}

}  // namespace
}  // namespace ninep
