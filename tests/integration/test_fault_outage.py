"""Registrar outages against a real Kamailio: every line comes back by itself, and the
recovery reaches the registrar no faster than the configured max_rate.

Kamailio and sipregd run in a network namespace the test makes (netns.py), so an iptables
rule there can count every UDP packet arriving at the registrar's port (sampled every
0.2 s) and a packet socket can tell new REGISTERs (a Via branch not seen before) from
retransmissions, without touching the host's firewall.

- Silent outage: SIGSTOP on Kamailio's process group for longer than the grant, so every
  binding lapses (the daemon counts each); SIGCONT; every line registers again.
- Refused outage: Kamailio killed (its location table is lost), down for longer than the
  grant, then a new one on the same port; every line registers again.
- Restart that loses the table (kill and start at once): over UDP each line is back in
  the table by its next refresh, i.e. within one refresh interval; over TCP the dropped
  connection makes every line register again at once, much sooner.

The rate bound. max_rate limits the new transactions the daemon starts per second.
Retransmissions of transactions already started are not new transactions (RFC 3261
timers drive them) and are not limited: right after an outage the registrar also sees
the retransmissions of REGISTERs sent while it was away (about 150 packets/s here,
against 40 new REGISTERs/s). So new REGISTERs in any 1 s window (from the capture, with
the kernel's arrival times) must stay at max_rate, with a tolerance of 2: a token that
becomes due right at a window edge, and requests released in the same loop turn; the
iptables count in its busiest window may exceed max_rate only by packets the capture
shows were retransmissions. The counting starts when the registrar is back: packets
queued in its socket buffer during a SIGSTOP were counted when they arrived.

Wall time about 4-5 minutes (two outages of 40 s plus recoveries, two restarts).
"""
import os
import signal
import time
import unittest

import netns
from daemon import Daemon, metric_sum
from kamailio import Kamailio
from sipregd_config import config, line

METRICS = "127.0.0.1:9560"  # inside the namespace, where nothing else listens
CHAIN = "SIPREG_COUNT"
RATE_TOLERANCE = 2


