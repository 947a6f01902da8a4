"""sipregd finding its registrar through RFC 3263 DNS served by dnsmasq: a dead first
SRV target is passed over for the second, equal-priority targets share the lines by
weight, NAPTR chooses the transport when the line names none, and AAAA targets are
reached over IPv6. Every verdict comes from the registrars' location tables."""
import unittest

from dnsmasq import Naptr, Srv
from harness_util import free_udp_port
from peer_case import PeerCase
from sipregd_config import config, line
from stream_util import free_tcp_port

DOMAIN = "example.test"
USERS = {f"user{i}": f"secret-{i}" for i in range(20)}


class DnsCase(PeerCase):
    users = USERS

    def start_dns(self, **kwargs):
        kwargs.setdefault("local", [DOMAIN])
        return super().start_dns(**kwargs)

    def start_daemon_with(self, lines, dns, **kwargs):
        return self.start_daemon(config(lines, dns_servers=[dns.server], **kwargs))


class FailoverTest(DnsCase):
    def test_dead_first_tcp_target_is_passed_over_for_the_second(self):
        kam = self.start_kamailio(tcp=True)
        dead = free_tcp_port()  # nothing listens: connection refused
        dns = self.start_dns(
            srv=[Srv(f"_sip._tcp.{DOMAIN}", f"a.{DOMAIN}", dead, priority=10, weight=10),
                 Srv(f"_sip._tcp.{DOMAIN}", f"b.{DOMAIN}", kam.port, priority=20, weight=10)],
            hosts={f"a.{DOMAIN}": ["127.0.0.1"], f"b.{DOMAIN}": ["127.0.0.1"]})
        users = ["user0", "user1", "user2"]
        # A long backoff: registering within the wait below needs failover, not a retry.
        d = self.start_daemon_with([line(f"l{i}", u, f"sip:{DOMAIN}", USERS[u], transport="tcp")
                                    for i, u in enumerate(users)], dns, retry="{ base: 60s, max: 120s }")
        self.wait_registered(kam, users, timeout=20)
        for b in kam.ul_dump_details():
            self.assertEqual(b["socket"], f"tcp:127.0.0.1:{kam.port}")
        for i in range(3):
            d.wait_for_log(rf"line=l{i} \S+ -> registered")
        self.assertIn(("SRV", f"_sip._tcp.{DOMAIN}"), dns.queries())

    def test_silent_first_udp_target_times_out_then_the_second_registers(self):
        kam = self.start_kamailio()
        dead = free_udp_port()  # nothing answers: Timer F (32 s) or an ICMP error
        dns = self.start_dns(
            srv=[Srv(f"_sip._udp.{DOMAIN}", f"a.{DOMAIN}", dead, priority=10, weight=10),
                 Srv(f"_sip._udp.{DOMAIN}", f"b.{DOMAIN}", kam.port, priority=20, weight=10)],
            hosts={f"a.{DOMAIN}": ["127.0.0.1"], f"b.{DOMAIN}": ["127.0.0.1"]})
        d = self.start_daemon_with([line("u", "user0", f"sip:{DOMAIN}", USERS["user0"], transport="udp")], dns,
                                   retry="{ base: 60s, max: 120s }")
        # A 60 s backoff would end the test: the second target must be tried at once.
        self.wait_registered(kam, ["user0"], timeout=50)
        d.wait_for_log(r"line=u \S+ -> registered")


