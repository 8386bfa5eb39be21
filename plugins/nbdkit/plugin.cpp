// SPDX-License-Identifier: MIT
// nbdkit-ninep-plugin: an NBD export whose disk image is a file on a 9P server, through
// block::disk (pipelined, several connections, reconnecting). The plugin only translates:
// nbdkit's configuration into image_options, its callbacks into disk calls, and error codes
// into the errno values NBD can carry.
#define NBDKIT_API_VERSION 2
#define THREAD_MODEL NBDKIT_THREAD_MODEL_PARALLEL
#include <nbdkit-plugin.h>
#include <pwd.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <ninep/block/disk.hpp>
#include <ninep/core/error.hpp>
#include <optional>
#include <string>

namespace {

using ninep::block::disk;
using ninep::block::image_options;

image_options config;
bool have_address = false, have_path = false;
std::unique_ptr<disk> the_disk;

constexpr const char* help =
    "address=ADDR      (required) The 9P server: tcp!HOST!PORT, unix!/PATH, HOST:PORT.\n"
    "path=PATH         (required) The image file, relative to the attach root.\n"
    "aname=ANAME       The tree to attach (Tattach aname; diod: the export path).\n"
    "uname=USER        The user to attach as (default: this process's user).\n"
    "version=V         9p2000.L, 9p2000.u or 9p2000 (default: the best the server has).\n"
    "msize=SIZE        The msize to offer (default 512K, at least 4096).\n"
    "connections=N     9P connections to spread requests over (default 1).\n"
    "create=SIZE       Create PATH as a sparse file of SIZE bytes if it does not exist.\n"
    "retry-timeout=S   Seconds a request waits for a lost server to come back (default 60).\n"
    "timeout=S         Seconds without a reply before a connection is redialled (default 30).\n"
    "readonly=BOOL     Open PATH read-only (default false).\n"
    "auth=munge        Authenticate with MUNGE before attaching (diod's protocol).";

/// The errno NBD can carry for `ec`. nbdkit turns any errno it does not know into EINVAL,
/// which guests read as their own bug; so only the ones it maps pass, the rest become EIO.
int nbd_errno(std::error_code ec) {
  if (ec == ninep::errc::connection_closed) return ESHUTDOWN;
  if (ec.category() == std::generic_category()) {
    switch (ec.value()) {
      case EIO:
      case ENOSPC:
      case EDQUOT:
      case EFBIG:
      case EPERM:
      case EROFS:
      case ENOMEM:
        return ec.value();
      case EACCES:
        return EPERM;
      default:
        break;
    }
  }
  return EIO;
}

int failed(const char* what, std::error_code ec) {
  nbdkit_error("%s: %s: %s: %s", config.address.c_str(), config.path.c_str(), what,
               ec.message().c_str());
  nbdkit_set_error(nbd_errno(ec));
  return -1;
}

/// Runs `f`, turning exceptions (only std::bad_alloc is expected) into errors.
template <class F>
int guarded(const char* what, F f) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return failed(what, std::make_error_code(std::errc::not_enough_memory));
  } catch (const std::exception& e) {
    nbdkit_error("%s: %s", what, e.what());
    nbdkit_set_error(EIO);
    return -1;
  }
}

bool parse_seconds(const char* key, const char* value, std::chrono::milliseconds& out) {
  char* end = nullptr;
  errno = 0;
  double s = std::strtod(value, &end);
  if (errno != 0 || end == value || *end != '\0' || !std::isfinite(s) || s < 0 || s > 1e7) {
    nbdkit_error("%s=%s: expected a number of seconds", key, value);
    return false;
  }
  out = std::chrono::milliseconds(static_cast<std::int64_t>(s * 1000));
  return true;
}

