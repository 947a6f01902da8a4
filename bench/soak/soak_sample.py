"""One sample of a running sipregd for the soak benchmark: what /proc says about the
process (resident memory, open descriptors, CPU time) and what its Prometheus page says
(the same figures as the daemon sees them, loop handles, lines, lapses, transactions).

The page is parsed leniently (name, optional labels, value): the integration tests check
its format strictly; here a family the binary does not serve yet is simply absent (None).
Python 3 standard library only.
"""
import os
import re
import time
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")

_SAMPLE_RX = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$")
_LABEL_RX = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


# ---- /proc ------------------------------------------------------------------------------

def proc_status_kib(pid):
    """VmRSS, VmHWM, RssAnon of `pid` in KiB (/proc/PID/status)."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                out[key] = int(value.split()[0])
    return out


def proc_cpu_seconds(pid):
    """utime + stime of `pid` in seconds (/proc/PID/stat fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    fields = data[data.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_fds(pid):
    """Open file descriptors of `pid`, and how many of them are sockets."""
    names = os.listdir(f"/proc/{pid}/fd")
    sockets = 0
    for name in names:
        try:
            if os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:"):
                sockets += 1
        except OSError:  # closed between listdir and readlink
            pass
    return len(names), sockets


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


# ---- the metrics page -------------------------------------------------------------------

class MetricsPage:
    """Samples of one scrape: {name: [(labels dict, value)]}."""

    def __init__(self, text):
        self.samples = {}
        for raw in text.splitlines():
            if not raw or raw.startswith("#"):
                continue
            m = _SAMPLE_RX.match(raw)
            if not m:
                continue
            name, label_text, value = m.groups()
            labels = dict(_LABEL_RX.findall(label_text)) if label_text else {}
            try:
                number = float(value)
            except ValueError:
                continue
            self.samples.setdefault(name, []).append((labels, number))

    def total(self, name, **labels):
        """Sum of the samples of `name` whose labels include `labels`; None when the page
        has no sample of `name` at all."""
        rows = self.samples.get(name)
        if rows is None:
            return None
        return sum(v for l, v in rows if all(l.get(k) == want for k, want in labels.items()))


def scrape(port, timeout=10.0):
    """(MetricsPage, seconds the scrape took, page size in bytes)."""
    t0 = time.monotonic()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout) as r:
        body = r.read()
    return MetricsPage(body.decode("utf-8", errors="replace")), time.monotonic() - t0, len(body)


# ---- one sample -------------------------------------------------------------------------

# Sample keys and where they come from, in table order.
METRIC_FIELDS = {
    "rss_metric_kib": ("process_resident_memory_bytes", {}),
    "fds_metric": ("process_open_fds", {}),
    "cpu_metric_s": ("process_cpu_seconds_total", {}),
    "loop_handles": ("sipregd_loop_handles", {}),
    "registered": ("sipregd_lines", {"state": "registered"}),
    "lapses": ("sipregd_line_binding_lapses_total", {}),
    "successes": ("sipregd_line_registration_attempts_total", {"outcome": "success"}),
    "challenges": ("sipregd_line_registration_attempts_total", {"outcome": "challenged"}),
    "register_sent": ("sipregd_line_register_requests_total", {}),
    "transactions": ("sipregd_transactions_started_total", {}),
    "retransmissions": ("sipregd_transaction_retransmissions_total", {}),
    "timeouts": ("sipregd_transaction_timeouts_total", {}),
    "transport_errors": ("sipregd_transaction_transport_errors_total", {}),
    "rate_limited": ("sipregd_rate_limited_transactions_total", {}),
    "stray_responses": ("sipregd_stray_responses_total", {}),
    "timer_lateness_max_s": ("sipregd_timer_lateness_max_seconds", {}),
}


def take_sample(pid, metrics_port, t):
    """Everything the soak records at time `t` (seconds into the soak). /proc is read
    before the scrape, so its descriptor count does not include the scrape's own
    connection (the page's process_open_fds and sipregd_loop_handles do)."""
    s = {"t": t}
    mem = proc_status_kib(pid)
    s["rss_kib"] = mem.get("VmRSS")
    s["hwm_kib"] = mem.get("VmHWM")
    s["rss_anon_kib"] = mem.get("RssAnon")
    s["fds"], s["sockets"] = proc_fds(pid)
    s["cpu_s"] = proc_cpu_seconds(pid)
    s["scrape_s"] = None
    s["page_bytes"] = None
    page = None
    try:
        page, s["scrape_s"], s["page_bytes"] = scrape(metrics_port)
    except OSError as e:  # URLError is an OSError
        s["scrape_error"] = str(e)
    for key, (name, labels) in METRIC_FIELDS.items():
        value = page.total(name, **labels) if page is not None else None
        s[key] = value
    if s["rss_metric_kib"] is not None:
        s["rss_metric_kib"] = s["rss_metric_kib"] / 1024
    for key in ("fds_metric", "loop_handles", "registered", "lapses", "successes", "challenges",
                "register_sent", "transactions", "retransmissions", "timeouts", "transport_errors",
                "rate_limited", "stray_responses"):
        if s[key] is not None:
            s[key] = int(s[key])
    return s
