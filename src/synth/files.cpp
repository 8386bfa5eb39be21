// SPDX-License-Identifier: MIT
#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <future>
#include <list>
#include <ninep/core/error.hpp>
#include <ninep/synth/files.hpp>
#include <optional>
#include <stop_token>

namespace ninep::synth {
namespace {

// Files larger than this are refused with EFBIG: a client offset must not make us allocate
// without bound.
constexpr std::uint64_t max_memory_file = 1ull << 30;

std::size_t copy_at(std::string_view data, std::uint64_t offset, std::span<std::byte> out) {
  if (offset >= data.size()) return 0;
  std::size_t n = std::min<std::size_t>(out.size(), data.size() - offset);
  std::memcpy(out.data(), data.data() + offset, n);
  return n;
}

class text_file final : public file {
 public:
  text_file(std::string text, std::uint32_t perm) : file(perm), text_(std::move(text)) {}
  result<std::size_t> read(const context&, std::uint64_t off, std::span<std::byte> out) override {
    return copy_at(text_, off, out);
  }
  std::uint64_t size() const override { return text_.size(); }

 private:
  const std::string text_;
};

// Content generated at open, read by offset; writes go to `on_write` when there is one.
class snapshot_handle final : public handle {
 public:
  snapshot_handle(std::string data, const command_fn* on_write)
      : data_(std::move(data)), on_write_(on_write) {}
  result<std::size_t> read(const context&, std::uint64_t off, std::span<std::byte> out) override {
    return copy_at(data_, off, out);
  }
  result<std::size_t> write(const context& cx, std::uint64_t,
                            std::span<const std::byte> in) override {
    if (!on_write_ || !*on_write_) return fail(errno_code(EOPNOTSUPP));
    auto ok = (*on_write_)(cx, {reinterpret_cast<const char*>(in.data()), in.size()});
    if (!ok) return fail(ok.error());
    return in.size();
  }

 private:
  const std::string data_;
  const command_fn* on_write_;  // owned by the file, which outlives its handles' calls
};

class generated_file final : public file {
 public:
  generated_file(content_fn read, command_fn write, std::uint32_t perm)
      : file(perm), read_(std::move(read)), write_(std::move(write)) {}
  result<std::unique_ptr<handle>> open(const context& cx, int flags) override {
    // Generate only for opens that may read: a write-only open of a ctl file costs nothing.
    std::string data;
    if ((flags & O_ACCMODE) != O_WRONLY && read_) data = read_(cx);
    return std::make_unique<snapshot_handle>(std::move(data), &write_);
  }
  // The handle keeps a pointer to write_: keep the file alive as long as its handles.
  // tree_fs does (its per-fid node holds the entry).
  result<void> truncate(const context&, std::uint64_t size) override {
    if (size == 0) return {};
    return fail(errno_code(EINVAL));
  }

 private:
  content_fn read_;
  command_fn write_;
};

class memory_handle final : public handle {
 public:
  memory_handle(std::shared_ptr<memory_file> f, bool append) : f_(std::move(f)), append_(append) {}
  result<std::size_t> read(const context& cx, std::uint64_t off,
                           std::span<std::byte> out) override {
    return f_->read(cx, off, out);
  }
  result<std::size_t> write(const context& cx, std::uint64_t off,
                            std::span<const std::byte> in) override {
    // O_APPEND: every write goes to the end, whatever offset the client sent.
    return f_->write(cx, append_ ? ~0ull : off, in);
  }

