// SPDX-License-Identifier: MIT
// `ninep decode`: print the trace of every 9P frame in a capture (docs/man/ninep-decode.md).
#include <fmt/format.h>

#include <cstddef>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <ninep/core/error.hpp>
#include <ninep/wire/codec.hpp>
#include <ninep/wire/format.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "command.hpp"

namespace ninep::tools {
namespace {

struct decode_options {
  std::string input = "-";
  std::string dialect = "auto";
  bool hex = false;
};

std::optional<std::string> read_input(const std::string& path) {
  if (path == "-") {
    std::cin >> std::noskipws;
    return std::string(std::istreambuf_iterator<char>(std::cin), {});
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(f), {});
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_space(char c) noexcept {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

// Hex text to bytes, whitespace ignored. On a bad character, returns its index in `error_at`.
std::vector<std::byte> parse_hex(const std::string& text, std::size_t& error_at) {
  std::vector<std::byte> out;
  out.reserve(text.size() / 2);
  int hi = -1;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (is_space(text[i])) continue;
    int v = hex_value(text[i]);
    if (v < 0) {
      error_at = i;
      return out;
    }
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<std::byte>(hi << 4 | v));
      hi = -1;
    }
  }
  if (hi >= 0) error_at = text.size();
  return out;
}

int run_decode(const decode_options& o) {
  auto text = read_input(o.input);
  if (!text) {
    fmt::print(stderr, "ninep decode: cannot open {}\n", o.input);
    return 1;
  }
  std::vector<std::byte> bytes;
  if (o.hex) {
    std::size_t bad = std::string::npos;
    bytes = parse_hex(*text, bad);
    if (bad != std::string::npos) {
      fmt::print(stderr, "ninep decode: not hex text at character {}\n", bad);
      return 1;
    }
  } else {
    bytes.resize(text->size());
    for (std::size_t i = 0; i < text->size(); ++i) bytes[i] = static_cast<std::byte>((*text)[i]);
  }

  const bool autodetect = o.dialect == "auto";
  wire::dialect d = autodetect ? wire::dialect::v2000 : *wire::dialect_of(o.dialect);
  std::span<const std::byte> rest(bytes);
  std::size_t offset = 0;
  while (!rest.empty()) {
    auto h = wire::decode_header(rest, UINT32_MAX);
    result<wire::message> m = fail(h ? make_error_code(errc::need_more) : h.error());
    if (h && h->size <= rest.size()) m = wire::decode(rest.first(h->size), d);
    if (!m) {
      std::fflush(stdout);
      fmt::print(stderr, "offset {}: {}\n", offset, m.error().message());
      return 1;
    }
    fmt::print("{}\n", wire::trace(*m, d));
    if (autodetect) {
      // A Tversion starts a new session; its Rversion names the dialect of what follows.
      if (std::holds_alternative<wire::Tversion>(m->body)) d = wire::dialect::v2000;
      if (const auto* v = std::get_if<wire::Rversion>(&m->body)) {
        d = wire::dialect_of(v->version).value_or(wire::dialect::v2000);
        fmt::print("dialect {}\n", wire::version_string(d));
      }
    }
    offset += h->size;
    rest = rest.subspan(h->size);
  }
  return 0;
}

const bool registered = register_command(
    "decode", "Print the trace of every 9P frame in a capture", [](CLI::App& app) -> run_fn {
      auto o = std::make_shared<decode_options>();
      app.add_option("input", o->input,
                     "Capture of raw 9P frames, back to back (default: standard input)")
          ->option_text("FILE|-");
      app.add_flag("--hex", o->hex, "Input is hex text (whitespace ignored), not binary");
      app.add_option("-d,--dialect", o->dialect,
                     "Dialect to decode: 9P2000, 9P2000.u, 9P2000.L, or auto (start as 9P2000, "
                     "then follow each Rversion)")
          ->check(CLI::IsMember({"9P2000", "9P2000.u", "9P2000.L", "auto"}))
          ->capture_default_str();
      app.footer(
          "Prints one line per message. On a malformed frame, prints `offset N: reason` to "
          "standard error and exits 1.\nExample: ninep decode --hex tests/data/traces/"
          "diod-session.hex");
      return [o] { return run_decode(*o); };
    });

}  // namespace
}  // namespace ninep::tools
