"""sipregd's main scenario under valgrind memcheck: UDP, TCP and TLS lines against a
Kamailio registrar, register, refresh, a reload that changes, adds and removes lines, a
metrics scrape, control commands and on_change runs, then SIGTERM: every line
unregisters and the process exits 0 with no memory error, no definite or indirect leak,
no file descriptor left open beyond stdin/stdout/stderr and no libuv handle left open.

Valgrind and AddressSanitizer do not mix, so this needs a build without sanitizers:
SIPREGD_PLAIN_BIN names its sipregd (ctest gets it from the fixture that builds one)."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.request

from certs import SERVER_NAME, TestPki
from daemon import Daemon
from peer_case import PeerCase
from sipregd_config import config, line, tls_settings
from stream_util import free_tcp_port

VALGRIND = shutil.which("valgrind") or "/usr/bin/valgrind"
USERS = {f"user{i}": f"vg-secret-{i}" for i in range(6)}
# Generous: memcheck runs code 20-50 times slower, and CI runs other tests alongside.
SLOW = 60


def plain_binary():
    path = os.environ.get("SIPREGD_PLAIN_BIN")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError(f"SIPREGD_PLAIN_BIN={path!r} is not an executable: valgrind needs a sipregd built "
                           f"without sanitizers (cmake -DSIPREG_SANITIZE=OFF)")
    with open(path, "rb") as f:
        if b"__asan_init" in f.read():
            raise RuntimeError(f"{path} is built with AddressSanitizer, which valgrind cannot run")
    return path


def sipregctl_binary():
    path = os.environ.get("SIPREGCTL_BIN")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError(f"SIPREGCTL_BIN={path!r} is not an executable (ctest sets it to the sipregctl target)")
    return path


class ValgrindDaemon(Daemon):
    """The daemon started as `valgrind --tool=memcheck ... sipregd ...`; valgrind's report
    goes to its own file in the daemon's folder."""

    term_timeout = SLOW

    @property
    def valgrind_log(self):
        return os.path.join(self.dir, "valgrind.log")

    def command(self):
        args = [VALGRIND, "--tool=memcheck", "--leak-check=full", "--show-leak-kinds=definite,indirect,possible",
                "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99", "--track-fds=yes",
                "--num-callers=30", f"--log-file={self.valgrind_log}"]
        return args + super().command()

    def report(self):
        with open(self.valgrind_log, errors="replace") as f:
            return f.read()


def open_fds(report):
    """{fd: description} of the descriptors valgrind saw open at exit."""
    fds = {}
    for m in re.finditer(r"==\d+== Open (?:file descriptor|AF_\w+ socket) (\d+): ?(.*)$", report, re.M):
        fds[int(m.group(1))] = m.group(2)
    return fds


