// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <ninep/synth/node.hpp>
#include <string>
#include <string_view>
#include <vector>

/// \file
/// Ready-made files for synthetic trees. Each is an entry to add() to a synth::dir.

namespace ninep::synth {

/// Generates the content of a file for one open; runs on a server worker thread.
using content_fn = std::function<std::string(const context&)>;
/// Handles one write to a control file: the bytes of one Twrite, whatever its offset.
/// Errors become the client's write error.
using command_fn = std::function<result<void>(const context&, std::string_view)>;

/// A read-only file holding `text`.
std::shared_ptr<file> static_file(std::string text, std::uint32_t perm = 0444);

/// A read-only file whose content `fn` generates at each open; reads of that open then see
/// one consistent snapshot by offset (so `cat` never mixes two generations).
std::shared_ptr<file> dynamic_file(content_fn fn, std::uint32_t perm = 0444);

/// A control file: each write is handed to `on_write` (and succeeds whole, or fails with its
/// error). With `on_read`, reads see content generated at open, as dynamic_file; without it
/// the file is write-only. Truncation to 0 is accepted, so `echo cmd > ctl` works.
std::shared_ptr<file> ctl_file(command_fn on_write, content_fn on_read = {},
                               std::uint32_t perm = 0);

/// An in-memory regular file: read, write (O_APPEND too), truncate.
class memory_file : public file {
 public:
  explicit memory_file(std::string initial = {}, std::uint32_t perm = 0644);
  result<std::size_t> read(const context& cx, std::uint64_t offset,
                           std::span<std::byte> out) override;
  result<std::size_t> write(const context& cx, std::uint64_t offset,
                            std::span<const std::byte> in) override;
  result<void> truncate(const context& cx, std::uint64_t size) override;
  result<std::unique_ptr<handle>> open(const context& cx, int flags) override;
  std::uint64_t size() const override;
  /// A copy of the content.
  std::string content() const;

 private:
  mutable std::mutex mu_;
  std::string data_;
};

/// A writable in-memory file holding `initial`.
std::shared_ptr<memory_file> writable_file(std::string initial = {}, std::uint32_t perm = 0644);

/// A live feed: every publish() is one record that each open reader receives once, in order,
/// from its open onwards. A read returns (part of) one record, waiting while there is none;
/// the wait ends with ECANCELED when the request is flushed, and with end of file after
/// close(). Waiting readers hold no thread when read through async_read (tree_fs.hpp). A
/// reader that falls more than `backlog` records behind skips to the oldest one kept.
class stream_file : public file {
 public:
  explicit stream_file(std::size_t backlog = 64, std::uint32_t perm = 0444);
  ~stream_file() override;
  /// Appends a record and wakes the readers waiting for one. Thread-safe; callable from a
  /// read completion.
  void publish(std::string_view record);
  /// Ends the stream: waiting and later reads return end of file.
  void close();
  /// Readers currently waiting (for tests and metrics).
  std::size_t waiting() const;

  result<std::unique_ptr<handle>> open(const context& cx, int flags) override;

 private:
  struct core;
  class reader;
  std::shared_ptr<core> core_;
};

}  // namespace ninep::synth
