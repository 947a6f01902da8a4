"""sipregd over TCP failing over on 503: the domain's first SRV target is a SIPp
registrar answering every REGISTER with 503 (no Retry-After), the second a Kamailio.
The line must take the 503 as "try the next server" and end registered at the second."""
import re
import unittest

from dnsmasq import Srv
from peer_case import PeerCase
from sipp import Sipp
from sipregd_config import config, line

DOMAIN = "example.test"


class SippTcpFailoverTest(PeerCase):
    def test_503_over_tcp_moves_the_line_to_the_next_target(self):
        busy = self.start_peer(Sipp("uas_503_failover.xml", transport="t1"))
        kam = self.start_kamailio(users={"alice": "alice-pw"}, tcp=True)
        dns = self.start_dns(
            srv=[Srv(f"_sip._tcp.{DOMAIN}", f"busy.{DOMAIN}", busy.port, priority=10, weight=10),
                 Srv(f"_sip._tcp.{DOMAIN}", f"kam.{DOMAIN}", kam.port, priority=20, weight=10)],
            hosts={f"busy.{DOMAIN}": ["127.0.0.1"], f"kam.{DOMAIN}": ["127.0.0.1"]}, local=[DOMAIN])
        # A long backoff: registering within the wait below needs failover, not a retry.
        d = self.start_daemon(config([line("f", "alice", f"sip:{DOMAIN}", "alice-pw", transport="tcp")],
                                     dns_servers=[dns.server], retry="{ base: 60s, max: 120s }"))
        self.wait_registered(kam, ["alice"], timeout=20)
        [b] = kam.ul_dump_details()
        self.assertEqual(b["socket"], f"tcp:127.0.0.1:{kam.port}")
        self.assertRegex(b["contact"], r";transport=tcp\b")
        d.wait_for_log(r"line=f \S+ -> registered")
        self.assertEqual(d.count_log(r"line=f \S+ -> failed"), 0)
        # The first target really was tried, over TCP, and said 503.
        self.wait(lambda: busy.received("REGISTER"), 5, "SIPp's message trace")
        self.assertIn(503, busy.sent_status_codes())
        first = busy.received("REGISTER")[0]
        self.assertRegex(first, re.compile(r"^Via: SIP/2\.0/TCP ", re.MULTILINE | re.IGNORECASE))
        self.assertEqual(kam.register_count_by_proto("udp"), 0)


if __name__ == "__main__":
    unittest.main()
