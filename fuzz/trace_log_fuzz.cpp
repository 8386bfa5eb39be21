// SPDX-License-Identifier: MIT
// Arbitrary bytes in both directions of a `ninep trace` conversation (tools/ninep/trace_log.hpp),
// cut into arbitrary reads: frame splitting across reads, decoding, tag matching, the log in
// both formats and the table on exit.
// Input: byte 0 bit 0 picks JSON or text; then chunks, each a byte c (bit 0: direction, bits
// 1-7: length - 1) and up to that many bytes.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "trace_log.hpp"

using namespace ninep::tools::tracing;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static std::FILE* sink = std::fopen("/dev/null", "w");
  if (size < 1) return 0;
  tracer log({.json = (data[0] & 1) != 0, .quiet = false}, sink);
  conversation conv(log, log.next_connection());
  auto t = steady::now();
  std::size_t i = 1;
  while (i < size) {
    bool requests = (data[i] & 1) == 0;
    std::size_t len = std::min<std::size_t>((data[i] >> 1) + 1, size - i - 1);
    ++i;
    // An exact-size heap copy, so ASan sees reads past the end of a read.
    std::vector<std::byte> chunk(len);
    if (len != 0) std::memcpy(chunk.data(), data + i, len);
    i += len;
    t += std::chrono::microseconds(len);  // time passes between reads
    conv.observe(requests, chunk, t, wall::now());
  }
  conv.close("end of input");
  log.summary(sink);
  return 0;
}