int ninep_config(const char* key, const char* value) {
  std::string k = key;
  if (k == "address") {
    config.address = value;
    have_address = true;
  } else if (k == "path") {
    config.path = value;
    have_path = true;
  } else if (k == "aname") {
    config.session.aname = value;
  } else if (k == "uname") {
    config.session.uname = value;
    const passwd* pw = ::getpwnam(value);
    config.session.n_uname = pw != nullptr ? pw->pw_uid : ninep::client::no_id;
  } else if (k == "version") {
    std::string v = value;
    for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::optional<ninep::wire::dialect> d;
    if (v == "9p2000.l") d = ninep::wire::dialect::v2000L;
    if (v == "9p2000.u") d = ninep::wire::dialect::v2000u;
    if (v == "9p2000") d = ninep::wire::dialect::v2000;
    if (!d) {
      nbdkit_error("version=%s: expected 9p2000.L, 9p2000.u or 9p2000", value);
      return -1;
    }
    config.session.dialect = *d;
  } else if (k == "msize") {
    std::int64_t n = nbdkit_parse_size(value);
    if (n < 0) return -1;
    if (n < 4096 || n > (std::int64_t{1} << 30)) {
      nbdkit_error("msize=%s: must be between 4096 and 1G", value);
      return -1;
    }
    config.session.msize = static_cast<std::uint32_t>(n);
  } else if (k == "connections") {
    std::uint32_t n = 0;
    if (nbdkit_parse_uint32_t("connections", value, &n) == -1) return -1;
    if (n < 1 || n > 64) {
      nbdkit_error("connections=%s: must be between 1 and 64", value);
      return -1;
    }
    config.connections = n;
  } else if (k == "create") {
    std::int64_t n = nbdkit_parse_size(value);
    if (n < 0) return -1;
    config.create_size = static_cast<std::uint64_t>(n);
  } else if (k == "retry-timeout") {
    if (!parse_seconds(key, value, config.retry_timeout)) return -1;
  } else if (k == "timeout") {
    if (!parse_seconds(key, value, config.request_timeout)) return -1;
    if (config.request_timeout.count() == 0) {
      nbdkit_error("timeout=%s: must be more than 0", value);
      return -1;
    }
  } else if (k == "readonly") {
    int b = nbdkit_parse_bool(value);
    if (b == -1) return -1;
    config.readonly = b == 1;
  } else if (k == "auth") {
    if (std::strcmp(value, "munge") != 0) {
      nbdkit_error("auth=%s: only auth=munge is known", value);
      return -1;
    }
    config.session.auth = value;
  } else {
    nbdkit_error("unknown parameter '%s' (see nbdkit ninep --help)", key);
    return -1;
  }
  return 0;
}

int ninep_config_complete() {
  if (!have_address || !have_path) {
    nbdkit_error("address= and path= are required (see nbdkit ninep --help)");
    return -1;
  }
  if (config.session.uname == "nobody") {  // the client default: use our own user instead
    const passwd* pw = ::getpwuid(::geteuid());
    if (pw != nullptr) config.session.uname = pw->pw_name;
    config.session.n_uname = ::geteuid();
  }
  return 0;
}

int open_disk(const char* when) {
  auto d = disk::open(config);
  if (!d) {
    // The message already names the address, the path and the reason.
    nbdkit_error("%s", d.error().message().c_str());
    nbdkit_set_error(nbd_errno(d.error()));
    return -1;
  }
  the_disk = std::move(*d);
  nbdkit_debug("%s: %s %s: %s, %llu bytes, %u bytes per request, %zu connection(s)", when,
               config.address.c_str(), config.path.c_str(),
               std::string(ninep::wire::version_string(the_disk->dialect())).c_str(),
               static_cast<unsigned long long>(the_disk->size()), the_disk->max_chunk(),
               config.connections);
  return 0;
}

// Before nbdkit forks into the background: a configuration mistake fails here, at startup.
// The disk's threads would not survive the fork, so this one is closed and after_fork opens
// the one that serves.
int ninep_get_ready() {
  return guarded("get_ready", [] {
    if (open_disk("checked") == -1) return -1;
    the_disk.reset();
    config.create_size.reset();  // created (or there) now
    return 0;
  });
}

int ninep_after_fork() {
  return guarded("after_fork", [] { return open_disk("serving"); });
}

void ninep_cleanup() {
  try {
    the_disk.reset();
  } catch (...) {  // nothing to report to at exit
  }
}

void ninep_dump_plugin() {
  std::printf("ninep_dialects=9P2000.L,9P2000.u,9P2000\n");
  std::printf(
      "ninep_keys=address,path,aname,uname,version,msize,connections,create,"
      "retry-timeout,timeout,readonly,auth\n");
  std::string h = help;
  std::size_t start = 0;
  while (start < h.size()) {
    std::size_t end = h.find('\n', start);
    if (end == std::string::npos) end = h.size();
    std::string line = h.substr(start, end - start);
    std::size_t eq = line.find('=');
    std::size_t sp = line.find(' ');
    if (eq != std::string::npos && sp != std::string::npos) {
      std::string key = line.substr(0, eq);
      std::size_t text = line.find_first_not_of(' ', sp);
      std::printf("ninep_key_%s=%s\n", key.c_str(), line.substr(text).c_str());
    }
    start = end + 1;
  }
}

