#!/usr/bin/env python3
"""Soak benchmark: sipregd keeps --lines lines registered with a Kamailio registrar on
127.0.0.1 that grants only --expires seconds (5 by default), for --duration seconds, and
its resources are sampled every --sample-interval seconds. Resident memory, open file
descriptors and libuv loop handles must stay flat while every line stays registered.

Set-up:
  registrar  Kamailio 5.6 (bench/registration/kamailio_registrar.py): digest auth
             against an htable of the lines' users (MD5, qop=auth, nonce-count checked),
             bindings in memory, usrloc expiry timer every second, min_expires 1 and
             max_expires --expires, so every REGISTER is granted --expires seconds.
             Nonces live --nonce-expire seconds: within a nonce's life a refresh reuses
             the credentials (one transaction), after it the refresh is challenged (two).
  sipregd    --lines lines over UDP (or --transport tcp: one shared connection), asking
             for max(10, --expires) seconds (10 s is the least the configuration accepts;
             the registrar cuts it down), max_rate --rate, metrics on a local port. At a
             5 s grant each line refreshes every 1.4-1.7 s (lib/reg/policy.h).

Every sample reads, from /proc/PID: VmRSS, the count of /proc/PID/fd, utime+stime; and from
the metrics page: process_resident_memory_bytes, process_open_fds,
process_cpu_seconds_total, sipregd_loop_handles, sipregd_lines{state="registered"}, the sums
over lines of binding lapses and successful registrations, transactions started,
retransmissions and timeouts. The registrar's bindings (usrloc:location_contacts) and
REGISTERs are read with kamcmd. Sampling starts --warmup seconds after every line is
registered (one expiry, and UDP's Timer K of 5 s, have passed by then).

The summary gives first / last / max of each figure, the least-squares slope of RSS over
the second half of the soak (KiB per minute), refreshes per second, transactions per
refresh and CPU-seconds per 1,000 refreshes. The exit status is 2 when a check fails
(every failure is printed, nothing is hidden), 1 when the run could not be made, else 0:
  - a line left `registered` (a sample below --lines, or STATUS below it between samples)
    or a binding lapsed;
  - the descriptor count or the loop handles grew: the lowest of the last three samples
    is above the highest of the first three;
  - RSS grew by more than --max-rss-growth-kib over the second half: the highest sample
    of its last quarter minus the highest of its first quarter (peaks, because RSS swings
    by a few hundred KiB with the transactions alive at the moment of a sample).

    python3 bench/soak/run_soak.py --lines 1000 --expires 5 --duration 600
    python3 bench/soak/run_soak.py --transport tcp --duration 60

The sipregd binary: --binary, else build/bench-rel/daemon/sipregd when it exists, else
build/coord/daemon/sipregd. Use a Release build without sanitizers for recorded figures
(ASan's quarantine and shadow memory inflate RSS). Every wait is bounded, every process
is stopped by its pid, traffic stays on 127.0.0.1. Python 3 standard library only.
"""
import argparse
import json
import math
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
sys.path.insert(0, os.path.join(ROOT, "bench", "registration"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from kamailio_registrar import (KamailioRegistrar, TunedKamailio, group_cpu_seconds,  # noqa: E402
                                user_name, user_password)
from run_bench import DaemonRun  # noqa: E402
from soak_sample import loadavg, take_sample  # noqa: E402
from stream_util import free_tcp_port  # noqa: E402

MIN_CONFIG_EXPIRES = 10  # the least `expires` sipregd's configuration accepts
LOG_LEVEL_RX = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \[(\w+)\] (.*)$")


def default_binary():
    release = os.path.join(ROOT, "build", "bench-rel", "daemon", "sipregd")
    if os.access(release, os.X_OK):
        return release
    return os.path.join(ROOT, "build", "coord", "daemon", "sipregd")


# ---- the registrar ----------------------------------------------------------------------

class SoakRegistrar(KamailioRegistrar):
    """The benchmark registrar (counts, CPU, statistics, log checks of KamailioRegistrar)
    granting short expiries, over UDP or TCP. KamailioRegistrar.__init__ is made for the
    stream runs (TCP/TLS only, min_expires 10 s), so this one sets up the same attributes
    with its own TunedKamailio."""

    def __init__(self, transport, *, user_count, granted, nonce_expire, run_seconds, children):
        if transport not in ("udp", "tcp"):
            raise ValueError("transport must be udp or tcp")
        self.transport = transport
        self.kam = TunedKamailio(
            user_count, tcp=transport == "tcp", min_expires=1, max_expires=granted, default_expires=granted,
            nonce_expire=nonce_expire, timer_interval=1, children=children,
            tcp_connection_lifetime=max(3605, int(run_seconds) + 600), start_timeout=60.0)
        self._last_counts = None

    def snapshot(self):
        """REGISTERs received, bindings saved, bindings held, CPU-seconds so far."""
        table = self.htable_counters()
        stats = self.statistics()
        return {"register": table.get("register"), "accepted": table.get("accepted"),
                "contacts": stats.get("usrloc:location_contacts"), "cpu_s": group_cpu_seconds(self.kam.pid)}


# ---- the daemon -------------------------------------------------------------------------

def write_config(path, *, lines, rate, asked_expires, registrar_port, transport, metrics_port, control_socket):
    registrar = f"sip:127.0.0.1:{registrar_port}"
    line_extra = f", transport: {transport}" if transport != "udp" else ""
    parts = [
        "listen: { address: 127.0.0.1, port: 0 }\n",
        f"max_rate: {rate}\n",
        "start_spread: 0s\n",
        "shutdown_timeout: 5s\n",
        f"metrics: {{ listen: \"127.0.0.1:{metrics_port}\" }}\n",
        # The control socket of a deployed daemon, in the work folder.
        f"control: {{ socket: \"{control_socket}\" }}\n",
        "defaults:\n",
        f"  expires: {asked_expires}\n",
        "  retry: { base: 5s, max: 60s }\n",
        "lines:\n",
    ]
    for i in range(lines):
        parts.append(f"  - {{ id: l{i:05d}, registrar: \"{registrar}\", aor: \"sip:{user_name(i)}@bench.test\", "
                     f"auth: {{ password: \"{user_password(i)}\" }}{line_extra} }}\n")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("".join(parts))


def log_problems(path):
    """(count of warning/error lines, up to 5 kinds with their counts) in sipregd's log
    before the benchmark's SIGTERM."""
    kinds = {}
    total = 0
    with open(path, errors="replace") as f:
        for text in f:
            m = LOG_LEVEL_RX.match(text.rstrip("\n"))
            if not m:
                continue
            level, msg = m.groups()
            if msg.startswith("signal "):
                break
            if level in ("warning", "warn", "error", "critical"):
                total += 1
                kind = re.sub(r"\d+", "N", f"[{level}] {msg}")[:160]
                kinds[kind] = kinds.get(kind, 0) + 1
    return total, sorted(kinds.items(), key=lambda kv: -kv[1])[:5]


# ---- the run ----------------------------------------------------------------------------

def run(args, workdir):
    n = args.lines
    asked = max(MIN_CONFIG_EXPIRES, args.expires)
    res = {"binary": args.binary, "lines": n, "expires": args.expires, "asked_expires": asked,
           "transport": args.transport, "rate": args.rate, "nonce_expire": args.nonce_expire,
           "duration": args.duration, "sample_interval": args.sample_interval, "cores": os.cpu_count(),
           "loadavg_before": loadavg(), "samples": [], "registrar_samples": []}
    run_seconds = args.warmup + args.duration + 120
    reg = SoakRegistrar(args.transport, user_count=n, granted=args.expires, nonce_expire=args.nonce_expire,
                        run_seconds=run_seconds, children=args.registrar_children)
    with reg:
        d = DaemonRun(args.binary, workdir, "soak", args.log_level)
        metrics_port = free_tcp_port()
        write_config(d.config, lines=n, rate=args.rate, asked_expires=asked, registrar_port=reg.port,
                     transport=args.transport, metrics_port=metrics_port,
                     control_socket=os.path.join(d.dir, "control.sock"))
        fewest_status = None
        try:
            d.start()
            d.wait_ready(60)
            t_all, _ = d.wait_all_registered(n, 3 * 2 * n / args.rate + 60)
            res["time_to_all_s"] = t_all - d.ready_at
            d.watch(args.warmup)
            print(f"soak: {n} lines over {args.transport.upper()}, granted {args.expires} s, "
                  f"{args.duration:.0f} s, a sample every {args.sample_interval:.0f} s "
                  f"(pid {d.pid}, binary {args.binary})", flush=True)
            print(header(), flush=True)
            t0 = time.monotonic()
            count = int(math.floor(args.duration / args.sample_interval + 1e-9))
            max_load = loadavg()
            for k in range(count + 1):
                left = t0 + k * args.sample_interval - time.monotonic()
                if left > 0:
                    seen = d.watch(left)
                    fewest_status = seen if fewest_status is None else min(fewest_status, seen)
                t = time.monotonic() - t0
                s = take_sample(d.pid, metrics_port, t)
                s["status_registered"] = d.status[0] if d.status else None
                r = reg.snapshot()
                r["t"] = t
                res["samples"].append(s)
                res["registrar_samples"].append(r)
                max_load = max(max_load, loadavg())
                print(row(s, r), flush=True)
            res["loadavg_max"] = max_load
            res["final_status"] = d.status_text
        finally:
            # Kamailio's complaints after this point belong to the shutdown.
            reg_log_at_stop = reg.log_size()
            stop_started = time.monotonic()
            d.stop()
            res["exit_status"] = d.proc.returncode if d.proc is not None else None
            res["stop_s"] = time.monotonic() - stop_started
        res["fewest_status_registered"] = fewest_status
        res["registrar_problems"] = reg.log_problems(upto=reg_log_at_stop)
        res["log_problems"] = log_problems(d.log_path)
    res["loadavg_after"] = loadavg()
    return res


# ---- output -----------------------------------------------------------------------------

COLUMNS = [  # (title, width, value of (sample, registrar sample))
    ("t_s", 6, lambda s, r: f"{s['t']:.0f}"),
    ("rss_KiB", 8, lambda s, r: s["rss_kib"]),
    ("rss_m_KiB", 9, lambda s, r: None if s["rss_metric_kib"] is None else f"{s['rss_metric_kib']:.0f}"),
    ("anon_KiB", 8, lambda s, r: s["rss_anon_kib"]),
    ("fds", 4, lambda s, r: s["fds"]),
    ("fds_m", 5, lambda s, r: s["fds_metric"]),
    ("handles", 7, lambda s, r: s["loop_handles"]),
    ("reg", 5, lambda s, r: s["registered"] if s["registered"] is not None else s["status_registered"]),
    ("lapses", 6, lambda s, r: s["lapses"]),
    ("ok_regs", 8, lambda s, r: s["successes"]),
    ("txns", 8, lambda s, r: s["transactions"]),
    ("retr", 5, lambda s, r: s["retransmissions"]),
    ("tmo", 4, lambda s, r: s["timeouts"]),
    ("cpu_s", 7, lambda s, r: f"{s['cpu_s']:.2f}"),
    ("late_ms", 7, lambda s, r: None if s["timer_lateness_max_s"] is None else f"{1000 * s['timer_lateness_max_s']:.0f}"),
    ("kam_bind", 8, lambda s, r: r["contacts"]),
    ("scrape_ms", 9, lambda s, r: None if s["scrape_s"] is None else f"{1000 * s['scrape_s']:.0f}"),
]


def header():
    return " ".join(f"{title:>{width}}" for title, width, _ in COLUMNS)


def row(s, r):
    cells = []
    for _, width, get in COLUMNS:
        v = get(s, r)
        cells.append(f"{'-' if v is None else v:>{width}}")
    return " ".join(cells)


def slope_per_minute(points):
    """Least-squares slope of (t seconds, y) points, in y per minute; None under 2 points."""
    if len(points) < 2:
        return None
    mt = sum(t for t, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    var = sum((t - mt) ** 2 for t, _ in points)
    if var == 0:
        return None
    return 60 * sum((t - mt) * (y - my) for t, y in points) / var


def grew(values):
    """True when every one of the last three values is above all of the first three: a
    level that rose and stayed, not a transient sample."""
    values = [v for v in values if v is not None]
    if len(values) < 2:
        return False
    k = min(3, len(values) // 2)
    return min(values[-k:]) > max(values[:k])


def peak_growth(values):
    """How far the peak of the last quarter of `values` (at least two) is above the peak of
    the first quarter. RSS moves up and down by a few hundred KiB with the transactions
    alive at a sample; a leak lifts the peaks, an oscillation does not."""
    if len(values) < 2:
        return None
    k = max(1, min(len(values) // 2, max(2, len(values) // 4)))
    return max(values[-k:]) - max(values[:k])


def series(samples, key):
    return [s[key] for s in samples]


def delta(samples, key):
    a, b = samples[0][key], samples[-1][key]
    return None if a is None or b is None else b - a


def analyse(res, args):
    """Adds res["summary"] and res["failures"]."""
    samples, regs = res["samples"], res["registrar_samples"]
    first, last = samples[0], samples[-1]
    span = last["t"] - first["t"]
    summ = {"span_s": span}
    for key in ("rss_kib", "rss_metric_kib", "rss_anon_kib", "fds", "fds_metric", "loop_handles", "cpu_s",
                "cpu_metric_s", "timer_lateness_max_s", "scrape_s"):
        vals = [v for v in series(samples, key) if v is not None]
        summ[key] = {"first": first[key], "last": last[key], "max": max(vals) if vals else None,
                     "min": min(vals) if vals else None}
    reg_vals = [s["registered"] if s["registered"] is not None else s["status_registered"] for s in samples]
    summ["registered"] = {"first": reg_vals[0], "last": reg_vals[-1],
                          "min": min((v for v in reg_vals if v is not None), default=None)}
    half = first["t"] + span / 2
    second = [s for s in samples if s["t"] >= half - 1e-6]
    summ["rss_second_half"] = {
        "samples": len(second),
        "slope_kib_per_min": slope_per_minute([(s["t"], s["rss_kib"]) for s in second]),
        "metric_slope_kib_per_min": (slope_per_minute([(s["t"], s["rss_metric_kib"]) for s in second])
                                     if all(s["rss_metric_kib"] is not None for s in second) else None),
        "growth_kib": peak_growth([s["rss_kib"] for s in second]),
        "last_minus_first_kib": second[-1]["rss_kib"] - second[0]["rss_kib"] if second else None,
        "from_t": second[0]["t"] if second else None,
    }
    for key in ("lapses", "successes", "challenges", "register_sent", "transactions", "retransmissions",
                "timeouts", "transport_errors", "rate_limited", "stray_responses"):
        summ[f"{key}_during"] = delta(samples, key)
        summ[f"{key}_total"] = last[key]
    cpu = last["cpu_s"] - first["cpu_s"]
    ok = summ["successes_during"]
    summ["cpu_s_during"] = cpu
    summ["cpu_percent"] = 100 * cpu / span if span else None
    summ["registrations_per_s"] = ok / span if ok is not None and span else None
    summ["register_sent_per_s"] = (summ["register_sent_during"] / span
                                   if summ["register_sent_during"] is not None and span else None)
    summ["cpu_s_per_1000_refreshes"] = 1000 * cpu / ok if ok else None
    summ["transactions_per_refresh"] = summ["transactions_during"] / ok if ok and summ["transactions_during"] is not None else None
    summ["challenges_per_refresh"] = summ["challenges_during"] / ok if ok and summ["challenges_during"] is not None else None
    rspan = regs[-1]["t"] - regs[0]["t"]
    if regs[0]["register"] is not None and regs[-1]["register"] is not None and rspan:
        summ["registrar_registers_per_s"] = (regs[-1]["register"] - regs[0]["register"]) / rspan
        summ["registrar_accepted_per_s"] = (regs[-1]["accepted"] - regs[0]["accepted"]) / rspan
    summ["registrar_cpu_percent"] = 100 * (regs[-1]["cpu_s"] - regs[0]["cpu_s"]) / rspan if rspan else None
    contacts = [r["contacts"] for r in regs if r["contacts"] is not None]
    summ["registrar_contacts"] = {"min": min(contacts, default=None), "max": max(contacts, default=None)}
    res["summary"] = summ

    failures = []
    n = res["lines"]
    if summ["registered"]["min"] is None or summ["registered"]["min"] < n:
        failures.append(f"registered lines dropped: fewest in a sample {summ['registered']['min']} of {n}")
    fewest = res.get("fewest_status_registered")
    if fewest is not None and fewest < n:
        failures.append(f"registered lines dropped between samples: STATUS reported {fewest} of {n}")
    if last["lapses"] is None:
        failures.append("binding lapses unknown: the metrics page was not read")
    elif last["lapses"] > 0:
        failures.append(f"{last['lapses']} binding(s) lapsed ({summ['lapses_during']} during the sampled soak)")
    for key, what in (("fds", "open file descriptors (/proc)"), ("fds_metric", "process_open_fds"),
                      ("loop_handles", "sipregd_loop_handles")):
        if grew(series(samples, key)):
            vals = [v for v in series(samples, key) if v is not None]
            failures.append(f"{what} grew: first {vals[0]}, last {vals[-1]}, max {max(vals)}")
    g = summ["rss_second_half"]["growth_kib"]
    if g is not None and g > args.max_rss_growth_kib:
        failures.append(f"RSS peaks grew {g} KiB over the second half (limit {args.max_rss_growth_kib} KiB), "
                        f"slope {summ['rss_second_half']['slope_kib_per_min']:.1f} KiB/min")
    res["failures"] = failures


def fmt(x, digits=1):
    if x is None:
        return "n/a"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def report(res):
    s = res["summary"]
    out = [f"summary: {res['lines']} lines over {res['transport'].upper()}, asked {res['asked_expires']} s, "
           f"granted {res['expires']} s, max_rate {res['rate']}, nonce_expire {res['nonce_expire']} s; "
           f"sampled {s['span_s']:.0f} s; load average {res['loadavg_before']:.2f} before, "
           f"{res['loadavg_max']:.2f} at most, {res['loadavg_after']:.2f} after ({res['cores']} cores)",
           f"  all registered {res['time_to_all_s']:.2f} s after READY=1"]
    out.append(f"  {'figure':<32} {'first':>10} {'last':>10} {'max':>10} {'min':>10}")
    for key, title, digits in (("rss_kib", "VmRSS KiB (/proc)", 0),
                               ("rss_metric_kib", "process_resident_memory KiB", 0),
                               ("rss_anon_kib", "RssAnon KiB (/proc)", 0),
                               ("fds", "open fds (/proc)", 0),
                               ("fds_metric", "process_open_fds", 0),
                               ("loop_handles", "sipregd_loop_handles", 0),
                               ("cpu_s", "CPU s (/proc utime+stime)", 2),
                               ("cpu_metric_s", "process_cpu_seconds_total", 2),
                               ("timer_lateness_max_s", "timer lateness max s", 3),
                               ("scrape_s", "metrics scrape s", 3)):
        v = s[key]
        out.append(f"  {title:<32} {fmt(v['first'], digits):>10} {fmt(v['last'], digits):>10} "
                   f"{fmt(v['max'], digits):>10} {fmt(v['min'], digits):>10}")
    r = s["registered"]
    out.append(f"  {'registered lines':<32} {fmt(r['first']):>10} {fmt(r['last']):>10} {'':>10} {fmt(r['min']):>10}"
               f"   (STATUS between samples: fewest {fmt(res.get('fewest_status_registered'))})")
    h = s["rss_second_half"]
    metric_slope = h["metric_slope_kib_per_min"]
    out.append(f"  RSS over the second half ({h['samples']} samples from t={fmt(h['from_t'], 0)} s): "
               f"slope {fmt(h['slope_kib_per_min'], 2)} KiB/min (metric: {fmt(metric_slope, 2)}), "
               f"peak of its last quarter minus peak of its first quarter {fmt(h['growth_kib'])} KiB "
               f"(last sample minus first: {fmt(h['last_minus_first_kib'])} KiB)")
    out.append(f"  refreshes: {fmt(s['successes_during'])} successful registrations = "
               f"{fmt(s['registrations_per_s'], 1)}/s; {fmt(s['register_sent_per_s'], 1)} REGISTERs sent/s; "
               f"{fmt(s['transactions_per_refresh'], 3)} transactions and {fmt(s['challenges_per_refresh'], 3)} "
               f"challenges per refresh; {fmt(s['rate_limited_during'])} waited for max_rate")
    out.append(f"  CPU: {fmt(s['cpu_s_during'], 2)} s = {fmt(s['cpu_percent'], 1)} % of a core, "
               f"{fmt(s['cpu_s_per_1000_refreshes'], 4)} CPU-s per 1,000 refreshes")
    out.append(f"  lapses {fmt(s['lapses_total'])} (during the soak {fmt(s['lapses_during'])}); "
               f"retransmissions {fmt(s['retransmissions_during'])}, timeouts {fmt(s['timeouts_during'])}, "
               f"transport errors {fmt(s['transport_errors_during'])}, stray responses "
               f"{fmt(s['stray_responses_during'])} during the soak")
    c = s["registrar_contacts"]
    out.append(f"  registrar: {fmt(s.get('registrar_registers_per_s'), 1)} REGISTERs/s, "
               f"{fmt(s.get('registrar_accepted_per_s'), 1)} bindings saved/s, bindings held {fmt(c['min'])}..{fmt(c['max'])}, "
               f"CPU {fmt(s['registrar_cpu_percent'], 1)} % of a core")
    total, kinds = res["log_problems"]
    out.append(f"  sipregd warnings/errors logged before SIGTERM: {total}")
    for kind, count in kinds:
        out.append(f"    {count} x {kind}")
    rtotal, rfirst = res["registrar_problems"]
    if rtotal:
        out.append(f"  registrar logged {rtotal} warning/error line(s), first: {rfirst[0][:200]}")
    out.append(f"  SIGTERM to exit: {res['stop_s']:.2f} s, exit status {res['exit_status']}")
    if res["failures"]:
        out.append("FAILED:")
        out.extend(f"  - {f}" for f in res["failures"])
    else:
        out.append("PASSED: every line stayed registered, fds and loop handles flat, "
                   f"RSS growth within {res['max_rss_growth_kib']} KiB over the second half")
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lines", type=int, default=1000)
    p.add_argument("--expires", type=int, default=5, help="seconds the registrar grants (1-3600)")
    p.add_argument("--duration", type=float, default=600.0, help="sampled soak, seconds")
    p.add_argument("--sample-interval", type=float, default=10.0, help="seconds between samples")
    p.add_argument("--warmup", type=float, default=15.0,
                   help="seconds between every line registered and the first sample")
    p.add_argument("--transport", choices=("udp", "tcp"), default="udp")
    p.add_argument("--rate", type=int, default=3000,
                   help="max_rate (default 3000: 1,000 lines at a 5 s grant need about 650 refreshes/s, "
                        "twice that when challenged)")
    p.add_argument("--nonce-expire", type=int, default=300,
                   help="Kamailio's nonce lifetime, seconds (its default 300; below the refresh interval "
                        "every refresh is challenged)")
    p.add_argument("--registrar-children", type=int, default=2, help="Kamailio UDP worker processes")
    p.add_argument("--max-rss-growth-kib", type=int, default=1024,
                   help="largest RSS growth over the second half that passes, KiB")
    p.add_argument("--log-level", default="info",
                   help="sipregd --log-level (info logs state changes, not refreshes)")
    p.add_argument("--binary", default=default_binary())
    p.add_argument("--json", help="also write every sample and figure to this file")
    p.add_argument("--keep", action="store_true", help="keep the work folder (config and log)")
    args = p.parse_args()
    if not os.access(args.binary, os.X_OK):
        p.error(f"no sipregd binary at {args.binary} (build the sipregd target or pass --binary)")
    if not 1 <= args.lines <= 99999:
        p.error("--lines must be 1..99999 (user ids have five digits)")
    if not 1 <= args.expires <= 3600:
        p.error("--expires must be 1..3600")
    if args.sample_interval <= 0 or args.duration < 2 * args.sample_interval:
        p.error("need --sample-interval > 0 and --duration >= 2 x --sample-interval")
    if args.rate < 1 or args.nonce_expire < 1 or args.warmup < 0:
        p.error("need --rate >= 1, --nonce-expire >= 1, --warmup >= 0")

    workdir = tempfile.mkdtemp(prefix="sipreg-soak-")
    try:
        res = run(args, workdir)
    except (RuntimeError, TimeoutError, OSError, subprocess.SubprocessError) as e:
        # BenchError, the registrar's errors, a failed scrape of /proc.
        print(f"soak failed: {e}", file=sys.stderr)
        print(f"work folder kept: {workdir}", file=sys.stderr)
        return 1
    res["max_rss_growth_kib"] = args.max_rss_growth_kib
    analyse(res, args)
    print(report(res))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)
    if args.keep or res["failures"]:
        print(f"work folder: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 2 if res["failures"] else 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
