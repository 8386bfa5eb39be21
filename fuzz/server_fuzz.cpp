// SPDX-License-Identifier: MIT
// Feeds arbitrary bytes to an in-process server connection over a local-directory export.
// The first input byte picks the dialect; a valid Tversion and two Tattach (fid 0 on the
// export, fid 1 on a second filesystem routed by aname) precede the fuzzed bytes so the fuzzer
// spends its time past the handshake. Checks: no crash, no hang
// (each connection must end once its input does), no leak (LeakSanitizer at exit), and nothing
// created outside the export (a sentinel directory beside it must stay empty).
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <ninep/fs/local.hpp>
#include <ninep/server/router.hpp>
#include <ninep/server/server.hpp>
#include <ninep/wire/codec.hpp>
#include <thread>
#include <vector>

namespace {

using namespace ninep;
namespace stdfs = std::filesystem;

struct harness {
  stdfs::path base, exported, outside, second;
  std::unique_ptr<server::file_server> srv;
  std::thread loop;

  harness() {
    char tmpl[] = "/tmp/ninep-server-fuzz-XXXXXX";
    base = ::mkdtemp(tmpl);
    exported = base / "export";
    outside = base / "outside";
    stdfs::create_directories(exported / "dir");
    stdfs::create_directories(outside);
    second = base / "second";
    stdfs::create_directories(second);
    stdfs::create_symlink("../outside", exported / "escape");
    fs::local_config c;
    c.default_dir = exported;
    auto f = fs::local_fs::make(c);
    if (!f) std::abort();
    // aname "second" is another filesystem (the harness attaches fid 1 to it), so requests
    // that join fids of two filesystems, and walks from a routed attach, are one field away.
    fs::local_config c2;
    c2.default_dir = second;
    auto f2 = fs::local_fs::make(c2);
    if (!f2) std::abort();
    auto routes =
        std::make_shared<server::router>(std::shared_ptr<server::filesystem>(std::move(*f)));
    routes->add("second", std::shared_ptr<server::filesystem>(std::move(*f2)));
    server::options o;
    o.level = server::log_level::error;
    o.workers = 2;
    o.frame_timeout = std::chrono::milliseconds(200);
    // Tauth gives afids, so the afid paths are live (seeds in fuzz/corpus/server_fuzz). No
    // munged listens at this socket: every credential is refused, at once.
    o.identity.munge = true;
    o.identity.munge_socket = (base / "no-munged").string();
    srv = std::make_unique<server::file_server>(routes, o);
    loop = std::thread([this] { srv->run(); });
  }
  ~harness() {
    srv->stop();
    loop.join();
    std::error_code ec;
    stdfs::remove_all(base, ec);
  }
};

harness& h() {
  static harness instance;
  return instance;
}

void append(std::vector<std::byte>& out, const wire::message& m, wire::dialect d) {
  std::size_t at = out.size();
  out.resize(at + wire::encoded_size(m, d));
  if (!wire::encode(m, d, std::span(out).subspan(at))) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  harness& hs = h();
  const wire::dialect d = static_cast<wire::dialect>(data[0] % 3);
  std::vector<std::byte> in;
  append(in, {wire::notag, wire::Tversion{65536, wire::version_string(d)}}, d);
  // The harness's socket pair is a unix-socket peer of our own uid: it names its user, which
  // must be us (a server that is not root acts as no one else).
  const auto uid = static_cast<std::uint32_t>(::geteuid());
  append(in, {1, wire::Tattach{0, wire::nofid, "fuzz", "", uid}}, d);
  append(in, {2, wire::Tattach{1, wire::nofid, "fuzz", "second", uid}}, d);
  in.insert(in.end(), reinterpret_cast<const std::byte*>(data + 1),
            reinterpret_cast<const std::byte*>(data + size));

  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) std::abort();
  hs.srv->adopt(sv[0]);
  // Write everything, then read replies until the server closes: it must, since our side ends.
  std::thread writer([&] {
    std::size_t off = 0;
    while (off < in.size()) {
      ssize_t n = ::send(sv[1], in.data() + off, in.size() - off, MSG_NOSIGNAL);
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    ::shutdown(sv[1], SHUT_WR);
  });
  char buf[65536];
  while (::read(sv[1], buf, sizeof buf) > 0) {
  }
  writer.join();
  ::close(sv[1]);
  if (!stdfs::is_empty(hs.outside)) std::abort();  // something escaped the export
  // Keep the exports small and the runs independent.
  for (const auto& e : stdfs::directory_iterator(hs.exported)) {
    if (e.path().filename() == "dir" || e.path().filename() == "escape") continue;
    std::error_code ec;
    stdfs::remove_all(e.path(), ec);
  }
  for (const auto& e : stdfs::directory_iterator(hs.second)) {
    std::error_code ec;
    stdfs::remove_all(e.path(), ec);
  }
  return 0;
}
