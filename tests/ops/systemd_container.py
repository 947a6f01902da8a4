"""A real systemd as PID 1 in a podman container, for running sipregd's unit as shipped.

This machine's own PID 1 is not systemd, so the unit is proven inside a container made
from the project's local Debian base (scripts/container-build.sh). The container shares
the host's network, so the daemon inside reaches a registrar listening on the host's
127.0.0.1.

    with SystemdContainer(packages=["libuv1", ...]) as box:
        box.copy_in("build/daemon/sipregd", "/usr/sbin/sipregd", mode="755")
        box.run("systemctl", "start", "sipregd")

Why the container runs --privileged: with podman's default capability set systemd
cannot build the service's mount namespace (DynamicUser=, PrivateTmp= ... fail with
226/NAMESPACE), so nothing about the sandbox could be checked. After boot the root
mount is made shared: LoadCredential= mounts the credentials from a child namespace and
they stay invisible under podman's default private propagation.
"""
import base64
import hashlib
import os
import select
import shlex
import subprocess
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CONTAINER_BUILD = os.path.join(REPO, "scripts", "container-build.sh")
RUNTIME_PACKAGES = os.path.join(REPO, "scripts", "runtime-packages.sh")


class ContainerError(RuntimeError):
    pass


def podman(*args, timeout=60, check=True, input=None):
    """Runs podman with the project's container storage; CompletedProcess (text)."""
    proc = subprocess.run([CONTAINER_BUILD, "podman", *args], input=input, capture_output=True,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise ContainerError(f"podman {' '.join(args)} failed ({proc.returncode}):\n"
                             f"{proc.stdout}{proc.stderr}")
    return proc


def runtime_packages(binaries):
    """The Debian packages shipping the shared libraries `binaries` load (the same list
    the Dockerfile's runtime stage installs), so the image carries what the build links."""
    proc = subprocess.run([RUNTIME_PACKAGES, *binaries], capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise ContainerError(f"runtime-packages.sh failed:\n{proc.stdout}{proc.stderr}")
    return sorted(set(proc.stdout.split()))


def linked_libraries(binaries):
    """The shared library files `binaries` load (ldd), sorted."""
    libs = set()
    for binary in binaries:
        out = subprocess.run(["ldd", binary], capture_output=True, text=True, timeout=30, check=True).stdout
        for line in out.splitlines():
            parts = line.split("=>")
            if len(parts) == 2 and parts[1].strip().startswith("/"):
                libs.add(os.path.realpath(parts[1].split()[0]))
    return sorted(libs)


def ensure_image(binaries, build_timeout=900):
    """A systemd image holding the runtime packages of `binaries`; built once and reused
    (the tag is a hash of the libraries they load, so a new dependency makes a new image)."""
    key = hashlib.sha256(" ".join(linked_libraries(binaries)).encode()).hexdigest()[:12]
    tag = f"localhost/sipregd-systemd-test:{key}"
    if podman("image", "exists", tag, check=False).returncode == 0:
        return tag
    packages = runtime_packages(binaries)
    ctx = tempfile.mkdtemp(prefix="sipreg-systemd-image-")
    try:
        with open(os.path.join(ctx, "Dockerfile"), "w") as f:
            f.write("FROM localhost/debian:bookworm\n"
                    "RUN apt-get update && apt-get install -y --no-install-recommends "
                    "systemd systemd-sysv dbus procps util-linux passwd "
                    + " ".join(packages) + " \\\n"
                    " && rm -rf /var/lib/apt/lists/* \\\n"
                    " && systemctl mask systemd-logind.service getty.target console-getty.service"
                    " systemd-udevd.service systemd-networkd.service systemd-resolved.service"
                    " >/dev/null 2>&1 || true\n"
                    "STOPSIGNAL SIGRTMIN+3\n"
                    'CMD ["/sbin/init"]\n')
        proc = subprocess.run([CONTAINER_BUILD, "build", ctx, tag], capture_output=True, text=True,
                              timeout=build_timeout)
        if proc.returncode != 0:
            raise ContainerError(f"image build failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    finally:
        subprocess.run(["rm", "-rf", ctx], check=False)
    return tag


class SystemdContainer:
    def __init__(self, image):
        self.image = image
        self.name = f"sipregd-systemd-test-{os.getpid()}"
        self.started = False
        self.shell = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.remove()

    def start(self, boot_timeout=30.0):
        podman("rm", "-f", "-t", "0", self.name, check=False)
        podman("run", "-d", "--name", self.name, "--network", "host", "--systemd=always",
               "--privileged", self.image)
        self.started = True
        deadline = time.monotonic() + boot_timeout
        state = ""
        while time.monotonic() < deadline:
            state = self.run("systemctl", "is-system-running", check=False).stdout.strip()
            if state in ("running", "degraded"):
                break
            time.sleep(0.2)
        else:
            raise ContainerError(f"systemd did not finish booting within {boot_timeout}s (state {state!r})")
        self.run("mount", "--make-rshared", "/")
        return self

    def remove(self):
        self._close_shell()
        if self.started:
            podman("rm", "-f", "-t", "2", self.name, check=False, timeout=60)
            self.started = False

    def _open_shell(self):
        # One long-lived shell in the container: a podman exec per command costs seconds
        # on a busy machine, a line on this pipe costs nothing.
        self.shell = subprocess.Popen([CONTAINER_BUILD, "podman", "exec", "-i", self.name, "bash"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                      text=True, bufsize=1)

    def _close_shell(self):
        if self.shell is not None:
            self.shell.kill()
            self.shell.wait(timeout=10)
            self.shell.stdin.close()
            self.shell.stdout.close()
            self.shell = None

    def run(self, *cmd, check=True, timeout=60, input=None):
        """Runs a command inside the container as root; CompletedProcess-like result."""
        if self.shell is None:
            self._open_shell()
        feed = (f"printf %s {base64.b64encode(input.encode()).decode()} | base64 -d"
                if input is not None else "true")
        line = (f"{feed} | timeout -k 2 {int(timeout)} {shlex.join(cmd)} >/tmp/.run.out 2>/tmp/.run.err; "
                f"rc=$?; echo \"__RUN__ $rc $(base64 -w0 /tmp/.run.out) $(base64 -w0 /tmp/.run.err)\"\n")
        self.shell.stdin.write(line)
        self.shell.stdin.flush()
        deadline = time.monotonic() + timeout + 10
        reply = None
        while reply is None:
            ready, _, _ = select.select([self.shell.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                self._close_shell()
                raise ContainerError(f"in container: {shlex.join(cmd)} did not finish within {timeout}s")
            text = self.shell.stdout.readline()
            if not text:
                self._close_shell()
                raise ContainerError(f"in container: the shell ended while running {shlex.join(cmd)}")
            if text.startswith("__RUN__ "):
                reply = text.split(" ")
        rc = int(reply[1])
        out = base64.b64decode(reply[2]).decode("utf-8", "replace") if len(reply) > 2 else ""
        err = base64.b64decode(reply[3].strip()).decode("utf-8", "replace") if len(reply) > 3 else ""
        result = subprocess.CompletedProcess(list(cmd), rc, out, err)
        if check and rc != 0:
            raise ContainerError(f"in container: {shlex.join(cmd)} failed ({rc}):\n{out}{err}")
        return result

    def copy_tree_in(self, src_dir):
        """Copies the contents of host folder `src_dir` onto the container's /."""
        podman("cp", f"{src_dir}/.", f"{self.name}:/", timeout=120)

    def write_file(self, dst, text, mode="644"):
        folder = shlex.quote(os.path.dirname(dst))
        self.run("sh", "-c", f"mkdir -p {folder} && cat > {shlex.quote(dst)} && chmod {mode} {shlex.quote(dst)}",
                 input=text)

    def prop(self, unit, name):
        return self.run("systemctl", "show", "-p", name, "--value", unit, check=False).stdout.strip()

    def props(self, unit, *names):
        out = self.run("systemctl", "show", *[f"--property={n}" for n in names], unit, check=False).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def journal(self, unit, lines=60):
        return self.run("journalctl", "-u", unit, "--no-pager", "-n", str(lines), "-o", "cat",
                        check=False).stdout
