// SPDX-License-Identifier: MIT
// synth trees served by a real server::file_server over loopback, spoken to in raw 9P
// (tests/support/raw_client.hpp) in each dialect.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <ninep/server/router.hpp>
#include <ninep/server/server.hpp>
#include <ninep/synth/ctl.hpp>
#include <ninep/synth/files.hpp>
#include <ninep/synth/tree_fs.hpp>
#include <ninep/wire/dotl.hpp>
#include <ninep/wire/format.hpp>
#include <set>
#include <sstream>
#include <thread>
#ifdef NINEP_HAVE_FS
#include <ninep/fs/local.hpp>
#endif

#include "../../support/raw_client.hpp"
#include "../../support/server_harness.hpp"

namespace ninep {
namespace {

using namespace wire;
using namespace std::chrono_literals;
using test::as;
using test::bytes;
using test::raw_client;
using test::running_server;
using test::text;

// Reads fid `f` (open) from offset 0 to end of file in `count`-byte reads.
std::string read_fid(raw_client& cl, fid_t f, std::uint32_t count = 8192) {
  std::string out;
  for (;;) {
    auto r = cl.rpc(Tread{f, out.size(), count});
    auto data = as<Rread>(r).data.data;
    if (data.empty()) return out;
    out += text(data);
  }
}

// Walks `names` from fid 0 to `f`, opens it for reading (in the client's dialect) and reads it.
std::string cat(raw_client& cl, fid_t f, std::vector<std::string_view> names) {
  Twalk w{0, f, {}};
  for (auto n : names) w.wnames.push_back(n);
  as<Rwalk>(cl.rpc(w));
  if (cl.dialect == dialect::v2000L)
    as<Rlopen>(cl.rpc(Tlopen{f, dotl::rdonly}));
  else
    as<Ropen>(cl.rpc(Topen{f, 0}));
  auto s = read_fid(cl, f);
  as<Rclunk>(cl.rpc(Tclunk{f}));
  return s;
}

std::shared_ptr<synth::dir> big_tree(int n) {
  auto root = std::make_shared<synth::dir>();
  auto big = *root->subdir("big");
  for (int i = 0; i < n; ++i)
    (void)big->add(fmt::format("entry-{:04}", i), synth::static_file(std::to_string(i)));
  return root;
}

TEST(synth_server, directory_read_as_stats_9p2000_and_u) {
  constexpr int n = 300;
  running_server srv(synth::tree_fs::make(big_tree(n)));
  for (auto d : {dialect::v2000, dialect::v2000u}) {
    raw_client cl(srv.addr);
    cl.handshake(d);
    as<Rwalk>(cl.rpc(Twalk{0, 1, {"big"}}));
    as<Ropen>(cl.rpc(Topen{1, 0}));
    std::set<std::string> names;
    std::uint64_t off = 0;
    int reads = 0;
    for (;;) {
      auto r = cl.rpc(Tread{1, off, 700});
      auto data = as<Rread>(r).data.data;
      if (data.empty()) break;
      ++reads;
      off += data.size();
      while (!data.empty()) {
        auto s = decode_stat(data, d);
        ASSERT_TRUE(s) << s.error().message();
        EXPECT_EQ(s->value.qid.type, qt::file);
        EXPECT_EQ(s->value.uid, "root");
        names.insert(std::string(s->value.name));
        data = data.subspan(s->size);
      }
    }
    EXPECT_EQ(names.size(), static_cast<std::size_t>(n)) << version_string(d);
    EXPECT_TRUE(names.contains("entry-0299"));
    EXPECT_GT(reads, 10);
    // Tstat of a file: size from the entry.
    as<Rwalk>(cl.rpc(Twalk{0, 2, {"big", "entry-0123"}}));
    auto st = cl.rpc(Tstat{2});
    EXPECT_EQ(as<Rstat>(st).stat.length, 3u);
    EXPECT_EQ(as<Rstat>(st).stat.mode, 0444u);
    EXPECT_EQ(cat(cl, 3, {"big", "entry-0042"}), "42");
  }
}

TEST(synth_server, readdir_dotl) {
  constexpr int n = 300;
  running_server srv(synth::tree_fs::make(big_tree(n)));
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000L);
  as<Rwalk>(cl.rpc(Twalk{0, 1, {"big"}}));
  as<Rlopen>(cl.rpc(Tlopen{1, dotl::rdonly | dotl::directory}));
  std::set<std::string> names;
  std::uint64_t cookie = 0;
  for (;;) {
    auto r = cl.rpc(Treaddir{1, cookie, 500});
    auto data = as<Rreaddir>(r).data.data;
    if (data.empty()) break;
    while (!data.empty()) {
      auto e = decode_dirent(data);
      ASSERT_TRUE(e);
      EXPECT_TRUE(names.insert(std::string(e->value.name)).second);
      cookie = e->value.offset;
      data = data.subspan(e->size);
    }
  }
  EXPECT_EQ(names.size(), n + 2u);
  EXPECT_TRUE(names.contains(".") && names.contains(".."));
}

class stream_server : public ::testing::Test {
 protected:
  std::shared_ptr<synth::dir> root = std::make_shared<synth::dir>();
  std::shared_ptr<synth::stream_file> stream = std::make_shared<synth::stream_file>();
  void SetUp() override { ASSERT_TRUE(root->add("events", stream)); }
  running_server srv{synth::tree_fs::make(root)};

