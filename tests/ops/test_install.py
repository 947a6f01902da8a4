"""`cmake --install` into a DESTDIR puts every file where the layout says (the configured
prefix, GNUInstallDirs), the installed unit names the installed daemon and still passes
the unit checks, and the man pages built by scdoc are well-formed roff that man renders.

The build tree and the expected folders come from CMake (tests/ops/CMakeLists.txt)."""
import gzip
import os
import re
import shutil
import subprocess
import tempfile
import unittest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MAN_PAGES = {"sipregd": "8", "sipregctl": "1", "sipregd.yaml": "5"}


def env(name):
    value = os.environ.get(name)
    if value is None:
        raise RuntimeError(f"{name} is not set (ctest sets it)")
    return value


def under(root, path):
    return os.path.join(root, path.lstrip("/"))


class InstallTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="sipreg-install-")
        proc = subprocess.run(["cmake", "--install", env("SIPREG_BUILD_DIR")], capture_output=True, text=True,
                              timeout=120, env={**os.environ, "DESTDIR": cls.root})
        cls.install_log = proc.stdout + proc.stderr
        if proc.returncode != 0:
            shutil.rmtree(cls.root, ignore_errors=True)
            raise AssertionError(f"cmake --install failed:\n{cls.install_log}")
        prefix = env("SIPREG_INSTALL_PREFIX")
        unit_dir = env("SIPREG_SYSTEMD_UNIT_DIR")
        cls.unit_dir = unit_dir if os.path.isabs(unit_dir) else os.path.join(prefix, unit_dir)
        sysusers_dir = env("SIPREG_SYSUSERS_DIR")
        cls.sysusers_dir = sysusers_dir if os.path.isabs(sysusers_dir) else os.path.join(prefix, sysusers_dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    def path(self, p):
        return under(self.root, p)

    def assert_file(self, p, executable=False):
        full = self.path(p)
        self.assertTrue(os.path.isfile(full), f"{p} not installed; installed:\n{self.install_log}")
        if executable:
            self.assertTrue(os.access(full, os.X_OK), f"{p} is not executable")
        return full

    def test_binaries(self):
        daemon = self.assert_file(os.path.join(env("SIPREG_INSTALL_FULL_SBINDIR"), "sipregd"), executable=True)
        out = subprocess.run([daemon, "--version"], capture_output=True, text=True, timeout=10)
        self.assertRegex(out.stdout, r"^sipregd \d+\.\d+\.\d+")
        if os.environ.get("SIPREG_HAVE_SIPREGCTL") == "1":
            self.assert_file(os.path.join(env("SIPREG_INSTALL_FULL_BINDIR"), "sipregctl"), executable=True)

    def test_unit_names_the_installed_daemon_and_passes_the_checks(self):
        unit = self.assert_file(os.path.join(self.unit_dir, "sipregd.service"))
        with open(unit) as f:
            text = f.read()
        daemon = os.path.join(env("SIPREG_INSTALL_FULL_SBINDIR"), "sipregd")
        self.assertRegex(text, rf"(?m)^ExecStart={re.escape(daemon)} ")
        # Every command of the unit (ExecReload's --check too) runs the installed binary.
        for cmd in re.findall(r"(?m)^Exec\w+=(\S+)", text):
            self.assertIn(cmd, (daemon, "/bin/kill"))
        proc = subprocess.run([os.path.join(REPO, "scripts", "ops", "unit-check.sh"), unit, "--exec",
                               self.path(daemon)], capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assert_file(os.path.join(self.sysusers_dir, "sipregd.conf"))

    def test_example_configuration_beside_the_real_one(self):
        example = self.assert_file(os.path.join(env("SIPREG_INSTALL_FULL_SYSCONFDIR"), "sipregd",
                                                "sipregd.yaml.example"))
        with open(example) as f, open(os.path.join(REPO, "config", "sipregd.example.yaml")) as g:
            self.assertEqual(f.read(), g.read())
        # Never a live configuration: the operator writes that one.
        self.assertFalse(os.path.exists(self.path(os.path.join(env("SIPREG_INSTALL_FULL_SYSCONFDIR"), "sipregd",
                                                               "sipregd.yaml"))))

    def test_docs(self):
        for name in ("operations.md", "configuration.md"):
            self.assert_file(os.path.join(env("SIPREG_INSTALL_FULL_DOCDIR"), name))

    def test_man_pages_are_installed_and_well_formed(self):
        self.assertEqual(os.environ.get("SIPREG_MAN_BUILT"), "1",
                         "scdoc was not found when the build was configured: apt-get install scdoc")
        mandir = env("SIPREG_INSTALL_FULL_MANDIR")
        for page, section in MAN_PAGES.items():
            with self.subTest(page=page):
                gz = self.assert_file(os.path.join(mandir, f"man{section}", f"{page}.{section}.gz"))
                with gzip.open(gz, "rt") as f:
                    roff = f.read()
                self.assertRegex(roff, rf'(?m)^\.TH "{re.escape(page)}" "{section}"')
                # groff -ww: every warning; -z: no output. Any diagnostic is a defect.
                lint = subprocess.run(["groff", "-man", "-ww", "-z"], input=roff, capture_output=True, text=True,
                                      timeout=30)
                self.assertEqual((lint.returncode, lint.stderr), (0, ""), f"{page}.{section}")
                shown = subprocess.run(["man", "-l", "-P", "cat", gz], capture_output=True, text=True, timeout=30,
                                       env={**os.environ, "MANWIDTH": "80", "MAN_KEEP_STDERR": "1"})
                self.assertEqual(shown.returncode, 0, shown.stderr)
                self.assertIn("NAME", shown.stdout)
                self.assertIn("SEE ALSO", shown.stdout)
                self.assertEqual(shown.stderr.strip(), "", f"man -l {page}.{section}")


if __name__ == "__main__":
    unittest.main()
