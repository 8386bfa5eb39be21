// SPDX-License-Identifier: MIT
// The client against in-process peers that misbehave the way real 9P servers do (go-p9p, styx,
// libixp, NFS-Ganesha) or the way a hostile one would (issues 16 and 11).
#include <gtest/gtest.h>

#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <ninep/client/client.hpp>
#include <ninep/core/error.hpp>
#include <ninep/wire/codec.hpp>
#include <ninep/wire/dotl.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace ninep::client {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;
using bytes = std::vector<std::byte>;

/// A blocking 9P server on a loopback port, one connection at a time, speaking dialect `d`.
/// Tversion is answered here (unless `answer_version` is false); every other request goes to
/// the handler, which returns the frame to send back, or nothing to leave it unanswered.
class fake_peer {
 public:
  using handler = std::function<std::optional<bytes>(fake_peer&, const wire::message&)>;

  fake_peer(wire::dialect d, handler h, bool answer_version = true)
      : d_(d),
        h_(std::move(h)),
        answer_version_(answer_version),
        acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { serve(); });
  }
  ~fake_peer() {
    stop_ = true;
    std::error_code ignored;
    {
      std::lock_guard l(mu_);
      if (sock_) sock_->shutdown(asio::socket_base::shutdown_both, ignored);
    }
    // Closing the acceptor does not wake a blocking accept(2): a connection does.
    asio::ip::tcp::socket poke(io_);
    poke.connect(acceptor_.local_endpoint(), ignored);
    thread_.join();
  }

  std::string address() const {
    return "tcp!127.0.0.1!" + std::to_string(acceptor_.local_endpoint().port());
  }
  /// The reply `b` to tag `tag`, encoded in the peer's dialect.
  bytes frame(wire::tag_t tag, const wire::message_body& b) const {
    wire::message m{tag, b};
    bytes out(wire::encoded_size(m, d_));
    auto n = wire::encode(m, d_, out);
    EXPECT_TRUE(n);
    return out;
  }
  /// How many requests of type `t` arrived.
  int count(wire::msg_type t) {
    std::lock_guard l(mu_);
    return counts_[t];
  }

 private:
  bool read_exact(std::byte* p, std::size_t n) {
    std::error_code ec;
    asio::read(*sock_, asio::buffer(p, n), ec);
    return !ec;
  }

  void serve() {
    while (!stop_) {
      std::error_code ec;
      auto s = std::make_unique<asio::ip::tcp::socket>(io_);
      acceptor_.accept(*s, ec);
      if (ec || stop_) return;
      {
        std::lock_guard l(mu_);
        sock_ = std::move(s);
      }
      for (;;) {
        std::array<std::byte, 4> size_bytes;
        if (!read_exact(size_bytes.data(), 4)) break;
        std::uint32_t size = 0;
        for (int i = 3; i >= 0; --i)
          size = (size << 8) | std::to_integer<std::uint32_t>(size_bytes[i]);
        if (size < 7 || size > 1 << 20) break;
        bytes f(size);
        std::copy(size_bytes.begin(), size_bytes.end(), f.begin());
        if (!read_exact(f.data() + 4, size - 4)) break;
        auto m = wire::decode(f, d_);
        if (!m) m = wire::decode(f, wire::dialect::v2000);  // Tversion of another dialect
        if (!m) break;
        {
          std::lock_guard l(mu_);
          counts_[wire::type_of(m->body)]++;
        }
        std::optional<bytes> out;
        if (const auto* v = std::get_if<wire::Tversion>(&m->body)) {
          if (answer_version_)
            out = frame(m->tag, wire::Rversion{std::min<std::uint32_t>(v->msize, 65536),
                                               wire::version_string(d_)});
        } else {
          out = h_(*this, *m);
        }
        if (out) asio::write(*sock_, asio::buffer(*out), ec);
      }
      std::lock_guard l(mu_);
      sock_.reset();
    }
  }

  wire::dialect d_;
  handler h_;
  bool answer_version_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::unique_ptr<asio::ip::tcp::socket> sock_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::map<wire::msg_type, int> counts_;
};