  // Opens `n` fids (1..n) on the stream.
  void open_readers(raw_client& cl, int n) {
    for (int i = 1; i <= n; ++i) {
      as<Rwalk>(cl.rpc(Twalk{0, static_cast<fid_t>(i), {"events"}}));
      as<Rlopen>(cl.rpc(Tlopen{static_cast<fid_t>(i), dotl::rdonly}));
    }
  }
  // Waits until `n` reads are parked in the stream.
  bool wait_waiting(std::size_t n) {
    for (int i = 0; i < 500; ++i) {
      if (stream->waiting() >= n) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
};

TEST_F(stream_server, blocking_read_cancelled_by_flush) {
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000L);
  open_readers(cl, 1);
  cl.send(7, Tread{1, 0, 100});
  ASSERT_TRUE(wait_waiting(1));
  cl.send(8, Tflush{7});
  auto first = cl.recv();
  if (first.tag == 7) {
    EXPECT_EQ(raw_client::error_of(first), ECANCELED);
    first = cl.recv();
  }
  EXPECT_EQ(first.tag, 8);
  EXPECT_TRUE(std::holds_alternative<Rflush>(first.body));
  EXPECT_EQ(stream->waiting(), 0u);
  // The fid still works: the next record arrives.
  stream->publish("after\n");
  EXPECT_EQ(text(as<Rread>(cl.rpc(Tread{1, 0, 100})).data.data), "after\n");
}

TEST_F(stream_server, many_blocked_readers_released_by_data) {
  constexpr int n = 50;
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000L);
  open_readers(cl, n);
  for (int i = 1; i <= n; ++i)
    cl.send(static_cast<tag_t>(100 + i), Tread{static_cast<fid_t>(i), 0, 100});
  // All 50 park at once although the server has 8 workers: a waiting read holds no thread.
  ASSERT_TRUE(wait_waiting(n));
  stream->publish("sample\n");
  std::set<tag_t> answered;
  for (int i = 0; i < n; ++i) {
    auto r = cl.recv();
    EXPECT_EQ(text(as<Rread>(r).data.data), "sample\n");
    answered.insert(r.tag);
  }
  EXPECT_EQ(answered.size(), static_cast<std::size_t>(n));
}

TEST_F(stream_server, many_blocked_readers_released_by_flush) {
  constexpr int n = 50;
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000L);
  open_readers(cl, n);
  for (int i = 1; i <= n; ++i)
    cl.send(static_cast<tag_t>(100 + i), Tread{static_cast<fid_t>(i), 0, 100});
  ASSERT_TRUE(wait_waiting(n));
  for (int i = 1; i <= n; ++i)
    cl.send(static_cast<tag_t>(300 + i), Tflush{static_cast<tag_t>(100 + i)});
  int flushes = 0;
  std::set<tag_t> read_tags;
  while (flushes < n) {
    auto r = cl.recv();
    if (r.tag >= 300) {
      EXPECT_TRUE(std::holds_alternative<Rflush>(r.body));
      ++flushes;
    } else {
      EXPECT_EQ(raw_client::error_of(r), ECANCELED) << "a flushed read never gets data";
      read_tags.insert(r.tag);
    }
  }
  EXPECT_EQ(stream->waiting(), 0u);
  // The connection is healthy afterwards.
  as<Rgetattr>(cl.rpc(Tgetattr{0, dotl::getattr_basic}));
}

