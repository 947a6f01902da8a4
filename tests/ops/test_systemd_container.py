"""The shipped systemd unit, run for real: systemd as PID 1 in a podman container starts
the built sipregd with systemd/sipregd.service as it ships (plus a drop-in holding the
credentials and a short watchdog), against a Kamailio registrar on the host's loopback.

Checked: start waits for READY and STATUS reports the lines; the sandbox is in force
(dedicated user, no capabilities, seccomp, read-only /etc, private /tmp, no /root);
credentials reach the daemon; the control socket is usable by the sipregd group and no
one else; reload applies a good file and a broken one is refused while the daemon runs on;
watchdog pings arrive and a hung daemon is killed and restarted; stop unregisters every
line; an invalid configuration is not restarted in a loop.

Needs root and podman (scripts/container-build.sh installs it); SIPREGD_BIN must be a
build without sanitizers (the unit's system call filter stops ASan's setrlimit).
SIPREGCTL_BIN is optional: without it the control socket checks are skipped."""
import os
import re
import shutil
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from harness_util import wait_until  # noqa: E402
from kamailio import Kamailio  # noqa: E402
from systemd_container import REPO, SystemdContainer, ensure_image  # noqa: E402

UNIT = "sipregd.service"
USERS = {"alice": "alice-secret", "bob": "bob-secret"}
# Test-only settings layered over the shipped unit: secrets as credentials, and a short
# watchdog and restart delay so a hang is noticed within seconds.
DROP_IN = """[Service]
LoadCredential=alice:/etc/sipregd/alice.pw
LoadCredential=bob:/etc/sipregd/bob.pw
WatchdogSec=2s
RestartSec=1s
"""


def config_text(registrar, users, broken=False):
    text = ("listen: { address: 127.0.0.1, port: 0 }\n"
            "start_spread: 0s\n"
            "shutdown_timeout: 5s\n"
            "defaults: { expires: 60, retry: { base: 2s, max: 10s } }\n"
            "lines:\n")
    for user in users:
        text += (f"  - id: {user}\n    registrar: {registrar}\n    aor: sip:{user}@sipreg.test\n"
                 f"    auth: {{ password_file: {user} }}\n")
    if broken:
        text += "  - id: typo\n    registar: 127.0.0.1\n    aor: sip:typo@sipreg.test\n"
    return text


def proc_status(box, pid):
    out = box.run("cat", f"/proc/{pid}/status").stdout
    return {k: v.strip() for k, v in (line.split(":", 1) for line in out.splitlines() if ":" in line)}


class SystemdUnitTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        daemon = os.environ.get("SIPREGD_BIN")
        if not daemon or not os.access(daemon, os.X_OK):
            raise RuntimeError("SIPREGD_BIN must name a sipregd binary built without sanitizers")
        cls.ctl = os.environ.get("SIPREGCTL_BIN") or None
        binaries = [daemon] + ([cls.ctl] if cls.ctl else [])
        t0 = time.monotonic()
        image = ensure_image(binaries)
        print(f"image {image} ready in {time.monotonic() - t0:.1f} s", file=sys.stderr)

        cls.kam = Kamailio(users=USERS)
        cls.kam.start()
        cls.box = SystemdContainer(image)
        try:
            t0 = time.monotonic()
            cls.box.start()
            print(f"systemd booted in {time.monotonic() - t0:.1f} s", file=sys.stderr)
            box = cls.box
            # Everything goes in with one copy: the files laid out as on the target.
            stage = tempfile.mkdtemp(prefix="sipreg-systemd-stage-")
            os.chmod(stage, 0o755)  # its metadata lands on the container's /
            try:
                def put(src, dst, mode=0o644):
                    path = os.path.join(stage, dst.lstrip("/"))
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    shutil.copyfile(src, path)
                    os.chmod(path, mode)
                put(daemon, "/usr/sbin/sipregd", 0o755)
                if cls.ctl:
                    put(cls.ctl, "/usr/bin/sipregctl", 0o755)
                put(os.path.join(REPO, "systemd", "sipregd.service"), f"/etc/systemd/system/{UNIT}")
                put(os.path.join(REPO, "systemd", "sipregd.sysusers"), "/usr/lib/sysusers.d/sipregd.conf")
                box.copy_tree_in(stage)
            finally:
                shutil.rmtree(stage, ignore_errors=True)
            box.write_file(f"/etc/systemd/system/{UNIT}.d/test.conf", DROP_IN)
            for user, password in USERS.items():
                box.write_file(f"/etc/sipregd/{user}.pw", password + "\n", mode="600")
            cls.write_config(["alice"])
            box.run("sh", "-c", "chown -R root:root /usr/sbin/sipregd /etc/systemd/system /usr/lib/sysusers.d "
                    "&& systemd-sysusers && systemctl daemon-reload")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.box.remove()
        cls.kam.cleanup()

    @classmethod
    def write_config(cls, users, broken=False):
        cls.box.write_file("/etc/sipregd/sipregd.yaml", config_text(cls.kam.address, users, broken))

    def prop(self, name):
        return self.box.prop(UNIT, name)

    def aors(self):
        return sorted(b["aor"] for b in self.kam.ul_dump())

    def start_and_wait_registered(self, users):
        t0 = time.monotonic()
        # Type=notify: systemctl start returns once sipregd sent READY=1.
        self.box.run("systemctl", "start", UNIT, timeout=60)
        ready = time.monotonic() - t0
        self.assertEqual(self.prop("ActiveState"), "active")
        wait_until(lambda: self.aors() == sorted(users), 15, what=f"bindings of {users}")
        wait_until(lambda: self.prop("StatusText").startswith(f"{len(users)}/{len(users)} registered"), 10,
                   what="STATUS reporting every line registered")
        return ready

    # Methods run in name order and build on each other: one daemon lifetime.
    def test_01_unit_verifies_inside_systemd(self):
        out = self.box.run("systemd-analyze", "verify", "--man=no", UNIT, check=False)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual((out.stdout + out.stderr).strip(), "")

    def test_02_start_reports_ready_and_status(self):
        ready = self.start_and_wait_registered(["alice"])
        print(f"READY after {ready:.2f} s, StatusText={self.prop('StatusText')!r}", file=sys.stderr)
        self.assertEqual(self.prop("Type"), "notify")
        # The password came in as a credential: the registrar accepted it.
        self.assertIn("alice", self.aors())

    def test_03_sandbox_is_in_force(self):
        pid = self.prop("MainPID")
        self.assertNotEqual(pid, "0")
        st = proc_status(self.box, pid)
        uid = st["Uid"].split()
        self.assertTrue(all(u == uid[0] for u in uid) and uid[0] != "0", st["Uid"])
        self.assertEqual(self.box.run("ps", "-o", "user=", "-p", pid).stdout.strip(), "sipregd")
        self.assertEqual(st["CapEff"], "0000000000000000")
        self.assertEqual(st["CapPrm"], "0000000000000000")
        self.assertEqual(st["CapBnd"], "0000000000000000")
        self.assertEqual(st["NoNewPrivs"], "1")
        self.assertEqual(st["Seccomp"], "2")
        # Even root cannot write /etc from inside the service's mount namespace.
        out = self.box.run("nsenter", "-t", pid, "-m", "touch", "/etc/sipregd/probe", check=False)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("Read-only file system", out.stderr + out.stdout)
        self.box.run("touch", "/tmp/outside-marker", "/root/outside-marker")
        for path in ("/tmp/outside-marker", "/root/outside-marker"):
            out = self.box.run("nsenter", "-t", pid, "-m", "test", "-e", path, check=False)
            self.assertNotEqual(out.returncode, 0, f"{path} is visible to the service")
        # Its own runtime directory is writable by it and closed to others.
        out = self.box.run("stat", "-c", "%U %G %a", "/run/sipregd").stdout.split()
        self.assertEqual(out, ["sipregd", "sipregd", "750"])

    def test_04_control_socket_for_the_group_only(self):
        if not self.ctl:
            self.skipTest("SIPREGCTL_BIN not set: sipregctl is not built")
        out = self.box.run("sipregctl", "status", "--json")
        self.assertRegex(out.stdout, r'"id"\s*:\s*"alice"')
        self.assertRegex(out.stdout, r'"state"\s*:\s*"registered"')
        # Debian already has a group called "operator": these names are our own.
        self.box.run("useradd", "-M", "-G", "sipregd", "sipreg-ops")
        self.box.run("useradd", "-M", "sipreg-outsider")
        out = self.box.run("runuser", "-u", "sipreg-ops", "--", "sipregctl", "check", check=False)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        out = self.box.run("runuser", "-u", "sipreg-outsider", "--", "sipregctl", "check", check=False)
        self.assertEqual(out.returncode, 2, out.stdout + out.stderr)

    def test_05_reload_applies_a_good_file_and_survives_a_broken_one(self):
        pid = self.prop("MainPID")
        self.write_config(["alice", "bob"])
        self.box.run("systemctl", "reload", UNIT, timeout=30)
        wait_until(lambda: self.aors() == ["alice", "bob"], 15, what="bob registered after reload")
        self.assertIn("reload applied: 1 added", self.box.journal(UNIT))
        self.assertEqual(self.prop("MainPID"), pid)

        self.write_config(["alice", "bob"], broken=True)
        self.box.run("systemctl", "reload", UNIT, timeout=30)
        journal = self.box.journal(UNIT)
        self.assertIn("reload rejected", journal)
        self.assertIn("registar", journal)
        self.assertEqual(self.box.props(UNIT, "ActiveState", "MainPID"), {"ActiveState": "active", "MainPID": pid})
        self.assertEqual(self.aors(), ["alice", "bob"])
        self.write_config(["alice", "bob"])

    def test_06_watchdog_pings_arrive(self):
        self.assertEqual(self.prop("WatchdogUSec"), "2s")
        first = int(self.prop("WatchdogTimestampMonotonic"))
        time.sleep(3)
        p = self.box.props(UNIT, "WatchdogTimestampMonotonic", "ActiveState", "NRestarts")
        self.assertGreater(int(p["WatchdogTimestampMonotonic"]), first)
        self.assertEqual((p["ActiveState"], p["NRestarts"]), ("active", "0"))

    def test_07_stop_unregisters_every_line(self):
        self.box.run("systemctl", "stop", UNIT, timeout=60)
        p = self.box.props(UNIT, "Result", "ExecMainStatus")
        self.assertEqual((p["Result"], p["ExecMainStatus"]), ("success", "0"))
        self.assertEqual(self.aors(), [])
        self.assertIn("all lines unregistered", self.box.journal(UNIT))

    def test_08_invalid_configuration_is_not_restarted(self):
        self.write_config(["alice"], broken=True)
        out = self.box.run("systemctl", "start", UNIT, check=False, timeout=60)
        self.assertNotEqual(out.returncode, 0)
        time.sleep(4)  # RestartSec=1s: a restart loop would have run several times by now
        p = self.box.props(UNIT, "ActiveState", "ExecMainStatus", "NRestarts")
        self.assertEqual((p["ActiveState"], p["ExecMainStatus"], p["NRestarts"]), ("failed", "1", "0"))
        self.box.run("systemctl", "reset-failed", UNIT)
        self.write_config(["alice", "bob"])

    def test_09_a_hung_daemon_is_killed_by_the_watchdog_and_restarted(self):
        self.start_and_wait_registered(["alice", "bob"])
        pid = self.prop("MainPID")
        restarts = int(self.prop("NRestarts"))
        self.box.run("kill", "-STOP", pid)
        def restarted():
            p = self.box.props(UNIT, "NRestarts", "ActiveState")
            return int(p["NRestarts"]) > restarts and p["ActiveState"] == "active"
        wait_until(restarted, 20, interval=0.25, what="watchdog restart")
        self.assertNotEqual(self.prop("MainPID"), pid)
        self.assertTrue(re.search(r"[Ww]atchdog timeout", self.box.journal(UNIT, 200)))
        self.box.run("systemctl", "stop", UNIT, timeout=60)


if __name__ == "__main__":
    unittest.main()
