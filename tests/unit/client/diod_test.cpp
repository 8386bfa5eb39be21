// SPDX-License-Identifier: MIT
// The client against Debian's diod (9P2000.L), started on a free loopback port. Skipped when
// diod is not installed or we are not root (diod needs root to serve other users' files).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ninep/client/client.hpp>
#include <ninep/wire/dotl.hpp>
#include <random>
#include <thread>

namespace ninep::client {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class Diod : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access("/usr/sbin/diod", X_OK) != 0 || ::getuid() != 0)
      GTEST_SKIP() << "needs /usr/sbin/diod and root";
    dir_ = fs::temp_directory_path() / ("ninep-client-diod-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    {
      asio::io_context io;
      asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
      port_ = a.local_endpoint().port();
    }
    std::string listen = "127.0.0.1:" + std::to_string(port_);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execl("/usr/sbin/diod", "diod", "-f", "-n", "-l", listen.c_str(), "-e", dir_.c_str(), "-L",
              "/dev/null", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    options o;
    o.uname = "root";
    o.n_uname = 0;
    o.aname = dir_.string();
    for (int i = 0; i < 100; ++i) {
      auto c = client::connect("tcp!127.0.0.1!" + std::to_string(port_), o);
      if (c) {
        c_ = std::move(*c);
        break;
      }
      std::this_thread::sleep_for(50ms);
    }
    ASSERT_TRUE(c_) << "diod did not come up";
  }
  void TearDown() override {
    c_.reset();
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ignored;
    if (!dir_.empty()) fs::remove_all(dir_, ignored);
  }

  fs::path dir_;
  unsigned short port_ = 0;
  pid_t pid_ = -1;
  std::unique_ptr<client> c_;
};

std::vector<std::byte> pattern(std::size_t n) {
  std::vector<std::byte> v(n);
  std::mt19937 rng(42);
  for (auto& b : v) b = static_cast<std::byte>(rng());
  return v;
}

void write_file(const fs::path& p, const std::vector<std::byte>& data) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

TEST_F(Diod, NegotiatesDotL) {
  EXPECT_EQ(c_->dialect(), wire::dialect::v2000L);
  EXPECT_GE(c_->msize(), wire::min_msize);
}

TEST_F(Diod, HundredConcurrentReadsOnOneConnection) {
  auto data = pattern(4 << 20);
  write_file(dir_ / "data", data);
  auto f = c_->open("data", wire::dotl::rdonly);
  ASSERT_TRUE(f) << f.error().message();
  session& s = c_->async();
  asio::io_context io;
  std::atomic<int> good{0};
  const std::size_t len = 40000;
  for (std::size_t i = 0; i < 100; ++i) {
    std::size_t off = (i * 39119) % (data.size() - len);
    asio::co_spawn(
        io,
        [&, off]() -> asio::awaitable<void> {
          std::vector<std::byte> buf(len);
          auto r = co_await s.read(*f, off, buf);
          if (r && *r == len && std::memcmp(buf.data(), data.data() + off, len) == 0) good++;
        },
        asio::detached);
  }
  io.run();
  EXPECT_EQ(good.load(), 100);
}

TEST_F(Diod, LargePipelinedReadAndWriteRoundTrip) {
  auto data = pattern(16 << 20);
  auto f = c_->create("big", wire::dotl::rdwr, 0644);
  ASSERT_TRUE(f) << f.error().message();
  auto w = c_->write(*f, 0, data);
  ASSERT_TRUE(w) << w.error().message();
  EXPECT_EQ(*w, data.size());
  std::vector<std::byte> back(data.size() + 1000);
  auto r = c_->read(*f, 0, back);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, data.size());  // short only at EOF
  EXPECT_EQ(std::memcmp(back.data(), data.data(), data.size()), 0);
  ASSERT_TRUE(c_->fsync(*f));
  ASSERT_TRUE(c_->clunk(std::move(*f)));
  EXPECT_EQ(fs::file_size(dir_ / "big"), data.size());
}

TEST_F(Diod, FileOperations) {
  ASSERT_TRUE(c_->mkdir("d", 0755));
  EXPECT_EQ(c_->mkdir("d", 0755).error(), std::errc::file_exists);
  EXPECT_TRUE(fs::is_directory(dir_ / "d"));
  {
    auto f = c_->create("d/a", wire::dotl::wronly, 0600);
    ASSERT_TRUE(f);
    std::string text = "hello";
    ASSERT_TRUE(c_->write(*f, 0, std::as_bytes(std::span(text))));
  }
  auto st = c_->stat("d/a");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->size, 5u);
  EXPECT_TRUE(st->is_regular());
  EXPECT_EQ(st->mode & 0777, 0600u);
  set_attr sa;
  sa.mode = 0640;
  ASSERT_TRUE(c_->setattr("d/a", sa));
  EXPECT_EQ(c_->stat("d/a")->mode & 0777, 0640u);
  ASSERT_TRUE(c_->symlink("a", "d/s"));
  EXPECT_EQ(c_->readlink("d/s").value_or(""), "a");
  ASSERT_TRUE(c_->link("d/a", "d/h"));
  EXPECT_EQ(c_->stat("d/a")->nlink, 2u);
  ASSERT_TRUE(c_->rename("d/a", "b"));
  EXPECT_TRUE(fs::exists(dir_ / "b"));
  auto entries = c_->readdir("d", true);
  ASSERT_TRUE(entries);
  EXPECT_EQ(entries->size(), 2u);
  for (const auto& e : *entries) EXPECT_TRUE(e.attr.has_value()) << e.name;
  EXPECT_EQ(c_->remove("d").error(), std::errc::directory_not_empty);
  ASSERT_TRUE(c_->remove("d/s"));
  ASSERT_TRUE(c_->remove("d/h"));
  ASSERT_TRUE(c_->remove("d"));
  EXPECT_FALSE(fs::exists(dir_ / "d"));
  EXPECT_EQ(c_->stat("nope").error(), std::errc::no_such_file_or_directory);
  auto sfs = c_->statfs("");
  ASSERT_TRUE(sfs);
  EXPECT_GT(sfs->blocks, 0u);
  // Paths deeper than one Twalk (16 elements).
  std::string deep;
  for (int i = 0; i < 20; ++i) {
    deep += (i ? "/" : "") + std::string("x");
    ASSERT_TRUE(c_->mkdir(deep, 0755));
  }
  EXPECT_TRUE(c_->stat(deep)->is_dir());
}

}  // namespace
}  // namespace ninep::client
