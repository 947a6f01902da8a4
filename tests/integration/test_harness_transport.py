"""Proves the transport pieces of the harness on their own, without sipregd: the test
PKI verifies (and fails) as designed; Kamailio serves SIP over TCP, TLS and IPv6 and
restarts on the same ports with nothing kept; dnsmasq answers NAPTR, SRV, A and AAAA
for the test domain; the SIPp TCP scenarios answer as designed; config values are
written as valid YAML.

Run: python3 -m unittest -v test_harness_transport (from tests/integration)."""
import os
import re
import socket
import ssl
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from certs import OPENSSL, SERVER_NAME, WRONG_NAME, TestPki  # noqa: E402
from dnsmasq import Dnsmasq, Naptr, Srv, dns_query  # noqa: E402
from harness_util import wait_until  # noqa: E402
from kamailio import Kamailio, sip_options_ping  # noqa: E402
from sip_client import UdpSipClient, header, status_code  # noqa: E402
from sipp import Sipp  # noqa: E402
from sipregd_config import config, line, tls_settings, yaml_value  # noqa: E402
from stream_util import StreamSipClient, free_dual_port, sip_options_stream, tcp_connectable  # noqa: E402


def s_client(port, ca_file, server_name, host="127.0.0.1"):
    """`openssl s_client` against host:port verifying `server_name`; (ok, output)."""
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    r = subprocess.run([OPENSSL, "s_client", "-connect", target, "-CAfile", ca_file, "-servername", server_name,
                        "-verify_hostname", server_name, "-verify_return_error", "-brief"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=15)
    return r.returncode == 0, r.stdout + r.stderr


class PkiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pki = TestPki()

    @classmethod
    def tearDownClass(cls):
        cls.pki.cleanup()

    def test_server_certificate_verifies_for_its_names_and_addresses(self):
        for kwargs in ({"hostname": SERVER_NAME}, {"ip": "127.0.0.1"}, {"ip": "::1"}):
            with self.subTest(**kwargs):
                ok, out = self.pki.ca.verify(self.pki.server, **kwargs)
                self.assertTrue(ok, out)
        text = self.pki.server.text()
        self.assertIn(f"URI:sip:{SERVER_NAME}", text)
        self.assertIn("CA:FALSE", text)

    def test_wrong_name_certificate_has_a_good_chain_but_not_the_name(self):
        ok, out = self.pki.ca.verify(self.pki.wrong_name)
        self.assertTrue(ok, out)
        ok, out = self.pki.ca.verify(self.pki.wrong_name, hostname=SERVER_NAME)
        self.assertFalse(ok)
        self.assertIn("hostname mismatch", out)
        ok, _ = self.pki.ca.verify(self.pki.wrong_name, hostname=WRONG_NAME)
        self.assertTrue(ok)

    def test_untrusted_certificate_verifies_only_against_its_own_ca(self):
        ok, out = self.pki.ca.verify(self.pki.untrusted, hostname=SERVER_NAME)
        self.assertFalse(ok)
        self.assertIn("unable to get local issuer certificate", out)
        ok, out = self.pki.untrusted_ca.verify(self.pki.untrusted, hostname=SERVER_NAME)
        self.assertTrue(ok, out)

    def test_client_certificate_is_for_client_auth(self):
        ok, out = self.pki.ca.verify(self.pki.client)
        self.assertTrue(ok, out)
        self.assertIn("TLS Web Client Authentication", self.pki.client.text())


class KamailioStreamTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pki = TestPki()

    @classmethod
    def tearDownClass(cls):
        cls.pki.cleanup()

    def start_kamailio(self, **kwargs):
        kam = Kamailio(**kwargs)
        kam.start()
        self.addCleanup(kam.cleanup)
        return kam

    def test_tcp_tls_and_ipv6_listeners_answer_sip(self):
        kam = self.start_kamailio(tcp=True, tls=self.pki.server, listen_ipv6=True)
        protos = sorted(p for p, _, _ in kam.listeners())
        self.assertEqual(protos, ["tcp", "tcp", "tls", "tls", "udp", "udp"])
        self.assertEqual(sip_options_ping("127.0.0.1", kam.port), 200)
        self.assertEqual(sip_options_ping("::1", kam.ipv6_port), 200)
        self.assertEqual(sip_options_stream("127.0.0.1", kam.port), 200)
        self.assertEqual(sip_options_stream("::1", kam.ipv6_port), 200)
        self.assertEqual(sip_options_stream("127.0.0.1", kam.tls_port, tls=True, ca_file=self.pki.ca.cert_path,
                                            server_name=SERVER_NAME), 200)
        self.assertEqual(sip_options_stream("::1", kam.ipv6_tls_port, tls=True, ca_file=self.pki.ca.cert_path,
                                            server_name="::1"), 200)

    def test_tls_listener_presents_the_given_certificate(self):
        kam = self.start_kamailio(tls=self.pki.server)
        ok, out = s_client(kam.tls_port, self.pki.ca.cert_path, SERVER_NAME)
        self.assertTrue(ok, out)
        self.assertRegex(out, r"Verification: OK")
        ok, out = s_client(kam.tls_port, self.pki.ca.cert_path, WRONG_NAME)
        self.assertFalse(ok, out)
        with self.assertRaises(ssl.SSLCertVerificationError):
            sip_options_stream("127.0.0.1", kam.tls_port, tls=True, ca_file=self.pki.untrusted_ca.cert_path,
                               server_name=SERVER_NAME)
        # Without a TCP listener, the UDP port number takes no connections.
        self.assertFalse(tcp_connectable("127.0.0.1", kam.port))

    def test_wrong_name_and_untrusted_certificates_are_served(self):
        wrong = self.start_kamailio(tls=self.pki.wrong_name)
        ok, out = s_client(wrong.tls_port, self.pki.ca.cert_path, SERVER_NAME)
        self.assertFalse(ok)
        self.assertIn("hostname mismatch", out)
        ok, out = s_client(wrong.tls_port, self.pki.ca.cert_path, WRONG_NAME)
        self.assertTrue(ok, out)
        untrusted = self.start_kamailio(tls=self.pki.untrusted)
        ok, out = s_client(untrusted.tls_port, self.pki.ca.cert_path, SERVER_NAME)
        self.assertFalse(ok)
        self.assertRegex(out, r"unable to get local issuer certificate|self-signed")
        ok, out = s_client(untrusted.tls_port, self.pki.untrusted_ca.cert_path, SERVER_NAME)
        self.assertTrue(ok, out)

    def test_registration_over_tcp_records_the_socket_and_connection(self):
        kam = self.start_kamailio(users={"alice": "alice-pw"}, tcp=True)
        uac = Sipp("uac_register_auth.xml", remote=kam.address, calls=1, transport="t1", keys={"expires": 120},
                   extra_args=["-s", "alice", "-au", "alice", "-ap", "alice-pw"])
        try:
            uac.start()
            self.assertEqual(uac.wait(20), 0, uac.output())
        finally:
            uac.cleanup()
        [b] = kam.ul_dump_details()
        self.assertEqual(b["aor"], "alice")
        self.assertEqual(b["socket"], f"tcp:127.0.0.1:{kam.port}")
        self.assertGreater(b["tcpconn_id"], 0)
        self.assertEqual(kam.register_count_by_proto("tcp"), 2)
        self.assertEqual(kam.register_count_by_proto("udp"), 0)
        # The plain parser keeps its old shape.
        self.assertEqual(set(kam.ul_dump()[0]), {"aor", "contact", "expires", "received", "user_agent",
                                                 "callid", "cseq"})

    def test_tcp_connections_are_listed_with_the_client_port(self):
        kam = self.start_kamailio(tcp=True)
        with StreamSipClient("127.0.0.1", kam.port) as c:
            c.register(f"sip:{kam.address};transport=tcp")
            self.assertEqual(status_code(c.read_message()), 401)
            conns = kam.tcp_connections()
            self.assertEqual(len(conns), 1, conns)
            self.assertEqual(conns[0]["src_port"], c.local_port)
            self.assertEqual(conns[0]["dst_port"], kam.port)
            self.assertEqual(conns[0]["type"], "TCP")

    def test_tcp_answers_a_double_crlf_ping_with_a_pong(self):
        kam = self.start_kamailio(tcp=True)
        with socket.create_connection(("127.0.0.1", kam.port), timeout=3) as s:
            s.sendall(b"\r\n\r\n")
            self.assertEqual(s.recv(100), b"\r\n")

    def test_restart_drops_bindings_and_connections_and_keeps_the_ports(self):
        kam = self.start_kamailio(users={"alice": "alice-pw"}, tcp=True, tls=self.pki.server)
        uac = Sipp("uac_register_auth.xml", remote=kam.address, calls=1, keys={"expires": 300},
                   extra_args=["-s", "alice", "-au", "alice", "-ap", "alice-pw"])
        try:
            uac.start()
            self.assertEqual(uac.wait(20), 0, uac.output())
        finally:
            uac.cleanup()
        self.assertEqual(len(kam.ul_dump()), 1)
        ports = (kam.port, kam.tls_port)
        first_pid = kam.pid
        with StreamSipClient("127.0.0.1", kam.port) as c:
            c.register(f"sip:{kam.address};transport=tcp")
            self.assertEqual(status_code(c.read_message()), 401)
            kam.restart()
            # The old connection is gone: the next read sees its end, not a response.
            self.assertIsNone(c.read_message(timeout=2))
        self.assertNotEqual(kam.pid, first_pid)
        self.assertEqual(kam.starts, 2)
        self.assertEqual((kam.port, kam.tls_port), ports)
        self.assertEqual(kam.ul_dump(), [])
        self.assertEqual(kam.register_count(), 0)
        self.assertEqual(sip_options_stream("127.0.0.1", kam.port), 200)
        self.assertEqual(sip_options_stream("127.0.0.1", kam.tls_port, tls=True, ca_file=self.pki.ca.cert_path,
                                            server_name=SERVER_NAME), 200)
        self.assertIn("--- harness: start 2 ---", kam.log_text())


class DnsmasqTest(unittest.TestCase):
    def test_serves_naptr_srv_a_and_aaaa_for_the_test_domain(self):
        dns = Dnsmasq(
            naptr=[Naptr("example.test", 10, 10, "SIP+D2T", "_sip._tcp.pool.example.test"),
                   Naptr("example.test", 20, 10, "SIP+D2U", "_sip._udp.example.test")],
            srv=[Srv("_sip._udp.example.test", "a.example.test", 5070, priority=10, weight=30),
                 Srv("_sip._udp.example.test", "b.example.test", 5072, priority=20, weight=0),
                 Srv("_sip._tcp.pool.example.test", "b.example.test", 5080)],
            hosts={"a.example.test": ["127.0.0.1"], "b.example.test": ["127.0.0.1", "::1"],
                   "v6.example.test": ["::1"]},
            local=["example.test"], ttl=17)
        with dns:
            self.assertEqual(dns.server, f"127.0.0.1:{dns.port}")
            naptr = dns_query(dns.host, dns.port, "example.test", "NAPTR")
            self.assertEqual(naptr.rcode, "NOERROR")
            got = sorted((r.data["order"], r.data["services"], r.data["flags"], r.data["replacement"])
                         for r in naptr.of_type("NAPTR"))
            self.assertEqual(got, [(10, "SIP+D2T", "S", "_sip._tcp.pool.example.test"),
                                   (20, "SIP+D2U", "S", "_sip._udp.example.test")])
            srv = dns_query(dns.host, dns.port, "_sip._udp.example.test", "SRV")
            got = sorted((r.data["priority"], r.data["weight"], r.data["port"], r.data["target"])
                         for r in srv.of_type("SRV"))
            self.assertEqual(got, [(10, 30, 5070, "a.example.test"), (20, 0, 5072, "b.example.test")])
            self.assertTrue(all(r.ttl == 17 for r in srv.answers))
            a = dns_query(dns.host, dns.port, "b.example.test", "A")
            self.assertEqual([r.data for r in a.of_type("A")], ["127.0.0.1"])
            aaaa = dns_query(dns.host, dns.port, "b.example.test", "AAAA")
            self.assertEqual([r.data for r in aaaa.of_type("AAAA")], ["::1"])
            self.assertEqual(dns_query(dns.host, dns.port, "v6.example.test", "A").answers, [])
            # Unknown names in the local domain are answered, not refused.
            self.assertEqual(dns_query(dns.host, dns.port, "_sip._tcp.example.test", "SRV").rcode, "NXDOMAIN")
            self.assertIn(("NAPTR", "example.test"), dns.queries())
            self.assertIn(("SRV", "_sip._udp.example.test"), dns.queries())
            pid = dns.pid
        with self.assertRaises(ProcessLookupError):
            os.killpg(pid, 0)

    def test_ipv6_listener(self):
        with Dnsmasq(host="::1", hosts={"x.example.test": ["127.0.0.1"]}, local=["example.test"]) as dns:
            self.assertEqual(dns.server, f"[::1]:{dns.port}")
            r = dns_query("::1", dns.port, "x.example.test", "A")
            self.assertEqual([x.data for x in r.of_type("A")], ["127.0.0.1"])


class SippTcpScenarioTest(unittest.TestCase):
    def test_503_failover_answers_every_register_over_tcp(self):
        with Sipp("uas_503_failover.xml", transport="t1") as uas, StreamSipClient(uas.host, uas.port) as c:
            self.assertTrue(uas.stream)
            for _ in range(2):
                c.register(f"sip:{uas.address};transport=tcp")
                r = c.read_message()
                self.assertEqual(status_code(r), 503, r)
                self.assertIsNone(header(r, "Retry-After"))
            # Another connection, and a new one after a close, are served as well.
            with StreamSipClient(uas.host, uas.port) as other:
                other.register(f"sip:{uas.address};transport=tcp")
                self.assertEqual(status_code(other.read_message()), 503)
            with StreamSipClient(uas.host, uas.port) as again:
                again.register(f"sip:{uas.address};transport=tcp")
                self.assertEqual(status_code(again.read_message()), 503)
            self.assertIsNone(uas.proc.poll())
            # SIPp writes its trace after sending: the client may hold the last answer first.
            wait_until(lambda: len(uas.received("REGISTER")) >= 4 and len(uas.sent_status_codes()) >= 4, 5,
                       what="SIPp's message trace")
            self.assertEqual(len(uas.received("REGISTER")), 4)
            self.assertEqual(uas.sent_status_codes(), [503, 503, 503, 503])

    def test_proxy_route_accepts_only_a_loose_route(self):
        for transport in ("t1", "u1"):
            with self.subTest(transport=transport), Sipp("uas_proxy_route.xml", transport=transport) as uas:
                route = f"Route: <sip:{uas.address};lr>"
                if transport == "t1":
                    with StreamSipClient(uas.host, uas.port) as c:
                        c.register("sip:sipreg.test", extra_headers=[route])
                        ok = c.read_message()
                        c.register("sip:sipreg.test")
                        refused = c.read_message()
                        c.register("sip:sipreg.test", extra_headers=[f"Route: <sip:{uas.address}>"])
                        strict = c.read_message()
                else:
                    with UdpSipClient() as c:
                        c.register(uas.host, uas.port, extra_headers=[route])
                        ok = c.collect(3, until=lambda got: got)[0]
                        c.register(uas.host, uas.port)
                        refused = c.collect(3, until=lambda got: got)[0]
                        c.register(uas.host, uas.port, extra_headers=[f"Route: <sip:{uas.address}>"])
                        strict = c.collect(3, until=lambda got: got)[0]
                self.assertEqual(status_code(ok), 200, ok)
                self.assertEqual(header(ok, "X-Harness-Route"), f"<sip:{uas.address};lr>")
                self.assertEqual(header(ok, "Expires"), "60")
                self.assertIsNotNone(header(ok, "Contact"))
                if transport == "t1":
                    self.assertEqual(header(ok, "X-Harness-Request-URI"), "sip:sipreg.test")
                self.assertEqual(status_code(refused), 403, refused)
                self.assertEqual(status_code(strict), 403, strict)
                wait_until(lambda: len(uas.sent_status_codes()) >= 3, 5, what="SIPp's message trace")
                self.assertEqual(uas.sent_status_codes(), [200, 403, 403])


class ConfigTextTest(unittest.TestCase):
    def test_values_are_quoted_when_yaml_would_misread_them(self):
        self.assertEqual(yaml_value("127.0.0.1:5060"), "127.0.0.1:5060")
        self.assertEqual(yaml_value("[::1]:5060"), '"[::1]:5060"')
        self.assertEqual(yaml_value(["127.0.0.1:5353"]), '["127.0.0.1:5353"]')
        self.assertEqual(yaml_value({"verify": False, "ca_file": "/a b/ca.pem"}),
                         '{ verify: false, ca_file: "/a b/ca.pem" }')
        self.assertEqual(yaml_value("yes"), '"yes"')

    def test_config_carries_transport_tls_dns_listen_and_proxy(self):
        text = config([line("t", "u", "sip:127.0.0.1:5061;transport=tls", "pw", transport="tls",
                            tls=tls_settings("/x/ca.pem", verify=True, server_name="sip.example.test"),
                            outbound_proxy="sip:127.0.0.1:5070;lr")],
                      listen=[("127.0.0.1", 0), ("::1", 0)], dns_servers=["127.0.0.1:5353"])
        self.assertIn('dns: { servers: ["127.0.0.1:5353"] }\n', text)
        self.assertIn('  - { address: "::1", port: 0 }\n', text)
        self.assertIn("    transport: tls\n", text)
        self.assertIn("    tls: { ca_file: /x/ca.pem, verify: true, server_name: sip.example.test }\n", text)
        self.assertIn("    outbound_proxy: sip:127.0.0.1:5070;lr\n", text)
        self.assertRegex(text, re.compile(r"^lines:\n  - id: t\n", re.MULTILINE))


class PortTest(unittest.TestCase):
    def test_dual_port_is_free_for_udp_and_tcp(self):
        port = free_dual_port(("127.0.0.1", "::1"))
        for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                with socket.socket(family, kind) as s:
                    s.bind((host, port))


if __name__ == "__main__":
    unittest.main(verbosity=2)
