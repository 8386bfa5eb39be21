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
    write("server_fuzz", server_seeds())


def s9(text):
    return struct.pack("<H", len(text)) + text


def frame(mtype, tag, body):
    return struct.pack("<IBH", 7 + len(body), mtype, tag) + body


def server_seeds():
    return [bytes([d]) + q for d in (V2000, V2000U, V2000L) for q in server_sequences(d)]


def server_sequences(d):
    """server_fuzz inputs: a dialect byte, then frames after the harness's Tversion and Tattach
    (fid 0; fid 1 is attached to a second filesystem). The seeds walk the afid paths (issue 10): Tauth, Twrite and Tread on the afid,
    Tattach with it, other messages aimed at it, Tremove and Tclunk of it."""
    nofid = 0xFFFFFFFF
    n_uname = b"" if d == V2000 else struct.pack("<I", 0)  # 9P2000 Tauth/Tattach have none
    cred = b"MUNGE:AwQFAAD0seed:"
    auth = frame(102, 2, struct.pack("<I", 9) + s9(b"fuzz") + s9(b"") + n_uname)
    write_cred = frame(118, 3, struct.pack("<IQI", 9, 0, len(cred)) + cred)
    read_afid = frame(116, 4, struct.pack("<IQI", 9, 0, 64))
    attach_afid = frame(104, 5, struct.pack("<II", 10, 9) + s9(b"fuzz") + s9(b"") + n_uname)
    attach_plain = frame(104, 6, struct.pack("<II", 11, nofid) + s9(b"root") + s9(b"") + n_uname)
    # Tgetattr (9P2000.L) or Tstat (9P2000, 9P2000.u) of the afid
    getattr_afid = (frame(24, 7, struct.pack("<IQ", 9, 0x7FF)) if d == V2000L else
                    frame(124, 7, struct.pack("<I", 9)))
    walk_afid = frame(110, 8, struct.pack("<IIH", 9, 12, 0))
    remove_afid = frame(122, 9, struct.pack("<I", 9))
    clunk_afid = frame(120, 10, struct.pack("<I", 9))
    name = {V2000: b"9P2000", V2000U: b"9P2000.u", V2000L: b"9P2000.L"}[d]
    version = frame(100, 0xFFFF, struct.pack("<I", 65536) + s9(name))
    return [
        auth + write_cred + read_afid + attach_afid + clunk_afid,
        auth + getattr_afid + walk_afid + remove_afid,
        auth + write_cred + version + attach_plain,
        auth + auth + write_cred + write_cred + attach_afid + attach_afid,
    ]


if __name__ == "__main__":
    main()
