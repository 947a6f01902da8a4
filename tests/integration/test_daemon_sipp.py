"""sipregd against SIPp registrars that misbehave on purpose: 503 with Retry-After,
silence (Timer E retransmissions, then Timer F, then backoff), and malformed responses
around good ones."""
import re
import time
import unittest

from daemon import Daemon
from harness_util import wait_until
from sipp import Sipp
from sipregd_config import config, line


def times_of(d, pattern):
    rx = re.compile(pattern)
    with d._lock:
        return [t for t, text in d.lines if rx.search(text)]


class SippCase(unittest.TestCase):
    def start(self, scenario, text_for, keys=None):
        uas = Sipp(scenario, keys=keys)
        uas.start()
        self.addCleanup(uas.cleanup)
        d = Daemon(text_for(uas.address))
        d.start()
        self.addCleanup(d.cleanup)
        return uas, d


class RetryAfterTest(SippCase):
    def test_503_with_retry_after_is_honoured(self):
        uas, d = self.start("uas_503_retry_after.xml",
                            lambda addr: config([line("busy", "alice", addr, "pw")],
                                                retry="{ base: 30s, max: 60s }"),
                            keys={"retry_after": 3})
        d.wait_for_log(r"line=busy registering -> waiting: 503 Service Unavailable.*retry in 3 s", timeout=10)
        wait_until(lambda: len(times_of(d, r"line=busy .*-> registering")) >= 3, 15, what="three attempts")
        attempts = times_of(d, r"line=busy .*-> registering")
        gaps = [b - a for a, b in zip(attempts, attempts[1:])]
        for gap in gaps[:2]:
            # Retry-After 3 s, stretched by at most 10 %; never the 30 s backoff base.
            self.assertGreaterEqual(gap, 2.9)
            self.assertLess(gap, 4.0)


class NoAnswerTest(SippCase):
    def test_silence_means_timer_e_retransmissions_then_timer_f_then_backoff(self):
        uas, d = self.start("uas_no_answer.xml",
                            lambda addr: config([line("silent", "alice", addr, "pw")],
                                                retry="{ base: 20s, max: 60s }"))
        started = d.wait_for_log(r"line=silent stopped -> registering") and times_of(d, r"-> registering")[0]
        d.wait_for_log(r"line=silent registering -> waiting: no response from UDP 127\.0\.0\.1:\d+, retry in \d+ s", timeout=40)
        gave_up = times_of(d, r"line=silent registering -> waiting")[0]
        # Timer F is 64*T1 = 32 s after the first transmission.
        self.assertGreater(gave_up - started, 31)
        self.assertLess(gave_up - started, 34)
        # T1 = 0.5 s doubling to T2 = 4 s: 0.5, 1, 2, 4, 4, ... -> 10 retransmissions before F.
        wait_until(lambda: len(uas.received("REGISTER")) >= 11, 5, what="SIPp's trace")
        registers = uas.received("REGISTER")
        self.assertEqual(len(registers), 11)
        self.assertEqual(len(set(registers)), 1, "retransmissions must repeat the request exactly")
        # Backoff: nothing more for at least half the 20 s base.
        time.sleep(2)
        self.assertEqual(len(uas.received("REGISTER")), 11)


class MalformedTest(SippCase):
    def test_malformed_responses_are_ignored_and_the_line_keeps_working(self):
        uas, d = self.start("uas_malformed.xml",
                            lambda addr: config([line("noisy", "alice", addr, "pw")], expires=30),
                            keys={"granted": 12})
        d.wait_for_log(r"line=noisy registering -> registered: .*expires 12 s", timeout=10)
        # It refreshes through the same garbage: at least one more REGISTER/200 cycle.
        wait_until(lambda: d.count_log(r"line=noisy registered, expires 12 s") >= 1, 15, what="a refresh")
        self.assertIsNone(d.proc.poll())
        self.assertGreater(d.count_log(r"dropped malformed datagram"), 0)
        self.assertEqual(d.count_log(r"line=noisy .*-> (waiting|failed)"), 0)


if __name__ == "__main__":
    unittest.main()
