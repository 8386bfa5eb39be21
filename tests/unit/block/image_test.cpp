// SPDX-License-Identifier: MIT
// block::image and block::disk against a real `ninep serve` (every dialect) and diod: byte
// round trips at odd offsets and lengths, write-zeroes, resize, flush; pipelining and spreading
// seen from a frame proxy in the middle; reconnection across a server killed and restarted;
// and servers that die, stall or lie, each bounded by the retry time.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ninep/block/disk.hpp>
#include <ninep/core/error.hpp>
#include <random>
#include <thread>

#include "frame_proxy.hpp"

namespace ninep::block {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

unsigned short free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool can_connect(unsigned short port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

std::vector<std::byte> random_bytes(std::size_t n, unsigned seed) {
  std::vector<std::byte> v(n);
  std::mt19937 rng(seed);
  for (auto& b : v) b = static_cast<std::byte>(rng());
  return v;
}

std::vector<std::byte> file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<char> c((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> v(c.size());
  std::memcpy(v.data(), c.data(), c.size());
  return v;
}

/// A 9P server in a child process on a fixed loopback port: `ninep serve` or diod.
class server_process {
 public:
  enum class kind { ninep, diod };
  server_process(kind k, fs::path dir) : kind_(k), dir_(std::move(dir)), port_(free_port()) {}
  ~server_process() { stop(SIGTERM); }

  void start() {
    std::string port = std::to_string(port_);
    std::string listen = "tcp!127.0.0.1!" + port;
    std::string diod_listen = "127.0.0.1:" + port;
    pid_ = ::fork();
    if (pid_ == 0) {
      int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);  // `ninep serve` prints where it serves
      if (kind_ == kind::ninep)
        ::execl(NINEP_CLI, "ninep", "serve", "--no-auth", "--anonymous-user", "root", "--log-level",
                "error", "--listen", listen.c_str(), dir_.c_str(), static_cast<char*>(nullptr));
      else
        ::execl("/usr/sbin/diod", "diod", "-f", "-n", "-l", diod_listen.c_str(), "-e", dir_.c_str(),
                "-L", "/dev/null", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 200 && !can_connect(port_); ++i) std::this_thread::sleep_for(25ms);
  }
  void stop(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  unsigned short port() const { return port_; }
  std::string address() const { return "tcp!127.0.0.1!" + std::to_string(port_); }
  std::string aname() const { return kind_ == kind::diod ? dir_.string() : std::string(); }

 private:
  kind kind_;
  fs::path dir_;
  unsigned short port_;
  pid_t pid_ = -1;
};

class Image : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    std::string p = GetParam();
    kind_ = p == "diod" ? server_process::kind::diod : server_process::kind::ninep;
    if (kind_ == server_process::kind::diod &&
        (::access("/usr/sbin/diod", X_OK) != 0 || ::getuid() != 0))
      GTEST_SKIP() << "needs /usr/sbin/diod and root";
    if (p == "9P2000.u") dialect_ = wire::dialect::v2000u;
    if (p == "9P2000") dialect_ = wire::dialect::v2000;
    dir_ = fs::temp_directory_path() /
           ("ninep-block-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::create_directories(dir_);
    srv_ = std::make_unique<server_process>(kind_, dir_);
    srv_->start();
  }
  void TearDown() override {
    srv_.reset();
    std::error_code ignored;
    if (!dir_.empty()) fs::remove_all(dir_, ignored);
  }

  image_options options(std::string address = {}) const {
    image_options o;
    o.address = address.empty() ? srv_->address() : address;
    o.path = "disk.img";
    o.session.uname = "root";
    o.session.n_uname = 0;
    o.session.aname = srv_->aname();
    o.session.dialect = dialect_;
    o.session.msize = 64 * 1024;  // small, so that modest lengths span many chunks
    o.create_size = 8 << 20;
    o.retry_timeout = 5s;
    o.request_timeout = 5s;
    return o;
  }
  std::unique_ptr<disk> open(image_options o) {
    auto d = disk::open(std::move(o));
    if (!d) ADD_FAILURE() << d.error().message();
    return d ? std::move(*d) : nullptr;
  }

  static inline int counter_ = 0;
  server_process::kind kind_ = server_process::kind::ninep;
  std::optional<wire::dialect> dialect_;
  fs::path dir_;
  std::unique_ptr<server_process> srv_;
};

TEST_P(Image, CreatesASparseImageOfTheAskedSize) {
  auto d = open(options());
  ASSERT_TRUE(d);
  EXPECT_EQ(d->size(), 8u << 20);
  EXPECT_EQ(fs::file_size(dir_ / "disk.img"), 8u << 20);
  // 64 KiB msize: whole pages below one payload.
  EXPECT_EQ(d->max_chunk(), 60u * 1024);
}

TEST_P(Image, RoundTripsAnyLengthAtAnyOffset) {
  auto d = open(options());
  ASSERT_TRUE(d);
  std::vector<std::byte> model(8 << 20);
  const std::pair<std::uint64_t, std::size_t> cases[] = {
      {0, 1}, {1, 4095}, {4095, 2}, {61439, 61442}, {100000, (1 << 20) + 7}, {3 << 20, 5 << 20}};
  unsigned seed = 1;
  for (auto [off, len] : cases) {
    auto data = random_bytes(len, seed++);
    ASSERT_TRUE(d->write(off, data)) << off << "+" << len;
    std::memcpy(model.data() + off, data.data(), len);
    std::vector<std::byte> back(len);
    ASSERT_TRUE(d->read(off, back));
    EXPECT_EQ(back, data) << off << "+" << len;
  }
  std::vector<std::byte> all(model.size());
  ASSERT_TRUE(d->read(0, all));
  EXPECT_EQ(all, model);
  ASSERT_TRUE(d->flush());
  EXPECT_EQ(file_bytes(dir_ / "disk.img"), model);
}

TEST_P(Image, WriteZeroesAndResize) {
  auto d = open(options());
  ASSERT_TRUE(d);
  auto data = random_bytes(1 << 20, 7);
  ASSERT_TRUE(d->write(0, data));
  ASSERT_TRUE(d->write_zeroes(1000, 300000, true));
  std::fill(data.begin() + 1000, data.begin() + 301000, std::byte{0});
  std::vector<std::byte> back(1 << 20);
  ASSERT_TRUE(d->read(0, back));
  EXPECT_EQ(back, data);
  ASSERT_TRUE(d->resize(16 << 20));
  EXPECT_EQ(d->size(), 16u << 20);
  EXPECT_EQ(fs::file_size(dir_ / "disk.img"), 16u << 20);
  ASSERT_TRUE(d->resize(4096));
  EXPECT_EQ(fs::file_size(dir_ / "disk.img"), 4096u);
}

TEST_P(Image, ConcurrentCallersFromManyThreads) {
  auto o = options();
  o.connections = 3;
  auto d = open(o);
  ASSERT_TRUE(d);
  std::vector<std::thread> ts;
  std::atomic<int> good{0};
  for (int t = 0; t < 8; ++t)
    ts.emplace_back([&, t] {
      auto data = random_bytes(200000, 100 + t);
      std::uint64_t off = static_cast<std::uint64_t>(t) * (1 << 20);
      std::vector<std::byte> back(data.size());
      if (d->write(off, data) && d->read(off, back) && back == data) good++;
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(good.load(), 8);
}

INSTANTIATE_TEST_SUITE_P(Servers, Image,
                         ::testing::Values("9P2000.L", "9P2000.u", "9P2000", "diod"),
                         [](const auto& p) {
                           std::string s = p.param;
                           for (auto& c : s)
                             if (c == '.') c = '_';
                           return s;
                         });

// The rest runs against `ninep serve` in 9P2000.L.
class ImageNinep : public Image {};

constexpr std::uint8_t Tread = 116, Twrite = 118, Tfsync = 50;

TEST_P(ImageNinep, SendsEveryChunkBeforeTheFirstReply) {
  test::frame_proxy px(srv_->port());
  auto d = open(options(px.address()));
  ASSERT_TRUE(d);
  // 16 chunks of 60 KiB: the proxy holds the replies until all 16 Treads have arrived. A client
  // that waited for one reply before sending the next would stall until the gate's timeout.
  const int before = px.count(Tread);
  px.gate = before + 16;
  std::vector<std::byte> buf(16 * 60 * 1024);
  ASSERT_TRUE(d->read(0, buf));
  EXPECT_FALSE(px.gate_timed_out) << "the reads were not all in flight at once";
  EXPECT_EQ(px.count(Tread) - before, 16);
  EXPECT_GE(d->stats().max_in_flight, 16u);
}

TEST_P(ImageNinep, SpreadsRequestsOverConnections) {
  test::frame_proxy px(srv_->port());
  auto o = options(px.address());
  o.connections = 4;
  auto d = open(o);
  ASSERT_TRUE(d);
  ASSERT_EQ(px.connections(), 4);
  std::vector<std::byte> buf(32 * 60 * 1024);
  ASSERT_TRUE(d->write(0, buf));
  for (int c = 0; c < 4; ++c) EXPECT_GE(px.count(Twrite, c), 4) << "connection " << c;
  ASSERT_TRUE(d->flush());
  EXPECT_EQ(px.count(Tfsync), 1);
  ASSERT_TRUE(d->write(0, buf, /*fua=*/true));
  EXPECT_EQ(px.count(Tfsync), 2);
}

TEST_P(ImageNinep, ReconnectsAcrossAServerRestartAndLosesNoAcknowledgedWrite) {
  auto o = options();
  o.connections = 2;
  o.retry_timeout = 20s;
  auto d = open(o);
  ASSERT_TRUE(d);
  std::vector<std::byte> model(8 << 20);
  std::atomic<bool> failed{false};
  std::atomic<int> done{0};
  std::mutex mu;
  // Writers keep going while the server is killed and restarted under them; every write that
  // returned success must be in the file afterwards.
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < 24; ++i) {
        auto data = random_bytes(100000, static_cast<unsigned>(t * 1000 + i));
        std::uint64_t off = static_cast<std::uint64_t>(t) * (2 << 20) + (i % 16) * 100000;
        auto r = d->write(off, data);
        if (!r) {
          failed = true;
          return;
        }
        std::lock_guard lk(mu);
        std::memcpy(model.data() + off, data.data(), data.size());
        done++;
      }
    });
  while (done < 10 && !failed) std::this_thread::sleep_for(1ms);
  srv_->stop(SIGKILL);
  std::this_thread::sleep_for(300ms);
  srv_->start();
  for (auto& t : ts) t.join();
  EXPECT_FALSE(failed);
  EXPECT_EQ(done.load(), 96);
  ASSERT_TRUE(d->flush());
  auto st = d->stats();
  EXPECT_GE(st.reconnects, 1u);
  EXPECT_EQ(file_bytes(dir_ / "disk.img"), model);
}

TEST_P(ImageNinep, AServerThatStaysDownGivesEIO) {
  auto o = options();
  o.retry_timeout = 1s;
  auto d = open(o);
  ASSERT_TRUE(d);
  srv_->stop(SIGKILL);
  std::vector<std::byte> buf(100000);
  auto r = d->write(0, buf);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::io_error) << r.error().message();
  r = d->read(0, buf);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::io_error) << r.error().message();
}

