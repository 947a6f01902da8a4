"""sipregd over TCP, TLS and IPv6 against a real Kamailio registrar, checked in the
registrar's location table: which socket and connection each binding came over, what
the Contact says, that bad certificates are refused with a reason and never fall back,
and that a restarted registrar gets every line back."""
import re
import time
import unittest

from certs import SERVER_NAME, TestPki
from peer_case import PeerCase
from sipregd_config import config, line, tls_settings

USERS = {f"user{i}": f"secret-{i}" for i in range(6)}
WRONG_NAME_REASON = r"(?i)(host ?name|name) (mismatch|does not match)"
UNTRUSTED_REASON = r"(?i)unable to get local issuer certificate|self[- ]signed certificate|unknown ca|untrusted"


class TransportCase(PeerCase):
    users = USERS

    @classmethod
    def setUpClass(cls):
        cls.pki = TestPki()

    @classmethod
    def tearDownClass(cls):
        cls.pki.cleanup()

    @staticmethod
    def open_connections(kam):
        return [c for c in kam.tcp_connections() if c.get("state") == "CONN_OK"]

    def tls(self, **kwargs):
        return tls_settings(self.pki.ca.cert_path, **kwargs)

    def assert_refused(self, d, kam, line_id, user, port, reason, settle=3.0):
        """The line gave up on the TLS handshake: a log line names the line, the peer and
        the reason; it never registered and no REGISTER of it reached the registrar."""
        d.wait_for_log(rf"line={line_id} \S+ -> (waiting|failed)", timeout=20)
        self.assertIsNone(d.proc.poll(), "sipregd exited")
        time.sleep(settle)  # room for a wrong fallback to happen, if there were one
        text = d.log()
        naming = [t for t in text if f"line={line_id}" in t and str(port) in t and re.search(reason, t)]
        self.assertTrue(naming, f"no log line names line={line_id}, port {port} and /{reason}/:\n" + d.tail())
        self.assertEqual(d.count_log(rf"line={line_id} \S+ -> registered"), 0)
        self.assertNotIn(user, self.bindings(kam))
        self.assertEqual(kam.register_count(user), 0, "a REGISTER crossed an unverified connection")


class TcpTest(TransportCase):
    def test_lines_register_over_one_shared_tcp_connection(self):
        kam = self.start_kamailio(tcp=True)
        d = self.start_daemon(config([
            line("by-setting", "user0", kam.address, "secret-0", transport="tcp"),
            line("by-uri", "user1", f"sip:{kam.address};transport=tcp", "secret-1"),
        ], expires=300))
        got = self.wait_registered(kam, ["user0", "user1"])
        for user in ("user0", "user1"):
            b = got[user]
            self.assertRegex(b["contact"], rf"^sip:{user}@127\.0\.0\.1:\d+;(.*;)?transport=tcp\b")
            self.assertEqual(b["socket"], f"tcp:127.0.0.1:{kam.port}")
            self.assertGreater(b["tcpconn_id"], 0)
        d.wait_for_log(r"line=by-setting \S+ -> registered")
        d.wait_for_log(r"line=by-uri \S+ -> registered")
        self.assertEqual(kam.register_count_by_proto("udp"), 0)
        self.assertGreaterEqual(kam.register_count_by_proto("tcp"), 2)
        # One connection per target and transport, shared by both lines; the Contact
        # advertises that connection's local address.
        self.assertEqual(got["user0"]["tcpconn_id"], got["user1"]["tcpconn_id"])
        conns = self.open_connections(kam)
        self.assertEqual(len(conns), 1, conns)
        contact_port = int(re.search(r"@127\.0\.0\.1:(\d+)", got["user0"]["contact"]).group(1))
        self.assertEqual(contact_port, conns[0]["src_port"])

    def test_restarted_registrar_gets_every_line_back(self):
        kam = self.start_kamailio(tcp=True)
        ids = [f"r{i}" for i in range(3)]
        d = self.start_daemon(config([line(ids[i], f"user{i}", kam.address, f"secret-{i}", transport="tcp")
                                      for i in range(3)], expires=300, retry="{ base: 2s, max: 10s }"))
        self.wait_registered(kam, ["user0", "user1", "user2"])
        for i in ids:
            d.wait_for_log(rf"line={i} \S+ -> registered")
        restarted = time.monotonic()
        kam.restart()  # the new registrar knows no binding
        # The connection died with the registrar: every line registers again long
        # before its 300 s binding would have needed a refresh.
        self.wait_registered(kam, ["user0", "user1", "user2"], timeout=25)
        self.assertLess(time.monotonic() - restarted, 25)
        for i in ids:
            self.wait(lambda: d.count_log(rf"line={i} \S+ -> registered") >= 2, 5,
                      f"line {i} registered a second time")
        self.assertGreaterEqual(kam.register_count_by_proto("tcp"), 3)
        self.assertEqual(len(self.open_connections(kam)), 1, kam.tcp_connections())