TEST(synth_server, ramfs_workload_dotl) {
  auto root = synth::dir::make_writable(0755);
  running_server srv(synth::tree_fs::make(root));
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000L);
  as<Rmkdir>(cl.rpc(Tmkdir{0, "d", 0755, 0}));
  as<Rwalk>(cl.rpc(Twalk{0, 1, {"d"}}));
  as<Rlcreate>(cl.rpc(Tlcreate{1, "f", dotl::rdwr, 0644, 0}));
  std::string big(100000, 'x');
  for (std::size_t off = 0; off < big.size(); off += 30000) {
    auto chunk = std::string_view(big).substr(off, 30000);
    EXPECT_EQ(as<Rwrite>(cl.rpc(Twrite{1, off, payload{bytes(chunk)}})).count, chunk.size());
  }
  EXPECT_EQ(read_fid(cl, 1, 65536), big);
  as<Rclunk>(cl.rpc(Tclunk{1}));
  as<Rwalk>(cl.rpc(Twalk{0, 2, {"d"}}));
  as<Rrenameat>(cl.rpc(Trenameat{2, "f", 0, "g"}));
  as<Rwalk>(cl.rpc(Twalk{0, 3, {"g"}}));
  Tsetattr t{};
  t.fid = 3;
  t.valid = dotl::setattr_size;
  t.size = 10;
  as<Rsetattr>(cl.rpc(t));
  auto a = cl.rpc(Tgetattr{3, dotl::getattr_all});
  EXPECT_EQ(as<Rgetattr>(a).size, 10u);
  EXPECT_EQ(as<Rgetattr>(a).mode, S_IFREG | 0644u);
  EXPECT_EQ(raw_client::error_of(cl.rpc(Tunlinkat{0, "d", dotl::at_removedir})), 0)
      << "d is empty after the rename";
  as<Runlinkat>(cl.rpc(Tunlinkat{0, "g", 0}));
  EXPECT_EQ(root->count(), 0u);
  // The fid on the unlinked file still reads it.
  as<Rlopen>(cl.rpc(Tlopen{3, dotl::rdonly}));
  EXPECT_EQ(read_fid(cl, 3), std::string(10, 'x'));
}