/// A 9P2000 file tree served the way go-p9p and styx serve it: a walk that fails at its first
/// element answers Rwalk with no qids and keeps the newfid bound; a removed fid stays bound; a
/// newfid already bound gets "duplicate fid". Optionally the libixp way: directory reads carry
/// garbage attributes and mark directories as files.
struct tree_peer {
  std::map<std::string, bool> nodes{{"", true}};  // path -> is a directory
  std::map<wire::fid_t, std::string> fids;
  std::set<wire::fid_t> taken;  // answered "duplicate fid" as if bound
  bool all_taken = false;       // every walk to a new fid is answered "duplicate fid"
  bool libixp_listing = false;  // garbage attributes and file qids in directory reads
  std::string root_name = "/";  // styx names the root "."
  std::map<std::string, std::string> create_error;  // name -> Rerror string for Tcreate

  static std::string join(const std::string& dir, std::string_view name) {
    return dir.empty() ? std::string(name) : dir + "/" + std::string(name);
  }
  wire::qid qid_of(const std::string& p) const {
    return {static_cast<std::uint8_t>(nodes.at(p) ? wire::qt::dir : 0), 0,
            std::hash<std::string>{}(p)};
  }
  wire::stat stat_of(const std::string& p) const {
    wire::stat s;
    s.qid = qid_of(p);
    s.mode = nodes.at(p) ? (wire::dm::dir | 0755) : 0644;
    s.length = nodes.at(p) ? 0 : 3;
    auto slash = p.rfind('/');
    s.name = p.empty() ? std::string_view(root_name)
                       : std::string_view(p).substr(slash == std::string::npos ? 0 : slash + 1);
    s.uid = s.gid = s.muid = "glenda";
    return s;
  }
  std::optional<bytes> error(fake_peer& f, wire::tag_t tag, std::string_view text) {
    return f.frame(tag, wire::Rerror{text, 0});
  }

  std::optional<bytes> operator()(fake_peer& f, const wire::message& m) {
    auto tag = m.tag;
    if (const auto* a = std::get_if<wire::Tattach>(&m.body)) {
      fids[a->fid] = "";
      return f.frame(tag, wire::Rattach{qid_of("")});
    }
    if (const auto* w = std::get_if<wire::Twalk>(&m.body)) {
      if (!fids.contains(w->fid)) return error(f, tag, "unknown fid");
      if (w->newfid != w->fid &&
          (all_taken || fids.contains(w->newfid) || taken.contains(w->newfid)))
        return error(f, tag, "duplicate fid");
      std::string p = fids[w->fid];
      wire::Rwalk r;
      for (auto name : w->wnames) {
        std::string next = name == ".."
                               ? p.substr(0, p.rfind('/') == std::string::npos ? 0 : p.rfind('/'))
                               : join(p, name);
        if (!nodes.contains(next)) break;
        p = next;
        r.qids.push_back(qid_of(p));
      }
      fids[w->newfid] = p;  // bound even when the walk failed (go-p9p, styx)
      return f.frame(tag, r);
    }
    const wire::fid_t* fid = std::visit(
        [](const auto& b) -> const wire::fid_t* {
          if constexpr (requires { b.fid; })
            return &b.fid;
          else
            return nullptr;
        },
        m.body);
    if (fid == nullptr || !fids.contains(*fid)) return error(f, tag, "unknown fid");
    const std::string p = fids[*fid];
    if (std::holds_alternative<wire::Tclunk>(m.body)) {
      fids.erase(*fid);
      return f.frame(tag, wire::Rclunk{});
    }
    if (std::holds_alternative<wire::Tremove>(m.body)) {
      nodes.erase(p);  // and the fid stays bound (go-p9p)
      return f.frame(tag, wire::Rremove{});
    }
    if (!nodes.contains(p)) return error(f, tag, "file does not exist");
    if (std::holds_alternative<wire::Tstat>(m.body)) return f.frame(tag, wire::Rstat{stat_of(p)});
    if (std::holds_alternative<wire::Topen>(m.body)) return f.frame(tag, wire::Ropen{qid_of(p), 0});
    if (const auto* c = std::get_if<wire::Tcreate>(&m.body)) {
      if (auto e = create_error.find(std::string(c->name)); e != create_error.end())
        return error(f, tag, e->second);
      std::string np = join(p, c->name);
      if (nodes.contains(np)) return error(f, tag, "file already exists");
      nodes[np] = (c->perm & wire::dm::dir) != 0;
      fids[*fid] = np;
      return f.frame(tag, wire::Rcreate{qid_of(np), 0});
    }
    if (const auto* r = std::get_if<wire::Tread>(&m.body)) {
      if (!nodes[p] || r->offset != 0) return f.frame(tag, wire::Rread{});
      bytes data;
      for (const auto& [path, dir] : nodes) {
        if (path.empty() ||
            path.substr(0, path.rfind('/') == std::string::npos ? 0 : path.rfind('/')) != p)
          continue;
        wire::stat s = stat_of(path);
        if (libixp_listing) {
          s.qid.type = 0;                 // directories marked as files
          s.mode = wire::dm::dir | 0777;  // and garbage attributes
          s.length = 0xdeadbeef;
        }
        bytes one(wire::stat_size(s, wire::dialect::v2000));
        EXPECT_TRUE(wire::encode_stat(s, wire::dialect::v2000, one));
        data.insert(data.end(), one.begin(), one.end());
      }
      wire::Rread rr;
      rr.data.data = data;
      return f.frame(tag, rr);
    }
    return error(f, tag, "operation not supported");
  }
};