class OutageCase(unittest.TestCase):
    lines = 300
    expires = 30
    max_rate = 40
    retry = "{ base: 2s, max: 10s }"

    def setUp(self):
        ok, why = netns.available()
        self.assertTrue(ok, f"this test needs ip netns and iptables as root: {why}")
        self.ns = netns.NetNs(prefix="sipreg-outage").start()
        self.addCleanup(self.ns.close)  # last: kills whatever is left inside, drops the rules
        self.users = {f"out{i:04d}": f"pw-{os.urandom(4).hex()}" for i in range(self.lines)}

    # -- peers ---------------------------------------------------------------------
    def start_registrar(self, **kwargs):
        kam = Kamailio(self.users, netns=self.ns, count_expired=True, min_expires=10,
                       max_expires=self.expires, default_expires=self.expires, timer_interval=1,
                       children=4, **kwargs)
        kam.start()
        self.addCleanup(kam.cleanup)
        self.kam = kam
        return kam

    def start_daemon(self, transport=None):
        kam = self.kam
        lines = [line(f"l{i:04d}", u, kam.address, pw, transport=transport)
                 for i, (u, pw) in enumerate(sorted(self.users.items()))]
        d = Daemon(config(lines, expires=self.expires, max_rate=self.max_rate, retry=self.retry,
                          metrics=METRICS), netns=self.ns, args=("--log-level", "info"))
        d.start()
        self.addCleanup(d.stop)
        d.wait_for_log(r"metrics on http://", timeout=30)
        self.daemon = d
        return d

    def start_counting(self, max_seconds=240):
        """Counts UDP packets to the registrar's port (iptables, sampled every 0.2 s) and
        captures them (new requests vs retransmissions)."""
        ns = self.ns
        ns.new_chain(CHAIN, "INPUT", ("-p", "udp"))
        ns.add_rule(CHAIN, "to_registrar", "-p", "udp", "--dport", str(self.kam.port))
        self.sampler = netns.CounterSampler(lambda: ns.packets(CHAIN, "to_registrar"), interval=0.2,
                                            max_seconds=max_seconds).start()
        self.addCleanup(self.sampler.stop)
        self.capture = netns.UdpCapture(ns, self.kam.port, max_seconds=max_seconds).start()
        self.addCleanup(self.capture.stop)

    # -- state ---------------------------------------------------------------------
    def registered(self):
        """(lines registered by the daemon's account, bindings in the registrar's table)."""
        self.assertIsNone(self.daemon.proc.poll(), f"sipregd exited:\n{self.daemon.tail()}")
        m = self.daemon.scrape(METRICS)
        return int(metric_sum(m, "sipregd_lines", state="registered")), self.kam.location_stats()["contacts"]

    def wait_all_registered(self, timeout, what, table_only=False):
        """Polls until every line is registered (the daemon says so and the table holds
        every binding; or the table alone); returns the monotonic time it was seen."""
        deadline = time.monotonic() + timeout
        while True:
            lines, table = self.registered()
            if table == self.lines and (table_only or lines == self.lines):
                return time.monotonic()
            if time.monotonic() >= deadline:
                self.fail(f"{what}: after {timeout:.0f} s the daemon has {lines} lines registered and the "
                          f"table {table} bindings of {self.lines}\n{self.daemon.tail()}")
            time.sleep(0.25)

    def wait_all_lapsed(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            m = self.daemon.scrape(METRICS)
            if metric_sum(m, "sipregd_lines", state="registered") == 0:
                return metric_sum(m, "sipregd_line_binding_lapses_total")
            if time.monotonic() >= deadline:
                self.fail(f"lines still registered {timeout:.0f} s into the outage:\n{self.daemon.tail()}")
            time.sleep(0.5)

    def dump_for_reader(self, since):
        """With SIPREG_FAULT_DUMP=folder, keeps the daemon's log (and the capture) with
        times relative to `since`, to look into a run."""
        folder = os.environ.get("SIPREG_FAULT_DUMP")
        if not folder:
            return
        if getattr(self, "capture", None) is not None:
            self.capture.dump(os.path.join(folder, f"{self.id()}.capture"), since)
        with open(os.path.join(folder, f"{self.id()}.daemon.log"), "w") as f:
            f.writelines(f"{t - (since - self.daemon.t0):9.3f} {text}\n" for t, text in self.daemon.lines)

    # -- the rate ------------------------------------------------------------------
    def recovery_rates(self, since, until):
        """Peaks over 1 s windows in [since, until): packets counted by iptables (windows
        of >= 1 s between samples, as a rate), REGISTERs captured, new REGISTERs, and
        retransmissions inside the iptables peak's window."""
        samples = self.sampler.stop()
        self.capture.stop()
        self.dump_for_reader(since)
        peak = netns.peak_window([(t, v) for t, v in samples if t < until], since=since)
        requests = [(t, new) for t, new in self.capture.requests() if since <= t < until]
        new_peak, new_at = netns.peak_in_window([t for t, new in requests if new], 1.0)
        all_peak, all_at = netns.peak_in_window([t for t, _ in requests], 1.0)
        retrans_in_peak = sum(1 for t, new in requests if not new and peak and peak[0] <= t < peak[1])
        # Every iptables window: what it counted beyond max_rate, less the retransmissions
        # and the packets that were no REGISTER (the harness's OPTIONS while a new
        # registrar starts); each end is known to within one read of the counter.
        others = [t for t, first, _, _ in self.capture.snapshot()
                  if since <= t < until and not first.startswith("REGISTER ")]
        worst = None
        for t0, t1, count, _ in netns.window_rates([(t, v) for t, v in samples if t < until], since=since):
            not_new = sum(1 for t, new in requests if not new and t0 <= t < t1) + sum(
                1 for t in others if t0 <= t < t1)
            excess = count - not_new - self.max_rate * (t1 - t0 + 2 * self.sampler.max_read)
            if worst is None or excess > worst[0]:
                worst = (excess, t0 - since, t1 - t0, count, not_new)
        counted = [(t, v) for t, v in samples if since <= t < until]
        # The capture over the span the iptables samples cover, to compare the two.
        captured_in_span = (sum(1 for t, _ in requests if counted[0][0] <= t < counted[-1][0])
                            if len(counted) > 1 else 0)
        return {
            "ipt_peak_rate": peak[3] if peak else 0.0,
            "ipt_peak_count": peak[2] if peak else 0,
            "ipt_peak_span": (peak[1] - peak[0]) if peak else 0.0,
            "ipt_peak_at": (peak[0] - since) if peak else None,
            "retrans_in_ipt_peak": retrans_in_peak,
            "new_peak": new_peak,
            "new_peak_at": (new_at - since) if new_at is not None else None,
            "all_peak": all_peak,
            "all_peak_at": (all_at - since) if all_at is not None else None,
            "new_total": sum(1 for _, new in requests if new),
            "retrans_total": sum(1 for _, new in requests if not new),
            "ipt_total": (counted[-1][1] - counted[0][1]) if len(counted) > 1 else 0,
            "captured_in_ipt_span": captured_in_span,
            "sampler_errors": len(self.sampler.errors),
            "sampler_max_read": self.sampler.max_read,
            "ipt_worst": worst,
        }

    def assert_rate_bounded(self, r, report):
        self.assertEqual(r["sampler_errors"], 0, report)
        self.assertEqual(self.capture.kernel_drops, 0, report)
        # The capture saw what iptables counted (it is the same traffic).
        # (a sample's time is taken when iptables answered, some ms after it counted)
        self.assertLessEqual(abs(r["captured_in_ipt_span"] - r["ipt_total"]), max(10, 0.03 * r["ipt_total"]),
                             report)
        self.assertGreater(r["new_total"], self.lines / 2, report)  # there was a recovery to measure
        self.assertLessEqual(r["new_peak"], self.max_rate + RATE_TOLERANCE, report)
        # Whatever iptables counted above max_rate in any window were retransmissions.
        self.assertIsNotNone(r["ipt_worst"], report)
        self.assertLessEqual(r["ipt_worst"][0], RATE_TOLERANCE, report)

    def describe(self, title, r, extra=""):
        w = r["ipt_worst"]
        worst = (f"iptables window furthest over max_rate once retransmissions are taken out: {w[0]:+.1f} "
                 f"packets (at +{w[1]:.1f} s, {w[3]} packets in {w[2]:.2f} s, {w[4]} of them retransmissions "
                 f"or not REGISTERs)\n" if w else "no iptables window\n")
        return (f"\n--- {title} ---\n{extra}"
                f"iptables peak {r['ipt_peak_rate']:.1f}/s ({r['ipt_peak_count']} packets in "
                f"{r['ipt_peak_span']:.2f} s (+-{r['sampler_max_read']:.3f} s at each end), "
                f"{r['ipt_peak_at']:.1f} s after the registrar came back; "
                f"{r['retrans_in_ipt_peak']} of them retransmissions)\n"
                f"capture: new REGISTERs peak {r['new_peak']} in 1 s (at +{r['new_peak_at']:.1f} s), "
                f"all REGISTERs peak {r['all_peak']} in 1 s (at +{r['all_peak_at']:.1f} s); "
                f"{r['new_total']} new, {r['retrans_total']} retransmitted; iptables counted {r['ipt_total']} "
                f"where the capture saw {r['captured_in_ipt_span']}; "
                f"capture kernel drops {self.capture.kernel_drops}\n" + worst)


class SilentOutageTest(OutageCase):
    stop_for = 40.0  # > the 30 s grant: every binding lapses

    def test_every_line_recovers_after_a_silent_outage_within_max_rate(self):
        kam = self.start_registrar()
        self.start_counting()
        d = self.start_daemon()
        t0 = time.monotonic()
        registered_at = self.wait_all_registered(90, "first registration")

        t_stop = time.monotonic()
        kam.pause()
        lapses = self.wait_all_lapsed(self.expires + 15)
        time.sleep(max(0.0, t_stop + self.stop_for - time.monotonic()))
        t_cont = time.monotonic()
        kam.resume()
        recovered_at = self.wait_all_registered(90, "recovery after SIGCONT")
        time.sleep(8)  # the refreshes that follow the recovery are part of it
        t_end = time.monotonic()

        r = self.recovery_rates(t_cont, t_end)
        m = d.scrape(METRICS)
        report = self.describe(
            f"silent outage: {self.lines} lines, expires {self.expires} s, max_rate {self.max_rate}, "
            f"SIGSTOP for {t_cont - t_stop:.1f} s", r,
            f"registered in {registered_at - t0:.1f} s; lines lapsed at the daemon {lapses:.0f}; "
            f"full recovery {recovered_at - t_cont:.1f} s after SIGCONT; "
            f"registrar's expired bindings {kam.expired_count()}; "
            f"retransmissions {metric_sum(m, 'sipregd_transaction_retransmissions_total'):.0f}, "
            f"timeouts {metric_sum(m, 'sipregd_transaction_timeouts_total'):.0f}, "
            f"rate-limited {metric_sum(m, 'sipregd_rate_limited_transactions_total'):.0f}\n"
        )
        print(report)
        self.assertGreaterEqual(lapses, self.lines, report)  # every binding lapsed at the daemon
        self.assert_rate_bounded(r, report)


class RefusedOutageTest(OutageCase):
    down_for = 40.0  # > the 30 s grant

    def test_every_line_recovers_after_the_registrar_was_killed_within_max_rate(self):
        kam = self.start_registrar()
        self.start_counting()
        d = self.start_daemon()
        t0 = time.monotonic()
        registered_at = self.wait_all_registered(90, "first registration")

        t_kill = time.monotonic()
        kam.stop_signal = signal.SIGKILL
        kam.stop()
        kam.stop_signal = signal.SIGTERM
        lapses = self.wait_all_lapsed(self.expires + 15)
        time.sleep(max(0.0, t_kill + self.down_for - time.monotonic()))
        t_back = time.monotonic()
        kam.start()  # a new registrar on the same port, with an empty table
        started_at = time.monotonic()
        recovered_at = self.wait_all_registered(90, "recovery after the new registrar started")
        time.sleep(8)
        t_end = time.monotonic()

        r = self.recovery_rates(t_back, t_end)
        m = d.scrape(METRICS)
        report = self.describe(
            f"refused outage: {self.lines} lines, expires {self.expires} s, max_rate {self.max_rate}, "
            f"down for {t_back - t_kill:.1f} s", r,
            f"registered in {registered_at - t0:.1f} s; lines lapsed at the daemon {lapses:.0f}; "
            f"new registrar answering {started_at - t_back:.1f} s after its start; full recovery "
            f"{recovered_at - t_back:.1f} s after the start; "
            f"retransmissions {metric_sum(m, 'sipregd_transaction_retransmissions_total'):.0f}, "
            f"timeouts {metric_sum(m, 'sipregd_transaction_timeouts_total'):.0f}, "
            f"transport errors {metric_sum(m, 'sipregd_transaction_transport_errors_total'):.0f}, "
            f"rate-limited {metric_sum(m, 'sipregd_rate_limited_transactions_total'):.0f}\n"
        )
        print(report)
        self.assertGreaterEqual(lapses, self.lines, report)
        self.assert_rate_bounded(r, report)


class RestartLosesTableTest(OutageCase):
    """Kill and start again at once: the daemon does not notice over UDP (nothing lapsed
    on its side), so each line comes back with its next refresh; a 60 s grant is
    refreshed 21-24 s after the 2xx (reg/policy.h: a third of it, minus up to 3 s of
    jitter), so every binding is back within 24 s plus the challenge round trip. Over
    TCP the connection drop itself starts the re-registration."""
    lines = 200
    expires = 60
    max_rate = 200
    refresh_interval = 24.0  # the longest refresh delay for a 60 s grant
    slack = 4.0  # the new registrar's start-up (~1 s), a challenge round trip, a loaded machine

    def restart_and_time(self, transport):
        kam = self.start_registrar(tcp=(transport == "tcp"))
        d = self.start_daemon(transport=transport)
        self.wait_all_registered(60, "first registration")
        # Past the first registrations' burst, so refreshes are spread as in steady state.
        time.sleep(5)
        t_restart = time.monotonic()
        kam.restart()
        table_lost = kam.location_stats()["contacts"]
        counts = []
        deadline = t_restart + self.refresh_interval + self.slack + 20
        while True:
            contacts = kam.location_stats()["contacts"]
            counts.append((time.monotonic() - t_restart, contacts))
            if contacts == self.lines or time.monotonic() >= deadline:
                break
            time.sleep(0.2)
        back = counts[-1][0]
        self.dump_for_reader(t_restart)
        half = next((t for t, c in counts if c >= self.lines / 2), None)
        m = d.scrape(METRICS)
        report = (f"\n--- registrar restart, {transport.upper()}: {self.lines} lines, expires {self.expires} s ---\n"
                  f"bindings right after the restart {table_lost}; half back after "
                  f"{half if half is None else round(half, 1)} s, all {counts[-1][1]} back after {back:.1f} s; "
                  f"daemon lapses {metric_sum(m, 'sipregd_line_binding_lapses_total'):.0f}, "
                  f"transport errors {metric_sum(m, 'sipregd_transaction_transport_errors_total'):.0f}\n")
        print(report)
        self.assertLessEqual(table_lost, self.lines // 10, report)  # the table really was lost
        self.assertEqual(counts[-1][1], self.lines, report)
        self.assertEqual(metric_sum(m, "sipregd_lines", state="registered"), self.lines, report)
        return back, report

    def test_udp_lines_are_back_within_one_refresh_interval(self):
        back, report = self.restart_and_time("udp")
        self.assertLessEqual(back, self.refresh_interval + self.slack, report)

    def test_tcp_lines_are_back_at_once_when_the_connection_drops(self):
        back, report = self.restart_and_time("tcp")
        # The drop starts a REGISTER per line at once. The new registrar needs about a
        # second to listen, so the first connect is refused and the lines back off
        # (retry base 2 s: 1-2 s, then 2-4 s; the transport's own connect backoff is 1 s,
        # then 2 s): about 6 s here. Half the UDP bound leaves room for a loaded machine.
        self.assertLessEqual(back, self.refresh_interval / 2, report)


if __name__ == "__main__":
    unittest.main()
