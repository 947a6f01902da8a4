"""sipregd against a real Kamailio registrar: registering, refreshing, refusals, 423 and
unregistering at shutdown, checked in the registrar's own location table."""
import os
import re
import time
import unittest

from daemon import Daemon
from harness_util import wait_until
from kamailio import Kamailio
from sipregd_config import config, line

USERS = {f"user{i}": f"secret-{i}" for i in range(5)}


class KamailioCase(unittest.TestCase):
    def start_kamailio(self, **kwargs):
        kam = Kamailio(users=dict(USERS, **kwargs.pop("users", {})), **kwargs)
        kam.start()
        self.addCleanup(kam.cleanup)
        return kam

    def start_daemon(self, text, **kwargs):
        d = Daemon(text, **kwargs)
        d.start()
        self.addCleanup(d.cleanup)
        return d

    def contacts(self, kam):
        return {b["aor"]: b for b in kam.ul_dump()}


class RegisterTest(KamailioCase):
    def test_lines_register_and_the_registrar_holds_our_contact_and_expiry(self):
        kam = self.start_kamailio(max_expires=3600)
        lines = [line(f"l{i}", f"user{i}", kam.address, f"secret-{i}") for i in range(5)]
        # Trace level logs every SIP message: credentials must still not appear.
        d = self.start_daemon(config(lines, expires=300), args=("--log-level", "trace"))
        port = int(d.wait_for_log(r"listening on udp 127\.0\.0\.1:(\d+)").group(1))
        wait_until(lambda: len(kam.ul_dump()) == 5, 15, what="5 bindings")
        for i in range(5):
            b = self.contacts(kam)[f"user{i}"]
            self.assertEqual(b["contact"], f"sip:user{i}@127.0.0.1:{port}")
            self.assertGreater(b["expires"], 280)
            self.assertLessEqual(b["expires"], 300)
            self.assertEqual(b["user_agent"], "sipregd")
        for i in range(5):
            d.wait_for_log(rf"line=l{i} registering -> registered: .*expires 300 s")
        # No password or digest response ever reaches the log.
        text = d.log_text()
        self.assertIn("Authorization: Digest", text)  # the messages really are logged
        for secret in USERS.values():
            self.assertNotIn(secret, text)
        self.assertIsNone(re.search(r'response="?[0-9a-f]{32}', text), "a digest response reached the log")
        self.assertIsNone(re.search(r'cnonce="[^"…]', text), "a cnonce reached the log")

    def test_short_granted_expiry_is_refreshed_and_the_binding_never_lapses(self):
        # The registrar grants at most 10 s although 60 s are asked for.
        kam = self.start_kamailio(max_expires=10, min_expires=5, timer_interval=1)
        d = self.start_daemon(config([line("short", "user0", kam.address, "secret-0")], expires=60))
        wait_until(lambda: "user0" in self.contacts(kam), 10, what="first binding")
        first_cseq = self.contacts(kam)["user0"]["cseq"]
        deadline = time.monotonic() + 25
        samples = 0
        while time.monotonic() < deadline:
            b = self.contacts(kam).get("user0")
            self.assertIsNotNone(b, "the binding disappeared: a refresh came too late")
            self.assertGreater(b["expires"], 0)
            samples += 1
            time.sleep(0.5)
        self.assertGreater(samples, 30)
        # At least two refreshes in 25 s of 10 s grants, each a single round trip
        # (preemptive credentials): CSeq grows by one per refresh.
        self.assertGreaterEqual(self.contacts(kam)["user0"]["cseq"] - first_cseq, 2)
        # Preemptive credentials: after the first challenged exchange (2 REGISTERs) every
        # refresh is a single REGISTER, not another 401 round trip.
        refreshes = d.count_log(r"line=short registered, expires 10 s")
        self.assertGreaterEqual(refreshes, 2)
        self.assertLessEqual(kam.register_count("user0"), 2 + refreshes + 1)  # +1: one may be in flight
        # Always asks for the configured 60 s, never the granted 10 s.
        self.assertEqual(d.count_log(r"line=short .*expires 10 s"), d.count_log(r"line=short .*expires"))

    def test_wrong_password_fails_without_a_tight_loop(self):
        kam = self.start_kamailio()
        d = self.start_daemon(config([line("bad", "user1", kam.address, "not-the-password"),
                                      line("good", "user2", kam.address, "secret-2")],
                                     failed_retry="10m"))
        d.wait_for_log(r"line=bad registering -> failed: 401 .*retry in 1\d m", timeout=10)
        wait_until(lambda: "user2" in self.contacts(kam), 10, what="the good line's binding")
        time.sleep(5)
        # One unauthenticated REGISTER and one with the wrong credentials, then silence.
        self.assertLessEqual(kam.register_count("user1"), 2)
        self.assertNotIn("user1", self.contacts(kam))
        self.assertEqual(d.count_log(r"line=bad .*-> failed"), 1)

    def test_423_min_expires_is_adopted(self):
        kam = self.start_kamailio(min_expires=120, min_expires_mode=True, max_expires=3600)
        d = self.start_daemon(config([line("brief", "user3", kam.address, "secret-3")], expires=60))
        wait_until(lambda: "user3" in self.contacts(kam), 10, what="binding after 423")
        b = self.contacts(kam)["user3"]
        self.assertGreater(b["expires"], 100)
        self.assertLessEqual(b["expires"], 120)
        d.wait_for_log(r"line=brief registering -> registered: .*expires 120 s")

    def test_sigterm_removes_every_binding_and_exits_0(self):
        kam = self.start_kamailio()
        lines = [line(f"l{i}", f"user{i}", kam.address, f"secret-{i}") for i in range(5)]
        d = self.start_daemon(config(lines))
        wait_until(lambda: len(kam.ul_dump()) == 5, 15, what="5 bindings")
        started = time.monotonic()
        self.assertEqual(d.terminate_and_wait(timeout=10), 0)
        self.assertLess(time.monotonic() - started, 6)
        self.assertEqual(kam.ul_dump(), [])
        self.assertEqual(d.count_log(r"-> stopped: unregistered"), 5)


if __name__ == "__main__":
    unittest.main()
