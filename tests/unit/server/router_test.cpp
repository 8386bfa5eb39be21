// SPDX-License-Identifier: MIT
// server::router: attaches routed by aname, directly and through a server, and the EXDEV the
// server answers when one request names fids of two routed filesystems.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <ninep/core/error.hpp>
#include <ninep/server/router.hpp>
#include <ninep/server/server.hpp>
#include <ninep/wire/dotl.hpp>
#include <ninep/wire/errors.hpp>
#include <string>
#include <vector>

#include "../../support/local_harness.hpp"
#include "../../support/raw_client.hpp"
#include "../../support/server_harness.hpp"

namespace ninep {
namespace {

using namespace wire;
using test::as;
using test::raw_client;
using test::running_server;
using test::temp_dir;
using test::text;
namespace stdfs = std::filesystem;

// A filesystem with one node, the root; it records the anames it was attached with.
class one_node_fs final : public server::filesystem {
 public:
  explicit one_node_fs(std::uint64_t path) : path_(path) {}
  result<server::walked> attach(const server::context& cx) override {
    anames.push_back(cx.user.aname);
    return server::walked{std::make_shared<server::node>(), qid{qt::dir, 0, path_}};
  }
  result<server::walked> walk(const server::context&, server::node&, std::string_view) override {
    return fail(errno_code(ENOENT));
  }
  std::vector<std::string> anames;

 private:
  std::uint64_t path_;
};

server::context cx_of(const server::user& u) { return server::context{u, {}}; }

// local_fs exporting `dir` as `name`: a routed filesystem sees the aname as the client sent it.
std::shared_ptr<server::filesystem> exported(const std::string& name, const stdfs::path& dir) {
  fs::local_config c;
  c.exports = {{name, dir.string()}};
  auto f = fs::local_fs::make(c);
  if (!f) throw std::runtime_error(f.error().message());
  return std::shared_ptr<server::filesystem>(std::move(*f));
}

TEST(router, routes_by_aname_and_falls_back) {
  auto a = std::make_shared<one_node_fs>(1);
  auto fallback = std::make_shared<one_node_fs>(2);
  server::router r(fallback);
  r.add("a", a);
  server::user u{"u", 1000, "a"};
  auto wa = r.attach(cx_of(u));
  ASSERT_TRUE(wa);
  EXPECT_EQ(wa->fs, a) << "the attach names the filesystem the fid belongs to";
  EXPECT_EQ(wa->qid.path, 1u);
  u.aname = "/some/export";
  auto wf = r.attach(cx_of(u));
  ASSERT_TRUE(wf);
  EXPECT_EQ(wf->fs, fallback);
  EXPECT_EQ(fallback->anames, std::vector<std::string>{"/some/export"})
      << "the fallback sees the aname unchanged";
  EXPECT_EQ(r.find("a"), a);
  EXPECT_EQ(r.find("other"), fallback);

  // A route replaced, then erased: its aname goes to the fallback.
  auto a2 = std::make_shared<one_node_fs>(3);
  r.add("a", a2);
  EXPECT_EQ(r.find("a"), a2);
  EXPECT_TRUE(r.erase("a"));
  EXPECT_FALSE(r.erase("a"));
  EXPECT_EQ(r.find("a"), fallback);
}

TEST(router, without_fallback_refuses_unknown_anames) {
  server::router r;
  r.add("a", std::make_shared<one_node_fs>(1));
  server::user u{"u", 1000, "b"};
  auto w = r.attach(cx_of(u));
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error(), errc::unknown_aname);
  EXPECT_EQ(wire::to_errno(w.error()), ENOENT);
  EXPECT_EQ(r.find("b"), nullptr);
}

TEST(router, a_router_behind_a_router_hands_on_the_inner_filesystem) {
  auto leaf = std::make_shared<one_node_fs>(7);
  auto inner = std::make_shared<server::router>();
  inner->add("x", leaf);
  server::router outer;
  outer.add("x", inner);
  server::user u{"u", 1000, "x"};
  auto w = outer.attach(cx_of(u));
  ASSERT_TRUE(w);
  EXPECT_EQ(w->fs, leaf) << "never the inner router, which serves no node";
}

// Two directories served under anames "a" and "b" by two local_fs, and a fallback.
class routed_server : public ::testing::Test {
 protected:
  temp_dir da, db;
  std::shared_ptr<server::router> routes = make_routes();
  std::mutex mu;
  std::vector<std::string> log;
  running_server srv{routes, logging()};

