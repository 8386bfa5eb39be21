// SPDX-License-Identifier: MIT
#include "worker_pool.hpp"

#include <algorithm>
#include <chrono>

namespace ninep::server::detail {

class worker_pool::queue {
 public:
  struct entry {
    const void* key;
    job fn;
  };
  std::deque<entry> jobs;  // guarded by the pool's mu_, as are the next two
  std::size_t running = 0;
  bool listed = false;  // in ready_: has a job and running < share
};

worker_pool::worker_pool(std::size_t threads, std::size_t share, std::size_t max_threads)
    : base_(std::max<std::size_t>(1, threads)),
      share_(std::max<std::size_t>(1, share)),
      max_(std::max(base_, max_threads)) {
  std::lock_guard lk(mu_);
  for (std::size_t i = 0; i < base_; ++i) {
    ++running_threads_;
    threads_.emplace_back([this] { work(false); });
  }
}

worker_pool::~worker_pool() { join(); }

worker_pool::queue_ptr worker_pool::make_queue() { return std::make_shared<queue>(); }

void worker_pool::grow() {
  for (auto& t : ended_) t.join();
  ended_.clear();
  if (running_threads_ >= max_) return;
  ++running_threads_;
  threads_.emplace_back([this] { work(true); });
}

void worker_pool::submit(const queue_ptr& q, const void* key, job j) {
  std::lock_guard lk(mu_);
  q->jobs.push_back({key, std::move(j)});
  if (q->listed || q->running >= share_) return;  // its turn comes when one of its jobs ends
  q->listed = true;
  ready_.push_back(q);
  if (idle_ > 0)
    cv_.notify_one();
  else
    grow();
}

bool worker_pool::cancel(const queue_ptr& q, const void* key) {
  job dropped;  // destroyed after the lock: its captures may own anything
  std::lock_guard lk(mu_);
  auto it = std::find_if(q->jobs.begin(), q->jobs.end(), [&](auto& e) { return e.key == key; });
  if (it == q->jobs.end()) return false;
  dropped = std::move(it->fn);
  q->jobs.erase(it);
  if (q->jobs.empty() && q->listed) {
    q->listed = false;
    std::erase(ready_, q);
  }
  return true;
}

std::size_t worker_pool::threads() const {
  std::lock_guard lk(mu_);
  return running_threads_;
}

void worker_pool::work(bool extra) {
  std::unique_lock lk(mu_);
  for (;;) {
    while (ready_.empty()) {
      if (stopping_) break;
      ++idle_;
      bool woken = true;
      if (extra)
        woken =
            cv_.wait_for(lk, std::chrono::seconds(1), [&] { return !ready_.empty() || stopping_; });
      else
        cv_.wait(lk, [&] { return !ready_.empty() || stopping_; });
      --idle_;
      if (!woken) break;
    }
    if (ready_.empty()) break;
    queue_ptr q = std::move(ready_.front());
    ready_.pop_front();
    job fn = std::move(q->jobs.front().fn);
    q->jobs.pop_front();
    ++q->running;
    if (!q->jobs.empty() && q->running < share_)
      ready_.push_back(q);  // round robin: behind the other queues
    else
      q->listed = false;
    // This job may block for good: more work waiting goes to an idle thread (each one woken
    // passes the rest on, as here), or to a new one when none is idle.
    if (!ready_.empty()) {
      if (idle_ > 0)
        cv_.notify_one();
      else
        grow();
    }
    lk.unlock();
    fn();
    fn = nullptr;
    lk.lock();
    --q->running;
    if (!q->listed && !q->jobs.empty()) {
      q->listed = true;
      ready_.push_back(q);
    }
  }
  // Leave: hand our own thread object to whoever joins next.
  --running_threads_;
  const auto me = std::this_thread::get_id();
  for (auto it = threads_.begin(); it != threads_.end(); ++it) {
    if (it->get_id() == me) {
      ended_.push_back(std::move(*it));
      threads_.erase(it);
      break;
    }
  }
  cv_.notify_all();  // join() waits for running_threads_ to reach 0
}

void worker_pool::join() {
  std::unique_lock lk(mu_);
  stopping_ = true;
  cv_.notify_all();
  cv_.wait(lk, [&] { return running_threads_ == 0; });
  std::vector<std::thread> ended = std::move(ended_);
  ended_.clear();
  lk.unlock();
  for (auto& t : ended) t.join();
}

}  // namespace ninep::server::detail
