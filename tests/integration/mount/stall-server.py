#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A synthetic 9P2000.L server with one streaming file, /stream, that never has data: every
Tread on it waits until it is flushed. It logs each Tread and Tflush it receives, one line
each ("Tread tag=N", "Tflush oldtag=N"), to LOG, so a test can see what the client sent.

stall-server.py PORT_FILE LOG   (listens on a free loopback port, written to PORT_FILE)
Serves one connection, then exits when the client hangs up."""
import socket
import struct
import sys

ROOT_QID = struct.pack("<BIQ", 0x80, 0, 1)
STREAM_QID = struct.pack("<BIQ", 0x00, 0, 2)  # version 0, size 0: a synthetic file
ENOENT, ENODATA, EOPNOTSUPP = 2, 61, 95


def s9(text):
    b = text.encode()
    return struct.pack("<H", len(b)) + b


def getattr_body(qid):
    is_dir = qid[0] == 0x80
    mode = (0o040755 if is_dir else 0o100444)
    return (struct.pack("<Q", 0x7FF) + qid +
            struct.pack("<IIIQQQQQ", mode, 0, 0, 1, 0, 0, 4096, 0) + b"\0" * 8 * 10)


def main():
    port_file, log_path = sys.argv[1], sys.argv[2]
    log = open(log_path, "a", buffering=1)
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(lsock.getsockname()[1]))
    import os
    os.rename(port_file + ".tmp", port_file)
    conn, _ = lsock.accept()
    fids = {}
    buf = b""

    def send(mtype, tag, body=b""):
        conn.sendall(struct.pack("<IBH", 7 + len(body), mtype, tag) + body)

    def error(tag, errno):
        send(7, tag, struct.pack("<I", errno))

    while True:
        while len(buf) < 4 or len(buf) < struct.unpack("<I", buf[:4])[0]:
            chunk = conn.recv(65536)
            if not chunk:
                return
            buf += chunk
        size = struct.unpack("<I", buf[:4])[0]
        frame, buf = buf[:size], buf[size:]
        mtype, tag = struct.unpack("<BH", frame[4:7])
        body = frame[7:]
        if mtype == 100:  # Tversion
            msize = struct.unpack("<I", body[:4])[0]
            send(101, tag, struct.pack("<I", min(msize, 65536)) + s9("9P2000.L"))
        elif mtype == 104:  # Tattach
            fids[struct.unpack("<I", body[:4])[0]] = ROOT_QID
            send(105, tag, ROOT_QID)
        elif mtype == 110:  # Twalk
            fid, newfid, n = struct.unpack("<IIH", body[:10])
            names, off = [], 10
            for _ in range(n):
                ln = struct.unpack("<H", body[off:off + 2])[0]
                names.append(body[off + 2:off + 2 + ln].decode())
                off += 2 + ln
            qid = fids.get(fid)
            qids = []
            for name in names:
                if qid == ROOT_QID and name == "stream":
                    qid = STREAM_QID
                elif qid == ROOT_QID and name == "..":
                    qid = ROOT_QID
                else:
                    qid = None
                    break
                qids.append(qid)
            if qid is None and not qids:
                error(tag, ENOENT)
                continue
            if len(qids) == n:
                fids[newfid] = qid if n else fids[fid]
            send(111, tag, struct.pack("<H", len(qids)) + b"".join(qids))
        elif mtype == 24:  # Tgetattr
            send(25, tag, getattr_body(fids[struct.unpack("<I", body[:4])[0]]))
        elif mtype == 12:  # Tlopen
            send(13, tag, fids[struct.unpack("<I", body[:4])[0]] + struct.pack("<I", 0))
        elif mtype == 40:  # Treaddir
            fid, offset = struct.unpack("<IQ", body[:12])
            data = b""
            if offset == 0:
                data = STREAM_QID + struct.pack("<QB", 1, 8) + s9("stream")
            send(41, tag, struct.pack("<I", len(data)) + data)
        elif mtype == 116:  # Tread: the stream has nothing, ever; the reply waits for a flush
            log.write(f"Tread tag={tag}\n")
        elif mtype == 108:  # Tflush
            log.write(f"Tflush oldtag={struct.unpack('<H', body[:2])[0]}\n")
            send(109, tag)
        elif mtype == 120:  # Tclunk
            fids.pop(struct.unpack("<I", body[:4])[0], None)
            send(121, tag)
        elif mtype == 30:  # Txattrwalk
            error(tag, ENODATA)
        else:
            error(tag, EOPNOTSUPP)


if __name__ == "__main__":
    main()
