#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpora fuzz/corpus/<target>/ from the golden vectors in
tests/unit/wire/codec_test.cpp and the frames of tests/data/traces/diod-session.9p.

wire_decode_fuzz inputs are a dialect byte (0 9P2000, 1 9P2000.u, 2 9P2000.L) and a frame;
wire_dirent_stat_fuzz inputs are a mode byte (0 stat 9P2000, 1 stat 9P2000.u, 2 dirents) and
directory data. Files are named by their SHA-1, as libFuzzer names its own. Run from anywhere;
re-running replaces the seed files.
"""
import hashlib
import os
import re
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
V2000, V2000U, V2000L = 0, 1, 2


def golden_frames():
    """(dialect, frame) for every golden vector, by the table it is in."""
    src = open(os.path.join(ROOT, "tests/unit/wire/codec_test.cpp")).read()
    tables = {"common": [V2000, V2000U, V2000L], "classic": [V2000, V2000U],
              "v2000": [V2000], "v2000u": [V2000U], "v2000L": [V2000L]}
    parts = re.split(r"const std::vector<golden>& (\w+)_golden\(\) \{", src)
    out = []
    for name, body in zip(parts[1::2], parts[2::2]):
        body = body.split("\n}\n", 1)[0]
        # An entry's hex is one or more adjacent string literals of hex digits and spaces.
        for m in re.finditer(r'\},\s*((?:"[0-9a-f ]+"\s*)+)\}', body):
            hexs = "".join(re.findall(r'"([0-9a-f ]+)"', m.group(1)))
            frame = bytes.fromhex(hexs.replace(" ", ""))
            if len(frame) >= 7 and struct.unpack_from("<I", frame)[0] == len(frame):
                out += [(d, frame) for d in tables[name]]
    return out


def capture_frames():
    data = open(os.path.join(ROOT, "tests/data/traces/diod-session.9p"), "rb").read()
    out, i = [], 0
    while i < len(data):
        (size,) = struct.unpack_from("<I", data, i)
        out.append(data[i:i + size])
        i += size
    return out


def write(target, seeds):
    d = os.path.join(ROOT, "fuzz/corpus", target)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.remove(os.path.join(d, f))
    for s in set(seeds):
        open(os.path.join(d, hashlib.sha1(s).hexdigest()), "wb").write(s)
    print(f"{target}: {len(set(seeds))} seeds")


def main():
    golden = golden_frames()
    capture = capture_frames()
    decode = [bytes([d]) + f for d, f in golden] + [bytes([V2000L]) + f for f in capture]
    write("wire_decode_fuzz", decode)

    entries = []
    for d, f in golden:
        if f[4] == 125 and d != V2000L:  # Rstat: size[4] type[1] tag[2] n[2] stat[n]
            entries.append(bytes([d]) + f[9:])
    for f in capture + [f for d, f in golden if d == V2000L]:
        if f[4] == 41:  # Rreaddir: size[4] type[1] tag[2] count[4] data[count]
            entries.append(bytes([2]) + f[11:])
    write("wire_dirent_stat_fuzz", entries)


if __name__ == "__main__":
    main()
