#!/usr/bin/env python3
"""Registration benchmark: sipregd registers many lines on 127.0.0.1 against a registrar
that challenges every registration (401, then 200), over UDP, TCP or TLS (--transport).

  udp      a SIPp registrar (uas_challenge.xml) that challenges every REGISTER;
  tcp/tls  a Kamailio registrar (kamailio_registrar.py; Debian's SIPp has no TLS) with
           digest auth against an htable of the lines' users. Its nonces live
           --nonce-expire seconds, less than a refresh interval, so a refresh's kept
           credentials are stale and each refresh is challenged as well. Every line goes
           to the same host:port, so sipregd should open one shared connection. TLS uses
           a throwaway CA (tests/integration/certs.py) given to each line as
           `tls: { ca_file, server_name }`.

One invocation makes up to three daemon runs against the same registrar scenario:

  baseline  the same daemon with --baseline-lines lines (default 1): its RSS is
            subtracted from the main run's to get the memory per line.
  main      --lines lines at --rate (max_rate), granted --expires seconds. Measures the
            time until every line is registered, sipregd's CPU-seconds from READY=1 to
            that moment, then a steady-state window (--steady seconds) of refreshes:
            REGISTERs per second seen by the registrar, CPU used, lines lost.
  quiet     the same lines with expiries of --quiet-expires (default 3600 s): once all
            are registered, CPU over --quiet seconds, when no refresh is due.

A "registration" is one challenged exchange: REGISTER, 401, REGISTER with credentials,
200. CPU-seconds are sipregd's user+sys time from /proc/PID/stat; memory is VmHWM
(peak) and VmRSS from /proc/PID/status. The registrar's CPU (SIPp, or every Kamailio
process) is measured the same way: it runs on the same cores. Over TCP/TLS the
connections sipregd holds to the registrar are sampled with `ss` every half second, and
Kamailio's accepted connections are read from its statistics. Every wait is bounded and
every process is stopped by its pid. Traffic stays on 127.0.0.1.

    python3 bench/registration/run_bench.py --lines 10000 --rate 2000
    python3 bench/registration/run_bench.py --transport tls --lines 10000 --rate 2000

The sipregd binary: --binary, else $SIPREGD_BIN, else build/bench/daemon/sipregd.
Python 3 standard library only.
"""
import argparse
import csv
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from certs import SERVER_NAME, TestPki  # noqa: E402
from harness_util import ManagedProcess, stop_process_group  # noqa: E402
from kamailio_registrar import KamailioRegistrar, user_name, user_password  # noqa: E402
from notify import NotifyListener  # noqa: E402
from sipp import Sipp  # noqa: E402

SCENARIO = os.path.join(ROOT, "tests", "integration", "sipp", "uas_challenge.xml")
CLK_TCK = os.sysconf("SC_CLK_TCK")
STATUS_RX = re.compile(r"^(\d+)/(\d+) registered")
LOG_TIME_RX = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) \[(\w+)\] (.*)$")
REGISTERED_RX = re.compile(r"line=(\S+) (\w+) -> registered\b")
LEFT_REGISTERED_RX = re.compile(r"line=(\S+) registered -> (?!unregistering)(\w+)")


class BenchError(RuntimeError):
    pass


# ---- /proc ------------------------------------------------------------------------------

def cpu_split(pid):
    """(user, sys) CPU-seconds of `pid` (its own threads; sipregd has one)."""
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    fields = data[data.rindex(")") + 2:].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK


def cpu_seconds(pid):
    return sum(cpu_split(pid))