class ValgrindTest(PeerCase):
    users = USERS

    @classmethod
    def setUpClass(cls):
        cls.pki = TestPki()

    @classmethod
    def tearDownClass(cls):
        cls.pki.cleanup()

    def ctl(self, *args):
        r = subprocess.run([sipregctl_binary(), "-s", self.socket, "-t", str(SLOW), *args], capture_output=True,
                           text=True, timeout=SLOW + 10, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0, f"sipregctl {' '.join(args)}: {r.stdout}{r.stderr}")
        return r.stdout

    def test_main_scenario_is_memcheck_clean_and_leaves_nothing_open(self):
        binary = plain_binary()
        tmp = tempfile.mkdtemp(prefix="sipreg-valgrind-")
        self.addCleanup(shutil.rmtree, tmp, True)
        self.socket = os.path.join(tmp, "control.sock")
        metrics_port = free_tcp_port()
        kam = self.start_kamailio(tcp=True, tls=self.pki.server, max_expires=20, min_expires=10)
        tls = tls_settings(self.pki.ca.cert_path, server_name=SERVER_NAME)

        def lines(ua_of_u1="sipregd"):
            return [line("u0", "user0", kam.address, USERS["user0"]),
                    line("u1", "user1", kam.address, USERS["user1"], user_agent=ua_of_u1),
                    line("u2", "user2", kam.address, USERS["user2"]),
                    line("t", "user3", kam.address, USERS["user3"], transport="tcp"),
                    line("s", "user4", f"sip:{kam.tls_address};transport=tls", USERS["user4"], tls=tls)]

        def text(line_list):
            return config(line_list, expires=60, shutdown_timeout="30s", retry="{ base: 2s, max: 10s }",
                          control=self.socket, metrics=f"127.0.0.1:{metrics_port}",
                          on_change={"command": ["/bin/true"], "timeout": "30s"})

        started = time.monotonic()
        d = ValgrindDaemon(text(lines()), binary=binary)
        self.start_peer(d)
        self.daemon = d
        d.wait_for_log(r"started with 5 lines", timeout=SLOW)
        self.wait_registered(kam, ["user0", "user1", "user2", "user3", "user4"], timeout=SLOW)
        for i in ("u0", "u1", "u2", "t", "s"):
            d.wait_for_log(rf"line={i} registering -> registered", timeout=SLOW)
        # One refresh of every line (grants of 20 s).
        for i in ("u0", "u1", "u2", "t", "s"):
            self.wait(lambda i=i: d.count_log(rf"line={i} registered, expires 20 s") >= 1, SLOW, f"a refresh of {i}")
        status = json.loads(self.ctl("status", "--json"))
        self.assertEqual({l["id"]: l["state"] for l in status["lines"]},
                         {i: "registered" for i in ("u0", "u1", "u2", "t", "s")})
        self.ctl("show", "s")
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=SLOW) as r:
            self.assertIn('sipregd_line_registered{line="s"} 1', r.read().decode())

        # Reload: u1 changed, u2 removed (it unregisters), u5 added.
        mark = len(d.log())
        d.write_config(text([l for l in lines("sipregd-reloaded") if "id: u2\n" not in l]
                            + [line("u5", "user5", kam.address, USERS["user5"])]))
        d.reload()
        d.wait_for_log(r"reload applied: 1 added, 1 removed, 1 changed, 3 unchanged", since=mark, timeout=SLOW)
        self.wait(lambda: "user5" in self.aors(kam) and "user2" not in self.aors(kam), SLOW,
                  "u5 registered and u2 unregistered", lambda: str(sorted(self.aors(kam))))
        self.wait(lambda: kam.bindings("user1") and kam.bindings("user1")[0]["user_agent"] == "sipregd-reloaded",
                  SLOW, "u1 registered again with its new User-Agent")

        # SIGTERM: every line unregisters, the loop ends empty, exit 0 (99 would be errors).
        mark = len(d.log())
        status = d.terminate_and_wait(timeout=SLOW * 2)
        wall = time.monotonic() - started
        report = d.report()
        self.assertEqual(status, 0, f"exit status {status}\n--- valgrind ---\n{report[-6000:]}\n--- sipregd ---\n"
                                    + d.tail())
        self.assertEqual(kam.ul_dump(), [], "a binding survived the shutdown")
        self.assertEqual(sum(1 for t in d.log()[mark:] if "-> stopped: unregistered" in t), 5, d.tail())
        d.wait_for_log(r"all lines unregistered", timeout=1)
        self.assertEqual(d.count_log(r"handles still open"), 0, d.tail())

        summary = re.search(r"ERROR SUMMARY: (\d+) errors from (\d+) contexts", report)
        self.assertIsNotNone(summary, report[-3000:])
        self.assertEqual(summary.group(1), "0", report[-6000:])
        for kind in ("definitely", "indirectly"):
            lost = re.search(rf"{kind} lost: ([\d,]+) bytes in ([\d,]+) blocks", report)
            if lost is not None:  # absent when every block was freed
                self.assertEqual(lost.group(1), "0", f"{kind} lost:\n{report[-6000:]}")
        if not re.search(r"All heap blocks were freed", report):
            self.assertIn("LEAK SUMMARY:", report)
        # The descriptors open at exit: stdin, stdout and stderr (counted, not listed) and
        # valgrind's own report file; any other one is listed with what it is.
        counted = re.search(r"FILE DESCRIPTORS: (\d+) open \((\d+) std\) at exit", report)
        self.assertIsNotNone(counted, report[-3000:])
        fds = open_fds(report)
        ours = {fd: what for fd, what in fds.items() if what != d.valgrind_log}
        self.assertEqual(ours, {}, "descriptors left open at exit")
        self.assertEqual(int(counted.group(2)), 3, report[-3000:])
        self.assertEqual(int(counted.group(1)), 3 + len(fds), report[-3000:])
        possibly = re.search(r"possibly lost: ([\d,]+) bytes in ([\d,]+) blocks", report)
        reachable = re.search(r"still reachable: ([\d,]+) bytes in ([\d,]+) blocks", report)
        print(f"\nvalgrind: {wall:.1f} s wall, {summary.group(1)} errors, fds open at exit {counted.group(1)} "
              f"({counted.group(2)} std, {len(fds)} valgrind's own), "
              f"possibly lost {possibly.group(1) if possibly else 0} bytes, "
              f"still reachable {reachable.group(1) if reachable else 0} bytes")


if __name__ == "__main__":
    unittest.main()
