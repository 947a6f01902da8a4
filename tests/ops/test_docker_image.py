"""The container image, built from the Dockerfile as it ships and run the way
docs/operations.md tells operators to: configuration mounted at /etc/sipregd/sipregd.yaml,
passwords as secret files under /run/secrets, the host's network. A Kamailio registrar
listens on the host's 127.0.0.1, which the container shares.

Checked: the lines register (the registrar's location table); HEALTHCHECK is kept in the
image, reports healthy when every line is registered and unhealthy when one is not; the
daemon (PID 1) runs as the image's non-root user; `podman stop` (SIGTERM) removes every
binding before the container exits with status 0; the runtime image has no compiler or
-dev package. The image size is printed.

Needs root and podman (scripts/container-build.sh installs it and makes the Debian base
image once, under build/container). The first build compiles the project inside the
image: several minutes."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from harness_util import wait_until  # noqa: E402
from kamailio import Kamailio  # noqa: E402

CONTAINER_BUILD = os.path.join(REPO, "scripts", "container-build.sh")
IMAGE = "localhost/sipregd-image-test:latest"
NAME_PREFIX = f"sipregd-image-test-{os.getpid()}"
IMAGE_UID = 10001
USERS = {"alice": "alice-image-secret", "bob": "bob-image-secret"}
BUILD_TIMEOUT = 1500
# The folder the image is built from: the source tree as it is (another copy of it may be
# given, e.g. an exported release).
CONTEXT = os.environ.get("SIPREG_IMAGE_CONTEXT", REPO)


def podman(*args, timeout=60, check=True):
    """podman with the project's container storage; CompletedProcess (text)."""
    proc = subprocess.run([CONTAINER_BUILD, "podman", *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return proc


def dangling_images():
    return set(podman("images", "-a", "-q", "--no-trunc", "--filter", "dangling=true").stdout.split())


def config_text(registrar, password_files):
    """Two lines: one names its secret by bare name (resolved in CREDENTIALS_DIRECTORY,
    which the image sets to /run/secrets), one by absolute path."""
    text = ("listen: { address: 127.0.0.1, port: 0 }\n"
            "start_spread: 0s\n"
            "shutdown_timeout: 10s\n"
            "defaults: { expires: 120, retry: { base: 2s, max: 10s }, failed_retry: 10m }\n"
            "lines:\n")
    for user, password_file in password_files.items():
        text += (f"  - id: {user}\n    registrar: {registrar}\n    aor: sip:{user}@sipreg.test\n"
                 f"    auth: {{ password_file: {password_file} }}\n")
    return text


class DockerImageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise AssertionError("needs root: podman with the project's storage (run through scripts/test)")
        before = dangling_images()
        t0 = time.monotonic()
        proc = subprocess.run([CONTAINER_BUILD, "build", CONTEXT, IMAGE], capture_output=True, text=True,
                              timeout=BUILD_TIMEOUT, stdin=subprocess.DEVNULL)
        cls.build_seconds = time.monotonic() - t0
        # The build stage's last image is left untagged; it is this build's to remove.
        cls.leftovers = sorted(dangling_images() - before)
        if proc.returncode != 0:
            cls.tearDownClass()
            raise AssertionError(f"image build failed ({proc.returncode}):\n"
                                 f"{proc.stdout[-6000:]}\n{proc.stderr[-4000:]}")
        print(f"\nimage built in {cls.build_seconds:.0f} s", file=sys.stderr)

    @classmethod
    def tearDownClass(cls):
        # Removing an image also removes the untagged layers below it: what stays is the
        # Debian base, made once and reused.
        podman("rmi", "-f", IMAGE, check=False, timeout=120)
        for image in getattr(cls, "leftovers", []):
            podman("rmi", image, check=False, timeout=120)

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="sipreg-image-test-")
        os.chmod(self.dir, 0o755)
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.kam = Kamailio(users=USERS, min_expires=10, max_expires=3600)
        self.kam.start()
        self.addCleanup(self.kam.cleanup)

    # -- helpers ----------------------------------------------------------------
    def write(self, name, text, mode, owner=None):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        if owner is not None:
            os.chown(path, owner, owner)
        os.chmod(path, mode)
        return path

    def run_container(self, suffix, passwords):
        """Starts the image as documented; returns the container name."""
        name = f"{NAME_PREFIX}-{suffix}"
        podman("rm", "-f", name, check=False)
        self.addCleanup(podman, "rm", "-f", "-t", "0", name, check=False)
        mounts = []
        password_files = {}
        for i, (user, password) in enumerate(passwords.items()):
            # The secret belongs to the image's user and nobody else may read it.
            secret = self.write(f"{user}.secret", password + "\n", 0o400, owner=IMAGE_UID)
            mounts += ["-v", f"{secret}:/run/secrets/{user}:ro"]
            password_files[user] = user if i % 2 == 0 else f"/run/secrets/{user}"
        cfg = self.write(f"{suffix}.yaml", config_text(self.kam.address, password_files), 0o644)
        podman("run", "-d", "--name", name, "--network", "host",
               "-v", f"{cfg}:/etc/sipregd/sipregd.yaml:ro", *mounts, IMAGE)
        return name

    def logs(self, name):
        proc = podman("logs", name, check=False)
        return proc.stdout + proc.stderr

    def state(self, name):
        return json.loads(podman("inspect", "--format", "{{json .State}}", name).stdout)

    def health_status(self, name):
        state = self.state(name)
        health = state.get("Health") or state.get("Healthcheck") or {}
        return health.get("Status")

    def wait_registered(self, name, users, timeout=30):
        def ready():
            if not self.state(name).get("Running"):
                raise AssertionError(f"container exited:\n{self.logs(name)}")
            return {b["aor"] for b in self.kam.ul_dump()} >= set(users)
        try:
            wait_until(ready, timeout, interval=0.2, what=f"bindings of {sorted(users)}")
        except TimeoutError as e:
            raise AssertionError(f"{e}\n--- container log ---\n{self.logs(name)}") from None

    # -- tests ------------------------------------------------------------------
    def test_image_registers_is_healthy_runs_unprivileged_and_unregisters_on_stop(self):
        name = self.run_container("ok", USERS)
        self.wait_registered(name, USERS)
        bindings = {b["aor"]: b for b in self.kam.ul_dump()}
        for user in USERS:
            self.assertEqual(bindings[user]["user_agent"], "sipregd")

        # The daemon itself (the container's PID 1, seen from the host) is not root.
        pid = self.state(name)["Pid"]
        with open(f"/proc/{pid}/status") as f:
            status = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
        uids = status["Uid"].split()
        self.assertEqual(uids, [str(IMAGE_UID)] * 4, "real, effective, saved and fs uid")
        self.assertEqual(status["CapEff"].strip(), "0000000000000000", "no effective capabilities")
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            self.assertEqual(f.read().split(b"\0")[0], b"sipregd")

        # HEALTHCHECK survived the build (the docker format keeps it) and passes.
        healthcheck = json.loads(podman("image", "inspect", "--format", "{{json .Config.Healthcheck}}",
                                        IMAGE).stdout)
        self.assertEqual(healthcheck["Test"], ["CMD", "sipregctl", "check"])
        check = podman("healthcheck", "run", name, check=False, timeout=30)
        self.assertEqual(check.returncode, 0, f"healthcheck: {check.stdout}{check.stderr}\n{self.logs(name)}")
        self.assertEqual(self.health_status(name), "healthy")

        # Logs reach the container's output and never carry a password.
        text = self.logs(name)
        self.assertRegex(text, r"line=alice .*registered")
        for password in USERS.values():
            self.assertNotIn(password, text)

        # SIGTERM (podman stop) unregisters every line before the container exits 0.
        t0 = time.monotonic()
        podman("stop", "-t", "20", name, timeout=40)
        stop_seconds = time.monotonic() - t0
        state = self.state(name)
        self.assertFalse(state["Running"])
        self.assertEqual(state["ExitCode"], 0, self.logs(name))
        self.assertLess(stop_seconds, 15, "the daemon did not exit on SIGTERM by itself")
        remaining = [b for b in self.kam.ul_dump() if b["aor"] in USERS]
        self.assertEqual(remaining, [], "bindings left after podman stop")
        self.assertIn("unregistering all lines", self.logs(name))

    def test_healthcheck_reports_unhealthy_while_a_line_is_not_registered(self):
        name = self.run_container("bad", {"alice": USERS["alice"], "bob": "not-bobs-password"})
        self.wait_registered(name, ["alice"])
        # bob's credentials are rejected: the check fails rather than reporting a
        # half-registered daemon healthy.
        wait_until(lambda: re.search(r"line=bob registering -> failed", self.logs(name)), 20,
                   what="bob's refusal in the log")
        check = podman("healthcheck", "run", name, check=False, timeout=30)
        self.assertNotEqual(check.returncode, 0, self.logs(name))
        # Failures inside the start period do not count yet ("starting"); never healthy.
        self.assertIn(self.health_status(name), ("starting", "unhealthy"))
        # The HEALTHCHECK command itself: 1 = reachable but not every line registered.
        direct = podman("exec", name, "sipregctl", "check", check=False, timeout=30)
        self.assertEqual(direct.returncode, 1, direct.stdout + direct.stderr)
        self.assertIn("bob", direct.stdout + direct.stderr)

    def test_runtime_image_is_small_and_holds_no_build_tools(self):
        packages = podman("run", "--rm", "--network", "none", "--entrypoint", "dpkg-query", IMAGE,
                          "-W", "-f", "${Package}\\n").stdout.split()
        self.assertIn("libuv1", packages)
        build_tools = [p for p in packages if p.endswith("-dev") or p in ("g++", "gcc", "cmake", "make", "cpp")]
        self.assertEqual(build_tools, [])
        binaries = podman("run", "--rm", "--network", "none", "--entrypoint", "sh", IMAGE, "-c",
                          "for b in sipregd sipregctl; do command -v $b; done").stdout.split()
        self.assertEqual(binaries, ["/usr/local/bin/sipregd", "/usr/local/bin/sipregctl"])
        size = int(podman("image", "inspect", "--format", "{{.Size}}", IMAGE).stdout.strip())
        print(f"\nimage size: {size / 1e6:.1f} MB ({IMAGE})", file=sys.stderr)
        # The Debian slim base is about 78 MB; the daemon and its libraries add a few MB.
        self.assertLess(size, 150e6)


if __name__ == "__main__":
    unittest.main()