 private:
  std::shared_ptr<memory_file> f_;
  bool append_;
};

}  // namespace

std::shared_ptr<file> static_file(std::string text, std::uint32_t perm) {
  return std::make_shared<text_file>(std::move(text), perm);
}

std::shared_ptr<file> dynamic_file(content_fn fn, std::uint32_t perm) {
  return std::make_shared<generated_file>(std::move(fn), command_fn{}, perm);
}

std::shared_ptr<file> ctl_file(command_fn on_write, content_fn on_read, std::uint32_t perm) {
  if (perm == 0) perm = on_read ? 0600 : 0200;
  return std::make_shared<generated_file>(std::move(on_read), std::move(on_write), perm);
}

memory_file::memory_file(std::string initial, std::uint32_t perm)
    : file(perm), data_(std::move(initial)) {}

result<std::size_t> memory_file::read(const context&, std::uint64_t off, std::span<std::byte> out) {
  std::lock_guard l(mu_);
  return copy_at(data_, off, out);
}

result<std::size_t> memory_file::write(const context&, std::uint64_t off,
                                       std::span<const std::byte> in) {
  {
    std::lock_guard l(mu_);
    if (off == ~0ull) off = data_.size();
    if (off > max_memory_file || in.size() > max_memory_file - off) return fail(errno_code(EFBIG));
    if (off + in.size() > data_.size()) data_.resize(off + in.size());
    if (!in.empty()) std::memcpy(data_.data() + off, in.data(), in.size());
  }
  touch();
  return in.size();
}

result<void> memory_file::truncate(const context&, std::uint64_t size) {
  if (size > max_memory_file) return fail(errno_code(EFBIG));
  {
    std::lock_guard l(mu_);
    data_.resize(size);
  }
  touch();
  return {};
}

result<std::unique_ptr<handle>> memory_file::open(const context&, int flags) {
  return std::make_unique<memory_handle>(std::static_pointer_cast<memory_file>(shared_from_this()),
                                         (flags & O_APPEND) != 0);
}

std::uint64_t memory_file::size() const {
  std::lock_guard l(mu_);
  return data_.size();
}

std::string memory_file::content() const {
  std::lock_guard l(mu_);
  return data_;
}

std::shared_ptr<memory_file> writable_file(std::string initial, std::uint32_t perm) {
  return std::make_shared<memory_file>(std::move(initial), perm);
}

// ---- stream_file ----------------------------------------------------------------------------

// Shared by the file and its readers (a reader may outlive the file).
struct stream_file::core {
  struct waiter {
    reader* r = nullptr;
    std::span<std::byte> out;
    read_callback done;
    // May be destroyed from inside its own callback (the last reference dropped in cancel());
    // [stopcallback.cons] allows that on the callback's thread, and the callback touches
    // nothing of the waiter after cancel() returns.
    std::optional<std::stop_callback<std::function<void()>>> stop;
  };
  using waiter_ptr = std::shared_ptr<waiter>;

  mutable std::mutex mu;  // guards everything below, and every reader's cursor
  std::deque<std::string> records;
  std::uint64_t first_seq = 0;  // sequence number of records.front()
  std::uint64_t next_seq = 0;   // of the next record published
  std::size_t backlog;
  bool closed = false;
  std::list<waiter_ptr> waiting;

  explicit core(std::size_t b) : backlog(std::max<std::size_t>(1, b)) {}

  // Takes data for `r` into `out`: bytes (0: end of stream), or nullopt when it must wait.
  std::optional<std::size_t> take(reader& r, std::span<std::byte> out);

  void cancel(const std::weak_ptr<waiter>& wp) {
    auto w = wp.lock();
    if (!w) return;
    {
      std::lock_guard l(mu);
      auto it = std::find(waiting.begin(), waiting.end(), w);
      if (it == waiting.end()) return;  // completed by a publish meanwhile
      waiting.erase(it);
    }
    w->done(fail(errno_code(ECANCELED)));
  }