options opts(wire::dialect d) {
  options o;
  o.dialect = d;
  o.msize = 65536;
  o.uname = "test";
  return o;
}

/// Wraps a tree_peer so the test can still reach it.
fake_peer::handler use(tree_peer& t) {
  return [&t](fake_peer& f, const wire::message& m) { return t(f, m); };
}

// 1. Fid numbers ------------------------------------------------------------------------------

TEST(Peers, AFidFreedAfterAFailedWalkOrARemoveIsNotReusedAtOnce) {
  tree_peer t;
  t.nodes["a"] = false;
  t.nodes["b"] = false;
  fake_peer srv(wire::dialect::v2000, use(t));
  auto c = client::connect(srv.address(), opts(wire::dialect::v2000));
  ASSERT_TRUE(c) << c.error().message();
  // go-p9p keeps the newfid of this failed walk bound.
  auto miss = (*c)->stat("missing");
  ASSERT_FALSE(miss);
  EXPECT_EQ(miss.error(), std::errc::no_such_file_or_directory);
  auto a = (*c)->stat("a");
  ASSERT_TRUE(a) << a.error().message();
  // ... and the fid of a Tremove.
  ASSERT_TRUE((*c)->remove("a"));
  auto b = (*c)->stat("b");
  ASSERT_TRUE(b) << b.error().message();
  ASSERT_TRUE((*c)->mkdir("d", 0755));
  auto l = (*c)->readdir("", false);
  ASSERT_TRUE(l) << l.error().message();
  EXPECT_EQ(srv.count(wire::msg_type::Twalk), 6);  // no walk needed a retry
}

TEST(Peers, DuplicateFidIsRetriedOnceWithAnotherNumber) {
  tree_peer t;
  t.nodes["a"] = false;
  // Fid 1 is the root; the next walk's number is answered "duplicate fid" whatever it is.
  for (wire::fid_t f = 2; f < 3; ++f) t.taken.insert(f);
  fake_peer srv(wire::dialect::v2000, use(t));
  auto c = client::connect(srv.address(), opts(wire::dialect::v2000));
  ASSERT_TRUE(c) << c.error().message();
  auto a = (*c)->stat("a");
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(srv.count(wire::msg_type::Twalk), 2);
}

TEST(Peers, DuplicateFidTwiceIsReportedWithTheServersText) {
  tree_peer t;
  t.nodes["a"] = false;
  t.all_taken = true;
  fake_peer srv(wire::dialect::v2000, use(t));
  auto c = client::connect(srv.address(), opts(wire::dialect::v2000));
  ASSERT_TRUE(c) << c.error().message();
  auto a = (*c)->stat("a");
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().text, "duplicate fid");
  EXPECT_EQ(srv.count(wire::msg_type::Twalk), 2);  // one retry, not a loop
}

// 2. Error text -------------------------------------------------------------------------------

