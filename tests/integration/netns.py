"""A network namespace the test makes itself, for faults that need a firewall: random
packet loss and packet counters with iptables, without touching the host's rules.

    with NetNs() as ns:
        kam = Kamailio(..., netns=ns)       # the registrar runs inside (its own 127.0.0.1)
        ns.iptables("-A", "INPUT", ...)     # rules live and die with the namespace
        ns.call(fn, *args, **kwargs)        # runs fn in a thread that entered the namespace,
                                            # so the sockets it opens are on the inside

Only loopback exists inside, brought up at creation. close() (also on failure) kills by
pid every process still inside (all of them were started by the test) and deletes the
namespace, which drops its rules and sockets with it. Needs root (ip netns, iptables)."""
import ctypes
import os
import re
import signal
import socket
import struct
import subprocess
import threading
import time

IP = "/usr/sbin/ip" if os.path.exists("/usr/sbin/ip") else "ip"
IPTABLES = "iptables"
CLONE_NEWNET = 0x40000000
_NETNS_DIR = "/run/netns"


class NetNsError(RuntimeError):
    pass


def _run(argv, timeout=10.0, check=True):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if check and r.returncode != 0:
        raise NetNsError(f"{' '.join(argv)} failed ({r.returncode}): {r.stdout}{r.stderr}")
    return r


def available():
    """(True, "") when this machine lets us make a namespace with iptables in it, else
    (False, why)."""
    if os.geteuid() != 0:
        return False, "not root"
    try:
        with NetNs(prefix="sipreg-probe") as ns:
            ns.iptables("-nL", "INPUT")
    except (NetNsError, OSError, subprocess.TimeoutExpired) as e:
        return False, str(e)
    return True, ""


