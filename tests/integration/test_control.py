"""The control socket end to end: sipregd against Kamailio, driven by the real sipregctl
binary (status, show, refresh, reload, check, trace), with what the registrar saw as the
proof that a command did what it said."""
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
import unittest

from peer_case import PeerCase
from sipregd_config import config, line

USERS = {f"user{i}": f"secret-{i}" for i in range(4)}


def sipregctl_binary():
    path = os.environ.get("SIPREGCTL_BIN")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError(f"SIPREGCTL_BIN={path!r} is not an executable (ctest sets it to the sipregctl target)")
    return path


class Tracer:
    """`sipregctl trace` running in the background, its output collected by a thread."""

    def __init__(self, socket, *args):
        self.proc = subprocess.Popen([sipregctl_binary(), "-s", socket, "trace", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        self._out = []
        self._err = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._read, args=(self.proc.stdout, self._out), daemon=True),
                         threading.Thread(target=self._read, args=(self.proc.stderr, self._err), daemon=True)]
        for t in self._threads:
            t.start()

    def _read(self, stream, sink):
        for raw in stream:
            with self._lock:
                sink.append(raw.decode("utf-8", "replace"))

    def output(self):
        with self._lock:
            return "".join(self._out)

    def errors(self):
        with self._lock:
            return "".join(self._err)

    def interrupt(self, timeout=5.0):
        """Ctrl-C; returns the exit status."""
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            for t in self._threads:
                t.join(timeout=2.0)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5.0)
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()


