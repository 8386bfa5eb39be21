// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <span>
#include <utility>
#include <vector>

namespace ninep {

/// A thread-safe free list of byte blocks of one size. Blocks are allocated on first use and
/// recycled afterwards, so a steady stream of messages allocates nothing. Keep at most
/// `max_free` blocks; the rest are freed.
class buffer_pool : public std::enable_shared_from_this<buffer_pool> {
 public:
  buffer_pool(std::size_t block_size, std::size_t max_free) noexcept
      : block_size_(block_size), max_free_(max_free) {}
  ~buffer_pool() {
    for (std::byte* b : free_) delete[] b;
  }
  buffer_pool(const buffer_pool&) = delete;
  buffer_pool& operator=(const buffer_pool&) = delete;

  std::size_t block_size() const noexcept { return block_size_; }

  /// A block of block_size() bytes; throws std::bad_alloc only.
  std::byte* take() {
    {
      std::lock_guard lock(mu_);
      if (!free_.empty()) {
        std::byte* b = free_.back();
        free_.pop_back();
        return b;
      }
    }
    return new std::byte[block_size_];
  }
  /// Returns a block obtained from take().
  void give(std::byte* b) noexcept {
    std::unique_lock lock(mu_);
    if (free_.size() < max_free_) {
      free_.push_back(b);
      return;
    }
    lock.unlock();
    delete[] b;
  }

 private:
  std::size_t block_size_;
  std::size_t max_free_;
  std::mutex mu_;
  std::vector<std::byte*> free_;
};

/// A move-only owning byte buffer, returned to its pool when destroyed. The only owner of the
/// bytes of a received frame or of a reply being sent.
class buffer {
 public:
  buffer() noexcept = default;
  /// A block from `pool` with size() == n (n <= pool->block_size()).
  buffer(std::shared_ptr<buffer_pool> pool, std::size_t n)
      : pool_(std::move(pool)), data_(pool_->take()), size_(n) {}
  /// A heap block of n bytes not from any pool (rare large cases).
  explicit buffer(std::size_t n) : data_(new std::byte[n]), size_(n) {}
  buffer(buffer&& o) noexcept
      : pool_(std::move(o.pool_)),
        data_(std::exchange(o.data_, nullptr)),
        size_(std::exchange(o.size_, 0)) {}
  buffer& operator=(buffer&& o) noexcept {
    if (this != &o) {
      release();
      pool_ = std::move(o.pool_);
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  ~buffer() { release(); }

  std::byte* data() noexcept { return data_; }
  const std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  /// Shrinks the visible size (the block keeps its capacity).
  void resize(std::size_t n) noexcept { size_ = n; }
  std::span<std::byte> span() noexcept { return {data_, size_}; }
  std::span<const std::byte> span() const noexcept { return {data_, size_}; }

 private:
  void release() noexcept {
    if (data_ == nullptr) return;
    if (pool_)
      pool_->give(data_);
    else
      delete[] data_;
    data_ = nullptr;
  }
  std::shared_ptr<buffer_pool> pool_;
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace ninep
