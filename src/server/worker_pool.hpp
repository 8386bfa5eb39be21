// SPDX-License-Identifier: MIT
// Private: the threads that run filesystem calls, shared fairly between connections.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace ninep::server::detail {

/// Runs jobs (filesystem calls, which may block without bound: an open(2) of a FIFO, a hung
/// NFS or FUSE mount) for many connections, so that no connection keeps the others waiting:
/// - each connection has its own queue and runs at most `share` jobs at once; the queues with
///   work take turns (round robin), so a flood of requests on one connection is not served
///   before a single request on another;
/// - a job never waits for a thread that is busy with another queue's job: when a job is
///   queued or started and no thread is idle, another thread starts (up to `max_threads`).
///   Threads beyond the first `threads` end after a second without work.
/// Blocked calls thus cost their own connection its share and one thread each, never the
/// others their service. Thread-safe.
class worker_pool {
 public:
  using job = std::function<void()>;
  /// One connection's queue; jobs are named by a key (the request) for cancel().
  class queue;
  using queue_ptr = std::shared_ptr<queue>;

  worker_pool(std::size_t threads, std::size_t share, std::size_t max_threads);
  /// Runs what is queued, then joins every thread.
  ~worker_pool();
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  queue_ptr make_queue();
  /// Queues `j` on `q` under `key`; it runs on some worker thread, later.
  void submit(const queue_ptr& q, const void* key, job j);
  /// Removes the job queued under `key` if no thread has started it; true if it was removed
  /// (it will never run).
  bool cancel(const queue_ptr& q, const void* key);
  /// Threads running now (for tests and counters).
  std::size_t threads() const;
  /// Lets the threads end once every queue is empty, and waits for them.
  void join();

 private:
  void grow();  // mu_ held
  void work(bool extra);

  const std::size_t base_, share_, max_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<queue_ptr> ready_;  ///< queues with a job and fewer than share_ running
  std::size_t idle_ = 0;         ///< threads waiting for work
  std::size_t running_threads_ = 0;
  bool stopping_ = false;
  std::list<std::thread> threads_;
  std::vector<std::thread> ended_;  ///< threads that left work(), to be joined
};

}  // namespace ninep::server::detail
