"""Proves the integration harness itself against the real peers: Kamailio registers a
SIPp client and shows the binding in its location table, challenges with the configured
algorithm and code, answers 423 when asked to, pauses and resumes; each SIPp UAS
scenario answers a REGISTER as designed; the notify listener and the daemon runner work.

Run: python3 -m unittest -v test_harness (from tests/integration)."""
import os
import signal
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from daemon import Daemon  # noqa: E402
from kamailio import Kamailio, parse_ul_dump, sip_options_ping  # noqa: E402
from notify import NotifyListener  # noqa: E402
from sip_client import (UdpSipClient, digest_authorization, header, parse_challenge,  # noqa: E402
                        status_code)
from sipp import Sipp, scenario_path  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def first_response(client, timeout=3.0):
    got = client.collect(timeout, until=lambda l: len(l) >= 1)
    if not got:
        raise AssertionError(f"no response within {timeout}s")
    return got[0]


def register_with_digest(client, host, port, user, password, expires, proxy=False):
    """REGISTER, answer the challenge; returns the final response datagram."""
    client.register(host, port, user=user, expires=expires)
    challenge = first_response(client)
    code = status_code(challenge)
    if code not in (401, 407):
        return challenge
    name = "Proxy-Authenticate" if code == 407 else "WWW-Authenticate"
    params = parse_challenge(header(challenge, name))
    auth_name = "Proxy-Authorization" if code == 407 else "Authorization"
    uri = f"sip:{host}:{port}"
    value = digest_authorization(params, user, password, "REGISTER", uri)
    client.register(host, port, user=user, expires=expires, extra_headers=[f"{auth_name}: {value}"])
    return first_response(client)