TEST(synth_server, ramfs_workload_9p2000) {
  auto root = synth::dir::make_writable(0755);
  running_server srv(synth::tree_fs::make(root));
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000, "", "root");
  as<Rwalk>(cl.rpc(Twalk{0, 1, {}}));
  as<Rcreate>(cl.rpc(Tcreate{1, "dir", dm::dir | 0755, 0, ""}));
  as<Rwalk>(cl.rpc(Twalk{0, 2, {"dir"}}));
  as<Rcreate>(cl.rpc(Tcreate{2, "file", 0644, 2, ""}));
  as<Rwrite>(cl.rpc(Twrite{2, 0, payload{bytes("hello, ramfs")}}));
  EXPECT_EQ(read_fid(cl, 2), "hello, ramfs");
  // wstat: rename and truncate.
  wire::stat s;
  s.type = 0xffff;
  s.dev = s.mode = s.atime = s.mtime = 0xffffffff;
  s.qid = {0xff, 0xffffffff, ~0ull};
  s.length = 5;
  s.name = "renamed";
  as<Rwstat>(cl.rpc(Twstat{2, s}));
  as<Rclunk>(cl.rpc(Tclunk{2}));
  EXPECT_EQ(cat(cl, 3, {"dir", "renamed"}), "hello");
  auto d = std::static_pointer_cast<synth::dir>(root->find("dir"));
  EXPECT_TRUE(d->find("renamed"));
  EXPECT_FALSE(d->find("file"));
  as<Rwalk>(cl.rpc(Twalk{0, 4, {"dir", "renamed"}}));
  as<Rremove>(cl.rpc(Tremove{4}));
  as<Rwalk>(cl.rpc(Twalk{0, 5, {"dir"}}));
  as<Rremove>(cl.rpc(Tremove{5}));
  EXPECT_EQ(root->count(), 0u);
}

TEST(synth_server, ctl_counters_and_loglevel) {
  auto routes = std::make_shared<server::router>();
  running_server srv(routes);
  std::vector<server::log_level> levels;
  std::mutex mu;
  routes->add("ctl",
              synth::tree_fs::make(synth::make_ctl_tree(srv.srv->stats(), [&](server::log_level l) {
                std::lock_guard lock(mu);
                levels.push_back(l);
                srv.srv->set_level(l);
              })));
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000L, "ctl");
  auto value = [&](std::string_view name) { return std::stoull(cat(cl, 1, {name})); };
  EXPECT_GE(value("connections"), 1u);
  auto r1 = value("requests");
  auto in1 = value("bytes_in");
  for (int i = 0; i < 10; ++i) as<Rgetattr>(cl.rpc(Tgetattr{0, dotl::getattr_basic}));
  // A cat is Twalk, Tlopen (the snapshot), Tread, Tread (end of file), Tclunk. Between the two
  // snapshots: the end of the first cat (3), the bytes_in cat (5), ten Tgetattr, and the
  // start of the second (2).
  EXPECT_EQ(value("requests"), r1 + 3 + 5 + 10 + 2);
  EXPECT_GT(value("bytes_in"), in1 + 10 * 15);
  EXPECT_EQ(value("fids"), 2u) << "fid 0 and the fid being read";

  // Per message type: the ten Tgetattr, each in exactly one latency bucket.
  std::istringstream ops(cat(cl, 1, {"ops"}));
  std::string line;
  bool found = false;
  while (std::getline(ops, line)) {
    if (!line.starts_with("Tgetattr ")) continue;
    found = true;
    std::istringstream fields(line.substr(9));
    std::uint64_t count = 0, in_buckets = 0;
    fields >> count;
    EXPECT_EQ(count, 10u) << line;
    std::string bucket;
    while (fields >> bucket) in_buckets += std::stoull(bucket.substr(bucket.find(':') + 1));
    EXPECT_EQ(in_buckets, count) << line;
  }
  EXPECT_TRUE(found) << "no Tgetattr line in ctl/ops";

  // null and zero, as diodload uses them.
  as<Rwalk>(cl.rpc(Twalk{0, 2, {"null"}}));
  as<Rlopen>(cl.rpc(Tlopen{2, dotl::rdwr}));
  EXPECT_EQ(as<Rwrite>(cl.rpc(Twrite{2, 0, payload{bytes("discard me")}})).count, 10u);
  EXPECT_TRUE(as<Rread>(cl.rpc(Tread{2, 0, 100})).data.data.empty());
  as<Rwalk>(cl.rpc(Twalk{0, 3, {"zero"}}));
  as<Rlopen>(cl.rpc(Tlopen{3, dotl::rdonly}));
  auto z = as<Rread>(cl.rpc(Tread{3, 12345, 4096})).data.data;
  EXPECT_EQ(z.size(), 4096u);
  EXPECT_TRUE(std::all_of(z.begin(), z.end(), [](std::byte b) { return b == std::byte{0}; }));

  EXPECT_EQ(cat(cl, 4, {"loglevel"}), "info\n");
  as<Rwalk>(cl.rpc(Twalk{0, 5, {"loglevel"}}));
  as<Rlopen>(cl.rpc(Tlopen{5, dotl::wronly}));
  as<Rwrite>(cl.rpc(Twrite{5, 0, payload{bytes("debug\n")}}));
  EXPECT_EQ(raw_client::error_of(cl.rpc(Twrite{5, 0, payload{bytes("loud")}})), EINVAL);
  EXPECT_EQ(cat(cl, 6, {"loglevel"}), "debug\n");
  std::lock_guard lock(mu);
  EXPECT_EQ(levels, std::vector<server::log_level>{server::log_level::debug});
}

