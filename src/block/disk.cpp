// SPDX-License-Identifier: MIT
#include <asio/post.hpp>
#include <ninep/block/disk.hpp>

namespace ninep::block {

client::outcome<std::unique_ptr<disk>> disk::open(image_options o, std::size_t threads) {
  std::unique_ptr<disk> d(new disk());
  d->work_.emplace(d->io_.get_executor());
  for (std::size_t i = 0; i < std::max<std::size_t>(threads, 1); ++i)
    d->threads_.emplace_back([io = &d->io_] { io->run(); });
  auto r = d->run(image::open(d->io_.get_executor(), std::move(o)));
  if (!r) return client::fail(r.error());  // ~disk stops the threads
  d->img_ = std::move(*r);
  return d;
}

disk::~disk() {
  if (img_) run(img_->close());
  img_.reset();
  work_.reset();
  // Let the goodbyes and the sessions' read loops finish; then stop whatever is left.
  asio::post(io_, [this] { io_.stop(); });
  for (auto& t : threads_) t.join();
}

}  // namespace ninep::block
