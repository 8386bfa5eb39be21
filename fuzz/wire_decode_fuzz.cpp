// SPDX-License-Identifier: MIT
// Fuzzes the frame decoder of every dialect. The first input byte picks the dialect (mod 3), the
// rest is one frame. Any decoded message must re-encode to the same bytes (the codec has exactly
// one encoding per message), decode again to itself, and format as a trace.
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
    fmt::print(stderr, "wire_decode_fuzz: {}\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ninep::wire;
  if (size == 0) return 0;
  const auto d = static_cast<dialect>(data[0] % 3);
  // An exact-size heap copy, so ASan sees any read past the frame.
  const std::size_t n = size - 1;
  auto frame = std::make_unique<std::byte[]>(n);
  if (n) std::memcpy(frame.get(), data + 1, n);
  std::span<const std::byte> in(frame.get(), n);

  auto m = decode(in, d);
  if (!m) return 0;

  const std::size_t want = encoded_size(*m, d);
  check(want == n, "encoded_size differs from the decoded frame's size");
  auto out = std::make_unique<std::byte[]>(want);
  auto written = encode(*m, d, {out.get(), want});
  check(written.has_value() && *written == n, "encode failed or wrote a different size");
  check(std::memcmp(out.get(), frame.get(), n) == 0, "re-encoding differs from the input");
  auto again = decode({out.get(), want}, d);
  check(again.has_value() && *again == *m, "decode(encode(m)) != m");
  // Bounded decoding: the frame's own size as msize is accepted, one less is not.
  check(decode(in, d, static_cast<std::uint32_t>(n)).has_value(), "msize == size rejected");
  check(!decode(in, d, static_cast<std::uint32_t>(n - 1)).has_value(), "size > msize accepted");

  std::string line = fmt::format("{}", trace(*m, d));
  check(!line.empty() && line.find('\n') == std::string::npos, "trace is not one line");
  return 0;
}
