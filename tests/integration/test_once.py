"""`sipregd --once` against a real Kamailio registrar: each chosen line registers one
time, the result table names code, reason, granted expiry and round-trip time, every
binding is removed again before the process exits, and the exit code says whether all
lines registered."""
import os
import shutil
import subprocess
import tempfile
import unittest

from daemon import sipregd_binary
from peer_case import PeerCase
from sipregd_config import config, line

USERS = {"alice": "alice-pw", "bob": "bob-pw"}


class OnceTest(PeerCase):
    users = USERS

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="sipreg-once-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)

    def run_once(self, text, *args, timeout=60):
        path = os.path.join(self.dir, "sipregd.yaml")
        with open(path, "w") as f:
            f.write(text)
        return subprocess.run([sipregd_binary(), "--once", "-c", path, *args], capture_output=True, text=True,
                              timeout=timeout, start_new_session=True)

    def test_all_lines_register_once_and_are_removed_again(self):
        kam = self.start_kamailio()
        cfg = config([line("a", "alice", kam.address, "alice-pw"), line("b", "bob", kam.address, "bob-pw")],
                     expires=300)
        done = self.run_once(cfg)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        header, *rest = done.stdout.splitlines()
        self.assertEqual(header.split(), ["LINE", "RESULT", "CODE", "REASON", "EXPIRES", "RTT", "TARGET"])
        by_id = {r.split()[0]: r for r in rest[:-1]}
        for lid in ("a", "b"):
            self.assertRegex(by_id[lid], rf"^{lid}\s+registered\s+200\s+OK\s+300 s\s+\d+ ms\s+UDP 127\.0\.0\.1:{kam.port}")
        self.assertEqual(rest[-1], "2/2 registered")
        # Registered, then unregistered before exiting: the registrar saw both and keeps nothing.
        self.assertEqual(self.aors(kam), set())
        self.assertGreaterEqual(kam.register_count("alice"), 3)  # challenge, register, unregister

    def test_a_refused_line_makes_the_exit_code_4(self):
        kam = self.start_kamailio()
        cfg = config([line("good", "alice", kam.address, "alice-pw"),
                      line("bad", "bob", kam.address, "wrong-password")])
        done = self.run_once(cfg)
        self.assertEqual(done.returncode, 4, done.stdout + done.stderr)
        lines = {r.split()[0]: r for r in done.stdout.splitlines()[1:-1]}
        self.assertRegex(lines["good"], r"^good\s+registered\s+200\s")
        self.assertRegex(lines["bad"], r"^bad\s+failed\s+(401|403)\s")
        self.assertEqual(done.stdout.splitlines()[-1], "1/2 registered")
        self.assertNotIn("wrong-password", done.stdout + done.stderr)
        self.assertEqual(self.aors(kam), set())

    def test_line_picks_lines_and_an_unknown_line_is_a_usage_error(self):
        kam = self.start_kamailio()
        cfg = config([line("a", "alice", kam.address, "alice-pw"), line("b", "bob", kam.address, "bob-pw")])
        done = self.run_once(cfg, "--line", "b")
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        ids = [r.split()[0] for r in done.stdout.splitlines()[1:-1]]
        self.assertEqual(ids, ["b"])
        self.assertEqual(kam.register_count("alice"), 0)
        unknown = self.run_once(cfg, "--line", "nope")
        self.assertEqual(unknown.returncode, 2)
        self.assertIn("--line nope", unknown.stderr + unknown.stdout)

    def test_a_silent_registrar_is_reported_after_the_transaction_timeout(self):
        # Nothing listens on this port: ICMP refusals or silence both end in a result.
        cfg = config([line("gone", "alice", "127.0.0.1:9", "alice-pw")])
        done = self.run_once(cfg, timeout=70)
        self.assertEqual(done.returncode, 4, done.stdout + done.stderr)
        row = done.stdout.splitlines()[1]
        self.assertRegex(row, r"^gone\s+waiting\s+-\s+(no response|transport error)")


if __name__ == "__main__":
    unittest.main()