def memory_kib(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS", "voluntary_ctxt_switches"):
                out[key] = int(value.split()[0])
    return out


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


# ---- the registrar ----------------------------------------------------------------------

class SippRegistrar:
    """SIPp UAS playing uas_challenge.xml, with per-message counts dumped every second."""

    def __init__(self, granted):
        # The kernel caps SO_RCVBUF at net.core.rmem_max; asking for more costs nothing.
        self.sipp = Sipp(SCENARIO, keys={"granted": granted}, trace_messages=False,
                         extra_args=["-trace_counts", "-buff_size", "8388608", "-max_recv_loops", "10000"],
                         start_timeout=10.0)

    def __enter__(self):
        self.sipp.start()
        return self

    def __exit__(self, *exc):
        self.sipp.cleanup()

    @property
    def port(self):
        return self.sipp.port

    @property
    def pid(self):
        return self.sipp.pid

    def cpu_seconds(self):
        return cpu_seconds(self.sipp.pid)

    def connections(self):
        return None

    def accepted_connections(self):
        return None

    def log_size(self):
        return None

    def log_problems(self, upto=None):
        del upto
        return 0, []

    def counts(self):
        """Cumulative message counts from SIPp's latest -trace_counts row:
        {"register": requests received (first + authenticated, retransmissions apart),
         "retrans": retransmitted REGISTERs received, "unexpected": ..., "sent_200": ...}"""
        files = glob.glob(os.path.join(self.sipp.dir, "*_counts.csv"))
        if not files:
            return None
        with open(files[0], newline="") as f:
            rows = list(csv.reader(f, delimiter=";"))
        if len(rows) < 2:
            return None
        header, last = rows[0], rows[-1]
        if len(last) < len(header) - 1:  # a row being written
            last = rows[-2] if len(rows) >= 3 else last
        row = dict(zip(header, last))
        out = {"register": 0, "retrans": 0, "unexpected": 0, "sent_401": 0, "sent_200": 0}
        for key, value in row.items():
            try:
                n = int(value)
            except ValueError:
                continue
            m = re.match(r"^\d+_(REGISTER|401|200)_(\w+)$", key)
            if not m:
                continue
            what, col = m.groups()
            if what == "REGISTER" and col == "Recv":
                out["register"] += n
            elif what == "REGISTER" and col == "Retrans":
                out["retrans"] += n
            elif what == "REGISTER" and col == "Unexp":
                out["unexpected"] += n
            elif what in ("401", "200") and col == "Sent":
                out[f"sent_{what}"] += n
        return out

    def counts_now(self, wait=2.5):
        """Counts from a row written after this call (SIPp dumps once a second)."""
        files = glob.glob(os.path.join(self.sipp.dir, "*_counts.csv"))
        before = os.path.getmtime(files[0]) if files else 0
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            files = glob.glob(os.path.join(self.sipp.dir, "*_counts.csv"))
            if files and os.path.getmtime(files[0]) > before:
                break
            time.sleep(0.05)
        return self.counts()


class StreamRegistrar(KamailioRegistrar):
    """Kamailio over TCP or TLS with the SippRegistrar's interface (see kamailio_registrar.py)."""

    def accepted_connections(self):
        """Connections Kamailio has accepted since it started (its tcp:passive_open)."""
        return self.statistics().get("tcp:passive_open")


def make_registrar(args, granted, n_users, pki):
    if args.transport == "udp":
        return SippRegistrar(granted)
    run_seconds = args.expires + args.steady + 3 * 2 * args.lines / args.rate + 120
    return StreamRegistrar(args.transport, user_count=n_users, granted=granted, run_seconds=run_seconds,
                           nonce_expire=args.nonce_expire, tls_cert=pki.server if pki else None)


class ConnectionSampler:
    """Counts sipregd's established TCP connections to the registrar's port with `ss`,
    at most every `interval` seconds: the most at one time and every distinct one seen."""

    def __init__(self, port, interval=0.5):
        self.port = port
        self.interval = interval
        self.next_at = 0.0
        self.most = 0
        self.last = None
        self.seen = set()
        self.samples = 0

    def current(self):
        r = subprocess.run(["ss", "-tnH", "state", "established", f"( dport = :{self.port} )"],
                           capture_output=True, text=True, timeout=5)
        local = set()
        for row in r.stdout.splitlines():
            cols = row.split()
            # With a state filter ss drops the State column: Recv-Q Send-Q Local Peer.
            if len(cols) >= 4 and cols[3].endswith(f":{self.port}"):
                local.add(cols[2])
        return local

    def sample(self, force=False):
        now = time.monotonic()
        if not force and now < self.next_at:
            return
        self.next_at = now + self.interval
        local = self.current()
        self.samples += 1
        self.last = len(local)
        self.most = max(self.most, len(local))
        self.seen |= local

    def summary(self):
        return {"most_at_once": self.most, "distinct_seen": len(self.seen), "last": self.last,
                "samples": self.samples}


# ---- the daemon -------------------------------------------------------------------------

def write_config(path, *, lines, rate, expires, registrar_port, start_spread, transport="udp", ca_file=None):
    registrar = f"sip:127.0.0.1:{registrar_port}"
    # UDP lines are written as before (transport chosen by default), so UDP runs stay
    # comparable with the earlier figures.
    line_extra = ""
    if transport != "udp":
        line_extra += f", transport: {transport}"
    if transport == "tls":
        line_extra += f", tls: {{ ca_file: \"{ca_file}\", server_name: {SERVER_NAME} }}"
    parts = [
        "listen: { address: 127.0.0.1, port: 0 }\n",
        f"max_rate: {rate}\n",
        f"start_spread: {start_spread}\n",
        "shutdown_timeout: 0s\n",
        "defaults:\n",
        f"  expires: {expires}\n",
        "  retry: { base: 5s, max: 60s }\n",
        "lines:\n",
    ]
    for i in range(lines):
        parts.append(f"  - {{ id: l{i:05d}, registrar: \"{registrar}\", aor: \"sip:{user_name(i)}@bench.test\", "
                     f"auth: {{ password: \"{user_password(i)}\" }}{line_extra} }}\n")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("".join(parts))


class DaemonRun(ManagedProcess):
    """sipregd in its own session, stdout+stderr to a file, NOTIFY_SOCKET to a listener."""

    def __init__(self, binary, workdir, name, log_level):
        super().__init__()
        self.term_timeout = 10.0
        self.kill_timeout = 3.0
        self.binary = binary
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.config = os.path.join(self.dir, "sipregd.yaml")
        self.log_path = os.path.join(self.dir, "sipregd.log")
        self.log_level = log_level
        self.notify = None
        self.ready_at = None
        self.ready_cpu = None
        self.status = None  # latest (registered, total)
        self.status_text = ""
        self.sampler = None  # a ConnectionSampler, sampled while waiting

    def start(self):
        self.notify = NotifyListener()
        env = dict(os.environ)
        env.pop("JOURNAL_STREAM", None)
        env.update(self.notify.env())
        self._output = open(self.log_path, "w")
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen([self.binary, "-c", self.config, "--log-level", self.log_level],
                                     stdin=subprocess.DEVNULL, stdout=self._output, stderr=subprocess.STDOUT,
                                     env=env, start_new_session=True)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def poll(self, timeout):
        if self.sampler is not None:
            self.sampler.sample()
        for m in self.notify.poll(timeout):
            if m.fields.get("READY") == "1" and self.ready_at is None:
                self.ready_at = time.monotonic()
                self.ready_split = cpu_split(self.pid)
                self.ready_cpu = sum(self.ready_split)
            if "STATUS" in m.fields:
                self.status_text = m.fields["STATUS"]
                mm = STATUS_RX.match(self.status_text)
                if mm:
                    self.status = (int(mm.group(1)), int(mm.group(2)))

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while self.ready_at is None:
            if not self.alive():
                raise BenchError(f"sipregd exited ({self.proc.returncode}) before READY=1:\n{self.log_tail()}")
            if time.monotonic() >= deadline:
                raise BenchError(f"no READY=1 within {timeout:.0f}s")
            self.poll(0.02)

    def wait_all_registered(self, total, timeout):
        """Polls STATUS until total/total registered; returns (monotonic time, CPU-seconds)
        sampled when that STATUS arrived (it is throttled to one a second; the daemon is
        idle in between)."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.alive():
                raise BenchError(f"sipregd exited ({self.proc.returncode}):\n{self.log_tail()}")
            if self.status == (total, total):
                self.all_split = cpu_split(self.pid)
                return time.monotonic(), sum(self.all_split)
            if time.monotonic() >= deadline:
                raise BenchError(f"not all registered within {timeout:.0f}s: STATUS={self.status_text!r}")
            self.poll(0.02)

    def watch(self, seconds):
        """Keeps reading STATUS for `seconds`; returns the fewest registered lines seen."""
        fewest = self.status[0] if self.status else 0
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return fewest
            if not self.alive():
                raise BenchError(f"sipregd exited ({self.proc.returncode}):\n{self.log_tail()}")
            self.poll(min(left, 0.2))
            if self.status:
                fewest = min(fewest, self.status[0])

    def stop(self):
        super().stop()
        if self.notify is not None:
            self.notify.close()
            self.notify = None

    def log_tail(self, n=30):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def analyse_log(self):
        """From the log: per line, the first time it became registered; lines that left
        `registered`; warnings and errors."""
        first_registered = {}
        left_registered = 0
        warnings = 0
        warning_kinds = {}
        shutdown_warnings = 0
        stopping = False
        flows_closed = 0
        connect_failures = 0
        started = None
        with open(self.log_path, errors="replace") as f:
            for text in f:
                m = LOG_TIME_RX.match(text.rstrip("\n"))
                if not m:
                    continue
                stamp, level, msg = m.groups()
                t = time.mktime(time.strptime(stamp[:19], "%Y-%m-%d %H:%M:%S")) + int(stamp[20:]) / 1000
                if msg.startswith("signal ") and "unregistering all lines" in msg:
                    stopping = True
                if stopping:
                    # After the benchmark's SIGTERM (shutdown_timeout 0s cuts the
                    # un-REGISTERs short): reported apart.
                    if level in ("warning", "error", "critical"):
                        shutdown_warnings += 1
                    continue
                if level in ("warning", "error", "critical"):
                    warnings += 1
                    # Group by the message with digits and line ids blanked out.
                    kind = re.sub(r"\d+", "N", f"[{level}] {msg}")[:160]
                    warning_kinds[kind] = warning_kinds.get(kind, 0) + 1
                if re.match(r"flow \d+ to \S+ closed:", msg):
                    flows_closed += 1
                if msg.startswith("connection to ") and " failed: " in msg:
                    connect_failures += 1
                if started is None and msg.startswith("started with"):
                    started = t
                r = REGISTERED_RX.search(msg)
                if r and r.group(1) not in first_registered:
                    first_registered[r.group(1)] = t
                if LEFT_REGISTERED_RX.search(msg):
                    left_registered += 1
        last = max(first_registered.values()) if first_registered else None
        return {
            "registered_lines": len(first_registered),
            "time_to_all_from_log": (last - started) if (last is not None and started is not None) else None,
            "left_registered": left_registered,
            "warnings": warnings,
            "shutdown_warnings": shutdown_warnings,
            "warning_kinds": sorted(warning_kinds.items(), key=lambda kv: -kv[1])[:8],
            "flows_closed": flows_closed,
            "connect_failures": connect_failures,
        }


def start_perf(path, pid):
    """Samples sipregd's stacks (user and kernel, as far as perf_event_paranoid allows)."""
    return subprocess.Popen(["perf", "record", "-q", "-F", "499", "--call-graph", "dwarf,16384", "-o", path, "-p", str(pid)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True)


def stop_perf(proc):
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGINT)  # perf writes its file on SIGINT
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        stop_process_group(proc, term_timeout=1.0, kill_timeout=3.0)


# ---- the runs ---------------------------------------------------------------------------

def config_for(args, d, reg, pki, *, lines, expires, start_spread):
    write_config(d.config, lines=lines, rate=args.rate, expires=expires, registrar_port=reg.port,
                 start_spread=start_spread, transport=args.transport,
                 ca_file=pki.ca.cert_path if pki else None)


def run_baseline(args, workdir, pki):
    with make_registrar(args, args.expires, max(1, args.baseline_lines), pki) as reg:
        d = DaemonRun(args.binary, workdir, "baseline", args.log_level)
        config_for(args, d, reg, pki, lines=args.baseline_lines, expires=args.expires, start_spread="0s")
        try:
            d.start()
            d.wait_ready(30)
            if args.baseline_lines > 0:
                d.wait_all_registered(args.baseline_lines, 30)
            d.watch(2.0)
            mem = memory_kib(d.pid)
        finally:
            d.stop()
    return {"lines": args.baseline_lines, "vm_hwm_kib": mem["VmHWM"], "vm_rss_kib": mem["VmRSS"]}


def run_main(args, workdir, pki):
    n = args.lines
    out = {"lines": n, "rate": args.rate, "expires": args.expires, "transport": args.transport,
           "loadavg_before": loadavg()}
    with make_registrar(args, args.expires, n, pki) as reg:
        d = DaemonRun(args.binary, workdir, "main", args.log_level)
        config_for(args, d, reg, pki, lines=n, expires=args.expires, start_spread=args.start_spread)
        stream = args.transport != "udp"
        if stream:
            d.sampler = ConnectionSampler(reg.port)
        accepted0 = reg.accepted_connections()
        reg_cpu0 = reg.cpu_seconds()
        try:
            d.start()
            d.wait_ready(120)
            reg_cpu_ready = reg.cpu_seconds()
            perf = start_perf(args.perf_out, d.pid) if args.perf_out and args.perf_phase == "register" else None
            out["startup_cpu_s"] = d.ready_cpu
            out["startup_wall_s"] = d.ready_at - d.started_at
            out["rss_at_ready_kib"] = memory_kib(d.pid)["VmRSS"]
            # Two transactions per line at max_rate, plus generous slack.
            t_all, cpu_all = d.wait_all_registered(n, 3 * 2 * n / args.rate + 60)
            counts_all = reg.counts_now()
            out["time_to_all_status_s"] = t_all - d.ready_at
            out["register_cpu_s"] = cpu_all - d.ready_cpu
            out["register_cpu_s_per_1000"] = 1000 * out["register_cpu_s"] / n
            out["register_cpu_user_s"] = d.all_split[0] - d.ready_split[0]
            out["register_cpu_sys_s"] = d.all_split[1] - d.ready_split[1]
            out["registrar_at_all"] = counts_all
            out["registrar_cpu_register_s"] = reg.cpu_seconds() - reg_cpu_ready
            if stream:
                d.sampler.sample(force=True)
                out["connections_at_all"] = d.sampler.summary()
            if perf is not None:
                stop_perf(perf)
                perf = None
            out["rss_at_all_kib"] = memory_kib(d.pid)["VmRSS"]

            # Steady state: from one expiry after READY (the first refresh rounds are
            # bunched like the initial registrations) for --steady seconds.
            settle = max(0.0, d.ready_at + args.expires - time.monotonic())
            fewest = d.watch(settle)
            c0, cpu0, t0 = reg.counts_now(), cpu_seconds(d.pid), time.monotonic()
            rcpu0 = reg.cpu_seconds()
            if args.perf_out and args.perf_phase == "steady":
                perf = start_perf(args.perf_out, d.pid)
            fewest = min(fewest, d.watch(args.steady))
            c1, cpu1, t1 = reg.counts_now(), cpu_seconds(d.pid), time.monotonic()
            rcpu1 = reg.cpu_seconds()
            if perf is not None:
                stop_perf(perf)
                perf = None
            span = t1 - t0
            registers = c1["register"] - c0["register"]
            # A refresh is one 200 OK (two REGISTERs when it is challenged).
            refreshes = c1["sent_200"] - c0["sent_200"]
            retrans = (c1["retrans"] - c0["retrans"]) if c1["retrans"] is not None else None
            out["steady"] = {
                "seconds": span,
                "registers_per_s": registers / span,
                "refreshes": refreshes,
                "challenges": c1["sent_401"] - c0["sent_401"],
                "retransmitted_registers": retrans,
                "cpu_s": cpu1 - cpu0,
                "cpu_percent": 100 * (cpu1 - cpu0) / span,
                "cpu_s_per_1000_refreshes": 1000 * (cpu1 - cpu0) / refreshes if refreshes else None,
                "registrar_cpu_percent": 100 * (rcpu1 - rcpu0) / span,
                "fewest_registered": fewest,
            }
            mem = memory_kib(d.pid)
            out["vm_hwm_kib"] = mem["VmHWM"]
            out["vm_rss_kib"] = mem["VmRSS"]
            out["registrar_end"] = reg.counts_now()
            out["final_status"] = d.status_text
            if stream:
                d.sampler.sample(force=True)
                out["connections"] = d.sampler.summary()
                out["registrar_connections_open"] = len(reg.connections())
                accepted1 = reg.accepted_connections()
                out["registrar_accepted_connections"] = (
                    accepted1 - accepted0 if accepted0 is not None and accepted1 is not None else None)
            out["registrar_cpu_total_s"] = reg.cpu_seconds() - reg_cpu0
        finally:
            if perf is not None:
                stop_perf(perf)
            # The registrar's complaints about the shutdown (replies to un-REGISTERs on a
            # connection sipregd has closed) are not part of the run.
            reg_log_at_stop = reg.log_size()
            d.stop()
        out["registrar_problems"] = reg.log_problems(upto=reg_log_at_stop)
        out["log"] = d.analyse_log()
        out["never_registered"] = n - out["log"]["registered_lines"]
    out["loadavg_after"] = loadavg()
    return out


def run_quiet(args, workdir, pki):
    n = args.lines
    with make_registrar(args, args.quiet_expires, n, pki) as reg:
        d = DaemonRun(args.binary, workdir, "quiet", args.log_level)
        config_for(args, d, reg, pki, lines=n, expires=args.quiet_expires, start_spread=args.start_spread)
        try:
            d.start()
            d.wait_ready(120)
            d.wait_all_registered(n, 3 * 2 * n / args.rate + 60)
            # Finished transactions linger for Timer K (5 s on UDP) and STATUS is sent at
            # most once a second: let both pass before the quiet window starts.
            d.watch(10.0)
            c0, cpu0, t0 = reg.counts_now(), cpu_seconds(d.pid), time.monotonic()
            w0 = memory_kib(d.pid)["voluntary_ctxt_switches"]
            fewest = d.watch(args.quiet)
            c1, cpu1, t1 = reg.counts_now(), cpu_seconds(d.pid), time.monotonic()
            w1 = memory_kib(d.pid)["voluntary_ctxt_switches"]
        finally:
            d.stop()
    return {"expires": args.quiet_expires, "seconds": t1 - t0, "cpu_s": cpu1 - cpu0,
            "wakeups": w1 - w0, "registers_seen": c1["register"] - c0["register"], "fewest_registered": fewest}


# ---- report -----------------------------------------------------------------------------

def fmt(x, digits=3):
    return "n/a" if x is None else f"{x:.{digits}f}"


def report(res):
    m = res["main"]
    registrar = "SIPp" if m["transport"] == "udp" else "Kamailio"
    lines = [f"sipregd registration benchmark over {m['transport'].upper()} ({registrar} registrar): "
             f"{m['lines']} lines, max_rate {m['rate']}/s, granted {m['expires']} s "
             f"(load average {m['loadavg_before']} before, {m['loadavg_after']} after)"]
    log = m["log"]
    lines.append(f"  start-up (config load to READY=1): {fmt(m['startup_wall_s'], 2)} s wall, "
                 f"{fmt(m['startup_cpu_s'], 2)} CPU-s")
    lines.append(f"  time until all registered: {fmt(log['time_to_all_from_log'], 2)} s from the log "
                 f"({fmt(m['time_to_all_status_s'], 2)} s by STATUS, 1 s granularity); "
                 f"2 x lines / max_rate = {2 * m['lines'] / m['rate']:.2f} s")
    lines.append(f"  CPU for the registrations: {fmt(m['register_cpu_s'])} s (user {fmt(m['register_cpu_user_s'], 2)}, "
                 f"sys {fmt(m['register_cpu_sys_s'], 2)}) = "
                 f"{fmt(m['register_cpu_s_per_1000'], 4)} CPU-s per 1,000 registrations")
    ra = m["registrar_at_all"] or {}
    retrans = "n/a" if ra.get("retrans") is None else ra.get("retrans")
    unexpected_label = "unexpected" if m["transport"] == "udp" else "refused"
    lines.append(f"  registrar at that point: {ra.get('register')} REGISTERs, {ra.get('sent_401')} x 401, "
                 f"{ra.get('sent_200')} x 200, {retrans} retransmissions, {ra.get('unexpected')} {unexpected_label}; "
                 f"registrar CPU over the phase {fmt(m['registrar_cpu_register_s'], 2)} s")
    lines.append(f"  never registered: {m['never_registered']}; left 'registered': {log['left_registered']}; "
                 f"warnings/errors logged: {log['warnings']} (and {log['shutdown_warnings']} after SIGTERM); final STATUS: {m['final_status']!r}")
    for kind, count in log["warning_kinds"]:
        lines.append(f"    {count} x {kind}")
    if m["transport"] != "udp":
        ca, ce = m["connections_at_all"], m["connections"]
        lines.append(f"  connections to the registrar (ss, every 0.5 s): {ca['most_at_once']} at most at once "
                     f"until all registered, {ce['most_at_once']} at most over the whole run, "
                     f"{ce['distinct_seen']} distinct, {ce['last']} open at the end; Kamailio accepted "
                     f"{m['registrar_accepted_connections']} and lists {m['registrar_connections_open']} open; "
                     f"sipregd logged {log['flows_closed']} closed flow(s), {log['connect_failures']} failed connect(s)")
    s = m["steady"]
    retrans = "n/a" if s["retransmitted_registers"] is None else s["retransmitted_registers"]
    lines.append(f"  steady state over {s['seconds']:.1f} s: {s['registers_per_s']:.1f} REGISTERs/s at the registrar "
                 f"({s['refreshes']} x 200, {s['challenges']} x 401, {retrans} retransmitted), "
                 f"CPU {s['cpu_s']:.2f} s = {s['cpu_percent']:.2f} % of a core, "
                 f"{fmt(s['cpu_s_per_1000_refreshes'], 4)} CPU-s per 1,000 refreshes; "
                 f"registrar CPU {s['registrar_cpu_percent']:.1f} % of a core; fewest registered {s['fewest_registered']}")
    total, first = m["registrar_problems"]
    if total:
        lines.append(f"  registrar logged {total} warning/error line(s), first: {first[0][:200]}")
    lines.append(f"  memory: VmHWM {m['vm_hwm_kib']} KiB, VmRSS {m['vm_rss_kib']} KiB "
                 f"(RSS at READY {m['rss_at_ready_kib']} KiB, when all registered {m['rss_at_all_kib']} KiB)")
    b = res.get("baseline")
    if b:
        per_hwm = (m["vm_hwm_kib"] - b["vm_hwm_kib"]) * 1024 / (m["lines"] - b["lines"])
        per_rss = (m["vm_rss_kib"] - b["vm_rss_kib"]) * 1024 / (m["lines"] - b["lines"])
        res["per_line_bytes"] = {"hwm": per_hwm, "rss": per_rss}
        lines.append(f"  baseline with {b['lines']} line(s): VmHWM {b['vm_hwm_kib']} KiB, VmRSS {b['vm_rss_kib']} KiB "
                     f"-> per line: {per_hwm:.0f} B peak (VmHWM), {per_rss:.0f} B resident (VmRSS)")
    q = res.get("quiet")
    if q:
        lines.append(f"  quiet interval (granted {q['expires']} s) over {q['seconds']:.1f} s: CPU {q['cpu_s']:.2f} s, "
                     f"{q['wakeups']} wake-ups (voluntary context switches), "
                 f"{q['registers_seen']} REGISTERs at the registrar, fewest registered {q['fewest_registered']}")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--transport", choices=("udp", "tcp", "tls"), default="udp",
                   help="udp: SIPp registrar; tcp, tls: Kamailio registrar on one shared connection")
    p.add_argument("--nonce-expire", type=int, default=15,
                   help="tcp/tls: Kamailio's nonce lifetime, seconds (below the refresh interval, so "
                        "refreshes are challenged too)")
    p.add_argument("--lines", type=int, default=10000)
    p.add_argument("--rate", type=int, default=2000, help="max_rate: new transactions per second")
    p.add_argument("--expires", type=int, default=60, help="asked for and granted, seconds (>= 10)")
    p.add_argument("--start-spread", default="0s", help="start_spread (default 0s: max_rate paces the start)")
    p.add_argument("--steady", type=float, default=60.0, help="steady-state window, seconds")
    p.add_argument("--quiet", type=float, default=30.0, help="quiet window with long expiries, seconds (0: skip)")
    p.add_argument("--quiet-expires", type=int, default=3600)
    p.add_argument("--baseline-lines", type=int, default=1, help="lines of the baseline run (-1: skip)")
    p.add_argument("--log-level", default="info")
    p.add_argument("--binary", default=os.environ.get("SIPREGD_BIN")
                   or os.path.join(ROOT, "build", "bench", "daemon", "sipregd"))
    p.add_argument("--perf-out", help="perf record the registration phase into this file (profiling only)")
    p.add_argument("--perf-phase", choices=("register", "steady"), default="register")
    p.add_argument("--json", help="also write the figures to this file")
    p.add_argument("--keep", action="store_true", help="keep the work folder (configs and logs)")
    args = p.parse_args()
    if not os.access(args.binary, os.X_OK):
        p.error(f"no sipregd binary at {args.binary} (build the sipregd target or pass --binary)")
    if args.lines < 1 or args.rate < 1 or args.expires < 10:
        p.error("need --lines >= 1, --rate >= 1, --expires >= 10")

    if args.lines > 99999:
        p.error("at most 99999 lines (user ids have five digits)")
    if args.nonce_expire < 1:
        p.error("need --nonce-expire >= 1")

    workdir = tempfile.mkdtemp(prefix="sipreg-bench-")
    res = {"binary": args.binary, "cores": os.cpu_count(), "transport": args.transport}
    pki = TestPki() if args.transport == "tls" else None
    try:
        if args.baseline_lines >= 0:
            res["baseline"] = run_baseline(args, workdir, pki)
        res["main"] = run_main(args, workdir, pki)
        if args.quiet > 0:
            res["quiet"] = run_quiet(args, workdir, pki)
    except (RuntimeError, TimeoutError, subprocess.SubprocessError) as e:
        # BenchError, and the registrar's and certificate helpers' errors.
        print(f"benchmark failed: {e}", file=sys.stderr)
        print(f"work folder kept: {workdir}", file=sys.stderr)
        return 1
    finally:
        if pki is not None:
            pki.cleanup()
    text = report(res)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)
    if args.keep:
        print(f"work folder: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    m = res["main"]
    ok = m["never_registered"] == 0 and m["steady"]["fewest_registered"] == m["lines"]
    return 0 if ok else 2


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