TEST(synth_server, router_routes_by_aname) {
  auto files = std::make_shared<synth::dir>();
  (void)files->add("hello", synth::static_file("from the fallback\n"));
  std::shared_ptr<server::filesystem> fallback = synth::tree_fs::make(files);
#ifdef NINEP_HAVE_FS
  char tmpl[] = "/tmp/ninep-synth-test-XXXXXX";
  std::filesystem::path dir = ::mkdtemp(tmpl);
  std::ofstream(dir / "hello") << "from the local directory\n";
  fs::local_config c;
  c.default_dir = dir;
  fallback = std::shared_ptr<server::filesystem>(std::move(*fs::local_fs::make(c)));
#endif
  auto routes = std::make_shared<server::router>(fallback);
  running_server srv(routes);
  routes->add("ctl", synth::tree_fs::make(synth::make_ctl_tree(srv.srv->stats(), {})));
  raw_client local(srv.addr);
  local.handshake(dialect::v2000L, "");
  auto hello = cat(local, 1, {"hello"});
  raw_client ctl(srv.addr);
  ctl.handshake(dialect::v2000u, "ctl");
  EXPECT_EQ(cat(ctl, 1, {"null"}), "");
  EXPECT_EQ(raw_client::error_of(ctl.rpc(Twalk{0, 2, {"hello"}})), ENOENT);
#ifdef NINEP_HAVE_FS
  EXPECT_EQ(hello, "from the local directory\n");
  std::filesystem::remove_all(dir);
#else
  EXPECT_EQ(hello, "from the fallback\n");
#endif
}

// A tree with "mnt/here" (a file of the tree) and "mnt/other", a mount point showing another
// tree with "inner" and "sub/deep".
struct mounted_trees {
  std::shared_ptr<synth::dir> other_root = synth::dir::make_writable(0777);
  std::shared_ptr<synth::dir> root = std::make_shared<synth::dir>();
  std::shared_ptr<synth::dir> mnt = *root->subdir("mnt", 0777);
  std::shared_ptr<synth::mount_point> mp;
  std::uint64_t salt = 0;
  mounted_trees() {
    (void)other_root->add("inner", synth::static_file("from the other tree\n"));
    (void)(*other_root->subdir("sub"))->add("deep", synth::static_file("deep\n"));
    mnt->set_client_writable(true);
    (void)mnt->add("here", synth::static_file("in the tree\n"));
    mp = synth::mount(synth::tree_fs::make(other_root));
    (void)mnt->add("other", mp);
    salt = mp->id() << 48;
  }
  std::shared_ptr<synth::dir> sub() const {
    return std::static_pointer_cast<synth::dir>(other_root->find("sub"));
  }
  std::uint64_t id(const std::shared_ptr<synth::dir>& d, std::string_view name) const {
    return d->find(name)->id();
  }
};

