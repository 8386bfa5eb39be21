#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""interrupted-read.py PATH: read(2) from PATH, once, with a SIGUSR1 handler installed (no
SA_RESTART), and print what read(2) returned: "read N" or "read -1 ERRNO-NAME". ctypes calls
libc's read directly, so Python's retry-on-EINTR (PEP 475) does not hide the errno."""
import ctypes
import errno
import os
import signal
import sys

libc = ctypes.CDLL(None, use_errno=True)
signal.signal(signal.SIGUSR1, lambda *_: None)
signal.siginterrupt(signal.SIGUSR1, True)
fd = os.open(sys.argv[1], os.O_RDONLY)
buf = ctypes.create_string_buffer(4096)
n = libc.read(fd, buf, 4096)
if n < 0:
    print(f"read -1 {errno.errorcode.get(ctypes.get_errno(), ctypes.get_errno())}", flush=True)
else:
    print(f"read {n}", flush=True)
