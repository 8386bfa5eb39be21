#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Helpers for trace-test.sh, each a subcommand:
#   echo-server PORT            accepts connections on 127.0.0.1:PORT and echoes every byte back
#   hostile ADDR_PORT           sends valid and malformed 9P frames through the proxy to the
#                               echo server and checks every byte comes back unchanged
#   oversized ADDR_PORT         a frame whose size field claims 100 MiB, then 64 KiB of it
#   text LOG                    checks a text trace: every line an event or a decoded message
#   json LOG                    checks a --json trace: every line a JSON object of known shape
import json
import re
import socket
import struct
import sys


def frame(msg_type, tag, body=b""):
    return struct.pack("<IBH", 7 + len(body), msg_type, tag) + body


def s9(text):
    b = text.encode()
    return struct.pack("<H", len(b)) + b


def echo_server(port):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(8)
    while True:
        c, _ = srv.accept()
        with c:
            while True:
                data = c.recv(65536)
                if not data:
                    break
                c.sendall(data)


def roundtrip(port, payload):
    c = socket.create_connection(("127.0.0.1", port), timeout=20)
    c.sendall(payload)
    got = b""
    while len(got) < len(payload):
        data = c.recv(65536)
        if not data:
            break
        got += data
    c.close()
    return got


def hostile(port):
    parts = [
        frame(100, 0xFFFF, struct.pack("<I", 8192) + s9("9P2000.L")),  # a valid Tversion
        frame(0, 1),  # type 0: no such message
        frame(110, 2, struct.pack("<IIH", 1, 2, 17) + s9("x") * 17),  # Twalk, nwname 17 > 16
        frame(120, 3, struct.pack("<IH", 1, 0)),  # Tclunk with two trailing bytes
        frame(120, 4)[:-2] + b"\x00",  # a truncated frame, size field larger than what follows
    ]
    # The truncated frame swallows the next byte; then a size below 7 loses the framing.
    payload = b"".join(parts) + b"\x00" + struct.pack("<I", 3) + bytes(range(256)) * 4
    got = roundtrip(port, payload)
    if got != payload:
        sys.exit(f"relay altered the bytes: sent {len(payload)}, got back {len(got)}")


def oversized(port):
    payload = struct.pack("<IBH", 100 << 20, 117, 1) + b"\xab" * 65536
    got = roundtrip(port, payload)
    if got != payload:
        sys.exit(f"relay altered the bytes: sent {len(payload)}, got back {len(got)}")


TEXT_LINE = re.compile(
    r"^\d\d:\d\d:\d\d\.\d{6} \d+ "
    r"(connected from \S+|closed \(.*\), \d+ request\(s\) unanswered"
    r"|-> T[a-z]+ tag \d+.*|<- R[a-z]+ tag \d+.*|(->|<-) !! malformed .*)$"
)


def check_text(path):
    bad = [line for line in open(path, encoding="utf-8") if not TEXT_LINE.match(line.rstrip("\n"))]
    if bad:
        sys.exit(f"{len(bad)} line(s) of {path} are not events or decoded messages, e.g. {bad[0]!r}")


def check_json(path):
    lines = open(path, encoding="utf-8").read().splitlines()
    objs = [json.loads(line) for line in lines]  # raises on any line that is not JSON
    messages = [o for o in objs if "dir" in o and "type" in o]
    if not messages:
        sys.exit("no messages in the JSON trace")
    for o in messages:
        if not (o["msg"].startswith(o["type"] + " tag ") and o["dir"] == o["type"][0]):
            sys.exit(f"inconsistent message object {o}")
        if o["dir"] == "R" and "latency_us" not in o:
            sys.exit(f"reply without a latency: {o}")
    if objs[-1].get("event") != "summary":
        sys.exit("the last line is not the summary")
    counts = {row["type"]: row["count"] for row in objs[-1]["types"]}
    seen = {}
    for o in messages:
        if o["dir"] == "T":
            seen[o["type"]] = seen.get(o["type"], 0) + 1
    if counts != seen:
        sys.exit(f"summary counts {counts} differ from the messages printed {seen}")
    print(f"json: {len(messages)} messages, {len(counts)} request types")


if __name__ == "__main__":
    cmd, arg = sys.argv[1], sys.argv[2]
    {"echo-server": lambda: echo_server(int(arg)), "hostile": lambda: hostile(int(arg)),
     "oversized": lambda: oversized(int(arg)), "text": lambda: check_text(arg),
     "json": lambda: check_json(arg)}[cmd]()
