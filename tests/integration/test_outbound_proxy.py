"""sipregd sending REGISTER through an outbound proxy: the request goes to the proxy's
address with a Route header naming it as a loose router, and the Request-URI stays the
registrar's. The proxy is a SIPp scenario (uas_proxy_route.xml) that answers 200 only
to a REGISTER carrying a `;lr` Route, 403 otherwise; the registrar's name resolves
nowhere, so registering at all proves the proxy was used."""
import re
import unittest

from peer_case import PeerCase
from sipp import Sipp
from sipregd_config import config, line

REGISTRAR = "sip:sipreg.test"  # the AOR's domain; nothing resolves it in these tests


def header_values(message, name):
    return [m.group(1).strip() for m in
            re.finditer(rf"^{re.escape(name)}\s*:\s*(.*)$", message, re.MULTILINE | re.IGNORECASE)]


class OutboundProxyTest(PeerCase):
    def run_through_proxy(self, transport, proxy_uri_for):
        proxy = self.start_peer(Sipp("uas_proxy_route.xml", transport=transport, keys={"granted": 60}))
        proxy_uri = proxy_uri_for(proxy)
        d = self.start_daemon(config([line("p", "alice", REGISTRAR, "alice-pw", outbound_proxy=proxy_uri)],
                                     expires=60))
        outcome = d.wait_for_log(r"line=p \S+ -> (registered|waiting|failed)", timeout=20)
        self.assertEqual(outcome.group(1), "registered",
                         f"{outcome.group(0)}\n--- proxy saw ---\n" + "\n\n".join(proxy.received("REGISTER")))
        self.wait(lambda: proxy.received("REGISTER"), 5, "the proxy's message trace")
        register = proxy.received("REGISTER")[0]
        self.assertEqual(register.splitlines()[0].strip(), f"REGISTER {REGISTRAR} SIP/2.0")
        routes = header_values(register, "Route")
        self.assertEqual(len(routes), 1, register)
        self.assertRegex(routes[0], rf"^<sip:{re.escape(proxy.address)}(;[^>]*)?>$")
        self.assertRegex(routes[0], r";lr\b")
        self.assertIn(200, proxy.sent_status_codes())
        self.assertNotIn(403, proxy.sent_status_codes())
        self.assertEqual(d.count_log(r"line=p \S+ -> (waiting|failed)"), 0)
        return proxy, register, routes[0]

    def test_udp_proxy_gets_the_register_with_a_loose_route(self):
        _, register, _ = self.run_through_proxy("u1", lambda p: f"sip:{p.address};lr")
        self.assertRegex(register, re.compile(r"^Via: SIP/2\.0/UDP ", re.MULTILINE | re.IGNORECASE))

    def test_tcp_proxy_is_reached_over_tcp(self):
        _, register, route = self.run_through_proxy("t1", lambda p: f"sip:{p.address};transport=tcp;lr")
        self.assertRegex(register, re.compile(r"^Via: SIP/2\.0/TCP ", re.MULTILINE | re.IGNORECASE))
        self.assertRegex(route, r";transport=tcp\b")
        contact = header_values(register, "Contact")[0]
        self.assertRegex(contact, r";transport=tcp\b")


if __name__ == "__main__":
    unittest.main()
