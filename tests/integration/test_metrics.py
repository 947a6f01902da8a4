"""The Prometheus endpoint against a real Kamailio: /metrics is scraped over HTTP, parsed as
the text exposition format (strictly: every sample belongs to the family declared just
before it), and the values are checked against what the registrar saw."""
import re
import socket
import time
import unittest
import urllib.error
import urllib.request

from peer_case import PeerCase
from sipregd_config import config, line
from stream_util import free_tcp_port

USERS = {"user1": "good-secret-1", "user2": "good-secret-2", "user3": "real-secret-3"}

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SAMPLE = re.compile(rf"^({_NAME})(?:\{{(.*)\}})? (\S+)(?: (-?\d+))?$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def _unescape(value):
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "\\": "\\", '"': '"'}[m.group(1)], value)


def parse_exposition(text):
    """{family: {"type", "help", "samples": [(labels dict, float)]}}; raises ValueError on
    anything the 0.0.4 text format does not allow."""
    families = {}
    current = None
    if text and not text.endswith("\n"):
        raise ValueError("the page does not end with a line feed")
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw:
            continue
        if raw.startswith("#"):
            parts = raw.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                fam = families.setdefault(name, {"type": None, "help": None, "samples": []})
                if fam["samples"]:
                    raise ValueError(f"line {number}: {name} declared after its samples")
                key = parts[1].lower()
                if fam[key] is not None:
                    raise ValueError(f"line {number}: second {parts[1]} for {name}")
                fam[key] = parts[3] if len(parts) > 3 else ""
                if key == "type" and fam["type"] not in ("counter", "gauge", "histogram", "summary", "untyped"):
                    raise ValueError(f"line {number}: unknown type {fam['type']}")
                current = name
            continue
        m = _SAMPLE.match(raw)
        if not m:
            raise ValueError(f"line {number}: not a sample: {raw!r}")
        name, label_text, value = m.group(1), m.group(2), m.group(3)
        family = name
        if name != current and current and families[current]["type"] == "histogram" and \
                name in (current + "_bucket", current + "_sum", current + "_count"):
            family = current
        if family != current:
            raise ValueError(f"line {number}: {name} outside its family (current {current})")
        labels = {}
        if label_text:
            pos = 0
            while pos < len(label_text):
                lm = _LABEL.match(label_text, pos)
                if not lm:
                    raise ValueError(f"line {number}: bad labels {label_text!r}")
                if lm.group(1) in labels:
                    raise ValueError(f"line {number}: label {lm.group(1)} twice")
                labels[lm.group(1)] = _unescape(lm.group(2))
                pos = lm.end()
        if family != name:
            labels["__name__"] = name  # a histogram's _bucket/_sum/_count kept apart
        families[family]["samples"].append((labels, float(value)))
    for name, fam in families.items():
        if fam["type"] is None:
            raise ValueError(f"{name} has no TYPE")
        seen = set()
        for labels, _ in fam["samples"]:
            key = tuple(sorted(labels.items()))
            if key in seen:
                raise ValueError(f"{name}{labels} twice")
            seen.add(key)
    return families


def value(families, name, **labels):
    """The value of the one sample of `name` with exactly these labels (KeyError if none)."""
    for sample_labels, v in families[name]["samples"]:
        if sample_labels == labels:
            return v
    raise KeyError(f"{name}{labels} not on the page")


