"""Runs the sipregd binary under test: writes its config into a temporary folder, starts
it in its own session (so it and anything it forks are stopped by pid), collects every
log line with a timestamp, and offers bounded waits on them.

The binary comes from SIPREGD_BIN (ctest sets it to the built target). `netns` (a
netns.NetNs) runs it inside that network namespace (`ip netns exec` execs, so the pid is
the daemon's own and signals reach it as usual)."""
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request

from harness_util import ManagedProcess, stop_process_group


def sipregd_binary():
    path = os.environ.get("SIPREGD_BIN")
    if not path:
        raise RuntimeError("SIPREGD_BIN is not set (ctest sets it to the sipregd target)")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"SIPREGD_BIN={path} is not an executable")
    return path


_METRIC_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)')
_METRIC_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """A Prometheus text page as [(name, {label: value}, float)], leniently (comments
    skipped); test_metrics.py checks the format itself strictly."""
    out = []
    for raw in text.splitlines():
        if not raw or raw.startswith("#"):
            continue
        m = _METRIC_SAMPLE.match(raw)
        if m:
            labels = dict(_METRIC_LABEL.findall(m.group(2) or ""))
            out.append((m.group(1), labels, float(m.group(3))))
    return out


def metric_sum(samples, name, **labels):
    """The sum of `name` over every sample whose labels include `labels`."""
    return sum(v for n, lb, v in samples
               if n == name and all(lb.get(k) == want for k, want in labels.items()))


def metric_by(samples, name, key, **labels):
    """{value of label `key`: sample value} for `name` (samples matching `labels`)."""
    return {lb.get(key): v for n, lb, v in samples
            if n == name and all(lb.get(k) == want for k, want in labels.items())}


class Daemon(ManagedProcess):
    term_timeout = 10.0
    kill_timeout = 3.0

    def __init__(self, config_text, *, binary=None, args=("--log-level", "debug"), env=None,
                 config_name="sipregd.yaml", netns=None):
        super().__init__()
        self.netns = netns
        self.binary = binary or sipregd_binary()
        self.dir = tempfile.mkdtemp(prefix="sipreg-daemon-")
        self.config_path = os.path.join(self.dir, config_name)
        self.write_config(config_text)
        self.args = list(args)
        self.env = dict(os.environ)
        self.env.pop("NOTIFY_SOCKET", None)
        self.env.pop("JOURNAL_STREAM", None)
        self.env.update(env or {})
        self.lines = []  # (monotonic seconds since start, text)
        self._lock = threading.Lock()
        self._reader = None
        self._log_file = None  # written by the reader thread, closed after it ends
        self.t0 = None

    def write_config(self, text):
        """(Re)writes the config file; follow with reload() to make the daemon read it."""
        tmp = self.config_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.config_path)

    def command(self):
        argv = [self.binary, "-c", self.config_path, *self.args]
        return self.netns.wrap(argv) if self.netns is not None else argv

    def start(self):
        self._log_file = open(os.path.join(self.dir, "sipregd.log"), "w")
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=self.env, start_new_session=True)
        self._reader = threading.Thread(target=self._read, name="sipregd-log", daemon=True)
        self._reader.start()
        return self

    def _read(self):
        for raw in self.proc.stdout:
            text = raw.decode("utf-8", "replace").rstrip("\n")
            with self._lock:
                self.lines.append((time.monotonic() - self.t0, text))
            self._log_file.write(text + "\n")
            self._log_file.flush()

    def log(self):
        with self._lock:
            return [t for _, t in self.lines]

    def log_text(self):
        return "\n".join(self.log())

    def wait_for_log(self, pattern, timeout=10.0, since=0):
        """The first log line from index `since` on matching `pattern` (a regex), as a
        match object; TimeoutError (with the log tail) after `timeout` seconds, or at once
        if the daemon exited."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        i = since
        while True:
            with self._lock:
                lines = [t for _, t in self.lines[i:]]
            for text in lines:
                m = rx.search(text)
                if m:
                    return m
            i += len(lines)
            if self.proc.poll() is not None:
                self._reader.join(timeout=1.0)
                with self._lock:
                    rest = [t for _, t in self.lines[i:]]
                for text in rest:
                    m = rx.search(text)
                    if m:
                        return m
                raise TimeoutError(f"sipregd exited ({self.proc.returncode}) before logging /{pattern}/:\n"
                                   + self.tail())
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no log line matching /{pattern}/ within {timeout}s:\n" + self.tail())
            time.sleep(0.05)

    def lines_matching(self, pattern):
        """[(seconds since start, text)] of the log lines matching `pattern`."""
        rx = re.compile(pattern)
        with self._lock:
            return [(t, text) for t, text in self.lines if rx.search(text)]

    def count_log(self, pattern):
        rx = re.compile(pattern)
        return sum(1 for t in self.log() if rx.search(t))

    def tail(self, n=40):
        return "\n".join(self.log()[-n:])

    def scrape(self, address, timeout=10.0):
        """GETs http://`address`/metrics (the config's `metrics: listen:`), from inside
        the daemon's network namespace when it has one; parse_metrics() of the page."""
        def get():
            with urllib.request.urlopen(f"http://{address}/metrics", timeout=timeout) as r:
                return r.read().decode("utf-8")
        text = self.netns.call(get, call_timeout=timeout + 5) if self.netns is not None else get()
        return parse_metrics(text)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def reload(self):
        self.signal(signal.SIGHUP)

    def terminate_and_wait(self, timeout=10.0):
        """SIGTERM and wait for a clean exit; returns the exit status (None if it had to
        be killed, which callers should treat as a failure)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_process_group(self.proc, term_timeout=0.1, kill_timeout=3.0, sig=signal.SIGKILL)
            return None

    def stop(self):
        """Stops the daemon by pid whatever its state (SIGTERM, then SIGKILL), bounded."""
        status = super().stop()
        if self.proc is not None:
            if self._reader is not None:
                self._reader.join(timeout=2.0)
            if self.proc.stdout:
                self.proc.stdout.close()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        return status