class ControlCase(PeerCase):
    users = USERS

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sipreg-ctl-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.socket = os.path.join(self.tmp, "control.sock")

    def ctl(self, *args, socket=None, timeout=20):
        return subprocess.run([sipregctl_binary(), "-s", socket or self.socket, *args], capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def ctl_ok(self, *args):
        r = self.ctl(*args)
        self.assertEqual(r.returncode, 0, f"sipregctl {' '.join(args)}: {r.stdout}{r.stderr}")
        return r.stdout

    def status_json(self):
        return json.loads(self.ctl_ok("status", "--json"))

    def states(self):
        return {l["id"]: l["state"] for l in self.status_json()["lines"]}

    def wait_states(self, wanted, timeout=20):
        self.wait(lambda: all(self.states().get(k) == v for k, v in wanted.items()), timeout,
                  f"states {wanted}", lambda: f"states are {self.states()}")

    def start(self, lines, **kwargs):
        kam = self.start_kamailio(max_expires=3600)
        text = config([l(kam) for l in lines], expires=3600, control=self.socket, **kwargs)
        d = self.start_daemon(text)
        d.wait_for_log(r"control socket .* \(mode 0660\)")
        return kam, d

    def trace_until(self, tracer, pattern, timeout=10):
        rx = re.compile(pattern, re.S)
        self.wait(lambda: rx.search(tracer.output()), timeout, f"trace output /{pattern}/",
                  lambda: f"trace so far:\n{tracer.output()}\n{tracer.errors()}")


def good(i):
    return lambda kam: line(f"l{i}", f"user{i}", kam.address, f"secret-{i}")


def wrong_password(id_, user):
    return lambda kam: line(id_, user, kam.address, "not-the-password")


class StatusAndCommandsTest(ControlCase):
    def test_status_show_check_refresh_and_trace(self):
        kam, d = self.start([good(0), good(1), wrong_password("bad", "user2")])
        self.wait_registered(kam, ["user0", "user1"])
        self.wait_states({"l0": "registered", "l1": "registered", "bad": "failed"})

        # The socket exists with the configured mode.
        st = os.stat(self.socket)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o660)

        # status --json: every line in config order, with the documented fields.
        status = self.status_json()
        self.assertTrue(status["ok"])
        self.assertEqual([l["id"] for l in status["lines"]], ["l0", "l1", "bad"])
        l0 = status["lines"][0]
        self.assertEqual(l0["state"], "registered")
        self.assertEqual(l0["registrar"], f"sip:{kam.address}")
        self.assertEqual(l0["transport"], "udp")
        self.assertEqual(l0["last_code"], 200)
        self.assertEqual(l0["last_reason"], "OK")
        self.assertEqual(l0["granted"], 3600)
        self.assertEqual(l0["next_action"], "refresh")
        self.assertGreater(l0["next_action_in"], 1000)
        self.assertEqual(l0["failures"], 0)
        self.assertEqual(l0["last_change"]["to"], "registered")
        bad = status["lines"][2]
        self.assertEqual(bad["state"], "failed")
        self.assertEqual(bad["last_code"], 401)
        self.assertIsInstance(bad["failures"], int)
        self.assertEqual(status["counts"]["registered"], 2)
        self.assertEqual(status["counts"]["failed"], 1)

        # The table: a header and one row per line.
        table = self.ctl_ok("status")
        rows = table.splitlines()
        self.assertRegex(rows[0], r"^ID\s+STATE\s+REGISTRAR\s+TRANSPORT\s+GRANTED\s+NEXT\s+LAST RESPONSE\s+FAILS\s+"
                                  r"LAST CHANGE$")
        self.assertRegex(rows[1], rf"^l0\s+registered\s+sip:{re.escape(kam.address)}\s+udp\s+1h00m\s+refresh in "
                                  r"\S+\s+200 OK\s+0\s+registering -> registered \S+ ago$")
        self.assertRegex(rows[3], r"^bad\s+failed\s+.*401 Unauthorized\s+\d+\s+registering -> failed")
        self.assertEqual(rows[-1], "2/3 registered, 1 failed")

        # show: details and the history of state changes.
        shown = self.ctl_ok("show", "l0")
        self.assertRegex(shown, r"state:\s+registered")
        self.assertRegex(shown, r"last response:\s+200 OK")
        self.assertRegex(shown, r"history \(oldest first\):\n.*stopped -> registering.*\n.*registering -> registered"
                                r"\s+200\s+registered")
        shown_json = json.loads(self.ctl_ok("show", "l0", "--json"))
        self.assertEqual([h["to"] for h in shown_json["line"]["history"]], ["registering", "registered"])
        missing = self.ctl("show", "nope")
        self.assertEqual(missing.returncode, 1)
        self.assertIn('no line "nope"', missing.stderr)

        # check: not all registered.
        r = self.ctl("check")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertEqual(r.stdout.strip(), "WARNING: 2/3 registered; failed: bad")

        # refresh LINE: the registrar sees a new REGISTER from that line only.
        before0, before1 = kam.register_count("user0"), kam.register_count("user1")
        self.assertEqual(self.ctl_ok("refresh", "l0").strip(), "refresh started for l0")
        self.wait(lambda: kam.register_count("user0") > before0, 10, "the refresh REGISTER of l0")
        time.sleep(0.5)
        self.assertEqual(kam.register_count("user1"), before1)
        unknown = self.ctl("refresh", "nope")
        self.assertEqual(unknown.returncode, 1)

        # refresh --all: every line sends one.
        before0, before1 = kam.register_count("user0"), kam.register_count("user1")
        self.assertEqual(self.ctl_ok("refresh", "--all").strip(), "refresh started for 3 line(s)")
        self.wait(lambda: kam.register_count("user0") > before0 and kam.register_count("user1") > before1, 10,
                  "refresh REGISTERs of l0 and l1")

        # trace LINE: that line's REGISTER and its response, credentials redacted.
        tracer = Tracer(self.socket, "l1")
        self.addCleanup(tracer.kill)
        self.wait(lambda: "tracing line l1" in tracer.errors(), 10, "the trace to start",
                  lambda: tracer.errors())
        self.ctl_ok("refresh", "l0")
        self.ctl_ok("refresh", "l1")
        self.trace_until(tracer, r"sent to UDP [^\n]*\nREGISTER sip:[^\n]*\n.*received from UDP [^\n]*\n"
                                 r"SIP/2\.0 200 OK")
        out = tracer.output()
        self.assertRegex(out, r"--- \d\d:\d\d:\d\d\.\d{3} l1 sent to UDP ")
        self.assertRegex(out, r"Authorization: Digest [^\n]*username=\"user1\"")
        self.assertIsNone(re.search(r'response="?[0-9a-f]{32}', out), "a digest response reached the trace")
        for secret in USERS.values():
            self.assertNotIn(secret, out)
        self.assertNotIn("user0@", out, "the trace of l1 showed l0's messages")
        self.assertEqual(tracer.interrupt(), 0)

        # The daemon carries on; a new tracer of every line sees both lines.
        everything = Tracer(self.socket)
        self.addCleanup(everything.kill)
        self.wait(lambda: "tracing every line" in everything.errors(), 10, "the second trace to start")
        self.ctl_ok("refresh", "--all")
        self.trace_until(everything, r" l0 sent to UDP ")
        self.trace_until(everything, r" l1 sent to UDP ")
        everything.kill()  # disconnects without a goodbye
        self.assertEqual(self.states()["l0"], "registered")

        # The socket goes away with the daemon.
        self.assertEqual(d.terminate_and_wait(), 0)
        self.assertFalse(os.path.exists(self.socket))


