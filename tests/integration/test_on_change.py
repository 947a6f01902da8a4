"""The on_change command against a real Kamailio: a small script records the environment it
was started with, one file per run; the records show every state change with the right
SIPREGD_* variables, and never a password or the daemon's own environment."""
import glob
import os
import shutil
import stat
import tempfile
import time
import unittest

from daemon import Daemon
from harness_util import wait_until
from kamailio import Kamailio
from sipregd_config import config, line

USERS = {"user1": "good-secret-1", "user2": "good-secret-2"}
ENV_PASSWORD = "env-secret-Zq81"

# /proc/$$/environ is what the script was started with (before the shell adds PWD); the
# file appears under its final name only when complete.
RECORDER = """#!/bin/sh
f=$(mktemp "$1/run.XXXXXX") || exit 1
cat /proc/$$/environ > "$f.part" && mv "$f.part" "$f.env"
rm -f "$f"
"""


def write_script(folder, name, body):
    path = os.path.join(folder, name)
    with open(path, "w") as f:
        f.write(body)
    os.chmod(path, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP)
    return path


def read_records(folder):
    """Every recorded environment as (dict, raw bytes)."""
    out = []
    for path in sorted(glob.glob(os.path.join(folder, "*.env"))):
        with open(path, "rb") as f:
            raw = f.read()
        env = {}
        for entry in raw.split(b"\0"):
            if entry:
                name, _, value = entry.decode("utf-8", "replace").partition("=")
                env[name] = value
        out.append((env, raw))
    return out


class OnChangeTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix="sipreg-onchange-")
        self.addCleanup(shutil.rmtree, self.folder, True)
        self.records = os.path.join(self.folder, "records")
        os.mkdir(self.records)
        self.kam = Kamailio(users=USERS)
        self.kam.start()
        self.addCleanup(self.kam.cleanup)

    def start_daemon(self, text, env=None):
        d = Daemon(text, env=env)
        d.start()
        self.addCleanup(d.cleanup)
        return d

    def transitions(self, line_id):
        return {(e["SIPREGD_OLD_STATE"], e["SIPREGD_NEW_STATE"]): e
                for e, _ in read_records(self.records) if e.get("SIPREGD_LINE") == line_id}

    def test_state_changes_run_the_command_with_the_change_in_its_environment(self):
        recorder = write_script(self.folder, "record", RECORDER)
        lines = [
            # The password comes from the daemon's environment: it must not reach the command.
            line("good", "user1", self.kam.address, None, auth={"password_env": "SIPREG_TEST_LINE_PASSWORD"}),
            line("literal", "user2", self.kam.address, USERS["user2"]),
            line("bad", "user2", self.kam.address, "wrong-password-77"),
        ]
        started = int(time.time())
        d = self.start_daemon(config(lines, on_change={"command": [recorder, self.records], "timeout": "5s"}),
                              env={"SIPREG_TEST_LINE_PASSWORD": USERS["user1"],
                                   "SIPREG_TEST_OTHER_SECRET": ENV_PASSWORD})
        # password_env is resolved only to the value the test gave: the line registers.
        wait_until(lambda: ("registering", "registered") in self.transitions("good"), 15,
                   what="good: registering -> registered recorded")
        wait_until(lambda: ("registering", "registered") in self.transitions("literal"), 15,
                   what="literal: registering -> registered recorded")
        wait_until(lambda: ("registering", "failed") in self.transitions("bad"), 15,
                   what="bad: registering -> failed recorded")

        good = self.transitions("good")
        self.assertIn(("stopped", "registering"), good)
        registered = good[("registering", "registered")]
        self.assertEqual(registered["SIPREGD_STATUS_CODE"], "200")
        self.assertEqual(registered["SIPREGD_REASON"], "OK")
        self.assertIn("expires", registered["SIPREGD_TEXT"])
        self.assertIn(f"127.0.0.1:{self.kam.port}", registered["SIPREGD_REGISTRAR"])
        self.assertGreaterEqual(int(registered["SIPREGD_TIME"]), started - 1)
        self.assertLessEqual(int(registered["SIPREGD_TIME"]), int(time.time()) + 1)
        first = good[("stopped", "registering")]
        self.assertEqual(first["SIPREGD_STATUS_CODE"], "0")  # no response caused it

        failed = self.transitions("bad")[("registering", "failed")]
        self.assertIn(failed["SIPREGD_STATUS_CODE"], ("401", "403"))
        self.assertNotEqual(failed["SIPREGD_REASON"], "")
        self.assertIn(failed["SIPREGD_STATUS_CODE"], failed["SIPREGD_TEXT"])

        # SIGTERM: the changes to unregistering and stopped still get their command, since
        # shutdown waits for running commands (within shutdown_timeout).
        self.assertEqual(d.terminate_and_wait(timeout=15), 0)
        good = self.transitions("good")
        self.assertIn(("registered", "unregistering"), good)
        self.assertIn(("unregistering", "stopped"), good)

        records = read_records(self.records)
        self.assertGreaterEqual(len(records), 8)
        allowed = {"PATH", "LANG", "SIPREGD_LINE", "SIPREGD_OLD_STATE", "SIPREGD_NEW_STATE",
                   "SIPREGD_STATUS_CODE", "SIPREGD_REASON", "SIPREGD_TEXT", "SIPREGD_REGISTRAR",
                   "SIPREGD_TIME"}
        for env, raw in records:
            self.assertEqual(set(env), allowed, f"unexpected environment: {sorted(env)}")
            for secret in (*USERS.values(), "wrong-password-77", ENV_PASSWORD):
                self.assertNotIn(secret.encode(), raw)
            self.assertNotIn(b"SIPREG_TEST_LINE_PASSWORD", raw)
            self.assertNotIn(b"SIPREG_TEST_OTHER_SECRET", raw)
        self.assertEqual(d.count_log(r"on_change .*(exited with status [1-9]|killed by|still running|could not)"), 0)

    def test_failures_and_timeouts_are_logged_with_the_line(self):
        failing = write_script(self.folder, "failing", "#!/bin/sh\nexit 7\n")
        lines = [line("one", "user1", self.kam.address, USERS["user1"])]
        d = self.start_daemon(config(lines, on_change=[failing]))
        d.wait_for_log(r"on_change one: .*failing exited with status 7", timeout=15)
        self.assertEqual(d.terminate_and_wait(timeout=15), 0)

        slow = write_script(self.folder, "slow", "#!/bin/sh\nsleep 30\n")
        d = self.start_daemon(config(lines, on_change={"command": [slow], "timeout": "1s"}))
        started = time.monotonic()
        d.wait_for_log(r"on_change one: .*slow still running at the timeout: ended by signal 15", timeout=15)
        self.assertLess(time.monotonic() - started, 10)
        self.assertEqual(d.terminate_and_wait(timeout=15), 0)

        d = self.start_daemon(config(lines, on_change=[os.path.join(self.folder, "missing")]))
        d.wait_for_log(r"on_change one: could not be started: .*missing.*No such file", timeout=15)
        self.assertEqual(d.terminate_and_wait(timeout=15), 0)


if __name__ == "__main__":
    unittest.main()