class TlsTest(TransportCase):
    def test_lines_register_over_tls_with_a_verified_certificate(self):
        kam = self.start_kamailio(tls=self.pki.server)
        d = self.start_daemon(config([
            # Name checked: server_name against the DNS subjectAltName.
            line("named", "user0", f"sip:{kam.tls_address};transport=tls", "secret-0",
                 tls=self.tls(server_name=SERVER_NAME)),
            # sips: means TLS.
            line("sips", "user1", f"sips:{kam.tls_address}", "secret-1", tls=self.tls(server_name=SERVER_NAME)),
            # No server_name: the IP literal is checked against the IP subjectAltName.
            line("by-ip", "user2", kam.tls_address, "secret-2", transport="tls", tls=self.tls()),
        ], expires=300))
        got = self.wait_registered(kam, ["user0", "user1", "user2"])
        for user in ("user0", "user1", "user2"):
            b = got[user]
            self.assertRegex(b["contact"], r"^sips:|;transport=tls\b")
            self.assertEqual(b["socket"], f"tls:127.0.0.1:{kam.tls_port}")
        for line_id in ("named", "sips", "by-ip"):
            d.wait_for_log(rf"line={line_id} \S+ -> registered")
        self.assertEqual(kam.register_count_by_proto("udp"), 0)
        self.assertEqual(kam.register_count_by_proto("tcp"), 0)
        self.assertGreaterEqual(kam.register_count_by_proto("tls"), 3)
        self.assertTrue(all(c["type"] == "TLS" for c in kam.tcp_connections()))

    def test_certificate_for_another_name_is_refused(self):
        kam = self.start_kamailio(tls=self.pki.wrong_name)
        d = self.start_daemon(config([
            line("bad", "user0", f"sip:{kam.tls_address};transport=tls", "secret-0",
                 tls=self.tls(server_name=SERVER_NAME)),
            # The same server without verification works: the refusal above is the check.
            line("unchecked", "user1", f"sip:{kam.tls_address};transport=tls", "secret-1",
                 tls=self.tls(server_name=SERVER_NAME, verify=False)),
        ]))
        self.wait_registered(kam, ["user1"])
        self.assert_refused(d, kam, "bad", "user0", kam.tls_port, WRONG_NAME_REASON)

    def test_certificate_from_an_untrusted_ca_is_refused(self):
        kam = self.start_kamailio(tls=self.pki.untrusted)
        d = self.start_daemon(config([
            line("bad", "user0", f"sip:{kam.tls_address};transport=tls", "secret-0",
                 tls=self.tls(server_name=SERVER_NAME)),
            # Trusting the other CA makes the same certificate acceptable.
            line("other-ca", "user1", f"sip:{kam.tls_address};transport=tls", "secret-1",
                 tls=tls_settings(self.pki.untrusted_ca.cert_path, server_name=SERVER_NAME)),
        ]))
        self.wait_registered(kam, ["user1"])
        self.assert_refused(d, kam, "bad", "user0", kam.tls_port, UNTRUSTED_REASON)

    def test_registrar_domain_is_the_name_checked(self):
        kam = self.start_kamailio(tls=self.pki.server)
        dns = self.start_dns(hosts={SERVER_NAME: ["127.0.0.1"], "other.example.test": ["127.0.0.1"]},
                             local=["example.test"])
        # An explicit port: A/AAAA only; no server_name: the registrar's host is checked.
        d = self.start_daemon(config([
            line("good", "user0", f"sip:{SERVER_NAME}:{kam.tls_port};transport=tls", "secret-0", tls=self.tls()),
            line("other", "user1", f"sip:other.example.test:{kam.tls_port};transport=tls", "secret-1",
                 tls=self.tls()),
        ], dns_servers=[dns.server]))
        self.wait_registered(kam, ["user0"])
        d.wait_for_log(r"line=good \S+ -> registered")
        self.assert_refused(d, kam, "other", "user1", kam.tls_port, WRONG_NAME_REASON)
        self.assertIn(("A", SERVER_NAME), dns.queries())


