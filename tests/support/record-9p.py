#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Record 9P traffic: a TCP relay that writes every frame of both directions, in order.

    record-9p.py LISTEN_PORT SERVER_HOST:SERVER_PORT OUT.9p [--connections N]

Listens on 127.0.0.1:LISTEN_PORT, relays each accepted connection to the server, and appends
every complete frame (size[4] included, raw bytes) to OUT.9p in the order the relay saw it
complete. Connections are served one at a time, so a file holds whole sessions back to back,
each starting with its Tversion. Exits after N connections (default 1). Python 3 stdlib only.
"""
import argparse
import select
import socket
import struct
import sys


def frames(buf):
    """Splits complete frames off the front of `buf`; returns (frames, rest)."""
    out = []
    while len(buf) >= 4:
        (size,) = struct.unpack_from("<I", buf)
        if size < 7:
            raise ValueError(f"bad frame size {size}")
        if len(buf) < size:
            break
        out.append(bytes(buf[:size]))
        buf = buf[size:]
    return out, buf


def relay(client, server_addr, out):
    server = socket.create_connection(server_addr)
    peers = {client: server, server: client}
    pending = {client: b"", server: b""}
    count = 0
    try:
        while True:
            readable, _, _ = select.select(list(peers), [], [])
            for s in readable:
                data = s.recv(1 << 20)
                if not data:
                    return count
                peers[s].sendall(data)
                done, pending[s] = frames(pending[s] + data)
                for f in done:
                    out.write(f)
                    count += 1
                out.flush()
    finally:
        server.close()
        client.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("listen_port", type=int)
    ap.add_argument("server", help="HOST:PORT of the 9P server")
    ap.add_argument("out", help="capture file (raw frames, appended)")
    ap.add_argument("--connections", type=int, default=1)
    args = ap.parse_args()
    host, _, port = args.server.rpartition(":")
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", args.listen_port))
    lsock.listen(1)
    print(f"record-9p: listening on 127.0.0.1:{args.listen_port}", file=sys.stderr, flush=True)
    with open(args.out, "ab") as out:
        for _ in range(args.connections):
            conn, _ = lsock.accept()
            n = relay(conn, (host, int(port)), out)
            print(f"record-9p: connection closed after {n} frames", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