class MetricsTest(PeerCase):
    users = USERS

    def scrape(self, path="/metrics"):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
            self.assertEqual(r.status, 200)
            self.assertEqual(r.headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
            return parse_exposition(r.read().decode("utf-8"))

    def start(self, lines, **kwargs):
        self.port = free_tcp_port()
        self.kam = self.start_kamailio(**kwargs)
        self.t_start = time.time()
        d = self.start_daemon(config(lines(self.kam), expires=60, metrics=f"127.0.0.1:{self.port}"))
        d.wait_for_log(rf"metrics on http://127\.0\.0\.1:{self.port}/metrics")
        return d

    def test_registered_and_refused_lines_as_a_scraper_sees_them(self):
        # Grants of 10 s make refreshes come within the test.
        self.start(lambda kam: [line("good1", "user1", kam.address, USERS["user1"]),
                                line("good2", "user2", kam.address, USERS["user2"]),
                                line("badpw", "user3", kam.address, "wrong-password")],
                   max_expires=10, min_expires=5)
        self.wait_registered(self.kam, ["user1", "user2"])

        def settled():
            f = self.scrape()
            ok = all(value(f, "sipregd_line_registered", line=l) == 1 for l in ("good1", "good2"))
            refused = value(f, "sipregd_line_registration_attempts_total", line="badpw", outcome="refused")
            return f if ok and refused >= 1 else None

        f = self.wait(settled, 20, "good lines registered and the wrong password refused")

        for l in ("good1", "good2"):
            expiry = value(f, "sipregd_line_expiry_seconds", line=l)
            self.assertGreater(expiry, 0)
            self.assertLessEqual(expiry, 10)
            self.assertEqual(value(f, "sipregd_line_granted_expiry_seconds", line=l), 10)
            self.assertEqual(value(f, "sipregd_line_state", line=l, state="registered"), 1)
            self.assertEqual([lb["state"] for lb, _ in f["sipregd_line_state"]["samples"] if lb["line"] == l],
                             ["registered"])
            self.assertGreaterEqual(value(f, "sipregd_line_registration_attempts_total", line=l,
                                          outcome="success"), 1)
            self.assertEqual(value(f, "sipregd_line_consecutive_failures", line=l), 0)
        # The wrong password: never registered, refused, and the line failed (long retry).
        self.assertEqual(value(f, "sipregd_line_registered", line="badpw"), 0)
        self.assertEqual(value(f, "sipregd_line_expiry_seconds", line="badpw"), 0)
        self.assertEqual(value(f, "sipregd_line_registration_attempts_total", line="badpw", outcome="success"), 0)
        self.assertGreaterEqual(value(f, "sipregd_line_registration_attempts_total", line="badpw",
                                      outcome="challenged"), 1)
        # One refusal, counted once, then the long failed_retry wait.
        self.assertEqual(value(f, "sipregd_line_registration_attempts_total", line="badpw", outcome="refused"), 1)
        self.assertGreater(value(f, "sipregd_line_backoff_seconds", line="badpw"), 60)
        self.assertEqual(value(f, "sipregd_line_state", line="badpw", state="failed"), 1)
        self.assertEqual(value(f, "sipregd_line_last_status_code", line="badpw"), 401)
        self.assertEqual(value(f, "sipregd_lines", state="registered"), 2)
        self.assertEqual(value(f, "sipregd_lines", state="failed"), 1)
        # Types as scrapers expect them.
        self.assertEqual(f["sipregd_line_registration_attempts_total"]["type"], "counter")
        self.assertEqual(f["sipregd_line_registered"]["type"], "gauge")
        for name in ("sipregd_transaction_retransmissions_total", "sipregd_transaction_timeouts_total",
                     "sipregd_malformed_messages_total"):
            self.assertEqual(f[name]["type"], "counter")
            self.assertGreaterEqual(value(f, name), 0)
        # Build info and start time.
        (labels, build), = f["sipregd_build_info"]["samples"]
        self.assertEqual(build, 1)
        self.assertRegex(labels["version"], r"^\d+\.\d+")
        start = value(f, "sipregd_process_start_time_seconds")
        self.assertGreaterEqual(start, self.t_start - 1)
        self.assertLessEqual(start, time.time())

        # A refresh (every few seconds with 10 s grants) shows up as another success, and
        # the registrar counted the REGISTERs the page reports.
        before = value(f, "sipregd_line_registration_attempts_total", line="good1", outcome="success")
        sent_before = value(f, "sipregd_line_register_requests_total", line="good1")
        after = self.wait(lambda: (lambda g: g if value(g, "sipregd_line_registration_attempts_total",
                                                         line="good1", outcome="success") > before else None)(
                              self.scrape()), 15, "a refresh counted as a success")
        self.assertGreater(value(after, "sipregd_line_register_requests_total", line="good1"), sent_before)
        self.assertEqual(value(after, "sipregd_line_registered", line="good1"), 1)
        self.assertGreater(value(after, "sipregd_line_expiry_seconds", line="good1"), 0)

    def test_only_get_of_metrics_is_served_and_scrapes_may_overlap(self):
        self.start(lambda kam: [line("good1", "user1", kam.address, USERS["user1"])])
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(f"http://127.0.0.1:{self.port}/other", timeout=5)
        self.assertEqual(e.exception.code, 404)
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/metrics", data=b"x", method="POST")
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(request, timeout=5)
        self.assertEqual(e.exception.code, 405)
        self.assertEqual(e.exception.headers["Allow"], "GET, HEAD")
        # A client holding a half-sent request open does not stop another scrape.
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as slow:
            slow.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            self.assertIn("sipregd_build_info", self.scrape())
            # An oversized head is refused and the connection closed.
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as big:
                big.sendall(b"GET /metrics HTTP/1.1\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n")
                reply = b""
                while True:
                    chunk = big.recv(4096)
                    if not chunk:
                        break
                    reply += chunk
                self.assertTrue(reply.startswith(b"HTTP/1.1 431 "), reply[:80])

    def test_a_metrics_address_in_use_stops_the_start(self):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
            held.bind(("127.0.0.1", 0))
            held.listen(1)
            port = held.getsockname()[1]
            kam = self.start_kamailio()
            d = self.start_daemon(config([line("good1", "user1", kam.address, USERS["user1"])],
                                         metrics=f"127.0.0.1:{port}"))
            d.wait_for_log(rf"cannot listen on tcp 127\.0\.0\.1:{port}")
            self.assertEqual(d.proc.wait(timeout=10), 3)  # kExitStartup


if __name__ == "__main__":
    unittest.main()