class KamailioHarnessTest(unittest.TestCase):
    def test_sipp_client_registers_and_the_location_table_shows_it(self):
        with Kamailio(users={"alice": "alice-pw", "bob": "bob-pw"}) as kam:
            uac = Sipp("uac_register_auth.xml", remote=kam.address, calls=1, keys={"expires": 120},
                       extra_args=["-s", "alice", "-au", "alice", "-ap", "alice-pw"])
            try:
                uac.start()
                self.assertEqual(uac.wait(20), 0, uac.output())
            finally:
                uac.cleanup()
            bindings = kam.bindings("alice")
            self.assertEqual(len(bindings), 1, kam.ul_dump())
            b = bindings[0]
            self.assertRegex(b["contact"], r"^sip:alice@127\.0\.0\.1:\d+$")
            self.assertTrue(100 <= b["expires"] <= 120, b)
            self.assertEqual(b["user_agent"], "sipp-harness-uac")
            self.assertEqual(b["cseq"], 2)
            self.assertTrue(b["callid"])
            self.assertEqual(kam.bindings("bob"), [])
            # The challenge and the authenticated retry.
            self.assertEqual(kam.register_count("alice"), 2)
            self.assertEqual(kam.register_count(), 2)

    def test_wrong_password_is_rejected_and_leaves_no_binding(self):
        with Kamailio(users={"alice": "alice-pw"}) as kam, UdpSipClient() as c:
            final = register_with_digest(c, kam.host, kam.port, "alice", "not-the-password", 60)
            self.assertEqual(status_code(final), 401)
            self.assertEqual(kam.ul_dump(), [])
            self.assertEqual(kam.register_count("alice"), 2)

    def test_sha256_and_407_challenges(self):
        with Kamailio(users={"carol": "carol-pw"}, algorithm="SHA-256", challenge=407) as kam, \
                UdpSipClient() as c:
            c.register(kam.host, kam.port, user="carol")
            challenge = first_response(c)
            self.assertEqual(status_code(challenge), 407)
            params = parse_challenge(header(challenge, "Proxy-Authenticate"))
            self.assertEqual(params["algorithm"], "SHA-256")
            self.assertEqual(params["qop"], "auth")
            final = register_with_digest(c, kam.host, kam.port, "carol", "carol-pw", 90, proxy=True)
            self.assertEqual(status_code(final), 200, final)
            self.assertEqual(len(kam.bindings("carol")), 1)

    def test_min_expires_mode_answers_423(self):
        with Kamailio(users={"dave": "dave-pw"}, min_expires=300, min_expires_mode=True) as kam, \
                UdpSipClient() as c:
            final = register_with_digest(c, kam.host, kam.port, "dave", "dave-pw", 60)
            self.assertEqual(status_code(final), 423, final)
            self.assertEqual(header(final, "Min-Expires"), "300")
            self.assertEqual(kam.ul_dump(), [])

    def test_short_expiry_lapses_and_the_binding_disappears(self):
        with Kamailio(users={"erin": "erin-pw"}, min_expires=1, timer_interval=1) as kam, UdpSipClient() as c:
            final = register_with_digest(c, kam.host, kam.port, "erin", "erin-pw", 2)
            self.assertEqual(status_code(final), 200, final)
            self.assertEqual(len(kam.bindings("erin")), 1)
            deadline = time.monotonic() + 10
            while kam.bindings("erin") and time.monotonic() < deadline:
                time.sleep(0.2)
            self.assertEqual(kam.bindings("erin"), [])

    def test_pause_is_a_silent_outage_and_resume_ends_it(self):
        with Kamailio() as kam:
            self.assertEqual(sip_options_ping(kam.host, kam.port), 200)
            kam.pause()
            try:
                self.assertIsNone(sip_options_ping(kam.host, kam.port, timeout=0.5))
            finally:
                kam.resume()
            deadline = time.monotonic() + 5
            answer = None
            while answer != 200 and time.monotonic() < deadline:
                answer = sip_options_ping(kam.host, kam.port, timeout=0.5)
            self.assertEqual(answer, 200)

    def test_stop_ends_every_process_of_the_group(self):
        kam = Kamailio()
        try:
            kam.start()
            pgid = kam.pid
        finally:
            kam.cleanup()
        with self.assertRaises(ProcessLookupError):
            os.killpg(pgid, 0)

    def test_ul_dump_parser(self):
        sample = """{
\tDomains: {
\t\tDomain: {
\t\t\tDomain: location
\t\t\tAoRs: {
\t\t\t\tInfo: {
\t\t\t\t\tAoR: alice
\t\t\t\t\tHashID: 1
\t\t\t\t\tContacts: {
\t\t\t\t\t\tContact: {
\t\t\t\t\t\t\tAddress: sip:alice@127.0.0.1:5070
\t\t\t\t\t\t\tExpires: 58
\t\t\t\t\t\t\tQ: -1
\t\t\t\t\t\t\tCall-ID: abc@host
\t\t\t\t\t\t\tCSeq: 7
\t\t\t\t\t\t\tUser-Agent: sipregd/0.1
\t\t\t\t\t\t\tReceived: [not set]
\t\t\t\t\t\t}
\t\t\t\t\t}
\t\t\t\t}
\t\t\t}
\t\t}
\t}
}"""
        self.assertEqual(parse_ul_dump(sample), [{
            "aor": "alice", "contact": "sip:alice@127.0.0.1:5070", "expires": 58, "received": None,
            "user_agent": "sipregd/0.1", "callid": "abc@host", "cseq": 7}])


