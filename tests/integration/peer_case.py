"""A unittest base for tests that run sipregd against several peers (Kamailio, dnsmasq,
SIPp): starts each with cleanup registered, and waits on registrar state in a way that
stops at once, with sipregd's log, when sipregd has exited (a config it refuses, a
crash) instead of running out the whole timeout."""
import unittest

from daemon import Daemon
from dnsmasq import Dnsmasq
from harness_util import wait_until
from kamailio import Kamailio


class DaemonExited(AssertionError):
    pass


class PeerCase(unittest.TestCase):
    users = {}

    def start_peer(self, peer):
        peer.start()
        self.addCleanup(peer.cleanup)
        return peer

    def start_kamailio(self, **kwargs):
        kwargs.setdefault("users", dict(self.users))
        return self.start_peer(Kamailio(**kwargs))

    def start_dns(self, **kwargs):
        return self.start_peer(Dnsmasq(**kwargs))

    def start_daemon(self, text, **kwargs):
        d = self.start_peer(Daemon(text, **kwargs))
        self.daemon = d
        return d

    def wait(self, predicate, timeout, what, describe=None):
        """wait_until(predicate) that fails at once if the daemon started by this test
        exited, and explains a timeout with `describe()` and the daemon's log tail."""
        d = getattr(self, "daemon", None)

        def check():
            if d is not None and d.proc is not None and d.proc.poll() is not None:
                raise DaemonExited(f"sipregd exited ({d.proc.returncode}) while waiting for {what}:\n{d.tail()}")
            return predicate()

        try:
            return wait_until(check, timeout, interval=0.2, what=what)
        except TimeoutError as e:
            extra = f"; {describe()}" if describe else ""
            tail = f"\n--- sipregd ---\n{d.tail()}" if d is not None else ""
            raise AssertionError(f"{e}{extra}{tail}") from None

    @staticmethod
    def aors(kam):
        return {b["aor"] for b in kam.ul_dump()}

    def bindings(self, kam):
        return {b["aor"]: b for b in kam.ul_dump_details()}

    def wait_registered(self, kam, users, timeout=20):
        """Waits until `kam` holds a binding for every user; returns {aor: binding}
        with details (socket, tcpconn_id)."""
        wanted = set(users)
        self.wait(lambda: wanted <= self.aors(kam), timeout, f"bindings of {sorted(wanted)}",
                  lambda: f"registrar has {sorted(self.aors(kam))}")
        return self.bindings(kam)