TEST(Peers, AnUnknownErrorStringIsKeptAndItsKnownSuffixChoosesTheErrno) {
  tree_peer t;
  t.create_error["dir1"] = "mkdir /srv/x/dir1: file exists";  // go-p9p's os error
  t.create_error["dir2"] = "the frobnicator is unhappy";
  t.create_error["dir3"] = "permission denied";
  fake_peer srv(wire::dialect::v2000, use(t));
  auto c = client::connect(srv.address(), opts(wire::dialect::v2000));
  ASSERT_TRUE(c) << c.error().message();
  auto r1 = (*c)->mkdir("dir1", 0755);
  ASSERT_FALSE(r1);
  EXPECT_EQ(r1.error(), std::errc::file_exists);
  EXPECT_EQ(r1.error().text, "mkdir /srv/x/dir1: file exists");
  EXPECT_EQ(r1.error().message(), "mkdir /srv/x/dir1: file exists");
  auto r2 = (*c)->mkdir("dir2", 0755);
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error(), std::errc::io_error);
  EXPECT_EQ(r2.error().text, "the frobnicator is unhappy");
  auto r3 = (*c)->mkdir("dir3", 0755);  // a known string: the errno says it all
  ASSERT_FALSE(r3);
  EXPECT_EQ(r3.error(), std::errc::permission_denied);
  EXPECT_EQ(r3.error().text, "");
  // The code alone still converts for code written against result<T>.
  result<attr> st = (*c)->stat("missing");
  EXPECT_EQ(st.error(), std::errc::no_such_file_or_directory);
}

TEST(Peers, A9P2000uErrorKeepsItsErrnoAndItsText) {
  fake_peer srv(wire::dialect::v2000u, [](fake_peer& f, const wire::message& m) {
    if (std::holds_alternative<wire::Tattach>(m.body))
      return f.frame(m.tag, wire::Rattach{{wire::qt::dir, 0, 1}});
    return f.frame(m.tag, wire::Rerror{"quota of /home/x exhausted", ENOSPC});
  });
  auto c = client::connect(srv.address(), opts(wire::dialect::v2000u));
  ASSERT_TRUE(c) << c.error().message();
  auto r = (*c)->stat("x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::no_space_on_device);
  EXPECT_EQ(r.error().text, "quota of /home/x exhausted");
}

// 3. Rerror in 9P2000.L -----------------------------------------------------------------------

TEST(Peers, RerrorIn9P2000LIsReadAsAnErrno) {
  fake_peer srv(
      wire::dialect::v2000L, [](fake_peer& f, const wire::message& m) -> std::optional<bytes> {
        if (std::holds_alternative<wire::Tattach>(m.body))
          return f.frame(m.tag, wire::Rattach{{wire::qt::dir, 0, 1}});
        // NFS-Ganesha: type 107 with a 4-byte errno (ENOENT), built by hand, not by our encoder.
        auto t = static_cast<std::byte>(m.tag & 0xff), t2 = static_cast<std::byte>(m.tag >> 8);
        return bytes{std::byte{11}, {}, {}, {}, std::byte{107}, t, t2, std::byte{2}, {}, {}, {}};
      });
  auto c = client::connect(srv.address(), opts(wire::dialect::v2000L));
  ASSERT_TRUE(c) << c.error().message();
  auto r = (*c)->stat("x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::no_such_file_or_directory);
  auto again = (*c)->walk("y");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), std::errc::no_such_file_or_directory);
}

// 4. Odd stats --------------------------------------------------------------------------------

