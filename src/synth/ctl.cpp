// SPDX-License-Identifier: MIT
#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <ninep/core/error.hpp>
#include <ninep/synth/ctl.hpp>
#include <ninep/synth/files.hpp>
#include <ninep/wire/messages.hpp>
#include <string>

namespace ninep::synth {
namespace {

class null_file final : public file {
 public:
  null_file() : file(0666) {}
  result<std::size_t> read(const context&, std::uint64_t, std::span<std::byte>) override {
    return 0;
  }
  result<std::size_t> write(const context&, std::uint64_t, std::span<const std::byte> in) override {
    return in.size();
  }
};

class zero_file final : public file {
 public:
  zero_file() : file(0666) {}
  result<std::size_t> read(const context&, std::uint64_t, std::span<std::byte> out) override {
    std::memset(out.data(), 0, out.size());
    return out.size();
  }
  result<std::size_t> write(const context&, std::uint64_t, std::span<const std::byte> in) override {
    return in.size();
  }
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

}  // namespace

std::shared_ptr<dir> make_ctl_tree(const server::counters& stats,
                                   std::function<void(server::log_level)> set_level,
                                   server::log_level initial) {
  auto d = std::make_shared<dir>(0555);
  (void)d->add("null", std::make_shared<null_file>());
  (void)d->add("zero", std::make_shared<zero_file>());
  auto counter = [&stats](const std::atomic<std::uint64_t> server::counters::*field) {
    return dynamic_file(
        [&stats, field](const context&) { return std::to_string((stats.*field).load()) + "\n"; });
  };
  (void)d->add("connections", counter(&server::counters::connections));
  (void)d->add("requests", counter(&server::counters::requests));
  (void)d->add("bytes_in", counter(&server::counters::bytes_in));
  (void)d->add("bytes_out", counter(&server::counters::bytes_out));
  (void)d->add("fids", counter(&server::counters::fids));
  (void)d->add("memory_returns", counter(&server::counters::memory_returns));
  // One line per message type seen: "Twalk 1234", then the latency histogram as
  // "<2^b us>:<count>" pairs for the non-empty buckets, like Plan 9's iostats.
  (void)d->add("ops", dynamic_file([&stats](const context&) {
                 std::string out;
                 for (std::size_t t = 0; t < stats.by_type.size(); ++t) {
                   const auto& pt = stats.by_type[t];
                   const std::uint64_t n = pt.count.load(std::memory_order_relaxed);
                   if (n == 0) continue;
                   out += fmt::format("{} {}", wire::type_name(static_cast<std::uint8_t>(t)), n);
                   for (std::size_t b = 0; b < pt.latency.size(); ++b) {
                     const std::uint64_t c = pt.latency[b].load(std::memory_order_relaxed);
                     if (c != 0) out += fmt::format(" <{}us:{}", std::uint64_t{1} << b, c);
                   }
                   out += '\n';
                 }
                 return out;
               }));

  auto level = std::make_shared<std::atomic<int>>(static_cast<int>(initial));
  (void)d->add("loglevel", ctl_file(
                               [level, set_level = std::move(set_level)](
                                   const context&, std::string_view cmd) -> result<void> {
                                 auto l = server::log_level_of(trim(cmd));
                                 if (!l) return fail(errno_code(EINVAL));
                                 if (set_level) set_level(*l);
                                 level->store(static_cast<int>(*l));
                                 return {};
                               },
                               [level](const context&) {
                                 return std::string(server::log_level_name(
                                            static_cast<server::log_level>(level->load()))) +
                                        "\n";
                               },
                               0644));
  return d;
}

}  // namespace ninep::synth
