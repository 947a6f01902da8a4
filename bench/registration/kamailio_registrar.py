"""The registrar of the TCP and TLS benchmark runs: the integration harness's Kamailio
(tests/integration/kamailio.py), tuned for 10,000 users on one shared connection.

SIPp 3.6.1 as packaged by Debian has no TLS, so the stream runs use Kamailio. Every
REGISTER is answered statefully: a missing or stale nonce gets a 401, valid digest
credentials (checked against an htable of users) a 200 with the binding saved in memory.
With `nonce_expire` shorter than the refresh interval a refresh's kept credentials are
stale, so every refresh costs REGISTER, 401, REGISTER, 200 as in the UDP run against SIPp.

Tuning on top of the harness's registrar:
  - the users u00000/pw00000 .. (the benchmark's lines) filled into the htable by a loop
    in the cfg, in 2^14 slots;
  - shared/private memory 256/32 MiB instead of the harness's -m 64 -M 8;
  - tcp_children 4, tcp_max_connections / tls_max_connections 4096, large write queues
    (one connection carries every reply), connection lifetime longer than the run;
  - usrloc's expiry timer every 10 s instead of every second (10,000 bindings).

Python 3 standard library only.
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from kamailio import Kamailio  # noqa: E402

SHM_MIB = 256
PKG_MIB = 32
TCP_CHILDREN = 4
MAX_CONNECTIONS = 4096
MAX_USERS = 100000  # ids have five digits
CLK_TCK = os.sysconf("SC_CLK_TCK")


class TunedKamailio(Kamailio):
    """The harness registrar with the memory, TCP and htable settings above."""

    def __init__(self, user_count, *, tcp_children=TCP_CHILDREN, shm_mib=SHM_MIB, pkg_mib=PKG_MIB, **kwargs):
        if not 1 <= user_count <= MAX_USERS:
            raise ValueError(f"user_count must be 1..{MAX_USERS}")
        # The harness writes one cfg statement per user, and each is a pseudo-variable
        # of its own: 10,000 of them overflow Kamailio's private memory while the cfg is
        # parsed. It gets the first user only; render_cfg() swaps that statement for a
        # loop that fills the htable with every user_name(i)/user_password(i), i < user_count.
        super().__init__({first_user(): first_password()}, **kwargs)
        self.user_count = user_count
        self.tcp_children = tcp_children
        self.shm_mib = shm_mib
        self.pkg_mib = pkg_mib

    def render_cfg(self):
        text = super().render_cfg()
        # An htable of 2^6 slots would keep 10,000 users in lists of ~150.
        # The harness's `stats` table also counts per user (10,000 keys: too big for one
        # `htable.dump` reply); `bench` holds just the two totals the benchmark reads.
        text = _replace_once(text, 'modparam("htable", "htable", "users=>size=6;")',
                             'modparam("htable", "htable", "users=>size=14;")\n'
                             'modparam("htable", "htable", "bench=>size=2;")')
        text = _replace_once(text, f'    $sht(users=>{first_user()}) = "{first_password()}";\n',
                             _users_loop(self.user_count))
        # A REGISTER without credentials (every line's first) is challenged straight away:
        # the harness's route would look up an empty user first and log an error for
        # each of them.
        authenticate = 'pv_www_authenticate("$td", "$sht(users=>$au)", "0");'
        text = _replace_once(text, authenticate,
                             'if (!is_present_hf("Authorization")) {\n'
                             '            www_challenge("$td", "1");\n'
                             '            exit;\n'
                             '        }\n'
                             '        ' + authenticate)
        # REGISTERs and saved bindings are counted in one small table, so one
        # `htable.dump` reads both at the same instant (separate kamcmd calls a moment
        # apart skew the difference by the requests in between).
        text = _replace_once(text, "        $var(n) = $shtinc(stats=>register);\n",
                             "        $var(n) = $shtinc(stats=>register);\n"
                             "        $var(n) = $shtinc(bench=>register);\n")
        text = _replace_once(text, '        if (!save("location")) {\n            sl_reply_error();\n        }\n',
                             '        if (!save("location")) {\n            sl_reply_error();\n'
                             '        } else {\n            $var(n) = $shtinc(bench=>accepted);\n        }\n')
        text = _replace_once(text, "    $sht(stats=>register) = 0;\n",
                             "    $sht(stats=>register) = 0;\n"
                             "    $sht(bench=>register) = 0;\n    $sht(bench=>accepted) = 0;\n")
        if self.tls:
            # The tls module closes idle connections after its own timeout (10 min by
            # default), independent of tcp_connection_lifetime.
            text = _replace_once(text, 'modparam("tls", "config", ',
                                 f'modparam("tls", "connection_timeout", {self.tcp_connection_lifetime})\n'
                                 'modparam("tls", "config", ')
        core = f"max_while_loops={self.user_count + 10}\n"
        if self.tcp or self.tls:
            # Every reply to 10,000 lines goes down one connection: allow deep write
            # queues rather than have Kamailio drop the connection under a burst.
            core += (f"tcp_children={self.tcp_children}\n"
                     f"tcp_max_connections={MAX_CONNECTIONS}\n"
                     f"tls_max_connections={MAX_CONNECTIONS}\n"
                     "tcp_async=yes\n"
                     "tcp_conn_wq_max=16777216\n"
                     "tcp_wq_max=67108864\n")
        return _replace_once(text, "auto_aliases=no\n", "auto_aliases=no\n" + core)


def _users_loop(count):
    """cfg statements that put u00000/pw00000 .. into the users htable (5-digit ids:
    100000 + i with the leading 1 cut off)."""
    return (f"    $var(i) = 0;\n"
            f"    while ($var(i) < {count}) {{\n"
            f"        $var(s) = \"\" + (100000 + $var(i));\n"
            f"        $var(d) = $(var(s){{s.substr,1,0}});\n"
            f"        $sht(users=>u$var(d)) = \"pw\" + $var(d);\n"
            f"        $var(i) = $var(i) + 1;\n"
            f"    }}\n")


def _replace_once(text, old, new):
    if text.count(old) != 1:
        raise RuntimeError(f"the harness's kamailio.cfg changed: {old!r} not found exactly once")
    return text.replace(old, new)


def group_cpu_seconds(pgid):
    """User+sys CPU-seconds of every live process in process group `pgid` (Kamailio's
    main process and its children)."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                data = f.read()
        except OSError:
            continue
        fields = data[data.rindex(")") + 2:].split()
        # fields[0] is field 3 (state): pgrp is field 5, utime/stime fields 14/15.
        if int(fields[2]) == pgid:
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return total