def remove_stale(prefix):
    """Deletes namespaces named `prefix`-PID-... whose test process PID is gone (a run
    killed by a timeout leaves its namespace, and what ran inside, behind); returns
    their names."""
    removed = []
    r = _run([IP, "netns", "list"], check=False)
    for raw in r.stdout.splitlines():
        name = raw.split()[0] if raw.split() else ""
        m = re.fullmatch(re.escape(prefix) + r"-(\d+)-[0-9a-f]{6}", name)
        if not m or pid_alive(int(m.group(1))):
            continue
        stale = NetNs.__new__(NetNs)
        stale.name, stale._fd, stale._created = name, None, True
        stale.close()
        removed.append(name)
    return removed


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class NetNs:
    def __init__(self, prefix="sipreg"):
        self.prefix_name = prefix
        self.name = f"{prefix}-{os.getpid()}-{os.urandom(3).hex()}"
        self._fd = None
        self._created = False
        self._libc = ctypes.CDLL(None, use_errno=True)

    # -- lifecycle --------------------------------------------------------------
    def start(self):
        remove_stale(self.prefix_name)
        _run([IP, "netns", "add", self.name])
        self._created = True
        try:
            _run([IP, "-n", self.name, "link", "set", "lo", "up"])
            self._fd = os.open(os.path.join(_NETNS_DIR, self.name), os.O_RDONLY)
        except Exception:
            self.close()
            raise
        return self

    def pids(self):
        """Processes inside the namespace (`ip netns pids`)."""
        r = _run([IP, "netns", "pids", self.name], check=False)
        return [int(p) for p in r.stdout.split() if p.isdigit()]

    def kill_all(self, timeout=5.0):
        """SIGKILL, by pid, every process still inside (the test started each of them),
        bounded; returns the pids that were found."""
        found = self.pids()
        for pid in found:
            try:
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        while self.pids() and time.monotonic() < deadline:
            time.sleep(0.05)
        return found

    def close(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._created:
            self.kill_all()
            _run([IP, "netns", "del", self.name], check=False)
            self._created = False

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # -- running things inside --------------------------------------------------
    def prefix(self):
        """The argv prefix that runs a command inside."""
        return [IP, "netns", "exec", self.name]

    def wrap(self, argv):
        return self.prefix() + list(argv)

    def run(self, argv, timeout=10.0, check=True):
        return _run(self.wrap(argv), timeout=timeout, check=check)

    def call(self, fn, *args, call_timeout=30.0, **kwargs):
        """fn(*args, **kwargs) in a new thread that entered the namespace first (a network
        namespace belongs to a thread, so the caller's stays as it was); returns its
        result or raises its exception. Sockets fn opens stay in the namespace after."""
        result = {}

        def body():
            try:
                if self._libc.setns(self._fd, CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise NetNsError(f"setns into {self.name}: {os.strerror(err)}")
                result["value"] = fn(*args, **kwargs)
            except BaseException as e:  # handed to the caller
                result["error"] = e

        if self._fd is None:
            raise NetNsError("call() before start()")
        t = threading.Thread(target=body, name=f"netns-{self.name}", daemon=True)
        t.start()
        t.join(call_timeout)
        if t.is_alive():
            raise TimeoutError(f"{getattr(fn, '__name__', fn)} in {self.name} took over {call_timeout}s")
        if "error" in result:
            raise result["error"]
        return result.get("value")

    # -- iptables ---------------------------------------------------------------
    def iptables(self, *args, timeout=10.0):
        """iptables inside (-w: the xtables lock is shared with other namespaces)."""
        return self.run([IPTABLES, "-w", "5", *args], timeout=timeout).stdout

    def new_chain(self, chain, jump_from="INPUT", match=("-p", "udp")):
        """A chain of our own, reached from `jump_from` for packets matching `match`, so
        its counters and rules are ours alone."""
        self.iptables("-N", chain)
        self.iptables("-A", jump_from, *match, "-j", chain)
        return chain

    def add_rule(self, chain, name, *spec):
        """Appends a rule named `name` (an iptables comment) to `chain`; `spec` as for
        `iptables -A` (no -j: the rule only counts)."""
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise ValueError(f"rule name {name!r}")
        self.iptables("-A", chain, *spec, "-m", "comment", "--comment", name)

    def counters(self, chain):
        """{rule name: (packets, bytes)} of the named rules in `chain`, exact (-x)."""
        out = {}
        for raw in self.iptables("-nvxL", chain).splitlines():
            m = re.match(r"^\s*(\d+)\s+(\d+)\s", raw)
            c = re.search(r"/\* (\S+) \*/", raw)
            if m and c:
                out[c.group(1)] = (int(m.group(1)), int(m.group(2)))
        return out

    def packets(self, chain, name):
        return self.counters(chain)[name][0]


class UdpCapture:
    """Every UDP packet arriving at `port` inside the namespace, as (monotonic arrival
    time, first line, Via branch, SIP head): a packet socket on the namespace's loopback sees each
    packet before the firewall, so iptables drops do not hide anything. It tells new
    requests (a branch first seen) from retransmissions (a branch seen before), which no
    packet counter can. Bounded by `max_seconds`; `kernel_drops` says whether the socket
    kept up."""
    ETH_P_IP = 0x0800
    PACKET_OUTGOING = 4
    SOL_PACKET = 263
    PACKET_STATISTICS = 6
    SO_TIMESTAMPNS = 35  # also SCM_TIMESTAMPNS
    _BRANCH = re.compile(rb"^(?:Via|v)\s*:[^\r\n]*?;\s*branch=([^;,\s\r\n]+)", re.I | re.M)

    def __init__(self, ns, port, max_seconds=300.0):
        self.ns = ns
        self.port = port
        self.max_seconds = max_seconds
        self.packets = []
        self.kernel_drops = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sock = None
        self._thread = None

    def start(self):
        def open_socket():
            s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(self.ETH_P_IP))
            s.bind(("lo", 0))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
            # The kernel's arrival time, so a busy test thread does not bunch packets up.
            s.setsockopt(socket.SOL_SOCKET, self.SO_TIMESTAMPNS, 1)
            s.settimeout(0.2)
            return s

        self._sock = self.ns.call(open_socket)
        self._thread = threading.Thread(target=self._run, name="udp-capture", daemon=True)
        self._thread.start()
        return self

    def _run(self):
        end = time.monotonic() + self.max_seconds
        # Arrival stamps are wall-clock; the test's times are monotonic.
        offset = time.time() - time.monotonic()
        while not self._stop.is_set() and time.monotonic() < end:
            try:
                data, ancillary, _, addr = self._sock.recvmsg(70000, socket.CMSG_SPACE(16))
            except socket.timeout:
                continue
            except OSError:
                break
            t = time.monotonic()
            for level, kind, value in ancillary:
                if level == socket.SOL_SOCKET and kind == self.SO_TIMESTAMPNS and len(value) >= 16:
                    sec, nsec = struct.unpack_from("qq", value)
                    t = sec + nsec / 1e9 - offset
            if addr[2] == self.PACKET_OUTGOING or len(data) < 28 or data[9] != 17:
                continue  # loopback shows each packet twice: keep the arriving copy
            ihl = (data[0] & 0x0F) * 4
            dport = struct.unpack_from("!H", data, ihl + 2)[0]
            if dport != self.port:
                continue
            payload = data[ihl + 8:]
            first = payload.split(b"\r\n", 1)[0].decode("latin-1")
            m = self._BRANCH.search(payload)
            with self._lock:
                head = payload.split(b"\r\n\r\n", 1)[0].decode("latin-1")
                self.packets.append((t, first, m.group(1).decode("latin-1") if m else None, head))

    def stop(self, timeout=5.0):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._sock is not None:
            try:
                stats = self._sock.getsockopt(self.SOL_PACKET, self.PACKET_STATISTICS, 8)
                self.kernel_drops = int.from_bytes(stats[4:8], "little")
            except OSError:
                pass
            self._sock.close()
            self._sock = None
        return self.snapshot()

    def snapshot(self):
        with self._lock:
            return list(self.packets)

    def dump(self, path, since=0.0):
        """Writes the capture as text (time relative to `since`, then the SIP head) for
        a reader looking into a failure."""
        with open(path, "w") as f:
            for t, _, _, head in self.snapshot():
                f.write(f"=== {t - since:.3f}\n{head}\n")

    def requests(self, method="REGISTER"):
        """[(time, is_new)] for the requests of `method`: new when its branch was not
        seen before (from the start of the capture)."""
        seen = set()
        out = []
        for t, first, branch, _ in self.snapshot():
            if not first.startswith(method + " "):
                continue
            out.append((t, branch not in seen))
            seen.add(branch)
        return out


def peak_in_window(times, window=1.0, since=None, until=None):
    """The most events in any [t, t + window) over sorted-able `times` (restricted to
    [since, until)), and where that window starts: (count, start)."""
    ts = sorted(t for t in times if (since is None or t >= since) and (until is None or t < until))
    best, best_at = 0, None
    j = 0
    for i, t in enumerate(ts):
        while j < len(ts) and ts[j] < t + window:
            j += 1
        if j - i > best:
            best, best_at = j - i, t
    return best, best_at


class CounterSampler:
    """Samples `read()` (a number) every `interval` seconds in a background thread, for
    at most `max_seconds`, keeping (monotonic time, value) pairs: the time is taken when
    the read returned, and `max_read` (the longest read) bounds how far before that the
    value was counted. A read that fails is recorded in `errors` and skipped."""

    def __init__(self, read, interval=0.2, max_seconds=300.0):
        self.read = read
        self.interval = interval
        self.max_seconds = max_seconds
        self.samples = []
        self.errors = []
        self.max_read = 0.0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._run, name="counter-sampler", daemon=True)
        self._thread.start()
        return self

    def _run(self):
        end = time.monotonic() + self.max_seconds
        next_at = time.monotonic()
        while not self._stop.is_set() and time.monotonic() < end:
            try:
                before = time.monotonic()
                value = self.read()
                t = time.monotonic()
                with self._lock:
                    self.samples.append((t, value))
                    self.max_read = max(self.max_read, t - before)
            except Exception as e:  # reported by the test through `errors`
                with self._lock:
                    self.errors.append(repr(e))
            next_at += self.interval
            delay = next_at - time.monotonic()
            if delay < 0:  # fell behind (a loaded machine): no catch-up burst
                next_at = time.monotonic()
                delay = 0
            self._stop.wait(delay)

    def stop(self, timeout=5.0):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        return self.snapshot()

    def snapshot(self):
        with self._lock:
            return list(self.samples)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def window_rates(samples, since=None, window=1.0):
    """Rates over sliding windows of about `window` seconds from counter samples
    [(t, count)]: for each sample at or after `since`, the first later sample at least
    `window` later closes the window; the rate is the count difference over the actual
    span. Returns [(start, end, count difference, rate)]."""
    pts = [(t, v) for t, v in samples if since is None or t >= since]
    out = []
    j = 0
    for i, (t0, v0) in enumerate(pts):
        j = max(j, i + 1)
        while j < len(pts) and pts[j][0] - t0 < window:
            j += 1
        if j >= len(pts):
            break
        t1, v1 = pts[j]
        out.append((t0, t1, v1 - v0, (v1 - v0) / (t1 - t0)))
    return out


def peak_window(samples, since=None, window=1.0):
    """The window with the most packets (start, end, count, rate), or None."""
    rates = window_rates(samples, since, window)
    return max(rates, key=lambda w: (w[2], -(w[1] - w[0]))) if rates else None
