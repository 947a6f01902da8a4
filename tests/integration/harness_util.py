"""Small helpers shared by the integration harness: free ports, bounded waits, and
stopping a process group by pid. Python 3 standard library only."""
import os
import shutil
import signal
import socket
import time


def free_udp_port(host="127.0.0.1"):
    """A UDP port the kernel just handed out and released on `host`.

    Another process could take it before the caller binds it; tests run in parallel, so
    the port is taken from the ephemeral range where collisions are rare."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_udp_ports(count, host="127.0.0.1"):
    """`count` distinct free UDP ports (held open together so they differ)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(family, socket.SOCK_DGRAM)
            s.bind((host, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def wait_until(predicate, timeout, interval=0.05, what="condition"):
    """Polls `predicate` until it returns a truthy value (returned) or `timeout` seconds
    pass (TimeoutError naming `what`)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(interval)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_process_group(proc, term_timeout=5.0, kill_timeout=5.0, sig=signal.SIGTERM):
    """Stops `proc` (a subprocess.Popen started with start_new_session=True) and the whole
    process group it leads: `sig`, then SIGKILL after `term_timeout`. Returns the exit
    status, or None if it would not die (which callers should treat as a failure)."""
    if proc is None:
        return None
    pgid = proc.pid  # a session leader's pgid is its pid
    if proc.poll() is None:
        try:
            os.killpg(pgid, signal.SIGCONT)  # a paused group cannot act on SIGTERM
            os.killpg(pgid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=term_timeout)
        except Exception:  # subprocess.TimeoutExpired
            pass
    if proc.poll() is None:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=kill_timeout)
        except Exception:
            return None
    # Children that outlived the leader (Kamailio's workers) are still in the group.
    deadline = time.monotonic() + kill_timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            break
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    return proc.returncode


class ManagedProcess:
    """A peer process (registrar, SIPp, ...) started by a subclass in its own session, with
    a temporary folder (`dir`) and an output file (`_output`). stop() ends the whole
    process group by pid, bounded; cleanup() also removes the folder unless
    SIPREG_KEEP_TMP=1. Usable as a context manager around start()."""
    term_timeout = 5.0
    kill_timeout = 5.0
    stop_signal = signal.SIGTERM

    def __init__(self):
        self.proc = None
        self.dir = None
        self._output = None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def stop(self):
        """Idempotent; returns the exit status (None if it would not die)."""
        status = None
        if self.proc is not None:
            status = stop_process_group(self.proc, term_timeout=self.term_timeout,
                                        kill_timeout=self.kill_timeout, sig=self.stop_signal)
        if self._output is not None:
            self._output.close()
            self._output = None
        return status

    def cleanup(self):
        self.stop()
        if self.dir and os.environ.get("SIPREG_KEEP_TMP") != "1":
            # The path stays known (tests check it is gone); removing twice is harmless.
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()