class WeightTest(DnsCase):
    def test_equal_priority_targets_share_the_lines(self):
        kam_a = self.start_kamailio()
        kam_b = self.start_kamailio()
        dns = self.start_dns(
            srv=[Srv(f"_sip._udp.{DOMAIN}", f"a.{DOMAIN}", kam_a.port, priority=10, weight=10),
                 Srv(f"_sip._udp.{DOMAIN}", f"b.{DOMAIN}", kam_b.port, priority=10, weight=10)],
            hosts={f"a.{DOMAIN}": ["127.0.0.1"], f"b.{DOMAIN}": ["127.0.0.1"]})
        self.start_daemon_with([line(f"l{i}", f"user{i}", f"sip:{DOMAIN}", USERS[f"user{i}"], transport="udp")
                                for i in range(20)], dns)
        self.wait(lambda: len(self.aors(kam_a) | self.aors(kam_b)) == 20, 30, "20 bindings over both registrars",
                  lambda: f"a={sorted(self.aors(kam_a))} b={sorted(self.aors(kam_b))}")
        a, b = self.aors(kam_a), self.aors(kam_b)
        self.assertEqual(a & b, set(), "a line registered at both targets")
        # 1:1 weights: fewer than 2 of 20 on either side has probability 4e-5.
        self.assertGreaterEqual(len(a), 2, (sorted(a), sorted(b)))
        self.assertGreaterEqual(len(b), 2, (sorted(a), sorted(b)))


class NaptrTest(DnsCase):
    def test_naptr_chooses_tcp_when_the_line_names_no_transport(self):
        kam_tcp = self.start_kamailio(tcp=True)
        kam_udp = self.start_kamailio()
        # The TCP service lives under a name only NAPTR leads to; plain SRV lookups
        # (_sip._udp) would find the UDP registrar instead.
        dns = self.start_dns(
            naptr=[Naptr(DOMAIN, 10, 10, "SIP+D2T", f"_sip._tcp.pool.{DOMAIN}"),
                   Naptr(DOMAIN, 20, 10, "SIP+D2U", f"_sip._udp.{DOMAIN}")],
            srv=[Srv(f"_sip._tcp.pool.{DOMAIN}", f"t.{DOMAIN}", kam_tcp.port),
                 Srv(f"_sip._udp.{DOMAIN}", f"u.{DOMAIN}", kam_udp.port)],
            hosts={f"t.{DOMAIN}": ["127.0.0.1"], f"u.{DOMAIN}": ["127.0.0.1"]})
        d = self.start_daemon_with([line("n0", "user0", f"sip:{DOMAIN}", USERS["user0"]),
                                    line("n1", "user1", f"sip:{DOMAIN}", USERS["user1"])], dns)
        self.wait_registered(kam_tcp, ["user0", "user1"], timeout=20)
        for b in kam_tcp.ul_dump_details():
            self.assertEqual(b["socket"], f"tcp:127.0.0.1:{kam_tcp.port}")
            self.assertRegex(b["contact"], r";transport=tcp\b")
        self.assertEqual(kam_udp.ul_dump(), [])
        self.assertEqual(kam_udp.register_count(), 0)
        d.wait_for_log(r"line=n0 \S+ -> registered")
        queries = dns.queries()
        self.assertIn(("NAPTR", DOMAIN), queries)
        self.assertIn(("SRV", f"_sip._tcp.pool.{DOMAIN}"), queries)


class AaaaTest(DnsCase):
    def test_aaaa_only_target_is_reached_over_ipv6(self):
        kam = self.start_kamailio(listen_ipv6=True)
        dns = self.start_dns(srv=[Srv(f"_sip._udp.{DOMAIN}", f"v6.{DOMAIN}", kam.ipv6_port)],
                             hosts={f"v6.{DOMAIN}": ["::1"]})
        d = self.start_daemon_with([line("v6", "user0", f"sip:{DOMAIN}", USERS["user0"], transport="udp")], dns,
                                   listen=[("127.0.0.1", 0), ("::1", 0)])
        self.wait_registered(kam, ["user0"], timeout=20)
        [b] = kam.ul_dump_details()
        self.assertEqual(b["socket"], f"udp:[::1]:{kam.ipv6_port}")
        self.assertRegex(b["contact"], r"@\[::1\]:\d+")
        d.wait_for_log(r"line=v6 \S+ -> registered")
        self.assertIn(("AAAA", f"v6.{DOMAIN}"), dns.queries())


if __name__ == "__main__":
    unittest.main()
