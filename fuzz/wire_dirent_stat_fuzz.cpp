// SPDX-License-Identifier: MIT
// Fuzzes the stat and dirent decoders on directory data: the first byte picks stat 9P2000,
// stat 9P2000.u or dirent (mod 3); the rest is read as a sequence of entries, as a client reads
// an Rread of a directory or an Rreaddir. Every decoded entry must re-encode to its bytes.
#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <ninep/wire/codec.hpp>
#include <ninep/wire/format.hpp>

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    fmt::print(stderr, "wire_dirent_stat_fuzz: {}\n", what);
    std::abort();
  }
}

template <class Decoded, class Size, class Encode>
void round_trip(std::span<const std::byte> entry, const Decoded& e, Size size, Encode encode) {
  check(size(e.value) == e.size, "size differs from the decoded entry's size");
  auto out = std::make_unique<std::byte[]>(e.size);
  auto n = encode(e.value, std::span<std::byte>(out.get(), e.size));
  check(n.has_value() && *n == e.size, "encode failed or wrote a different size");
  check(std::memcmp(out.get(), entry.data(), e.size) == 0, "re-encoding differs from the input");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ninep::wire;
  if (size == 0) return 0;
  const int mode = data[0] % 3;
  const std::size_t n = size - 1;
  auto buf = std::make_unique<std::byte[]>(n);
  if (n) std::memcpy(buf.get(), data + 1, n);
  std::span<const std::byte> rest(buf.get(), n);

  while (!rest.empty()) {
    if (mode == 2) {
      auto e = decode_dirent(rest);
      if (!e) break;
      check(e->size > 0 && e->size <= rest.size(), "dirent size out of range");
      round_trip(
          rest, *e, [](const dirent& x) { return dirent_size(x); },
          [](const dirent& x, std::span<std::byte> o) { return encode_dirent(x, o); });
      rest = rest.subspan(e->size);
    } else {
      const dialect d = mode == 0 ? dialect::v2000 : dialect::v2000u;
      auto e = decode_stat(rest, d);
      if (!e) break;
      check(e->size > 0 && e->size <= rest.size(), "stat size out of range");
      round_trip(
          rest, *e, [d](const stat& x) { return stat_size(x, d); },
          [d](const stat& x, std::span<std::byte> o) { return encode_stat(x, d, o); });
      // A stat formats as part of an Rstat.
      ninep::wire::message m{1, Rstat{e->value}};
      check(!fmt::format("{}", trace(m, d)).empty(), "empty trace");
      rest = rest.subspan(e->size);
    }
  }
  return 0;
}
