# SPDX-License-Identifier: MIT
"""A hostile 9P2000.L server against `ninep get` (issue 10): it lists entry names that lead out
of the destination, and a name that is first a symlink to a directory outside, then a directory
whose files would be written through that symlink. `ninep get` must write nothing outside its
destination, exit non-zero, and name the offending entry.

Usage: hostile-get.py NINEP   (exit 0: every check held)
"""
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading

QTDIR, QTSYMLINK, QTFILE = 0x80, 0x02, 0x00
S_IFDIR, S_IFLNK, S_IFREG = 0o040000, 0o120000, 0o100000
EOPNOTSUPP, ENOENT = 95, 2


class Node:
    def __init__(self, kind, path_id, children=None, data=b"", target=""):
        self.kind, self.path_id = kind, path_id
        self.children = children or []  # [(name, Node)], listed in this order, repeats allowed
        self.data, self.target = data, target
        self.after_readlink = None  # what this node turns into once its target was read
        self.hidden = {}  # walkable but never listed: what a path client would reach

    def qid(self):
        t = {"dir": QTDIR, "symlink": QTSYMLINK, "file": QTFILE}[self.kind]
        return struct.pack("<BIQ", t, 0, self.path_id)

    def mode(self):
        return {"dir": S_IFDIR | 0o755, "symlink": S_IFLNK | 0o777, "file": S_IFREG | 0o644}[
            self.kind]


def build_tree(outside):
    ids = iter(range(1, 1000))
    file = lambda data: Node("file", next(ids), data=data)
    # /escape: an entry named "../x" (and one with a NUL, and an empty one) beside a good file.
    pwned = file(b"pwned\n")
    escape = Node("dir", next(ids), [("good", file(b"fine\n")), ("../x", pwned),
                                     ("a\0b", file(b"pwned\n")), ("", file(b"pwned\n"))])
    # A client that walked "escape/../x" element by element gets the file all the same.
    escape.hidden = {"..": escape, "x": pwned}
    # /swap: "s" is a symlink to `outside` until its target is read, then a directory holding
    # "f"; the listing names "s" twice.
    s = Node("symlink", next(ids), target=outside)
    s.after_readlink = ("dir", [("f", file(b"pwned\n"))])
    swap = Node("dir", next(ids), [("s", s), ("s", s)])
    return Node("dir", next(ids), [("escape", escape), ("swap", swap)])