  // Completes every waiter that can now proceed. Called with `l` held; releases it.
  void wake(std::unique_lock<std::mutex>& l) {
    std::vector<std::pair<waiter_ptr, std::size_t>> ready;
    for (auto it = waiting.begin(); it != waiting.end();) {
      if (auto n = take(*(*it)->r, (*it)->out)) {
        ready.emplace_back(std::move(*it), *n);
        it = waiting.erase(it);
      } else {
        ++it;
      }
    }
    // Waiters are completed and destroyed (with their stop callbacks, whose destructor waits
    // for a callback running elsewhere, which needs `mu`) only after the lock is released.
    l.unlock();
    for (auto& [w, n] : ready) w->done(n);
  }
};

class stream_file::reader final : public handle {
 public:
  explicit reader(std::shared_ptr<core> c) : c_(std::move(c)) {
    std::lock_guard l(c_->mu);
    seq = c_->next_seq;  // a reader sees the records published after its open
  }
  ~reader() override {
    // Only direct users can get here with reads pending (the server keeps the node of a
    // request alive): end them rather than leave a callback that can never be called.
    std::vector<core::waiter_ptr> mine;
    {
      std::lock_guard l(c_->mu);
      for (auto it = c_->waiting.begin(); it != c_->waiting.end();) {
        if ((*it)->r == this) {
          mine.push_back(std::move(*it));
          it = c_->waiting.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& w : mine) w->done(fail(errno_code(ECANCELED)));
  }

  result<std::size_t> read(const context& cx, std::uint64_t off,
                           std::span<std::byte> out) override {
    // The synchronous form waits on this thread for the asynchronous one.
    auto p = std::make_shared<std::promise<result<std::size_t>>>();
    auto f = p->get_future();
    async_read(cx, off, out, [p](result<std::size_t> r) { p->set_value(r); });
    return f.get();
  }

  void async_read(const context& cx, std::uint64_t, std::span<std::byte> out,
                  read_callback done) override {
    auto w = std::make_shared<core::waiter>();
    w->r = this;
    w->out = out;
    w->done = std::move(done);
    {
      std::unique_lock l(c_->mu);
      if (auto n = c_->take(*this, out)) {
        l.unlock();
        return w->done(*n);
      }
      if (cx.stop.stop_requested()) {
        l.unlock();
        return w->done(fail(errno_code(ECANCELED)));
      }
      c_->waiting.push_back(w);
    }
    // Registered outside the lock: if stop was requested meanwhile the callback runs right
    // here, and it takes the lock.
    std::weak_ptr<core> wc = c_;
    std::weak_ptr<core::waiter> ww = w;
    w->stop.emplace(cx.stop, std::function<void()>([wc, ww] {
                      if (auto c = wc.lock()) c->cancel(ww);
                    }));
  }

  std::uint64_t seq = 0;  // next record to read; guarded by core::mu
  std::size_t pos = 0;    // bytes of it already read

 private:
  std::shared_ptr<core> c_;
};

std::optional<std::size_t> stream_file::core::take(reader& r, std::span<std::byte> out) {
  if (r.seq < first_seq) r.seq = first_seq, r.pos = 0;  // fell behind: skip what is gone
  if (r.seq < next_seq) {
    const std::string& rec = records[r.seq - first_seq];
    std::size_t n = std::min(out.size(), rec.size() - r.pos);
    std::memcpy(out.data(), rec.data() + r.pos, n);
    r.pos += n;
    if (r.pos == rec.size()) r.seq++, r.pos = 0;
    return n;
  }
  if (closed) return 0;
  return std::nullopt;
}

stream_file::stream_file(std::size_t backlog, std::uint32_t perm)
    : file(perm), core_(std::make_shared<core>(backlog)) {}

stream_file::~stream_file() { close(); }

void stream_file::publish(std::string_view record) {
  if (record.empty()) return;  // an empty read would look like end of file
  std::unique_lock l(core_->mu);
  if (core_->closed) return;
  core_->records.emplace_back(record);
  core_->next_seq++;
  while (core_->records.size() > core_->backlog) {
    core_->records.pop_front();
    core_->first_seq++;
  }
  core_->wake(l);
}

void stream_file::close() {
  std::unique_lock l(core_->mu);
  core_->closed = true;
  core_->wake(l);
}

std::size_t stream_file::waiting() const {
  std::lock_guard l(core_->mu);
  return core_->waiting.size();
}

result<std::unique_ptr<handle>> stream_file::open(const context&, int) {
  return std::make_unique<reader>(core_);
}

}  // namespace ninep::synth
