"""TCP/TLS faults against the sipregd binary: a peer that resets mid-message, one that
accepts and never answers, one that answers one byte a second, a TLS peer with an
expired certificate, one that closes right after accept and one that sends bytes that
never frame as SIP. Each must end in a log line naming the line, the peer and what
happened, then a backoff; never a hang (lines on a healthy Kamailio stay registered,
the control socket and the metrics page keep answering) nor a leak (descriptors and
loop handles come back to where they were, the exit is clean).

One daemon serves every case at once, so the whole file costs two Timer F cycles (about
75 s): the scenario runs in setUpClass and records what the peers and the daemon did;
each test then checks one fault in that record."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

from certs import SERVER_NAME, TestPki
from daemon import Daemon
from fault_peers import (CloseAfterAcceptPeer, GarbagePeer, ResetMidMessagePeer, SilentPeer,
                         TricklePeer)
from harness_util import wait_until
from kamailio import Kamailio
from sipregd_config import config, line, tls_settings
from stream_util import free_tcp_port

USERS = {"healthy": "healthy-secret", "healthy-tls": "healthy-tls-secret"}
HEALTHY = ("healthy", "healthy-tls")
# Detected at once, then retried often (the silent and trickling peers need a timer).
FAST_FAULTS = ("reset", "fin", "garbage", "expired")
RETRY_BASE, RETRY_MAX = 1, 8
EXPIRES = 20
TIMER_F = 32.0           # 64 * T1 (RFC 3261 17.1.2.2)
STALL_LIMIT = 20.0       # a message begun on a TCP/TLS flow must be complete by then
KEEPALIVE_BOUND = 40.0   # the stream's own keep-alive: 30 s idle, then 10 s for the pong
PHASE_LIMIT = 110.0      # the faults run at most this long
SAMPLE_EVERY = 1.5
# Loose bounds for a loaded 2-core CI machine: what is asserted is "seconds, not a hang".
DETECT_FAST = 5.0
DETECT_TIMER_SLACK = 8.0
RESPONSIVE = 3.0
CTL_RESPONSIVE = 10.0    # includes starting the (sanitized) sipregctl binary


def sipregctl_binary():
    path = os.environ.get("SIPREGCTL_BIN")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError(f"SIPREGCTL_BIN={path!r} is not an executable (ctest sets it to the sipregctl target)")
    return path


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_samples(text):
    """{metric name: {"samples": [(labels dict, value)]}} from a Prometheus text page
    (the format itself is checked by test_metrics; here only values are read)."""
    families = {}
    for raw in text.splitlines():
        m = _SAMPLE.match(raw)
        if not m:
            continue
        labels = dict(_LABEL.findall(m.group(2) or ""))
        families.setdefault(m.group(1), {"samples": []})["samples"].append((labels, float(m.group(3))))
    return families


def parse_delay(text):
    """Seconds from a "retry in 7 s" / "2 m" / "1 h" text."""
    m = re.search(r"retry in (\d+) (s|m|h)\b", text)
    if not m:
        return None
    return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600}[m.group(2)]


class FaultScenario:
    """Kamailio (TCP and TLS) with two healthy lines, one fault peer per fault line, one
    daemon. Phases: healthy lines only (the baseline), a reload adding the fault lines
    (the faults, sampled), the peers stopped and the fault lines removed (the recovery),
    SIGTERM."""

    def __init__(self):
        self.cleanups = []
        self.samples = []        # (t, fds, metrics families or None, scrape seconds, ctl seconds, ctl states)
        self.errors = []         # sampling failures: the daemon did not answer
        self.figures = {}

    def cleanup(self):
        while self.cleanups:
            fn = self.cleanups.pop()
            try:
                fn()
            except Exception as e:  # keep cleaning up
                print(f"cleanup failed: {e!r}", file=sys.stderr)

    # ---- helpers ----------------------------------------------------------------------

    def fds(self):
        return len(os.listdir(f"/proc/{self.daemon.proc.pid}/fd"))

    def scrape(self):
        t = time.monotonic()
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=10) as r:
            families = parse_samples(r.read().decode("utf-8"))
        return families, time.monotonic() - t

    def ctl_states(self):
        t = time.monotonic()
        r = subprocess.run([sipregctl_binary(), "-s", self.control, "status", "--json"], capture_output=True,
                           text=True, timeout=20, stdin=subprocess.DEVNULL)
        elapsed = time.monotonic() - t
        if r.returncode != 0:
            raise RuntimeError(f"sipregctl status: {r.returncode} {r.stdout}{r.stderr}")
        return {l["id"]: l["state"] for l in json.loads(r.stdout)["lines"]}, elapsed

    @staticmethod
    def loop_handles(families):
        """sipregd_loop_handles from a scraped page, None when the page has none."""
        family = families.get("sipregd_loop_handles")
        return family["samples"][0][1] if family and family["samples"] else None

    def log_entries(self):
        """[(monotonic time, text)] of every daemon log line so far."""
        with self.daemon._lock:
            return [(self.daemon.t0 + t, text) for t, text in self.daemon.lines]

    def stable_fds(self, samples=4, interval=0.3, timeout=10.0):
        """The descriptor count once it reads the same `samples` times in a row."""
        seen = []

        def steady():
            seen.append(self.fds())
            return len(seen) >= samples and len(set(seen[-samples:])) == 1

        wait_until(steady, timeout, interval=interval, what="a steady descriptor count")
        return seen[-1]

    def config_text(self, with_faults, warm_up_port=None):
        lines = [
            line("healthy", "healthy", self.kam.address, USERS["healthy"], transport="tcp"),
            line("healthy-tls", "healthy-tls", f"sip:{self.kam.tls_address};transport=tls", USERS["healthy-tls"],
                 tls=tls_settings(self.pki.ca.cert_path, server_name=SERVER_NAME)),
        ]
        if warm_up_port is not None:
            lines.append(line("warm-up", "warm-up", f"sip:127.0.0.1:{warm_up_port};transport=tcp", "unused-secret"))
        if with_faults:
            for name, peer in self.peers.items():
                extra = {}
                if peer.tls_context is not None:
                    # The same CA and settings as healthy-tls: one shared TLS context.
                    extra["tls"] = tls_settings(self.pki.ca.cert_path, server_name=SERVER_NAME)
                lines.append(line(name, name, f"sip:127.0.0.1:{peer.port};transport={peer.transport}", "unused-secret",
                                  **extra))
        return config(lines, expires=EXPIRES, retry=f"{{ base: {RETRY_BASE}s, max: {RETRY_MAX}s }}",
                      metrics=f"127.0.0.1:{self.metrics_port}", control=self.control)

    # ---- the run ----------------------------------------------------------------------

    def run(self):
        self.pki = TestPki()
        self.cleanups.append(self.pki.cleanup)
        tmp = tempfile.mkdtemp(prefix="sipreg-fault-")
        self.cleanups.append(lambda: shutil.rmtree(tmp, ignore_errors=True))
        self.control = os.path.join(tmp, "control.sock")
        self.metrics_port = free_tcp_port()

        self.kam = Kamailio(users=USERS, tcp=True, tls=self.pki.server)
        self.cleanups.append(self.kam.cleanup)
        self.kam.start()
        self.peers = {
            "reset": ResetMidMessagePeer(),
            "silent": SilentPeer(),
            "trickle": TricklePeer(interval=1.0),
            "expired": SilentPeer(tls=self.pki.expired),
            "fin": CloseAfterAcceptPeer(),
            "garbage": GarbagePeer(),
        }
        for peer in self.peers.values():
            self.cleanups.append(peer.stop)
            peer.start()

        # Phase 1: the healthy lines alone; the baseline. A line refused once and removed
        # first makes the stream transport create what it keeps for good after its first
        # closed flow (a dispatch timer), so the baseline counts it.
        self.daemon = Daemon(self.config_text(False, warm_up_port=free_tcp_port()))
        self.cleanups.append(self.daemon.cleanup)
        self.daemon.start()
        for name in HEALTHY:
            self.daemon.wait_for_log(rf"line={name} \S+ -> registered", timeout=20)
        self.daemon.wait_for_log(r"line=warm-up \S+ -> waiting: .*refused", timeout=20)
        self.daemon.write_config(self.config_text(False))
        self.daemon.reload()
        self.daemon.wait_for_log(r"reload applied: 0 added, 1 removed", timeout=10)
        wait_until(lambda: set(USERS) <= {b["aor"] for b in self.kam.ul_dump()}, 10, what="healthy bindings")
        self.baseline_families, _ = self.scrape()
        self.ctl_states()
        self.baseline_fds = self.stable_fds()

        # Phase 2: the faults.
        self.daemon.write_config(self.config_text(True))
        self.daemon.reload()
        self.daemon.wait_for_log(r"reload applied: 6 added", timeout=10)
        self.t_faults = time.monotonic()
        deadline = self.t_faults + PHASE_LIMIT
        while time.monotonic() < deadline and self.daemon.proc.poll() is None:
            self.sample()
            if self.faults_seen_enough():
                break
            time.sleep(SAMPLE_EVERY)
        self.t_faults_end = time.monotonic()
        self.bindings_after_faults = {b["aor"] for b in self.kam.ul_dump()}

        # Phase 3: the faults stop; the fault lines go away.
        self.t_stop = time.monotonic()
        for peer in self.peers.values():
            peer.stop()
        self.daemon.write_config(self.config_text(False))
        self.daemon.reload()
        self.daemon.wait_for_log(r"reload applied: 0 added, 6 removed", timeout=10)
        try:
            wait_until(lambda: self.fds() == self.baseline_fds, 20, interval=0.1, what="descriptors back")
            self.fds_back_after = time.monotonic() - self.t_stop
        except TimeoutError:
            self.fds_back_after = None
        self.final_fds = self.fds()
        self.baseline_handles = self.loop_handles(self.baseline_families)
        self.final_handles = None
        if self.baseline_handles is not None:
            try:
                wait_until(lambda: self.loop_handles(self.scrape()[0]) == self.baseline_handles, 10, interval=0.2,
                           what="loop handles back")
            except TimeoutError:
                pass
            self.final_handles = self.loop_handles(self.scrape()[0])

        # Phase 4: SIGTERM.
        self.t_sigterm = time.monotonic()
        self.exit_status = self.daemon.terminate_and_wait(timeout=20)

    def sample(self):
        t = time.monotonic()
        fds = self.fds()
        families = scrape_s = states = ctl_s = None
        try:
            families, scrape_s = self.scrape()
        except Exception as e:
            self.errors.append(f"t={t - self.t_faults:.1f}s metrics: {e!r}")
        try:
            states, ctl_s = self.ctl_states()
        except Exception as e:
            self.errors.append(f"t={t - self.t_faults:.1f}s control: {e!r}")
        self.samples.append((t, fds, families, scrape_s, ctl_s, states))

    def faults_seen_enough(self):
        """Every case has shown what its test checks: two Timer F cycles on the slow
        peer, the keep-alive bound and a second connection on the silent one, and a few
        retries on each fast one."""
        d = self.daemon
        silent, trickle = self.peers["silent"], self.peers["trickle"]
        if d.count_log(r"line=trickle registering -> waiting") < 2:
            return False
        if d.count_log(r"line=silent \S+ -> waiting: .*no keep-alive pong") < 1:
            return False
        if silent.connections() < 2 or silent.requests() < 3 or trickle.requests() < 3:
            return False
        return all(self.peers[n].connections() >= 5 for n in FAST_FAULTS)


class StreamFaultTest(unittest.TestCase):
    scenario = None

    @classmethod
    def setUpClass(cls):
        cls.scenario = FaultScenario()
        try:
            cls.scenario.run()
        except Exception:
            tail = cls.scenario.daemon.tail(60) if hasattr(cls.scenario, "daemon") else ""
            cls.scenario.cleanup()
            print(f"--- sipregd log tail ---\n{tail}", file=sys.stderr)
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.scenario is None:
            return
        s = cls.scenario
        if s.figures:
            print("\nfault figures:", file=sys.stderr)
            for key in sorted(s.figures):
                print(f"  {key}: {s.figures[key]}", file=sys.stderr)
        if os.environ.get("SIPREG_KEEP_TMP") == "1":
            print(f"sipregd log: {s.daemon.dir}/sipregd.log", file=sys.stderr)
        s.cleanup()

    # ---- helpers ----------------------------------------------------------------------

    @property
    def s(self):
        return self.scenario

    def fault_log(self, line_id, slack=0.0):
        """[(t, text)] of the line's log lines from the faults on until the peers were
        stopped (plus `slack` seconds)."""
        return [(t, text) for t, text in self.s.log_entries()
                if f"line={line_id} " in text and self.s.t_faults - 1 <= t <= self.s.t_stop + slack]

    def first_after(self, entries, t0, pattern, limit):
        """The first (t, text) in `entries` at or after t0 (within `limit` s) matching."""
        rx = re.compile(pattern)
        for t, text in entries:
            if t0 - 0.05 <= t <= t0 + limit and rx.search(text):
                return t, text
        return None

    def tail(self):
        return "\n--- sipregd ---\n" + self.s.daemon.tail(50)

    def metric_series(self, name, **labels):
        out = []
        for t, _, families, _, _, _ in self.s.samples:
            if families is None or name not in families:
                continue
            for sample_labels, v in families[name]["samples"]:
                if sample_labels == labels:
                    out.append((t, v))
        return out

    def assert_naming_line(self, line_id, port, what, entries=None):
        """Some log line names the line, the peer's address and `what` (a regex); returns
        the first such (t, text)."""
        rx = re.compile(what)
        entries = self.fault_log(line_id) if entries is None else entries
        for t, text in entries:
            if f"line={line_id} " in text and f"127.0.0.1:{port}" in text and rx.search(text):
                return t, text
        self.fail(f"no log line names line={line_id}, 127.0.0.1:{port} and /{what}/:\n"
                  + "\n".join(text for _, text in entries[-15:]))

    def assert_backs_off(self, line_id, min_failures, gauge_sampled=True):
        """Every "-> waiting ... retry in X" is followed by the retry no sooner than the
        announced delay allows (it is rounded to whole seconds) and not much later; the
        metrics showed the failures counting up and (`gauge_sampled`: for lines that spend
        most of their time waiting, so a sample sees it) a positive backoff gauge."""
        entries = self.fault_log(line_id)
        waits = [(t, text) for t, text in entries if re.search(rf"line={line_id} \S+ -> waiting: ", text)]
        self.assertGreaterEqual(len(waits), min_failures, f"{line_id}: too few failures seen" + self.tail())
        gaps = []
        retry_rx = re.compile(rf"line={line_id} waiting -> registering")
        for i, (t, text) in enumerate(entries):
            if not re.search(rf"line={line_id} \S+ -> waiting: ", text):
                continue
            delay = parse_delay(text)
            self.assertIsNotNone(delay, f"no retry delay in: {text}")
            nxt = next(((u, x) for u, x in entries[i + 1:] if retry_rx.search(x)), None)
            if nxt is None:
                continue  # the phase ended during this wait
            gap = nxt[0] - t
            gaps.append((delay, round(gap, 2)))
            self.assertGreaterEqual(gap, max(0.0, delay - 0.6), f"{line_id}: retried early after {text}")
            self.assertLessEqual(gap, delay + 5.0, f"{line_id}: retried late after {text}")
        self.assertTrue(gaps, f"{line_id}: no retry seen")
        failures = self.metric_series("sipregd_line_consecutive_failures", line=line_id)
        backoff = self.metric_series("sipregd_line_backoff_seconds", line=line_id)
        self.assertTrue(failures and backoff, f"{line_id}: no backoff metrics sampled")
        max_failures = max(v for _, v in failures)
        max_backoff = max(v for _, v in backoff)
        self.assertGreaterEqual(max_failures, min_failures - 1, f"{line_id}: consecutive failures {failures}")
        if gauge_sampled:
            self.assertGreater(max_backoff, 0, f"{line_id}: the backoff gauge never showed a wait")
        self.assertLessEqual(max_backoff, RETRY_MAX + 0.5)
        self.s.figures[f"{line_id} backoff (announced s, actual s)"] = gaps
        self.s.figures[f"{line_id} max consecutive failures / backoff gauge"] = (max_failures, round(max_backoff, 2))
        return gaps

    def assert_no_hot_loop(self, name, min_gap=0.4, max_connections=30):
        accepts = [t for t, _, _ in self.s.peers[name].events("accept") if t <= self.s.t_stop]
        gaps = [b - a for a, b in zip(accepts, accepts[1:])]
        self.assertLessEqual(len(accepts), max_connections, f"{name}: {len(accepts)} connections")
        if gaps:
            self.assertGreaterEqual(min(gaps), min_gap, f"{name}: reconnected after {min(gaps):.2f}s")
        self.s.figures[f"{name} connections during the fault"] = len(accepts)

    def left_registered(self, line_id):
        """Log lines where the line left the registered state before the SIGTERM."""
        return [text for t, text in self.s.log_entries()
                if re.search(rf"line={line_id} registered -> ", text) and t < self.s.t_sigterm]

    def assert_never_registered(self, line_id):
        self.assertEqual([text for _, text in self.fault_log(line_id) if "-> registered" in text], [])

    def detection(self, line_id, events, pattern, limit):
        """Delays from each peer event time to the daemon's first matching log line."""
        entries = self.fault_log(line_id, slack=limit)
        delays = []
        for t in events:
            if t > self.s.t_faults_end - 1.0:
                continue  # its outcome may be hidden by the end of the phase
            hit = self.first_after(entries, t, pattern, limit)
            self.assertIsNotNone(hit, f"{line_id}: nothing matching /{pattern}/ within {limit}s of the fault "
                                      f"at t={t - self.s.t_faults:.1f}s" + self.tail())
            delays.append(hit[0] - t)
        self.assertTrue(delays, f"{line_id}: the fault never happened")
        self.s.figures[f"{line_id} detection s (min/max over {len(delays)})"] = (round(min(delays), 3),
                                                                                 round(max(delays), 3))
        return delays

    # ---- the cases --------------------------------------------------------------------

    def test_connection_reset_mid_message(self):
        peer = self.s.peers["reset"]
        resets = [t for t, _, _ in peer.events("reset")]
        self.assertGreaterEqual(len(resets), 3, "the peer reset fewer than 3 connections")
        self.assertEqual(len(peer.events("half_sent")), len(peer.events("reset")))
        _, text = self.assert_naming_line("reset", peer.port, r"-> waiting: .*(reset by peer|ECONNRESET)")
        self.s.figures["reset log line"] = text
        self.detection("reset", resets, r"-> waiting: .*(reset by peer|ECONNRESET)", DETECT_FAST)
        self.assert_backs_off("reset", 3)
        self.assert_no_hot_loop("reset")
        self.assert_never_registered("reset")

    def test_peer_that_accepts_and_never_answers(self):
        peer = self.s.peers["silent"]
        requests = [t for t, _, _ in peer.events("request")]
        self.assertGreaterEqual(len(requests), 3, "fewer than 3 attempts reached the silent peer")
        self.assertGreaterEqual(peer.connections(), 2)
        # The transaction gives up at Timer F.
        first = requests[0]
        hit = self.first_after(self.fault_log("silent"), first, r"-> waiting: ", TIMER_F + DETECT_TIMER_SLACK)
        self.assertIsNotNone(hit, "no failure within Timer F of the first REGISTER" + self.tail())
        self.assertGreaterEqual(hit[0] - first, TIMER_F - 1.0, f"gave up early: {hit[1]}")
        self.s.figures["silent first failure after REGISTER s"] = round(hit[0] - first, 2)
        # The stream's keep-alive bounds a connection that answers nothing: it is closed.
        _, text = self.assert_naming_line("silent", peer.port, r"no keep-alive pong")
        self.s.figures["silent keep-alive log line"] = text
        accept1 = peer.events("accept")[0][0]
        eof1 = [t for t, n, _ in peer.events("eof") if n == 1]
        self.assertTrue(eof1, "the daemon never closed the first silent connection")
        self.assertLessEqual(eof1[0] - accept1, KEEPALIVE_BOUND + DETECT_TIMER_SLACK)
        self.s.figures["silent connection closed after s"] = round(eof1[0] - accept1, 2)
        # One connection at a time: the closed one was not kept.
        for n in range(1, peer.connections()):
            closed = [t for t, c, _ in peer.events("eof") if c == n]
            opened_next = peer.events("accept")[n][0]
            self.assertTrue(closed and closed[0] <= opened_next + 0.5, f"connection {n} still open when "
                                                                       f"connection {n + 1} was made")
        self.assert_backs_off("silent", 2, gauge_sampled=False)
        self.assert_never_registered("silent")
        # The timeout's log line says where no answer came from, like every other fault's.
        self.s.figures["silent timeout log line"] = [text for _, text in self.fault_log("silent")
                                                     if "no response" in text][:1]
        self.assert_naming_line("silent", peer.port, r"-> waiting: .*(no response|timed out|timeout)")

    def test_slow_peer_sending_one_byte_a_second(self):
        peer = self.s.peers["trickle"]
        requests = [t for t, _, _ in peer.events("request")]
        self.assertGreaterEqual(len(requests), 3)
        self.assertGreater(peer.bytes_sent, 15, "the peer did not trickle")
        entries = self.fault_log("trickle")
        # The bytes keep the connection looking alive, but a message left incomplete for
        # STALL_LIMIT closes it (before Timer F would end the transaction), and the next
        # attempt comes after the backoff, over a new connection.
        for i, sent in enumerate(requests[:-1]):
            hit = self.first_after(entries, sent, r"-> waiting: ", STALL_LIMIT + DETECT_TIMER_SLACK)
            self.assertIsNotNone(hit, f"attempt {i + 1} never ended" + self.tail())
            self.assertGreaterEqual(hit[0] - sent, STALL_LIMIT - 1.0, f"gave up early: {hit[1]}")
            self.assertIn("still incomplete", hit[1])
            self.assertGreaterEqual(requests[i + 1], hit[0] + 0.3, "retried without a backoff")
            self.s.figures.setdefault("trickle attempt ended after s", []).append(round(hit[0] - sent, 2))
        self.assertGreaterEqual(peer.connections(), 2, "the stalled connection was kept")
        # The trickled 200 never counts: no registration, no framing error on a slow but
        # well-formed stream.
        self.assert_never_registered("trickle")
        self.assertEqual(self.s.daemon.count_log(rf"framing error on connection to 127\.0\.0\.1:{peer.port}"), 0)
        self.assert_backs_off("trickle", 2, gauge_sampled=False)
        self.s.figures["trickle log line"] = [text for _, text in entries if "still incomplete" in text][:1]
        self.assert_naming_line("trickle", peer.port, r"-> waiting: .*timed out: a message began \d+ s ago")

    def test_tls_peer_with_an_expired_certificate(self):
        peer = self.s.peers["expired"]
        failed = peer.events("tls_failed")
        self.assertGreaterEqual(len(failed), 2, "fewer than 2 handshakes were tried")
        # Refused by us, with the reason sent to the peer as an alert.
        self.assertTrue(all("CERTIFICATE_EXPIRED" in d.upper() for _, _, d in failed), failed)
        self.assertEqual(peer.events("tls_ok"), [], "a handshake with the expired certificate completed")
        self.assertEqual(peer.requests(), 0, "a REGISTER crossed")
        _, text = self.assert_naming_line("expired", peer.port, r"(?i)-> waiting: .*certificate has expired")
        self.s.figures["expired log line"] = text
        self.detection("expired", [t for t, _, _ in peer.events("accept")], r"(?i)certificate has expired",
                       DETECT_FAST)
        self.assert_backs_off("expired", 3)
        self.assert_no_hot_loop("expired", max_connections=15)
        self.assert_never_registered("expired")
        # The line beside it, same CA and TLS settings, to a good certificate: unaffected.
        self.assertIn("healthy-tls", self.s.bindings_after_faults)
        self.assertEqual(self.left_registered("healthy-tls"), [], self.tail())

    def test_peer_closing_right_after_accept(self):
        peer = self.s.peers["fin"]
        fins = [t for t, _, _ in peer.events("fin")]
        self.assertGreaterEqual(len(fins), 3)
        _, text = self.assert_naming_line("fin", peer.port, r"-> waiting: .*closed by the peer")
        self.s.figures["fin log line"] = text
        self.detection("fin", fins, r"-> waiting: .*closed by the peer", DETECT_FAST)
        self.assert_backs_off("fin", 3)
        self.assert_no_hot_loop("fin")
        self.assert_never_registered("fin")

    def test_bytes_that_never_frame_as_sip(self):
        peer = self.s.peers["garbage"]
        starts = [t for t, _, _ in peer.events("garbage_start")]
        self.assertGreaterEqual(len(starts), 3)
        _, text = self.assert_naming_line("garbage", peer.port, r"-> waiting: .*framing error")
        self.s.figures["garbage log line"] = text
        self.assertRegex(text, r"longer than \d+ bytes")
        self.detection("garbage", starts, r"-> waiting: .*framing error", DETECT_FAST)
        self.assert_backs_off("garbage", 3)
        self.assert_no_hot_loop("garbage")
        self.assert_never_registered("garbage")

    def test_daemon_stays_responsive_and_healthy_lines_registered(self):
        s = self.s
        self.assertEqual(s.errors, [], "the daemon did not answer a scrape or a control request")
        self.assertGreaterEqual(len(s.samples), 10)
        scrape_times = [x[3] for x in s.samples if x[3] is not None]
        ctl_times = [x[4] for x in s.samples if x[4] is not None]
        s.figures["scrape seconds max"] = round(max(scrape_times), 3)
        s.figures["control status seconds max"] = round(max(ctl_times), 3)
        s.figures["fault phase seconds"] = round(s.t_faults_end - s.t_faults, 1)
        self.assertLess(max(scrape_times), RESPONSIVE)
        self.assertLess(max(ctl_times), CTL_RESPONSIVE)
        for name in HEALTHY:
            # Registered on every sample, never left the state, refreshed meanwhile.
            for _, _, _, _, _, states in s.samples:
                if states is not None:
                    self.assertEqual(states.get(name), "registered", states)
            series = self.metric_series("sipregd_line_registered", line=name)
            self.assertTrue(series and all(v == 1 for _, v in series), f"{name}: {series}")
            self.assertEqual(self.left_registered(name), [], f"{name} left registered during the faults" + self.tail())
            refreshes = [t for t, text in s.log_entries()
                         if f"line={name} registered, expires" in text and s.t_faults <= t <= s.t_faults_end]
            s.figures[f"{name} refreshes during the faults"] = len(refreshes)
            self.assertGreaterEqual(len(refreshes), 4, f"{name} was not refreshed during the faults")
            self.assertIn(name, s.bindings_after_faults)

    def test_descriptors_and_handles_return_and_the_exit_is_clean(self):
        s = self.s
        during = [fds for _, fds, _, _, _, _ in s.samples]
        s.figures["fds baseline / max during / final"] = (s.baseline_fds, max(during), s.final_fds)
        s.figures["fds back to baseline after s"] = (round(s.fds_back_after, 2) if s.fds_back_after is not None
                                                    else None)
        # At most one connection per fault line (plus a scrape or control connection in flight).
        self.assertLessEqual(max(during), s.baseline_fds + len(s.peers) + 2, during)
        self.assertIsNotNone(s.fds_back_after, f"descriptors stayed at {s.final_fds}, baseline {s.baseline_fds}")
        self.assertEqual(s.final_fds, s.baseline_fds)
        self.assertEqual(s.exit_status, 0, "sipregd did not exit cleanly on SIGTERM" + self.tail())
        text = s.daemon.log_text()
        self.assertNotIn("handles still open", text)
        for marker in ("LeakSanitizer", "AddressSanitizer", "runtime error:"):
            self.assertNotIn(marker, text)
        # Every socket and timer of the fault flows was closed, not just the descriptors.
        s.figures["loop handles baseline / final"] = (s.baseline_handles, s.final_handles)
        self.assertIsNotNone(s.baseline_handles, "the metrics page has no sipregd_loop_handles")
        self.assertEqual(s.final_handles, s.baseline_handles)


if __name__ == "__main__":
    unittest.main()