class ShutdownTest(TransportCase):
    def test_sigterm_unregisters_over_tcp_and_tls_and_closes_every_handle(self):
        kam = self.start_kamailio(tcp=True, tls=self.pki.server)
        d = self.start_daemon(config([
            line("t", "user0", kam.address, "secret-0", transport="tcp"),
            line("s", "user1", f"sip:{kam.tls_address};transport=tls", "secret-1",
                 tls=self.tls(server_name=SERVER_NAME)),
        ], expires=300))
        self.wait_registered(kam, ["user0", "user1"])
        self.assertEqual(d.terminate_and_wait(timeout=10), 0, d.tail())
        self.assertEqual(self.bindings(kam), {}, "a binding survived the shutdown")
        for i in ("t", "s"):
            self.assertEqual(d.count_log(rf"line={i} \S+ -> stopped: unregistered"), 1, d.tail())
        # Connections, DNS and timers were all closed: the event loop ended empty.
        self.assertEqual(d.count_log(r"handles still open"), 0, d.tail())


class Ipv6Test(TransportCase):
    def test_udp_tcp_and_tls_over_ipv6_loopback(self):
        kam = self.start_kamailio(tcp=True, tls=self.pki.server, listen_ipv6=True)
        d = self.start_daemon(config([
            line("v6udp", "user0", kam.ipv6_address, "secret-0"),
            line("v6tcp", "user1", f"sip:{kam.ipv6_address};transport=tcp", "secret-1"),
            # The IP subjectAltName ::1 is what is checked.
            line("v6tls", "user2", f"sip:{kam.ipv6_tls_address};transport=tls", "secret-2", tls=self.tls()),
        ], listen=[("127.0.0.1", 0), ("::1", 0)], expires=300))
        got = self.wait_registered(kam, ["user0", "user1", "user2"])
        expected_socket = {"user0": f"udp:[::1]:{kam.ipv6_port}", "user1": f"tcp:[::1]:{kam.ipv6_port}",
                           "user2": f"tls:[::1]:{kam.ipv6_tls_port}"}
        for user, socket_text in expected_socket.items():
            self.assertEqual(got[user]["socket"], socket_text, got[user])
            # The Contact uses the family of the flow.
            self.assertRegex(got[user]["contact"], rf"^sips?:{user}@\[::1\]:\d+")
        self.assertRegex(got["user1"]["contact"], r";transport=tcp\b")
        self.assertRegex(got["user2"]["contact"], r"^sips:|;transport=tls\b")
        for line_id in ("v6udp", "v6tcp", "v6tls"):
            d.wait_for_log(rf"line={line_id} \S+ -> registered")
        for proto in ("udp", "tcp", "tls"):
            self.assertGreaterEqual(kam.register_count_by_proto(proto), 1, proto)


if __name__ == "__main__":
    unittest.main()