class SippScenarioTest(unittest.TestCase):
    def test_every_scenario_loads(self):
        for name in sorted(os.listdir(os.path.join(HERE, "sipp"))):
            if not name.startswith("uas_"):
                continue
            with self.subTest(scenario=name):
                with Sipp(name) as uas:
                    self.assertIsNone(uas.proc.poll(), uas.output())

    def test_503_carries_retry_after(self):
        with Sipp("uas_503_retry_after.xml", keys={"retry_after": 7}) as uas, UdpSipClient() as c:
            for _ in range(2):  # the call loops: every REGISTER of the line gets its 503
                c.register(uas.host, uas.port)
                r = first_response(c)
                self.assertEqual(status_code(r), 503)
                self.assertEqual(header(r, "Retry-After"), "7")

    def test_retransmitted_request_gets_the_response_again(self):
        with Sipp("uas_503_retry_after.xml") as uas, UdpSipClient() as c:
            c.register(uas.host, uas.port, branch="z9hG4bKretrans1")
            self.assertEqual(status_code(first_response(c)), 503)
            c.cseq -= 1
            c.register(uas.host, uas.port, branch="z9hG4bKretrans1")
            self.assertEqual(status_code(first_response(c)), 503)

    def test_no_answer_receives_but_never_responds(self):
        with Sipp("uas_no_answer.xml") as uas, UdpSipClient() as c:
            for _ in range(3):  # a first transmission and two Timer E retransmissions
                c.cseq = 0
                c.register(uas.host, uas.port, branch="z9hG4bKsilent1")
            self.assertEqual(c.collect(1.5), [])
            deadline = time.monotonic() + 5
            while len(uas.received("REGISTER")) < 3 and time.monotonic() < deadline:
                time.sleep(0.1)  # SIPp writes its message trace lazily
            self.assertEqual(len(uas.received("REGISTER")), 3)

    def test_malformed_surrounds_good_answers_with_garbage(self):
        with Sipp("uas_malformed.xml", keys={"granted": 45}) as uas, UdpSipClient() as c:
            c.register(uas.host, uas.port)
            first = c.collect(3, until=lambda l: len(l) >= 2)
            self.assertEqual(len(first), 2)
            self.assertIsNone(status_code(first[0]))  # not SIP at all
            self.assertEqual(status_code(first[1]), 401)
            c.register(uas.host, uas.port, extra_headers=['Authorization: Digest username="alice"'])
            second = c.collect(3, until=lambda l: len(l) >= 4)
            self.assertEqual(len(second), 4)
            self.assertIsNone(header(second[0], "CSeq"))
            self.assertEqual(header(second[1], "CSeq"), "x REGISTER")
            self.assertIn("z9hG4bKstray", header(second[2], "Via"))
            good = second[3]
            self.assertEqual(status_code(good), 200)
            self.assertEqual(header(good, "CSeq"), f"{c.cseq} REGISTER")
            self.assertEqual(header(good, "Expires"), "45")

    def test_challenge_registrar_challenges_every_transaction(self):
        with Sipp("uas_challenge.xml", keys={"granted": 30}) as uas, UdpSipClient() as c:
            nonces = set()
            for _ in range(3):
                c.register(uas.host, uas.port)
                r = first_response(c)
                self.assertEqual(status_code(r), 401)
                nonces.add(parse_challenge(header(r, "WWW-Authenticate"))["nonce"])
                c.register(uas.host, uas.port, extra_headers=['Authorization: Digest username="alice"'])
                ok = first_response(c)
                self.assertEqual(status_code(ok), 200)
                self.assertEqual(header(ok, "Expires"), "30")
            self.assertEqual(len(nonces), 3, "each challenge must carry a fresh nonce")

    def test_missing_scenario_is_reported(self):
        with self.assertRaises(Exception):
            Sipp(scenario_path("no_such_scenario.xml")).start()


class NotifyAndDaemonHarnessTest(unittest.TestCase):
    def test_notify_listener_collects_fields_and_sender_pid(self):
        with NotifyListener() as n:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
                s.sendto(b"READY=1\nSTATUS=1/1 registered", n.path)
                s.sendto(b"RELOADING=1\nMONOTONIC_USEC=123", n.path)
            m = n.wait_for("READY", "1", timeout=2)
            self.assertEqual(m.fields["STATUS"], "1/1 registered")
            self.assertEqual(m.pid, os.getpid())
            r = n.wait_for("RELOADING", "1", timeout=2)
            self.assertEqual(r.fields["MONOTONIC_USEC"], "123")
            self.assertEqual(n.values("STATUS"), ["1/1 registered"])
            with self.assertRaises(TimeoutError):
                n.wait_for("STOPPING", "1", timeout=0.3)
            self.assertEqual(n.env(watchdog_usec=2_000_000),
                             {"NOTIFY_SOCKET": n.path, "WATCHDOG_USEC": "2000000"})

    def test_daemon_runner_logs_reloads_and_stops(self):
        d = Daemon("lines: [a]", binary=os.path.join(HERE, "fake_sipregd.py"))
        try:
            d.start()
            d.wait_for_log(r"loaded config: lines: \[a\]", timeout=10)
            d.write_config("lines: [a, b]")
            d.reload()
            d.wait_for_log(r"reloaded config: lines: \[a, b\]", timeout=10)
            with self.assertRaises(TimeoutError):
                d.wait_for_log("never logged", timeout=0.3)
            self.assertEqual(d.terminate_and_wait(timeout=10), 0)
            self.assertEqual(d.count_log("stopping"), 1)
        finally:
            d.cleanup()
        self.assertFalse(os.path.exists(d.dir))


if __name__ == "__main__":
    unittest.main(verbosity=2)
