// SPDX-License-Identifier: MIT
#pragma once

#include <asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <ninep/block/image.hpp>
#include <optional>
#include <span>
#include <thread>
#include <vector>

/// \file
/// The blocking face of block::image: an image driven by its own I/O threads, for callers that
/// block a thread per request (the nbdkit plugin). Every member may be called from any thread,
/// concurrently, except the disk's own I/O threads; errors are those of image (image.hpp).

namespace ninep::block {

/// A blocking image with its own I/O threads.
class disk {
 public:
  /// Opens the image (image::open) on `threads` new I/O threads (at least 1).
  [[nodiscard]] static client::outcome<std::unique_ptr<disk>> open(image_options o,
                                                                   std::size_t threads = 1);
  /// Closes the image (image::close) and joins the I/O threads.
  ~disk();
  disk(const disk&) = delete;
  disk& operator=(const disk&) = delete;

  /// The underlying asynchronous image.
  image& async() noexcept { return *img_; }
  std::uint64_t size() const noexcept { return img_->size(); }
  std::uint32_t max_chunk() const noexcept { return img_->max_chunk(); }
  wire::dialect dialect() const noexcept { return img_->dialect(); }

  result<void> read(std::uint64_t offset, std::span<std::byte> out) {
    return run(img_->read(offset, out));
  }
  result<void> write(std::uint64_t offset, std::span<const std::byte> data, bool fua = false) {
    return run(img_->write(offset, data, fua));
  }
  result<void> write_zeroes(std::uint64_t offset, std::uint64_t length, bool fua = false) {
    return run(img_->write_zeroes(offset, length, fua));
  }
  result<void> flush() { return run(img_->flush()); }
  result<void> resize(std::uint64_t new_size) { return run(img_->resize(new_size)); }
  /// Closes the image now: pending and later requests fail with errc::connection_closed.
  void close() { run(img_->close()); }
  image_stats stats() { return run(img_->stats()); }

 private:
  disk() = default;
  template <class T>
  T run(asio::awaitable<T> a);

  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  std::shared_ptr<image> img_;
};

}  // namespace ninep::block

#include <asio/co_spawn.hpp>
#include <asio/use_future.hpp>

template <class T>
T ninep::block::disk::run(asio::awaitable<T> a) {
  return asio::co_spawn(io_, std::move(a), asio::use_future).get();
}