TEST(Peers, AListingsTypeIsCheckedAgainstAStatWhenItsQidAndModeDisagree) {
  tree_peer t;
  t.nodes["sub"] = true;
  t.nodes["sub/inner"] = false;
  t.nodes["file"] = false;
  t.libixp_listing = true;
  t.root_name = ".";  // styx
  fake_peer srv(wire::dialect::v2000, use(t));
  auto c = client::connect(srv.address(), opts(wire::dialect::v2000));
  ASSERT_TRUE(c) << c.error().message();
  auto root = (*c)->stat("/");
  ASSERT_TRUE(root) << root.error().message();
  EXPECT_TRUE(root->is_dir());
  auto l = (*c)->readdir("/", false);
  ASSERT_TRUE(l) << l.error().message();
  ASSERT_EQ(l->size(), 2u);
  std::map<std::string, dir_entry> by_name;
  for (auto& e : *l) by_name[e.name] = e;
  ASSERT_TRUE(by_name["sub"].attr);
  EXPECT_TRUE(by_name["sub"].attr->is_dir());
  EXPECT_TRUE(by_name["sub"].qid.type & wire::qt::dir);
  ASSERT_TRUE(by_name["file"].attr);
  EXPECT_TRUE(by_name["file"].attr->is_regular());
  EXPECT_FALSE(by_name["file"].qid.type & wire::qt::dir);
  EXPECT_EQ(by_name["file"].attr->size, 3u);  // the stat's, not the listing's garbage
}

// 9. Listings that never end -------------------------------------------------------------------

/// A 9P2000.L server whose Treaddir answers come from `entries(offset)`: (next offset, name).
using listing = std::vector<std::pair<std::uint64_t, std::string>>;
fake_peer::handler dotl_lister(std::function<listing(std::uint64_t)> entries) {
  return [entries](fake_peer& f, const wire::message& m) -> std::optional<bytes> {
    if (std::holds_alternative<wire::Tattach>(m.body))
      return f.frame(m.tag, wire::Rattach{{wire::qt::dir, 0, 1}});
    if (const auto* w = std::get_if<wire::Twalk>(&m.body)) {
      wire::Rwalk r;
      for (std::size_t i = 0; i < w->wnames.size(); ++i) r.qids.push_back({wire::qt::dir, 0, 9});
      return f.frame(m.tag, r);
    }
    if (std::holds_alternative<wire::Tlopen>(m.body))
      return f.frame(m.tag, wire::Rlopen{{wire::qt::dir, 0, 1}, 0});
    if (std::holds_alternative<wire::Tclunk>(m.body)) return f.frame(m.tag, wire::Rclunk{});
    if (const auto* r = std::get_if<wire::Treaddir>(&m.body)) {
      bytes data;
      listing l = entries(r->offset);
      for (const auto& [next, name] : l) {
        wire::dirent e{{0, 0, next}, next, 8, name};
        bytes one(wire::dirent_size(e));
        EXPECT_TRUE(wire::encode_dirent(e, one));
        data.insert(data.end(), one.begin(), one.end());
      }
      wire::Rreaddir rr;
      rr.data.data = data;
      return f.frame(m.tag, rr);
    }
    return f.frame(m.tag, wire::Rlerror{EOPNOTSUPP});
  };
}

TEST(Peers, AListingWhoseOffsetsDoNotAdvanceEndsWithAProtocolError) {
  // Always one entry, and its next offset is 0 again.
  fake_peer srv(wire::dialect::v2000L, dotl_lister([](std::uint64_t) {
                  return listing{{0, "x"}};
                }));
  auto c = client::connect(srv.address(), opts(wire::dialect::v2000L));
  ASSERT_TRUE(c) << c.error().message();
  auto start = clock::now();
  auto l = (*c)->readdir("", false, call_options::timeout(10s));
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error(), errc::unexpected_reply);
  EXPECT_NE(l.error().text.find("Rreaddir"), std::string::npos) << l.error().text;
  EXPECT_LT(clock::now() - start, 5s);
}

TEST(Peers, AListingThatRepeatsAnEntryEndsWithAProtocolError) {
  // Offsets advance, names come round again.
  fake_peer srv(wire::dialect::v2000L, dotl_lister([](std::uint64_t off) {
                  return listing{{off + 1, off % 2 ? "b" : "a"}};
                }));
  auto c = client::connect(srv.address(), opts(wire::dialect::v2000L));
  ASSERT_TRUE(c) << c.error().message();
  auto l = (*c)->readdir("", false, call_options::timeout(10s));
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error(), errc::unexpected_reply);
  EXPECT_NE(l.error().text.find("repeats"), std::string::npos) << l.error().text;
}

