"""Plays systemd's notify socket for a daemon under test: an AF_UNIX datagram socket whose
path goes into NOTIFY_SOCKET. Every datagram is kept with its arrival time (monotonic)
and the sender's pid (SCM_CREDENTIALS)."""
import os
import shutil
import socket
import struct
import tempfile
import time

_SO_PASSCRED = 16
_SCM_CREDENTIALS = 2


class NotifyMessage:
    def __init__(self, t, pid, text):
        self.t = t
        self.pid = pid
        self.text = text
        self.fields = dict(line.split("=", 1) for line in text.split("\n") if "=" in line)

    def __repr__(self):
        return f"NotifyMessage(t={self.t:.3f}, pid={self.pid}, {self.fields!r})"


class NotifyListener:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sipreg-notify-")
        self.path = os.path.join(self.dir, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self.sock.setsockopt(socket.SOL_SOCKET, _SO_PASSCRED, 1)
        self.sock.bind(self.path)
        self.messages = []
        self.t0 = time.monotonic()

    def env(self, watchdog_usec=None):
        """Environment entries for the daemon. WATCHDOG_PID is left out: the daemon is
        started directly (its pid is not known before exec), and sd_watchdog_enabled
        accepts a missing WATCHDOG_PID."""
        e = {"NOTIFY_SOCKET": self.path}
        if watchdog_usec:
            e["WATCHDOG_USEC"] = str(int(watchdog_usec))
        return e

    def poll(self, timeout=0.0):
        """Receives what arrives within `timeout` seconds; returns the new messages."""
        new = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            self.sock.settimeout(max(left, 0) if new == [] else 0)
            try:
                data, anc, _flags, _addr = self.sock.recvmsg(65536, socket.CMSG_SPACE(12))
            except (BlockingIOError, socket.timeout):
                return new
            pid = None
            for level, kind, cdata in anc:
                if level == socket.SOL_SOCKET and kind == _SCM_CREDENTIALS and len(cdata) >= 12:
                    pid = struct.unpack("iII", cdata[:12])[0]
            msg = NotifyMessage(time.monotonic() - self.t0, pid, data.decode("utf-8", "replace"))
            self.messages.append(msg)
            new.append(msg)

    def wait_for(self, key, value=None, timeout=5.0, since=0):
        """The first message from index `since` on that has `key` (equal to `value` when
        given); TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        i = since
        while True:
            while i < len(self.messages):
                m = self.messages[i]
                if key in m.fields and (value is None or m.fields[key] == value):
                    return m
                i += 1
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {key}{'=' + value if value else ''} within {timeout}s; "
                                   f"got {self.messages[since:]!r}")
            self.poll(min(left, 0.2))

    def values(self, key):
        return [m.fields[key] for m in self.messages if key in m.fields]

    def close(self):
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