def s9(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack("<H", len(b)) + b


class Conn:
    def __init__(self, sock, root):
        self.sock, self.root, self.fids = sock, root, {}

    def recv_exact(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise EOFError
            out += chunk
        return out

    def reply(self, mtype, tag, body=b""):
        self.sock.sendall(struct.pack("<IBH", 7 + len(body), mtype, tag) + body)

    def error(self, tag, errno):
        self.reply(7, tag, struct.pack("<I", errno))

    def serve(self):
        try:
            while True:
                size, mtype, tag = struct.unpack("<IBH", self.recv_exact(7))
                self.handle(mtype, tag, self.recv_exact(size - 7))
        except (EOFError, ConnectionError):
            pass
        finally:
            self.sock.close()

    def handle(self, t, tag, b):
        def string(off):
            (n,) = struct.unpack_from("<H", b, off)
            return b[off + 2:off + 2 + n], off + 2 + n

        if t == 100:  # Tversion msize[4] version[s]
            (msize,) = struct.unpack_from("<I", b)
            return self.reply(101, tag, struct.pack("<I", min(msize, 65536)) + s9("9P2000.L"))
        if t == 104:  # Tattach fid[4] afid[4] uname[s] aname[s] n_uname[4]
            (fid,) = struct.unpack_from("<I", b)
            self.fids[fid] = self.root
            return self.reply(105, tag, self.root.qid())
        if t == 110:  # Twalk fid[4] newfid[4] nwname[2] nwname*(wname[s])
            fid, newfid, n = struct.unpack_from("<IIH", b)
            node, off, qids = self.fids[fid], 10, []
            for _ in range(n):
                name, off = string(off)
                nxt = next((c for nm, c in node.children if nm.encode() == name),
                           node.hidden.get(name.decode(errors="replace")))
                if node.kind != "dir" or nxt is None:
                    if not qids:
                        return self.error(tag, ENOENT)
                    break
                node = nxt
                qids.append(node.qid())
            if len(qids) == n:
                self.fids[newfid] = node
            return self.reply(111, tag, struct.pack("<H", len(qids)) + b"".join(qids))
        node = self.fids.get(struct.unpack_from("<I", b)[0]) if len(b) >= 4 else None
        if t == 120:  # Tclunk
            self.fids.pop(struct.unpack_from("<I", b)[0], None)
            return self.reply(121, tag)
        if node is None:
            return self.error(tag, EOPNOTSUPP)
        if t == 24:  # Tgetattr fid[4] request_mask[8]
            body = struct.pack("<Q", 0x7ff) + node.qid() + struct.pack(
                "<IIIQQQQQ", node.mode(), 0, 0, 1, 0, len(node.data), 4096, 1) + bytes(8 * 10)
            return self.reply(25, tag, body)
        if t == 12:  # Tlopen fid[4] flags[4]
            return self.reply(13, tag, node.qid() + struct.pack("<I", 0))
        if t == 22:  # Treadlink fid[4]
            self.reply(23, tag, s9(node.target))
            if node.after_readlink:
                node.kind, node.children = node.after_readlink
                node.after_readlink = None
            return None
        if t == 40:  # Treaddir fid[4] offset[8] count[4]
            _, offset, _ = struct.unpack_from("<IQI", b)
            out = b""
            for i, (name, child) in enumerate(node.children[offset:], start=offset + 1):
                dtype = {"dir": 4, "symlink": 10, "file": 8}[child.kind]
                out += child.qid() + struct.pack("<QB", i, dtype) + s9(name)
            return self.reply(41, tag, struct.pack("<I", len(out)) + out)
        if t == 116:  # Tread fid[4] offset[8] count[4]
            _, offset, count = struct.unpack_from("<IQI", b)
            data = node.data[offset:offset + count]
            return self.reply(117, tag, struct.pack("<I", len(data)) + data)
        return self.error(tag, EOPNOTSUPP)


def main():
    ninep = sys.argv[1]
    failures = []
    with tempfile.TemporaryDirectory(prefix="ninep-hostile-get-") as base:
        outside = os.path.join(base, "outside")
        dest = os.path.join(base, "dest")
        os.mkdir(outside)
        os.mkdir(dest)
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        root = build_tree(outside)

        def accept_loop():
            while True:
                try:
                    sock, _ = listener.accept()
                except OSError:
                    return
                threading.Thread(target=Conn(sock, root).serve, daemon=True).start()

        threading.Thread(target=accept_loop, daemon=True).start()

        def get(remote, local, must_name):
            try:
                r = subprocess.run([ninep, "get", "-q", "--timeout", "10",
                                    f"tcp!127.0.0.1!{port}", remote, local],
                                   capture_output=True, text=True, timeout=30)
            except subprocess.TimeoutExpired:
                failures.append(f"get {remote}: still running after 30 s")
                return
            print(f"$ ninep get {remote} {local}: exit {r.returncode}\n{r.stderr}", end="")
            if r.returncode == 0:
                failures.append(f"get {remote}: exit status 0")
            for name in must_name:
                if name not in r.stderr:
                    failures.append(f"get {remote}: the message does not name {name}")

        get("/escape", os.path.join(dest, "escape"), ['"../x"', '"a\\x00b"', '""'])
        good = os.path.join(dest, "escape", "good")
        if not os.path.isfile(good) or open(good).read() != "fine\n":
            failures.append("get /escape: the good entry was not copied")
        get("/swap", os.path.join(dest, "swap"), ['"s"'])
        listener.close()

        # Every file is below its destination; nothing in outside, nothing beside the copies.
        allowed = (os.path.join(dest, "escape") + os.sep, os.path.join(dest, "swap") + os.sep)
        for top, _, files in os.walk(base):
            for f in files:
                p = os.path.join(top, f)
                if not p.startswith(allowed):
                    failures.append(f"written outside the destination: {p}")
        if os.listdir(outside):
            failures.append(f"written through the symlink: {os.listdir(outside)}")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