TEST(Peers, AnEndlessListingIsBoundedInMemory) {
  // Distinct names, advancing offsets, no end.
  fake_peer srv(wire::dialect::v2000L, dotl_lister([](std::uint64_t off) {
                  listing l;
                  for (std::uint64_t i = 0; i < 100; ++i)
                    l.emplace_back(off + i + 1, "entry-" + std::to_string(off + i));
                  return l;
                }));
  auto o = opts(wire::dialect::v2000L);
  o.max_listing_bytes = 256 * 1024;
  auto c = client::connect(srv.address(), o);
  ASSERT_TRUE(c) << c.error().message();
  auto l = (*c)->readdir("", false, call_options::timeout(20s));
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error(), std::errc::file_too_large);
  EXPECT_LT(srv.count(wire::msg_type::Treaddir), 1000);
}

// 10. Timeouts ----------------------------------------------------------------------------------

TEST(Peers, ConnectTimeoutCoversAServerThatNeverAnswersTversion) {
  fake_peer srv(
      wire::dialect::v2000L,
      [](fake_peer&, const wire::message&) { return std::optional<bytes>{}; }, false);
  auto o = opts(wire::dialect::v2000L);
  o.connect_timeout = 300ms;
  auto start = clock::now();
  auto c = client::connect(srv.address(), o);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), std::errc::timed_out);
  EXPECT_LT(clock::now() - start, 1s);
}

TEST(Peers, ConnectTimeoutCoversAServerThatNeverAnswersTattach) {
  fake_peer srv(wire::dialect::v2000L,
                [](fake_peer&, const wire::message&) { return std::optional<bytes>{}; });
  auto o = opts(wire::dialect::v2000L);
  o.connect_timeout = 300ms;
  auto start = clock::now();
  auto c = client::connect(srv.address(), o);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), std::errc::timed_out);
  EXPECT_LT(clock::now() - start, 1s);
}

TEST(Peers, AServerThatStopsAnsweringDoesNotDelayTheGoodbye) {
  std::atomic<bool> mute{false};
  fake_peer srv(wire::dialect::v2000L,
                [&](fake_peer& f, const wire::message& m) -> std::optional<bytes> {
                  if (mute) return std::nullopt;
                  if (std::holds_alternative<wire::Tattach>(m.body)) {
                    mute = true;  // answers the attach, then nothing: a stopped server
                    return f.frame(m.tag, wire::Rattach{{wire::qt::dir, 0, 1}});
                  }
                  return std::nullopt;
                });
  auto c = client::connect(srv.address(), opts(wire::dialect::v2000L));
  ASSERT_TRUE(c) << c.error().message();
  auto start = clock::now();
  auto r = (*c)->stat("x", call_options::timeout(300ms));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::timed_out);
  c->reset();  // the goodbye: no Tclunk waited for when a Tflush is still unanswered
  EXPECT_LT(clock::now() - start, 1s);
}

// 11. Malformed replies -------------------------------------------------------------------------

TEST(Peers, RwalkWithMoreQidsThanNamesIsAProtocolErrorNamingIt) {
  fake_peer srv(wire::dialect::v2000L,
                [](fake_peer& f, const wire::message& m) -> std::optional<bytes> {
                  if (std::holds_alternative<wire::Tattach>(m.body))
                    return f.frame(m.tag, wire::Rattach{{wire::qt::dir, 0, 1}});
                  if (const auto* w = std::get_if<wire::Twalk>(&m.body)) {
                    wire::Rwalk r;
                    for (std::size_t i = 0; i <= w->wnames.size(); ++i)
                      r.qids.push_back({0, 0, 2 + i});
                    return f.frame(m.tag, r);
                  }
                  return f.frame(m.tag, wire::Rlerror{EOPNOTSUPP});
                });
  auto c = client::connect(srv.address(), opts(wire::dialect::v2000L));
  ASSERT_TRUE(c) << c.error().message();
  auto r = (*c)->walk("a");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::unexpected_reply);
  EXPECT_EQ(r.error().text, "malformed Rwalk: 2 qids for 1 names");
  auto g = (*c)->stat("");  // a clone walk: 1 qid for 0 names
  ASSERT_FALSE(g);
  EXPECT_NE(g.error().text.find("malformed Rwalk"), std::string::npos) << g.error().text;
}

}  // namespace
}  // namespace ninep::client