def user_name(i):
    return f"u{i:05d}"


def user_password(i):
    return f"pw{i:05d}"


def first_user():
    return user_name(0)


def first_password():
    return user_password(0)


class KamailioRegistrar:
    """The registrar interface run_bench.py uses (port, pid, counts, CPU, connections),
    over a TunedKamailio listening on TCP (transport "tcp") or TLS ("tls")."""

    def __init__(self, transport, *, user_count, granted, run_seconds, nonce_expire, tls_cert=None):
        if transport not in ("tcp", "tls"):
            raise ValueError("transport must be tcp or tls")
        self.transport = transport
        # Connections stay up for the whole run (plus margin), whatever it is.
        lifetime = max(3605, int(run_seconds) + 600)
        self.kam = TunedKamailio(
            user_count, tcp=True, tls=tls_cert if transport == "tls" else None,
            min_expires=10, max_expires=max(3600, granted), default_expires=granted,
            nonce_expire=nonce_expire, timer_interval=10, children=2,
            tcp_connection_lifetime=lifetime, start_timeout=60.0)
        self._last_counts = None

    def __enter__(self):
        try:
            self.kam.start()
        except BaseException:
            # A start that fails leaves its folder (and maybe processes) behind.
            self.kam.cleanup()
            raise
        return self

    def __exit__(self, *exc):
        self.kam.cleanup()

    @property
    def port(self):
        return self.kam.tls_port if self.transport == "tls" else self.kam.port

    @property
    def pid(self):
        return self.kam.pid

    def cpu_seconds(self):
        return group_cpu_seconds(self.kam.pid)

    def statistics(self):
        """Kamailio's counters as {"group:name": int} (`kamcmd stats.get_statistics all`)."""
        out = {}
        for raw in self.kam.kamcmd("stats.get_statistics", "all", timeout=10.0).splitlines():
            m = re.match(r"^\s*([\w.-]+:[\w.-]+)\s*=\s*(-?\d+)\s*$", raw)
            if m:
                out[m.group(1)] = int(m.group(2))
        return out

    def htable_counters(self):
        """The registrar's `bench` htable as {key: int}: register (REGISTERs received)
        and accepted (bindings saved), read in one call."""
        out = {}
        key = None
        for raw in self.kam.kamcmd("htable.dump", "bench", timeout=10.0).splitlines():
            line = raw.strip()
            m = re.match(r"^name:\s*(\S+)$", line)
            if m:
                key = m.group(1)
                continue
            m = re.match(r"^value:\s*(-?\d+)$", line)
            if m and key is not None:
                out[key] = int(m.group(1))
                key = None
        return out

    def counts(self):
        """Cumulative counts in the shape of the SIPp registrar's:
        register (REGISTERs received), sent_200 (bindings saved), sent_401 (the rest
        of the REGISTERs, each answered by a challenge: Kamailio counts no 401s the auth
        module sends inside a transaction), retrans (None: Kamailio does not count
        the retransmissions it absorbs), unexpected (REGISTERs refused other than by a challenge)."""
        table = self.htable_counters()
        register = table.get("register", 0)
        accepted = table.get("accepted", 0)
        rejected = self.statistics().get("registrar:rejected_regs", 0)
        out = {
            "register": register,
            "sent_200": accepted,
            "sent_401": register - accepted - rejected,
            # Kamailio keeps no counter of absorbed retransmissions; over TCP/TLS a client
            # does not retransmit anyway.
            "retrans": None,
            "unexpected": rejected,
        }
        self._last_counts = out
        return out

    def counts_now(self, wait=0.0):
        # kamcmd answers with the live counters; nothing to wait for.
        del wait
        return self.counts()

    def connections(self):
        """Kamailio's open TCP/TLS connections (id, type, state, src/dst)."""
        return self.kam.tcp_connections()

    def log_size(self):
        try:
            return os.path.getsize(self.kam.log_path)
        except OSError:
            return 0

    def log_problems(self, limit=10, upto=None):
        """Kamailio log lines at ERROR/WARNING/CRITICAL (the first `limit`) and how many,
        in the first `upto` bytes of its log (all of it by default)."""
        found = []
        total = 0
        try:
            with open(self.kam.log_path, "rb") as f:
                data = f.read() if upto is None else f.read(upto)
        except OSError:
            return 0, []
        for line in data.decode(errors="replace").splitlines():
            # The tls module's start-up notice about an OpenSSL workaround is not a problem.
            if re.search(r"\b(ERROR|WARNING|CRITICAL|BUG)\b", line) and "openssl bug #1491" not in line:
                total += 1
                if len(found) < limit:
                    found.append(line)
        return total, found

