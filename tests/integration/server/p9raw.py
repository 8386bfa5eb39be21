#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A minimal raw 9P2000.L client for the identity tests: it sends exactly the uname, n_uname and
credential it is told to (a forging client), then one operation.

p9raw.py ADDR [--uname U] [--n-uname N] [--cred FILE] OP [ARGS]
ADDR: unix:/path or tcp:HOST:PORT. --cred FILE: Tauth, write FILE's bytes to the afid, attach
with it. OPs: attach | read PATH | stat PATH (prints "uid gid mode" in decimal/octal) |
chgrp PATH GID | chown PATH UID | chmod PATH OCTAL | create PATH OCTAL.
Exit 0 on success; otherwise prints "errno N" and exits 1."""
import argparse
import socket
import struct
import sys

NOFID = 0xFFFFFFFF


class NinepError(Exception):
    def __init__(self, errno):
        super().__init__(f"errno {errno}")
        self.errno = errno


def s9(text):
    b = text.encode()
    return struct.pack("<H", len(b)) + b


class Conn:
    def __init__(self, addr):
        if addr.startswith("unix:"):
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.connect(addr[5:])
        else:
            _, host, port = addr.split(":")
            self.sock = socket.create_connection((host, int(port)))
        self.sock.settimeout(20)
        self.tag = 0

    def recv_exact(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise EOFError("server closed the connection")
            out += chunk
        return out

    def rpc(self, mtype, body, tag=None):
        tag = self.tag if tag is None else tag
        self.tag += 1
        self.sock.sendall(struct.pack("<IBH", 7 + len(body), mtype, tag) + body)
        size, rtype, _ = struct.unpack("<IBH", self.recv_exact(7))
        data = self.recv_exact(size - 7)
        if rtype == 7:  # Rlerror
            raise NinepError(struct.unpack("<I", data[:4])[0])
        if rtype != mtype + 1:
            raise RuntimeError(f"unexpected reply type {rtype} to {mtype}")
        return data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("--uname", default="")
    ap.add_argument("--n-uname", type=int, default=NOFID)
    ap.add_argument("--cred")
    # After the attach, Tversion again and attach without an afid, as the Linux kernel does on
    # a socket that diod's mount helper authenticated and handed over (trans=fd).
    ap.add_argument("--reversion", action="store_true")
    ap.add_argument("--reversion-as", help="UNAME:N_UNAME the second attach names (implies --reversion)")
    ap.add_argument("op")
    ap.add_argument("args", nargs="*")
    a = ap.parse_args()
    c = Conn(a.addr)
    c.rpc(100, struct.pack("<I", 65536) + s9("9P2000.L"), tag=0xFFFF)
    afid = NOFID
    if a.cred:
        afid = 100
        c.rpc(102, struct.pack("<I", afid) + s9(a.uname) + s9("") + struct.pack("<I", a.n_uname))
        cred = open(a.cred, "rb").read().strip()
        c.rpc(118, struct.pack("<IQI", afid, 0, len(cred)) + cred)
    c.rpc(104, struct.pack("<II", 1, afid) + s9(a.uname) + s9("") + struct.pack("<I", a.n_uname))
    if a.reversion or a.reversion_as:
        uname, n_uname = a.uname, a.n_uname
        if a.reversion_as:
            uname, n = a.reversion_as.split(":")
            n_uname = int(n)
        c.rpc(100, struct.pack("<I", 65536) + s9("9P2000.L"), tag=0xFFFF)
        c.rpc(104, struct.pack("<II", 1, NOFID) + s9(uname) + s9("") + struct.pack("<I", n_uname))
    if a.op == "attach":
        return
    path = [p for p in a.args[0].split("/") if p]
    walk_to = path[:-1] if a.op == "create" else path
    c.rpc(110, struct.pack("<IIH", 1, 2, len(walk_to)) + b"".join(s9(p) for p in walk_to))
    if a.op == "read":
        c.rpc(12, struct.pack("<II", 2, 0))  # Tlopen O_RDONLY
        data = c.rpc(116, struct.pack("<IQI", 2, 0, 60000))
        sys.stdout.buffer.write(data[4:])
    elif a.op == "stat":
        r = c.rpc(24, struct.pack("<IQ", 2, 0x7FF))  # Tgetattr basic
        mode, uid, gid = struct.unpack("<III", r[8 + 13 : 8 + 13 + 12])
        print(uid, gid, oct(mode & 0o7777))
    elif a.op in ("chgrp", "chown", "chmod"):
        valid = {"chmod": 1, "chown": 2, "chgrp": 4}[a.op]
        v = int(a.args[1], 8) if a.op == "chmod" else int(a.args[1])
        mode, uid, gid = (v, 0, 0) if a.op == "chmod" else (0, v, 0) if a.op == "chown" else (0, 0, v)
        c.rpc(26, struct.pack("<IIIIIQQQQQ", 2, valid, mode, uid, gid, 0, 0, 0, 0, 0))
    elif a.op == "create":
        # Tlcreate fid name flags mode gid (O_WRONLY|O_CREAT)
        c.rpc(14, struct.pack("<I", 2) + s9(path[-1]) + struct.pack("<III", 0o101, int(a.args[1], 8), NOFID))
    else:
        raise SystemExit(f"unknown op {a.op}")


if __name__ == "__main__":
    try:
        main()
    except NinepError as e:
        print(e)
        sys.exit(1)
