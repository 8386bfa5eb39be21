// SPDX-License-Identifier: MIT
// Codec throughput: encode and decode of typical messages, with heap allocations per message
// counted by replacing the global operator new of this binary (counter "allocs/msg").
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>
#include <ninep/wire/codec.hpp>
#include <string>
#include <vector>

namespace {
std::atomic<std::size_t> allocations{0};
}  // namespace

// Not inlined, as the library's own are not; inlined into a caller, g++ 12 pairs malloc in one
// with free in another and warns (-Wmismatched-new-delete).
[[gnu::noinline]] void* operator new(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void* operator new[](std::size_t n) { return operator new(n); }
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

using namespace ninep::wire;
constexpr dialect L = dialect::v2000L;

std::vector<std::byte> encoded(const message& m) {
  std::vector<std::byte> out(encoded_size(m, L));
  (void)encode(m, L, out);
  return out;
}

const std::vector<std::byte>& bulk(std::size_t n) {
  static std::vector<std::byte> b(1 << 20, std::byte{'x'});
  (void)n;
  return b;
}

// A realistic 8 KiB of Rreaddir data: entries with names of 8 to 24 characters.
const std::vector<std::byte>& dirents_8k() {
  static const std::vector<std::byte> data = [] {
    std::vector<std::byte> out(8192);
    std::size_t used = 0;
    std::vector<std::string> names;
    for (std::uint64_t i = 0;; ++i) {
      names.push_back("file-" + std::to_string(i * 7919 % 100000) + std::string(i % 17, 'n'));
      dirent e{{qt::file, 0, 1000 + i}, i + 1, 8, names.back()};
      if (used + dirent_size(e) > out.size()) break;
      used += *encode_dirent(e, std::span(out).subspan(used));
    }
    out.resize(used);
    return out;
  }();
  return data;
}

message sample(std::string_view which, std::size_t payload) {
  static const Rgetattr attr{.valid = 0x7ff,
                             .qid = {qt::file, 0, 42},
                             .mode = 0100644,
                             .nlink = 1,
                             .size = 12345,
                             .blksize = 4096,
                             .blocks = 32,
                             .atime_sec = 1700000000,
                             .mtime_sec = 1700000000,
                             .ctime_sec = 1700000000};
  if (which == "Twalk") return {1, Twalk{1, 2, {"usr", "local", "share", "doc"}}};
  if (which == "Rwalk")
    return {1, Rwalk{{{qt::dir, 0, 10}, {qt::dir, 0, 11}, {qt::dir, 0, 12}, {qt::file, 0, 13}}}};
  if (which == "Tgetattr") return {1, Tgetattr{1, 0x3fff}};
  if (which == "Rgetattr") return {1, attr};
  if (which == "Treaddir") return {1, Treaddir{1, 0, 8168}};
  if (which == "Rreaddir") return {1, Rreaddir{{dirents_8k()}}};
  if (which == "Tread") return {1, Tread{1, 0, static_cast<std::uint32_t>(payload)}};
  return {1, Rread{{std::span(bulk(payload)).first(payload)}}};  // "Rread"
}

void report(benchmark::State& state, std::size_t allocs, std::size_t bytes) {
  state.counters["allocs/msg"] =
      benchmark::Counter(static_cast<double>(allocs), benchmark::Counter::kAvgIterations);
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes * state.iterations()));
}

void BM_encode(benchmark::State& state, std::string_view which, std::size_t payload) {
  message m = sample(which, payload);
  std::vector<std::byte> out(encoded_size(m, L));
  std::size_t before = allocations.load();
  for (auto _ : state) {
    auto n = encode(m, L, out);
    benchmark::DoNotOptimize(n);
    benchmark::ClobberMemory();
  }
  report(state, allocations.load() - before, out.size());
}

// What a server sends for Rread: the header only, the payload goes out by gather write.
void BM_encode_header(benchmark::State& state, std::string_view which, std::size_t payload) {
  message m = sample(which, payload);
  std::array<std::byte, 64> out{};
  std::size_t before = allocations.load();
  for (auto _ : state) {
    auto n = encode_header(m, L, out);
    benchmark::DoNotOptimize(n);
    benchmark::ClobberMemory();
  }
  report(state, allocations.load() - before, encoded_size(m, L));
}

void BM_decode(benchmark::State& state, std::string_view which, std::size_t payload) {
  std::vector<std::byte> frame = encoded(sample(which, payload));
  std::size_t before = allocations.load();
  for (auto _ : state) {
    auto m = decode(frame, L);
    benchmark::DoNotOptimize(m);
  }
  report(state, allocations.load() - before, frame.size());
}

#define NINEP_BENCH_PAIR(name, payload)               \
  BENCHMARK_CAPTURE(BM_encode, name, #name, payload); \
  BENCHMARK_CAPTURE(BM_decode, name, #name, payload)

NINEP_BENCH_PAIR(Twalk, 0);
NINEP_BENCH_PAIR(Rwalk, 0);
NINEP_BENCH_PAIR(Tgetattr, 0);
NINEP_BENCH_PAIR(Rgetattr, 0);
NINEP_BENCH_PAIR(Treaddir, 0);
NINEP_BENCH_PAIR(Rreaddir, 0);
NINEP_BENCH_PAIR(Tread, 65536);
BENCHMARK_CAPTURE(BM_encode, Rread_64KiB, "Rread", 65536);
BENCHMARK_CAPTURE(BM_encode_header, Rread_64KiB, "Rread", 65536);
BENCHMARK_CAPTURE(BM_decode, Rread_64KiB, "Rread", 65536);
BENCHMARK_CAPTURE(BM_encode, Rread_1MiB, "Rread", 1 << 20);
BENCHMARK_CAPTURE(BM_encode_header, Rread_1MiB, "Rread", 1 << 20);
BENCHMARK_CAPTURE(BM_decode, Rread_1MiB, "Rread", 1 << 20);

}  // namespace

BENCHMARK_MAIN();