TEST(synth_server, mount_point_walk_read_and_stat_across_it) {
  mounted_trees t;
  running_server srv(synth::tree_fs::make(t.root));
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000L);
  // One Twalk across the mount point: from there on the qids are the other tree's, salted.
  auto w = as<Rwalk>(cl.rpc(Twalk{0, 1, {"mnt", "other", "inner"}}));
  ASSERT_EQ(w.qids.size(), 3u);
  EXPECT_EQ(w.qids[0].path, t.mnt->id());
  EXPECT_EQ(w.qids[1].path, t.other_root->id() ^ t.salt);
  EXPECT_EQ(w.qids[1].type, qt::dir);
  EXPECT_EQ(w.qids[2].path, t.id(t.other_root, "inner") ^ t.salt);
  auto a = as<Rgetattr>(cl.rpc(Tgetattr{1, dotl::getattr_basic}));
  EXPECT_EQ(a.qid.path, w.qids[2].path) << "getattr's qid matches the walk's";
  EXPECT_EQ(a.size, 20u);
  EXPECT_EQ(cat(cl, 2, {"mnt", "other", "inner"}), "from the other tree\n");
  EXPECT_EQ(cat(cl, 2, {"mnt", "other", "sub", "deep"}), "deep\n");
  EXPECT_EQ(cat(cl, 2, {"mnt", "here"}), "in the tree\n");

  // A fid inside the mount keeps walking there.
  as<Rwalk>(cl.rpc(Twalk{0, 3, {"mnt", "other"}}));
  auto sub = as<Rwalk>(cl.rpc(Twalk{3, 4, {"sub", "deep"}}));
  ASSERT_EQ(sub.qids.size(), 2u);
  EXPECT_EQ(sub.qids[1].path, t.id(t.sub(), "deep") ^ t.salt);

  // Listing the mounted root lists the other tree, with salted qids.
  as<Rwalk>(cl.rpc(Twalk{3, 5, {}}));
  auto o = as<Rlopen>(cl.rpc(Tlopen{5, dotl::rdonly | dotl::directory}));
  EXPECT_EQ(o.qid.path, t.other_root->id() ^ t.salt);
  std::map<std::string, std::uint64_t> entries;
  auto data = as<Rreaddir>(cl.rpc(Treaddir{5, 0, 4096})).data.data;
  while (!data.empty()) {
    auto e = decode_dirent(data);
    ASSERT_TRUE(e);
    entries[std::string(e->value.name)] = e->value.qid.path;
    data = data.subspan(e->size);
  }
  EXPECT_EQ(entries["inner"], t.id(t.other_root, "inner") ^ t.salt);
  EXPECT_TRUE(entries.contains("sub"));
  EXPECT_FALSE(entries.contains("here"));
  auto st = as<Rstatfs>(cl.rpc(Tstatfs{3}));
  EXPECT_EQ(st.fstype, dotl::v9fs_magic);

  // Creating inside the mount makes the file in the other tree.
  as<Rwalk>(cl.rpc(Twalk{0, 6, {"mnt", "other"}}));
  auto made = as<Rlcreate>(cl.rpc(Tlcreate{6, "new", dotl::rdwr, 0644, no_id}));
  ASSERT_TRUE(t.other_root->find("new"));
  EXPECT_EQ(made.qid.path, t.id(t.other_root, "new") ^ t.salt);
  EXPECT_FALSE(t.mnt->find("new"));
}

