#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A minimal syslog daemon for the namespace tests on a host without one.

Usage: syslog_sink.py start SOCKET FILE | stop SOCKET PID
start binds a datagram socket at SOCKET (normally /dev/log), writable by everyone (wgd's
worker logs as an unprivileged user), then forks: the parent prints the child's pid and
exits 0, the child appends each datagram to FILE as one line until SIGTERM.  Exit 2 if a
live listener already owns SOCKET; a dead one (left by a killed run) is replaced.
stop ends that child and removes SOCKET.
"""
import os
import signal
import socket
import sys


def owned_by_live_listener(path):
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        probe.connect(path)
        return True
    except OSError:
        return False
    finally:
        probe.close()


def stop(path, pid):
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    return 0


def start(path, out_path):
    if os.path.exists(path):
        if owned_by_live_listener(path):
            return 2
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    os.chmod(path, 0o666)
    out = open(out_path, "a", encoding="utf-8", errors="replace")
    pid = os.fork()
    if pid:
        print(pid)
        return 0
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    while True:
        msg = sock.recv(65536).decode("utf-8", "replace").rstrip("\n")
        out.write(msg.replace("\n", " ") + "\n")
        out.flush()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "start":
        sys.exit(start(sys.argv[2], sys.argv[3]))
    if len(sys.argv) == 4 and sys.argv[1] == "stop":
        sys.exit(stop(sys.argv[2], int(sys.argv[3])))
    sys.exit(__doc__)
