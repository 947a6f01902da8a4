"""sipregd against a hostile registrar: SIPp answers one line's REGISTERs with oversized,
truncated, mis-framed, binary and misaddressed responses (sipp/uas_hostile.xml) before the
good 200 OK, and a plain socket adds datagrams SIPp cannot send (NUL bytes, a header
section cut short, an empty datagram). The line keeps working, the lines registered at a
real Kamailio never notice, and every piece of garbage is counted on the metrics page
exactly once, in the class it belongs to."""
import json
import os
import random
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request

from kamailio import sip_options_ping
from peer_case import PeerCase
from sipp import Sipp
from sipregd_config import config, line
from stream_util import free_tcp_port
from test_control import sipregctl_binary
from test_metrics import parse_exposition, value
from test_stranger_flood import udp_drops

CALM_USERS = {f"calm{i}": f"calm-secret-{i}" for i in range(4)}
HOSTILE_GRANTED = 10  # s; the line refreshes every 3 s or so, each time through the garbage

# What one REGISTER transaction of the hostile line draws from uas_hostile.xml (its comment
# lists them): responses the parser refuses, and parsed responses that belong to no
# transaction of ours (foreign branch, CSeq method not REGISTER, no CSeq at all).
MALFORMED_PER_REGISTER = 10
STRAY_PER_REGISTER = 6

UDP_MAX_PAYLOAD = 65507  # IPv4: 65,535 minus the IP and UDP headers


def raw_garbage(branch_host):
    """Datagrams for a plain socket: (bytes, expected class). NUL bytes, a cut header section
    and an empty datagram are what SIPp cannot send."""
    rnd = random.Random(61)
    noise = lambda n: bytes(rnd.randrange(256) for _ in range(n))  # noqa: E731
    foreign_via = f"Via: SIP/2.0/UDP {branch_host};branch=z9hG4bKraw-foreign"
    return [
        # Binary starting with NUL: no method token can start there.
        (b"\x00" + noise(1199), "malformed"),
        (b"\x00" + noise(1199), "malformed"),
        (b"\x00\x00\x00\x00" + noise(60), "malformed"),
        # A status line running into NULs without a line end.
        (b"SIP/2.0 200 OK" + b"\x00" * 200, "malformed"),
        # The largest datagram IPv4 carries, all noise.
        (b"\x00" + noise(UDP_MAX_PAYLOAD - 1), "malformed"),
        # An empty datagram.
        (b"", "malformed"),
        # Cut inside the header section: no empty line ever comes.
        ((f"SIP/2.0 200 OK\r\n{foreign_via}\r\nFrom: <sip:hostile@sipreg.test>;tag=1\r\n"
          f"To: <sip:hostile@sip").encode(), "malformed"),
        # Cut inside the status line.
        (b"SIP/2.0 20", "malformed"),
        # Well framed, a NUL inside a header value: SIP text allows no NUL, but the value is
        # only ever compared as bytes, so the parser keeps it and the foreign branch makes it
        # a stray response.
        ((f"SIP/2.0 200 OK\r\n{foreign_via}\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n"
          f"Call-ID: nul\x00inside\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n").encode(), "stray"),
        # A keep-alive (RFC 5626): counted as such, not as garbage.
        (b"\r\n\r\n", "keepalive"),
    ]


def ctl_status(control_socket):
    r = subprocess.run([sipregctl_binary(), "-s", control_socket, "status", "--json"], capture_output=True,
                       text=True, timeout=20, stdin=subprocess.DEVNULL)
    if r.returncode not in (0, 1):  # 1: some line not registered; the JSON is still printed
        raise AssertionError(f"sipregctl status --json exited {r.returncode}: {r.stdout}{r.stderr}")
    return {l["id"]: l for l in json.loads(r.stdout)["lines"]}