TEST(synth_server, mount_point_dotdot_leads_back_to_the_tree) {
  mounted_trees t;
  running_server srv(synth::tree_fs::make(t.root));
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000L);
  auto up = as<Rwalk>(cl.rpc(Twalk{0, 1, {"mnt", "other", "..", "here"}}));
  ASSERT_EQ(up.qids.size(), 4u);
  EXPECT_EQ(up.qids[2].path, t.mnt->id()) << "\"..\" of the mounted root: the directory holding it";
  EXPECT_EQ(up.qids[3].path, t.id(t.mnt, "here"));
  EXPECT_EQ(cat(cl, 2, {"mnt", "other", "..", "here"}), "in the tree\n");
  // Down two levels in the mount and back up three: the tree's root.
  auto deep = as<Rwalk>(cl.rpc(Twalk{0, 3, {"mnt", "other", "sub", "..", "..", ".."}}));
  ASSERT_EQ(deep.qids.size(), 6u);
  EXPECT_EQ(deep.qids[2].path, t.id(t.other_root, "sub") ^ t.salt);
  EXPECT_EQ(deep.qids[3].path, t.other_root->id() ^ t.salt);
  EXPECT_EQ(deep.qids[4].path, t.mnt->id());
  EXPECT_EQ(deep.qids[5].path, t.root->id());
  // A fid that walked into the mount remembers the way out, and so do its clones.
  as<Rwalk>(cl.rpc(Twalk{0, 4, {"mnt", "other"}}));
  as<Rwalk>(cl.rpc(Twalk{4, 5, {}}));
  auto back = as<Rwalk>(cl.rpc(Twalk{5, 6, {".."}}));
  ASSERT_EQ(back.qids.size(), 1u);
  EXPECT_EQ(back.qids[0].path, t.mnt->id());
  auto a = as<Rgetattr>(cl.rpc(Tgetattr{6, dotl::getattr_basic}));
  EXPECT_EQ(a.qid.path, t.mnt->id()) << "the fid is the tree's again";
  EXPECT_EQ(cat(cl, 7, {"mnt", "other", "inner"}), "from the other tree\n");
}

TEST(synth_server, mount_point_two_filesystems_never_meet) {
  mounted_trees t;
  running_server srv(synth::tree_fs::make(t.root));
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000L);
  as<Rwalk>(cl.rpc(Twalk{0, 1, {"mnt", "other"}}));
  as<Rwalk>(cl.rpc(Twalk{0, 2, {"mnt"}}));
  as<Rwalk>(cl.rpc(Twalk{0, 3, {"mnt", "other", "inner"}}));
  as<Rwalk>(cl.rpc(Twalk{0, 4, {"mnt", "here"}}));
  EXPECT_EQ(raw_client::error_of(cl.rpc(Trenameat{1, "inner", 2, "x"})), EXDEV);
  EXPECT_EQ(raw_client::error_of(cl.rpc(Trenameat{2, "here", 1, "x"})), EXDEV);
  EXPECT_EQ(raw_client::error_of(cl.rpc(Trename{3, 2, "x"})), EXDEV);
  EXPECT_EQ(raw_client::error_of(cl.rpc(Trename{4, 1, "x"})), EXDEV);
  EXPECT_EQ(raw_client::error_of(cl.rpc(Tlink{2, 3, "x"})), EXDEV);
  EXPECT_EQ(raw_client::error_of(cl.rpc(Tlink{1, 4, "x"})), EXDEV);
  EXPECT_TRUE(t.other_root->find("inner"));
  EXPECT_TRUE(t.mnt->find("here"));
  EXPECT_FALSE(t.mnt->find("x"));
  EXPECT_FALSE(t.other_root->find("x"));
  // On either side alone, rename works.
  as<Rrenameat>(cl.rpc(Trenameat{1, "inner", 1, "inner2"}));
  EXPECT_TRUE(t.other_root->find("inner2"));
  as<Rrenameat>(cl.rpc(Trenameat{2, "here", 2, "here2"}));
  EXPECT_TRUE(t.mnt->find("here2"));
  // The mount point itself is the tree's and stays put.
  EXPECT_EQ(raw_client::error_of(cl.rpc(Tunlinkat{2, "other", 0})), EBUSY);
}

