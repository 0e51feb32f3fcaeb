#!/usr/bin/env python3
"""Runs a command with openat2(2) answering ENOSYS, as on a kernel before 5.6: a seccomp filter
installed in this process, inherited by the command it execs.

    Tests/Support/without-openat2.py COMMAND [ARG...]
"""
import ctypes
import os
import platform
import struct
import sys

NR_OPENAT2 = 437  # the same number on every architecture since 5.6
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}[platform.machine()]
ENOSYS = 38


def bpf(code, jt, jf, k):
    return struct.pack("HBBI", code, jt, jf, k)


prog = b"".join([
    bpf(0x20, 0, 0, 4),                        # ld [arch]
    bpf(0x15, 1, 0, AUDIT_ARCH),               # jeq arch ? next : allow
    bpf(0x06, 0, 0, 0x7FFF0000),               # ret ALLOW
    bpf(0x20, 0, 0, 0),                        # ld [nr]
    bpf(0x15, 0, 1, NR_OPENAT2),               # jeq openat2 ? errno : allow
    bpf(0x06, 0, 0, 0x00050000 | ENOSYS),      # ret ERRNO(ENOSYS)
    bpf(0x06, 0, 0, 0x7FFF0000),               # ret ALLOW
])
filters = ctypes.create_string_buffer(prog)


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


fprog = SockFprog(len(prog) // 8, ctypes.addressof(filters))
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
    sys.exit("prctl(PR_SET_NO_NEW_PRIVS): " + os.strerror(ctypes.get_errno()))
if libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) != 0:  # PR_SET_SECCOMP, SECCOMP_MODE_FILTER
    sys.exit("prctl(PR_SET_SECCOMP): " + os.strerror(ctypes.get_errno()))
os.execvp(sys.argv[1], sys.argv[1:])