  std::shared_ptr<server::router> make_routes() {
    auto r = std::make_shared<server::router>();
    r->add("a", exported("a", da.path));
    r->add("b", exported("b", db.path));
    std::ofstream(da.path / "which") << "a";
    std::ofstream(db.path / "which") << "b";
    stdfs::create_directory(da.path / "dir");
    return r;
  }
  server::options logging() {
    server::options o;
    o.level = server::log_level::info;
    o.log = [this](server::log_level, std::string_view line) {
      std::lock_guard l(mu);
      log.emplace_back(line);
    };
    return o;
  }
  std::string read(raw_client& cl, fid_t root, fid_t f, std::string_view name) {
    as<Rwalk>(cl.rpc(Twalk{root, f, {name}}));
    as<Rlopen>(cl.rpc(Tlopen{f, dotl::rdonly}));
    auto s = text(as<Rread>(cl.rpc(Tread{f, 0, 100})).data.data);
    as<Rclunk>(cl.rpc(Tclunk{f}));
    return s;
  }
};

TEST_F(routed_server, attach_by_aname) {
  raw_client cl(srv.addr);
  as<Rattach>(cl.handshake(dialect::v2000L, "a"));
  as<Rattach>(cl.rpc(Tattach{1, nofid, "root", "b", 0}));
  EXPECT_EQ(read(cl, 0, 2, "which"), "a");
  EXPECT_EQ(read(cl, 1, 2, "which"), "b");
  // Every later operation goes to the fid's own filesystem.
  as<Rwalk>(cl.rpc(Twalk{1, 3, {}}));
  as<Rmkdir>(cl.rpc(Tmkdir{3, "made", 0755, no_id}));
  EXPECT_TRUE(stdfs::is_directory(db.path / "made"));
  EXPECT_FALSE(stdfs::exists(da.path / "made"));
}

TEST_F(routed_server, unknown_aname_is_refused_clearly) {
  raw_client l(srv.addr);
  EXPECT_EQ(raw_client::error_of(l.handshake(dialect::v2000L, "nope")), ENOENT);
  raw_client u(srv.addr);
  auto r = u.handshake(dialect::v2000u, "nope");
  ASSERT_TRUE(std::holds_alternative<Rerror>(r.body)) << fmt::format("{}", r);
  EXPECT_EQ(std::get<Rerror>(r.body).ename, "unknown aname \"nope\"");
  EXPECT_EQ(std::get<Rerror>(r.body).errnum, static_cast<std::uint32_t>(ENOENT));
  std::lock_guard lk(mu);
  bool logged = false;
  for (const auto& line : log)
    logged =
        logged || (line.find("attach aname \"nope\"") != std::string::npos &&
                   line.find(make_error_code(errc::unknown_aname).message()) != std::string::npos);
  EXPECT_TRUE(logged) << "the server's log names the aname and the reason";
}

// Without the server's check, local_fs would carry these out: both directories are on the
// same host filesystem, and its nodes hold descriptors that renameat(2) and linkat(2) take.
TEST_F(routed_server, two_filesystems_never_meet_in_one_request) {
  raw_client cl(srv.addr);
  as<Rattach>(cl.handshake(dialect::v2000L, "a"));
  as<Rattach>(cl.rpc(Tattach{1, nofid, "root", "b", 0}));
  as<Rwalk>(cl.rpc(Twalk{0, 2, {"which"}}));
  EXPECT_EQ(raw_client::error_of(cl.rpc(Trenameat{0, "which", 1, "moved"})), EXDEV);
  EXPECT_EQ(raw_client::error_of(cl.rpc(Trename{2, 1, "moved"})), EXDEV);
  EXPECT_EQ(raw_client::error_of(cl.rpc(Tlink{1, 2, "linked"})), EXDEV);
  EXPECT_TRUE(stdfs::exists(da.path / "which"));
  EXPECT_FALSE(stdfs::exists(db.path / "moved"));
  EXPECT_FALSE(stdfs::exists(db.path / "linked"));
  // Within one filesystem they still work.
  as<Rwalk>(cl.rpc(Twalk{0, 3, {"dir"}}));
  as<Rrenameat>(cl.rpc(Trenameat{0, "which", 3, "moved"}));
  EXPECT_TRUE(stdfs::exists(da.path / "dir" / "moved"));
}

TEST_F(routed_server, hard_link_across_filesystems_in_9p2000u) {
  raw_client cl(srv.addr);
  as<Rattach>(cl.handshake(dialect::v2000u, "a"));
  as<Rattach>(cl.rpc(Tattach{1, nofid, "root", "b", 0}));
  as<Rwalk>(cl.rpc(Twalk{0, 2, {"which"}}));
  as<Rwalk>(cl.rpc(Twalk{1, 3, {}}));
  // create(5) with DMLINK: the extension names the target fid.
  auto r = cl.rpc(Tcreate{3, "linked", dm::link | 0644, 0, "2"});
  EXPECT_EQ(raw_client::error_of(r), EXDEV) << fmt::format("{}", r);
  EXPECT_FALSE(stdfs::exists(db.path / "linked"));
}

}  // namespace
}  // namespace ninep