TEST(synth_server, mount_point_in_9p2000u_stat_and_directory_read) {
  mounted_trees t;
  running_server srv(synth::tree_fs::make(t.root));
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000u);
  as<Rwalk>(cl.rpc(Twalk{0, 1, {"mnt", "other", "inner"}}));
  auto st = as<Rstat>(cl.rpc(Tstat{1})).stat;
  EXPECT_EQ(st.qid.path, t.id(t.other_root, "inner") ^ t.salt);
  EXPECT_EQ(st.name, "inner");
  EXPECT_EQ(st.length, 20u);
  // Reading "mnt" as stats: the mount point's entry is the mounted root, as a walk shows it.
  as<Rwalk>(cl.rpc(Twalk{0, 2, {"mnt"}}));
  as<Ropen>(cl.rpc(Topen{2, 0}));
  std::map<std::string, std::uint64_t> paths;
  auto data = as<Rread>(cl.rpc(Tread{2, 0, 4096})).data.data;
  while (!data.empty()) {
    auto s = decode_stat(data, dialect::v2000u);
    ASSERT_TRUE(s);
    paths[std::string(s->value.name)] = s->value.qid.path;
    data = data.subspan(s->size);
  }
  EXPECT_EQ(paths["other"], t.other_root->id() ^ t.salt);
  EXPECT_EQ(paths["here"], t.id(t.mnt, "here"));
  // 9P2000 rename (Twstat) of the mounted root: it has no parent in its own filesystem.
  as<Rwalk>(cl.rpc(Twalk{0, 3, {"mnt", "other"}}));
  wire::stat ws;
  ws.type = 0xffff;
  ws.dev = ws.mode = ws.atime = ws.mtime = 0xffffffff;
  ws.qid = {0xff, 0xffffffff, ~0ull};
  ws.length = ~0ull;
  ws.n_uid = ws.n_gid = ws.n_muid = no_id;
  ws.name = "renamed";
  EXPECT_EQ(raw_client::error_of(cl.rpc(Twstat{3, ws})), EBUSY);
  EXPECT_TRUE(t.mnt->find("other"));
}

#ifdef NINEP_HAVE_FS
// A host directory mounted inside a synthetic tree.
TEST(synth_server, local_directory_mounted_in_a_tree) {
  char tmpl[] = "/tmp/ninep-synth-test-XXXXXX";
  std::filesystem::path dir = ::mkdtemp(tmpl);
  std::ofstream(dir / "file") << "on the host\n";
  std::filesystem::create_directory(dir / "d");
  fs::local_config c;
  c.default_dir = dir;
  std::shared_ptr<server::filesystem> host(std::move(*fs::local_fs::make(c)));
  auto root = std::make_shared<synth::dir>();
  (void)root->add("host", synth::mount(host));
  (void)root->add("motd", synth::static_file("hello\n"));
  running_server srv(synth::tree_fs::make(root));
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000L);
  EXPECT_EQ(cat(cl, 1, {"host", "file"}), "on the host\n");
  as<Rwalk>(cl.rpc(Twalk{0, 2, {"host"}}));
  as<Rwalk>(cl.rpc(Twalk{0, 3, {"host", "d"}}));
  auto a = as<Rgetattr>(cl.rpc(Tgetattr{3, dotl::getattr_basic}));
  EXPECT_TRUE(S_ISDIR(a.mode));
  // Within the host directory, rename is local_fs's; out of it, the server refuses.
  as<Rrenameat>(cl.rpc(Trenameat{2, "file", 3, "moved"}));
  EXPECT_TRUE(std::filesystem::exists(dir / "d" / "moved"));
  EXPECT_EQ(raw_client::error_of(cl.rpc(Trenameat{3, "moved", 0, "x"})), EXDEV);
  EXPECT_TRUE(std::filesystem::exists(dir / "d" / "moved"));
  auto back = as<Rwalk>(cl.rpc(Twalk{3, 4, {"..", "..", "motd"}}));
  EXPECT_EQ(back.qids.size(), 3u);
  EXPECT_EQ(cat(cl, 5, {"host", "..", "motd"}), "hello\n");
  std::filesystem::remove_all(dir);
}
#endif

}  // namespace
}  // namespace ninep
