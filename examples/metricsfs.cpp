// SPDX-License-Identifier: MIT
// metricsfs: live host metrics from /proc as a 9P file tree, one value per file:
//   cpu/{user,nice,system,idle,iowait,irq,softirq,steal}   jiffies since boot (/proc/stat)
//   memory/{total,free,available,buffers,cached,swap_total,swap_free}   bytes (/proc/meminfo)
//   net/<iface>/{rx,tx}_{bytes,packets,errors,dropped}     (/proc/net/dev)
//   load/{1min,5min,15min,running,threads}                  (/proc/loadavg)
//   uptime                                                  seconds (/proc/uptime)
//   stream    one sample line per second to every reader, until it flushes or closes
// Values are read from /proc when a file is opened, so each read of a file is consistent.
//
//   metricsfs [--listen tcp!127.0.0.1!5642]... [--log-level LEVEL] [--workers N]
//   mount -t 9p -o trans=tcp,port=5642,version=9p2000.L 127.0.0.1 /mnt; cat /mnt/load/1min
#include <fmt/core.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <ninep/synth/files.hpp>
#include <ninep/synth/tree_fs.hpp>
#include <sstream>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "serve_main.hpp"

namespace {

using namespace ninep;

std::string slurp(const char* path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The i-th whitespace-separated field of the first line of `text` that starts with `key`.
std::string field(const std::string& text, std::string_view key, std::size_t i) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with(key)) continue;
    std::istringstream words(line);
    std::string w;
    for (std::size_t k = 0; k <= i && words >> w; ++k) {
      if (k == i) return w;
    }
  }
  return "";
}

// /proc/meminfo "Key:   123 kB" in bytes.
std::string meminfo(std::string_view key) {
  std::string kb = field(slurp("/proc/meminfo"), std::string(key) + ":", 1);
  return kb.empty() ? "" : std::to_string(std::stoull(kb) * 1024);
}

// /proc/net/dev: "  eth0: rx_bytes rx_packets rx_errs rx_drop fifo frame compressed multicast
// tx_bytes tx_packets tx_errs tx_drop ...". Interface name -> its 16 numbers.
std::map<std::string, std::vector<std::string>> net_dev() {
  std::map<std::string, std::vector<std::string>> out;
  std::istringstream lines(slurp("/proc/net/dev"));
  for (std::string line; std::getline(lines, line);) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    name.erase(0, name.find_first_not_of(' '));
    std::istringstream words(line.substr(colon + 1));
    std::vector<std::string> v;
    for (std::string w; words >> w;) v.push_back(w);
    if (v.size() >= 16) out[name] = std::move(v);
  }
  return out;
}

// A file showing one value; the trailing newline makes `cat` output readable.
std::shared_ptr<synth::file> value(std::function<std::string()> fn) {
  return synth::dynamic_file([fn = std::move(fn)](const synth::context&) { return fn() + "\n"; });
}

void add_net(synth::dir& net, const std::string& iface) {
  static const std::pair<const char*, std::size_t> fields[] = {
      {"rx_bytes", 0}, {"rx_packets", 1}, {"rx_errors", 2},  {"rx_dropped", 3},
      {"tx_bytes", 8}, {"tx_packets", 9}, {"tx_errors", 10}, {"tx_dropped", 11}};
  auto d = std::make_shared<synth::dir>();
  for (auto [name, i] : fields)
    (void)d->add(name, value([iface, i = i] {
                   auto all = net_dev();
                   auto it = all.find(iface);
                   return it == all.end() ? std::string() : it->second[i];
                 }));
  (void)net.add(iface, d);  // EEXIST when already there: nothing to do
}

std::shared_ptr<synth::dir> build_tree(const std::shared_ptr<synth::stream_file>& stream) {
  auto root = std::make_shared<synth::dir>();
  auto cpu = *root->subdir("cpu");
  const char* cpu_fields[] = {"user",   "nice", "system",  "idle",
                              "iowait", "irq",  "softirq", "steal"};
  for (std::size_t i = 0; i < std::size(cpu_fields); ++i)
    (void)cpu->add(cpu_fields[i], value([i] { return field(slurp("/proc/stat"), "cpu ", i + 1); }));
  auto mem = *root->subdir("memory");
  const std::pair<const char*, const char*> mem_fields[] = {
      {"total", "MemTotal"},    {"free", "MemFree"},  {"available", "MemAvailable"},
      {"buffers", "Buffers"},   {"cached", "Cached"}, {"swap_total", "SwapTotal"},
      {"swap_free", "SwapFree"}};
  for (auto [name, key] : mem_fields)
    (void)mem->add(name, value([key = key] { return meminfo(key); }));
  auto load = *root->subdir("load");
  const std::pair<const char*, std::size_t> load_fields[] = {
      {"1min", 0}, {"5min", 1}, {"15min", 2}};
  for (auto [name, i] : load_fields)
    (void)load->add(name, value([i = i] { return field(slurp("/proc/loadavg"), "", i); }));
  // Field 3 is "running/threads".
  auto sched = [](bool running) {
    std::string rt = field(slurp("/proc/loadavg"), "", 3);
    auto slash = rt.find('/');
    return slash == std::string::npos ? rt : running ? rt.substr(0, slash) : rt.substr(slash + 1);
  };
  (void)load->add("running", value([sched] { return sched(true); }));
  (void)load->add("threads", value([sched] { return sched(false); }));
  (void)root->add("uptime", value([] { return field(slurp("/proc/uptime"), "", 0); }));
  auto net = *root->subdir("net");
  for (const auto& [iface, v] : net_dev()) add_net(*net, iface);
  (void)root->add("stream", stream);
  return root;
}

// One line per second for `stream` readers; also adds interfaces that appeared since.
void sample(std::stop_token stop, synth::stream_file& stream, synth::dir& net) {
  std::mutex mu;
  std::condition_variable_any cv;
  while (!stop.stop_requested()) {
    auto dev = net_dev();
    std::uint64_t rx = 0, tx = 0;
    for (const auto& [iface, v] : dev) {
      if (!net.find(iface)) add_net(net, iface);
      rx += std::stoull(v[0]);
      tx += std::stoull(v[8]);
    }
    std::string loadavg = slurp("/proc/loadavg");
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
    stream.publish(fmt::format("time={} load1={} mem_available={} rx_bytes={} tx_bytes={}\n", secs,
                               field(loadavg, "", 0), meminfo("MemAvailable"), rx, tx));
    std::unique_lock l(mu);
    cv.wait_for(l, stop, std::chrono::seconds(1), [] { return false; });
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"metricsfs: live host metrics from /proc as 9P files, one value per file"};
  examples::serve_args args;
  const std::string default_listen = "tcp!127.0.0.1!5642";
  examples::add_serve_options(app, args, default_listen);
  CLI11_PARSE(app, argc, argv);
  auto stream = std::make_shared<synth::stream_file>();
  auto root = build_tree(stream);
  auto net = std::static_pointer_cast<synth::dir>(root->find("net"));
  std::jthread sampler([&](std::stop_token st) { sample(st, *stream, *net); });
  int status =
      examples::serve("metricsfs", std::move(args), synth::tree_fs::make(root), default_listen);
  sampler.request_stop();
  stream->close();  // readers still waiting see end of file
  return status;
}