class HostileCase(PeerCase):
    users = CALM_USERS

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sipreg-hostile-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.control = os.path.join(self.tmp, "control.sock")
        self.metrics_port = free_tcp_port()

    def scrape(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as r:
            return parse_exposition(r.read().decode("utf-8"))

    def start_hostile_daemon(self, scenario, calm_registrar=None):
        uas = self.start_peer(Sipp(scenario, keys={"granted": HOSTILE_GRANTED}))
        lines = [line("hostile", "hostile", uas.address, "hostile-secret")]
        if calm_registrar is not None:
            lines = [line(u, u, calm_registrar.address, pw) for u, pw in sorted(CALM_USERS.items())] + lines
        d = self.start_daemon(config(lines, expires=60, metrics=f"127.0.0.1:{self.metrics_port}",
                                     control=self.control))
        d.wait_for_log(rf"metrics on http://127\.0\.0\.1:{self.metrics_port}/metrics")
        port = int(d.wait_for_log(r"listening on udp 127\.0\.0\.1:(\d+)").group(1))
        return uas, d, port

    def quiet_page(self, line_id, after_registers):
        """A page on which every REGISTER the line sent has had its good 200 OK, and more than
        `after_registers` were sent: nothing of a series is still on its way, so the garbage
        counters are final for the REGISTERs the page reports, and whatever reached the
        socket before the REGISTER that came after `after_registers` has been read."""
        def quiet():
            f = self.scrape()
            sent = value(f, "sipregd_line_register_requests_total", line=line_id)
            ok = value(f, "sipregd_line_registration_attempts_total", line=line_id, outcome="success")
            return f if sent == ok and sent > after_registers else None
        return self.wait(quiet, 15, f"a page with every REGISTER of {line_id} answered")

    def assert_clean_exit(self, d):
        self.assertEqual(d.terminate_and_wait(timeout=15), 0, d.tail())
        text = d.log_text()
        for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            self.assertNotIn(marker, text)


class HostileRegistrarTest(HostileCase):
    def test_garbage_is_counted_the_line_keeps_working_and_other_lines_never_notice(self):
        kam = self.start_kamailio(max_expires=10, min_expires=5, timer_interval=1)
        uas, d, port = self.start_hostile_daemon("uas_hostile.xml", calm_registrar=kam)
        self.wait_registered(kam, CALM_USERS)
        self.wait(lambda: value(self.scrape(), "sipregd_line_registered", line="hostile") == 1, 20,
                  "the hostile line registered")
        first_cseq = {aor: b["cseq"] for aor, b in self.bindings(kam).items()}

        # What a plain socket adds, sent once from the registrar's address.
        garbage = raw_garbage("127.0.0.1")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            # Above the IPv4 maximum nothing leaves the host: the daemon's 64 KiB receive
            # buffer can never see a datagram it would have to cut.
            with self.assertRaises(OSError):
                s.sendto(b"x" * (UDP_MAX_PAYLOAD + 1), ("127.0.0.1", port))
            for data, _ in garbage:
                s.sendto(data, ("127.0.0.1", port))
                time.sleep(0.005)
        registers_before_raw = value(self.scrape(), "sipregd_line_register_requests_total", line="hostile")

        # 15 s: the hostile line refreshes about five times through the garbage, the calm
        # lines (10 s grants) about five times at Kamailio; none of their bindings may lapse.
        deadline = time.monotonic() + 15
        samples = 0
        while time.monotonic() < deadline:
            held = self.bindings(kam)
            self.assertEqual(set(held), set(CALM_USERS), "a calm line's binding disappeared")
            for aor, b in held.items():
                self.assertGreater(b["expires"], 0, f"{aor}'s binding ran out")
            samples += 1
            time.sleep(0.5)
        self.assertGreater(samples, 10)

        f = self.quiet_page("hostile", registers_before_raw)
        drops = udp_drops(port)
        registers = value(f, "sipregd_line_register_requests_total", line="hostile")
        self.assertGreaterEqual(registers, 5, "the hostile line should have refreshed several times")
        raw_malformed = sum(1 for _, kind in garbage if kind == "malformed")
        raw_stray = sum(1 for _, kind in garbage if kind == "stray")
        # Every REGISTER drew the whole series once (a retransmitted REGISTER only gets the
        # 100 Trying again), and each datagram of the socket was seen once.
        lost = f"datagrams the kernel dropped at the daemon's socket: {drops}"
        self.assertEqual(value(f, "sipregd_malformed_messages_total"),
                         MALFORMED_PER_REGISTER * registers + raw_malformed, lost)
        self.assertEqual(value(f, "sipregd_stray_responses_total"), STRAY_PER_REGISTER * registers + raw_stray,
                         lost)
        self.assertEqual(value(f, "sipregd_keepalive_pings_received_total"), 1)
        # The log says the same, one line per dropped datagram (the log reaches us a moment
        # after the page; the next series is seconds away).
        logged = (value(f, "sipregd_malformed_messages_total"), value(f, "sipregd_stray_responses_total"))
        self.wait(lambda: (d.count_log(r"dropped malformed datagram"), d.count_log(r"stray response \d+")) == logged,
                  2, f"{logged[0]} malformed and {logged[1]} stray lines in the log")
        # Every transaction ended with its final response: the garbage never stalled one.
        self.assertEqual(value(f, "sipregd_transaction_timeouts_total"), 0)

        # The hostile line: registered on the good 200 only (the garbage offered 3600 s and a
        # 403), every REGISTER a success, never waiting or failed.
        self.assertEqual(value(f, "sipregd_line_registered", line="hostile"), 1)
        self.assertEqual(value(f, "sipregd_line_granted_expiry_seconds", line="hostile"), HOSTILE_GRANTED)
        self.assertGreater(value(f, "sipregd_line_expiry_seconds", line="hostile"), 0)
        self.assertEqual(value(f, "sipregd_line_last_status_code", line="hostile"), 200)
        for outcome in ("refused", "server_error", "timeout", "transport_error"):
            self.assertEqual(value(f, "sipregd_line_registration_attempts_total", line="hostile", outcome=outcome), 0)
        self.assertEqual(d.count_log(r"line=hostile .*-> (waiting|failed)"), 0)
        # Every line: registered, no binding lapsed.
        for l in list(CALM_USERS) + ["hostile"]:
            self.assertEqual(value(f, "sipregd_line_binding_lapses_total", line=l), 0, l)
            self.assertEqual(value(f, "sipregd_line_registered", line=l), 1, l)
        self.assertEqual(value(f, "sipregd_lines", state="registered"), len(CALM_USERS) + 1)
        # The calm lines refreshed at Kamailio meanwhile (CSeq grows by one per refresh).
        for aor, b in self.bindings(kam).items():
            self.assertGreaterEqual(b["cseq"] - first_cseq[aor], 3, aor)

        # Still responsive: the control socket, a SIP OPTIONS, and a clean exit under ASan.
        status = ctl_status(self.control)
        self.assertEqual({k: v["state"] for k, v in status.items()},
                         {**{u: "registered" for u in CALM_USERS}, "hostile": "registered"})
        self.assertEqual(sip_options_ping("127.0.0.1", port, timeout=2.0), 200)
        self.assertIsNone(d.proc.poll())
        self.assert_clean_exit(d)
        self.assertEqual(kam.ul_dump(), [])  # the calm lines unregistered at shutdown


class ForeignDialogTest(HostileCase):
    def test_a_final_response_with_our_branch_but_another_call_id_or_cseq_is_not_ours(self):
        # RFC 3261 17.1.3 matches a response to a client transaction by the top Via's branch
        # and the CSeq method; 8.2.6.2 makes the UAS copy Call-ID, CSeq and From. A 403 with
        # our branch and someone else's Call-ID, or another CSeq number, answers no request
        # of ours: taking it would fail the line for failed_retry on a refusal meant for
        # nobody. Both must be dropped as stray, and the good 200 OK after them registers.
        uas, d, port = self.start_hostile_daemon("uas_foreign_dialog.xml")

        def first_registration_and_two_refreshes():
            taken = [t for t in d.log() if re.search(r"line=hostile .*-> (waiting|failed)", t)]
            if taken:
                raise AssertionError(f"a response to another dialog was taken as the answer: {taken[0]}")
            f = self.scrape()
            return value(f, "sipregd_line_registration_attempts_total", line="hostile", outcome="success") >= 3

        self.wait(first_registration_and_two_refreshes, 20, "the first registration and two refreshes")
        f = self.quiet_page("hostile", 2)
        registers = value(f, "sipregd_line_register_requests_total", line="hostile")
        self.assertEqual(value(f, "sipregd_stray_responses_total"), 2 * registers)
        self.assertEqual(value(f, "sipregd_malformed_messages_total"), 0)
        self.assertEqual(value(f, "sipregd_line_registration_attempts_total", line="hostile", outcome="refused"), 0)
        self.assertEqual(value(f, "sipregd_line_granted_expiry_seconds", line="hostile"), HOSTILE_GRANTED)
        self.assertEqual(value(f, "sipregd_line_last_status_code", line="hostile"), 200)
        self.assertEqual(ctl_status(self.control)["hostile"]["state"], "registered")
        self.assert_clean_exit(d)


if __name__ == "__main__":
    unittest.main()
