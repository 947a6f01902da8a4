"""systemd/sipregd.service, checked without running it: `systemd-analyze verify` prints
nothing, `systemd-analyze security --offline=true` rates it 1.5 or lower, and the
settings the daemon relies on are there (notify, watchdog, reload by SIGHUP, no restart
loop on exit codes that a restart cannot fix, the control socket's directory).

SIPREGD_BIN (the built daemon) stands in for /usr/sbin/sipregd, which verify insists on."""
import os
import re
import subprocess
import tempfile
import unittest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
UNIT = os.path.join(REPO, "systemd", "sipregd.service")
UNIT_CHECK = os.path.join(REPO, "scripts", "ops", "unit-check.sh")
MAX_EXPOSURE = "1.5"


def daemon_binary():
    path = os.environ.get("SIPREGD_BIN")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("SIPREGD_BIN must name the built sipregd")
    return path


def unit_check(unit_path):
    proc = subprocess.run([UNIT_CHECK, unit_path, "--exec", daemon_binary(), "--max-exposure", MAX_EXPOSURE],
                          capture_output=True, text=True, timeout=60)
    return proc.returncode, proc.stdout + proc.stderr


def settings(text):
    """key -> list of values, in order, ignoring comments and section headers."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        out.setdefault(key, []).append(value)
    return out


def exit_code(name):
    """An exit code constant from daemon/sipregd/daemon.h."""
    with open(os.path.join(REPO, "daemon", "sipregd", "daemon.h")) as f:
        m = re.search(rf"\b{name}\s*=\s*(\d+)", f.read())
    if not m:
        raise AssertionError(f"{name} not found in daemon.h")
    return m.group(1)


class UnitCheckTest(unittest.TestCase):
    def variant(self, transform):
        with open(UNIT) as f:
            text = transform(f.read())
        d = tempfile.mkdtemp(prefix="sipreg-unit-")
        self.addCleanup(subprocess.run, ["rm", "-rf", d], check=False)
        path = os.path.join(d, "sipregd.service")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_shipped_unit_verifies_silently_and_is_well_confined(self):
        rc, out = unit_check(UNIT)
        print(out)
        self.assertEqual(rc, 0, out)
        self.assertIn("PASS: systemd-analyze verify", out)
        score = float(re.search(r"exposure ([0-9.]+) <=", out).group(1))
        self.assertLessEqual(score, float(MAX_EXPOSURE))

    def test_the_check_fails_on_an_unknown_key(self):
        # verify itself exits 0 here: only its output gives the typo away.
        path = self.variant(lambda t: t.replace("ProtectSystem=strict", "ProtectSystm=strict"))
        rc, out = unit_check(path)
        self.assertNotEqual(rc, 0)
        self.assertIn("Unknown key", out)

    def test_the_check_fails_without_the_sandbox(self):
        def strip_hardening(text):
            kept = []
            for line in text.splitlines():
                if re.match(r"(Protect|Private|Restrict|SystemCall|CapabilityBoundingSet|NoNewPrivileges|"
                            r"MemoryDeny|LockPersonality|DynamicUser)", line):
                    continue
                kept.append(line)
            return "\n".join(kept) + "\n"
        rc, out = unit_check(self.variant(strip_hardening))
        self.assertNotEqual(rc, 0)
        self.assertRegex(out, r"FAIL: exposure [0-9.]+ > 1\.5")


class UnitSettingsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(UNIT) as f:
            cls.s = settings(f.read())

    def one(self, key):
        values = self.s.get(key, [])
        self.assertEqual(len(values), 1, f"{key}: {values}")
        return values[0]

    def test_notify_and_watchdog(self):
        self.assertEqual(self.one("Type"), "notify")
        self.assertEqual(self.one("NotifyAccess"), "main")
        self.assertRegex(self.one("WatchdogSec"), r"^[1-9][0-9]*s$")

    def test_reload_sends_sighup(self):
        self.assertEqual(self.one("ExecReload"), "/bin/kill -HUP $MAINPID")

    def test_no_restart_loop_on_a_configuration_error(self):
        self.assertEqual(self.one("Restart"), "on-failure")
        prevented = self.one("RestartPreventExitStatus").split()
        self.assertIn(exit_code("kExitConfigInvalid"), prevented)
        self.assertIn(exit_code("kExitUsage"), prevented)
        self.assertNotIn(exit_code("kExitStartup"), prevented)  # a busy port may free up
        self.assertIn("StartLimitBurst", self.s)
        self.assertIn("StartLimitIntervalSec", self.s)

    def test_network_families_are_the_ones_sipregd_needs(self):
        self.assertEqual(sorted(self.one("RestrictAddressFamilies").split()), ["AF_INET", "AF_INET6", "AF_UNIX"])

    def test_control_socket_folder_is_the_runtime_directory(self):
        with open(os.path.join(REPO, "lib", "config", "limits.h")) as f:
            default = re.search(r'kDefaultControlSocket\s*=\s*"([^"]+)"', f.read()).group(1)
        self.assertEqual(os.path.dirname(default), "/run/" + self.one("RuntimeDirectory"))
        # Group members must be able to reach the socket inside it.
        self.assertEqual(self.one("RuntimeDirectoryMode"), "0750")

    def test_runs_as_its_own_user_without_capabilities(self):
        self.assertEqual(self.one("DynamicUser"), "yes")
        self.assertEqual(self.one("User"), "sipregd")
        self.assertEqual(self.one("CapabilityBoundingSet"), "")
        self.assertEqual(self.one("NoNewPrivileges"), "yes")
        self.assertEqual(self.one("ExecStart").split()[0], "/usr/sbin/sipregd")


if __name__ == "__main__":
    unittest.main()