class ReloadTest(ControlCase):
    def test_reload_prints_the_diff_or_the_errors_and_keeps_the_old_config(self):
        kam, d = self.start([good(0)])
        self.wait_registered(kam, ["user0"])
        d.write_config(config([good(0)(kam), good(1)(kam)], expires=3600, control=self.socket))
        r = self.ctl("reload")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("reload applied: 1 added, 0 removed, 0 changed, 1 unchanged", r.stdout)
        self.assertIn("  added: l1", r.stdout)
        self.wait_registered(kam, ["user0", "user1"])
        self.wait_states({"l0": "registered", "l1": "registered"})

        # A broken file: the errors with file:line:column, exit 1, nothing changes.
        d.write_config(config([good(0)(kam), good(1)(kam)], expires=3600, control=self.socket)
                       + "    registar: sip:typo.example\n")
        r = self.ctl("reload")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("reload refused", r.stdout)
        self.assertRegex(r.stdout, rf"{re.escape(d.config_path)}:\d+:\d+: error: .*registar")
        self.assertEqual(self.states(), {"l0": "registered", "l1": "registered"})
        refused = json.loads(self.ctl("reload", "--json").stdout)
        self.assertFalse(refused["ok"])
        self.assertFalse(refused["applied"])
        self.assertTrue(refused["errors"])

        # Removing a line through reload: it unregisters.
        d.write_config(config([good(1)(kam)], expires=3600, control=self.socket))
        r = self.ctl("reload")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("reload applied: 0 added, 1 removed, 0 changed, 1 unchanged", r.stdout)
        self.wait(lambda: "user0" not in self.aors(kam), 10, "l0's binding to go")
        self.assertEqual(self.states(), {"l1": "registered"})


class CheckAndReachabilityTest(ControlCase):
    def test_check_is_0_when_all_registered_and_2_without_a_daemon(self):
        kam, d = self.start([good(0), good(1)])
        self.wait_registered(kam, ["user0", "user1"])
        self.wait_states({"l0": "registered", "l1": "registered"})
        r = self.ctl("check")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout.strip(), "OK: 2/2 registered")
        self.assertEqual(d.terminate_and_wait(), 0)

        r = self.ctl("check")
        self.assertEqual(r.returncode, 2)
        self.assertTrue(r.stdout.startswith("CRITICAL: cannot reach sipregd: no control socket at"), r.stdout)
        r = self.ctl("status")
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"no control socket at {self.socket}", r.stderr)

    def test_a_socket_nobody_listens_on_is_reported_as_such(self):
        import socket as socketlib
        s = socketlib.socket(socketlib.AF_UNIX, socketlib.SOCK_STREAM)
        s.bind(self.socket)
        s.close()  # the file stays: what a killed daemon leaves
        r = self.ctl("check")
        self.assertEqual(r.returncode, 2)
        self.assertIn("nothing listens on", r.stdout)

    def test_a_configured_socket_that_cannot_be_created_stops_the_start(self):
        kam = self.start_kamailio()
        bad_path = os.path.join(self.tmp, "missing-folder", "control.sock")
        d = self.start_daemon(config([good(0)(kam)], control=bad_path))
        self.assertEqual(d.proc.wait(timeout=20), 3)
        self.assertRegex(d.log_text(), r"control socket: cannot create the control socket .*missing-folder")


if __name__ == "__main__":
    unittest.main()