TEST_P(ImageNinep, AStalledConnectionIsReplacedAndItsRequestsResent) {
  test::frame_proxy px(srv_->port());
  auto o = options(px.address());
  o.request_timeout = 500ms;
  auto d = open(o);
  ASSERT_TRUE(d);
  px.stall_below = 1;  // the first connection swallows every reply from now on
  auto data = random_bytes(300000, 3);
  ASSERT_TRUE(d->write(0, data));
  std::vector<std::byte> back(data.size());
  ASSERT_TRUE(d->read(0, back));
  EXPECT_EQ(back, data);
  auto st = d->stats();
  EXPECT_GE(st.reconnects, 1u);
  EXPECT_GE(st.resent, 1u);
  EXPECT_EQ(px.connections(), 2);
}

TEST_P(ImageNinep, AServerThatLiesFailsWithEIOWithinTheRetryTime) {
  test::frame_proxy px(srv_->port());
  auto o = options(px.address());
  o.retry_timeout = 1s;
  auto d = open(o);
  ASSERT_TRUE(d);
  px.lie_rwrite = true;  // Rwrite counts larger than the request: the connection is not trusted
  std::vector<std::byte> buf(10000);
  auto r = d->write(0, buf);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::io_error) << r.error().message();
}

TEST_P(ImageNinep, AfterCloseRequestsFailWithConnectionClosed) {
  auto d = open(options());
  ASSERT_TRUE(d);
  d->close();
  std::vector<std::byte> buf(10);
  auto r = d->read(0, buf);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::connection_closed);
}

TEST_P(ImageNinep, ConfigurationMistakesFailAtOpenNamingAddressPathAndReason) {
  auto o = options();
  o.create_size.reset();
  auto r = disk::open(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::no_such_file_or_directory);
  EXPECT_NE(r.error().message().find(o.address + ": disk.img: "), std::string::npos)
      << r.error().message();

  fs::create_directories(dir_ / "adir");
  o.path = "adir";
  r = disk::open(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::is_a_directory) << r.error().message();
  EXPECT_NE(r.error().message().find("adir"), std::string::npos) << r.error().message();

  o = options("tcp!127.0.0.1!" + std::to_string(free_port()));
  r = disk::open(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().value(), ECONNREFUSED) << r.error().message();
  EXPECT_NE(r.error().message().find(o.address), std::string::npos) << r.error().message();

  o = options();
  o.session.msize = 1000;
  r = disk::open(o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("msize"), std::string::npos) << r.error().message();
}

INSTANTIATE_TEST_SUITE_P(Serve, ImageNinep, ::testing::Values("9P2000.L"));

}  // namespace
}  // namespace ninep::block