int handle_tag = 0;

void* ninep_open(int /*readonly*/) {
  if (!the_disk) {
    nbdkit_error("%s: %s: not open", config.address.c_str(), config.path.c_str());
    return nullptr;
  }
  return &handle_tag;  // every NBD connection shares the one disk
}

int64_t ninep_get_size(void*) { return static_cast<int64_t>(the_disk->size()); }
int ninep_can_write(void*) { return config.readonly ? 0 : 1; }
int ninep_can_flush(void*) { return 1; }
int ninep_is_rotational(void*) { return 0; }
// 9P has no hole punching: trim and fast zero are refused (nbdkit answers them itself).
int ninep_can_trim(void*) { return 0; }
int ninep_can_zero(void*) { return 1; }
int ninep_can_fast_zero(void*) { return 0; }
int ninep_can_fua(void*) { return NBDKIT_FUA_NATIVE; }
// Tfsync commits the file, whatever connection or fid it arrives on.
int ninep_can_multi_conn(void*) { return 1; }
int ninep_can_cache(void*) { return NBDKIT_CACHE_NONE; }

int ninep_block_size(void*, uint32_t* minimum, uint32_t* preferred, uint32_t* maximum) {
  *minimum = 1;
  *preferred = 4096;
  *maximum = the_disk->max_chunk();  // one request: whole pages of one msize payload
  return 0;
}

int ninep_pread(void*, void* buf, uint32_t count, uint64_t offset, uint32_t) {
  return guarded("read", [&] {
    auto r = the_disk->read(offset, {static_cast<std::byte*>(buf), count});
    return r ? 0 : failed("read", r.error());
  });
}

int ninep_pwrite(void*, const void* buf, uint32_t count, uint64_t offset, uint32_t flags) {
  return guarded("write", [&] {
    auto r = the_disk->write(offset, {static_cast<const std::byte*>(buf), count},
                             (flags & NBDKIT_FLAG_FUA) != 0);
    return r ? 0 : failed("write", r.error());
  });
}

int ninep_zero(void*, uint32_t count, uint64_t offset, uint32_t flags) {
  return guarded("zero", [&] {
    auto r = the_disk->write_zeroes(offset, count, (flags & NBDKIT_FLAG_FUA) != 0);
    return r ? 0 : failed("zero", r.error());
  });
}

int ninep_flush(void*, uint32_t) {
  return guarded("flush", [&] {
    auto r = the_disk->flush();
    return r ? 0 : failed("flush", r.error());
  });
}

nbdkit_plugin make_plugin() {
  nbdkit_plugin p = nbdkit_plugin();
  p.name = "ninep";
  p.longname = "nbdkit 9P plugin (ninep)";
  p.version = "0.1.0";
  p.description = "Serves a disk image that is a file on a 9P server (9P2000.L, .u, 9P2000).";
  p.config = ninep_config;
  p.config_complete = ninep_config_complete;
  p.config_help = help;
  p.magic_config_key = "path";
  p.get_ready = ninep_get_ready;
  p.after_fork = ninep_after_fork;
  p.cleanup = ninep_cleanup;
  p.dump_plugin = ninep_dump_plugin;
  p.open = ninep_open;
  p.get_size = ninep_get_size;
  p.can_write = ninep_can_write;
  p.can_flush = ninep_can_flush;
  p.is_rotational = ninep_is_rotational;
  p.can_trim = ninep_can_trim;
  p.can_zero = ninep_can_zero;
  p.can_fast_zero = ninep_can_fast_zero;
  p.can_fua = ninep_can_fua;
  p.can_multi_conn = ninep_can_multi_conn;
  p.can_cache = ninep_can_cache;
  p.block_size = ninep_block_size;
  p.pread = ninep_pread;
  p.pwrite = ninep_pwrite;
  p.zero = ninep_zero;
  p.flush = ninep_flush;
  p.errno_is_preserved = 0;
  return p;
}

}  // namespace

static nbdkit_plugin plugin = make_plugin();
NBDKIT_REGISTER_PLUGIN(plugin)
