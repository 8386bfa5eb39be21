#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Holds 9P load on a server for memory measurements: N idle attached connections, or one
# connection with N open fids (Twalk clones of the root). Prints "ready" when the load is in
# place, then waits for stdin to close. Speaks 9P2000.L; stdlib only.
import socket
import struct
import sys


def frame(typ, tag, body):
    return struct.pack("<IBH", 7 + len(body), typ, tag) + body


def s(text):
    b = text.encode()
    return struct.pack("<H", len(b)) + b


def recv_frame(sock):
    head = b""
    while len(head) < 4:
        chunk = sock.recv(4 - len(head))
        if not chunk:
            raise SystemExit("server closed the connection")
        head += chunk
    size = struct.unpack("<I", head)[0]
    rest = b""
    while len(rest) < size - 4:
        chunk = sock.recv(size - 4 - len(rest))
        if not chunk:
            raise SystemExit("server closed the connection")
        rest += chunk
    return head + rest


def dial(addr):
    if addr.startswith("/"):
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(addr)
    else:
        host, port = addr.rsplit(":", 1)
        c = socket.create_connection((host, int(port)))
    return c


def attach(c, aname):
    c.sendall(frame(100, 0xFFFF, struct.pack("<I", 65536) + s("9P2000.L")))
    recv_frame(c)
    c.sendall(frame(104, 1, struct.pack("<II", 0, 0xFFFFFFFF) + s("bench") + s(aname)
                    + struct.pack("<I", 0)))
    r = recv_frame(c)
    if r[4] != 105:
        raise SystemExit(f"attach failed (type {r[4]})")


def main():
    mode, count, addr, aname = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    conns = []
    if mode == "conns":
        for _ in range(count):
            c = dial(addr)
            attach(c, aname)
            conns.append(c)
    else:
        c = dial(addr)
        attach(c, aname)
        conns.append(c)
        batch = 256
        for start in range(1, count + 1, batch):
            n = min(batch, count + 1 - start)
            c.sendall(b"".join(
                frame(110, i % 60000, struct.pack("<IIH", 0, start + i, 0)) for i in range(n)))
            for _ in range(n):
                r = recv_frame(c)
                if r[4] != 111:
                    raise SystemExit(f"walk failed at fid {start} (type {r[4]})")
    print("ready", flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
