"""sipregd's lifecycle against a real Kamailio registrar: SIGHUP reloads that add, remove
and change lines (and a broken file that is refused), and the sd_notify messages a
service manager sees from start to stop."""
import time
import unittest

from daemon import Daemon
from harness_util import wait_until
from kamailio import Kamailio
from notify import NotifyListener
from sipregd_config import config, line

USERS = {u: f"{u}-secret" for u in ("keep", "change", "remove", "added")}


class LifecycleCase(unittest.TestCase):
    def setUp(self):
        self.kam = Kamailio(users=USERS)
        self.kam.start()
        self.addCleanup(self.kam.cleanup)

    def bindings(self):
        return {b["aor"]: b for b in self.kam.ul_dump()}

    def lines(self, change_extra=None, with_remove=True, with_added=False):
        k = self.kam.address
        out = [line("keep", "keep", k, "keep-secret"),
               line("change", "change", k, "change-secret", **(change_extra or {}))]
        if with_remove:
            out.append(line("remove", "remove", k, "remove-secret"))
        if with_added:
            out.append(line("added", "added", k, "added-secret"))
        return out


class ReloadTest(LifecycleCase):
    def test_sighup_adds_removes_changes_and_leaves_unchanged_lines_alone(self):
        d = Daemon(config(self.lines()))
        d.start()
        self.addCleanup(d.cleanup)
        wait_until(lambda: len(self.bindings()) == 3, 15, what="3 bindings")
        keep_before = self.bindings()["keep"]
        keep_registers = self.kam.register_count("keep")
        old_change_contact = self.bindings()["change"]["contact"]

        d.write_config(config(self.lines(change_extra={"contact_user": "changed"}, with_remove=False,
                                         with_added=True)))
        mark = len(d.log())
        d.reload()
        d.wait_for_log(r"reload applied: 1 added, 1 removed, 1 changed, 1 unchanged", since=mark)
        wait_until(lambda: set(self.bindings()) == {"keep", "change", "added"} and
                   self.bindings()["change"]["contact"].startswith("sip:changed@"), 15,
                   what="bindings after the reload")
        # The changed line's old binding is gone, not left to expire.
        contacts = [b["contact"] for b in self.kam.ul_dump()]
        self.assertNotIn(old_change_contact, contacts)
        # The unchanged line sent nothing: same Call-ID, same CSeq, no new REGISTER.
        time.sleep(1)
        keep_after = self.bindings()["keep"]
        self.assertEqual(keep_after["callid"], keep_before["callid"])
        self.assertEqual(keep_after["cseq"], keep_before["cseq"])
        self.assertEqual(self.kam.register_count("keep"), keep_registers)

    def test_a_broken_file_is_refused_and_the_old_configuration_keeps_running(self):
        d = Daemon(config(self.lines()))
        d.start()
        self.addCleanup(d.cleanup)
        wait_until(lambda: len(self.bindings()) == 3, 15, what="3 bindings")
        registers = self.kam.register_count()
        d.write_config(config(self.lines()) + "  - id: keep\n    registar: typo\n")
        mark = len(d.log())
        d.reload()
        d.wait_for_log(r"reload rejected: \d+ error", since=mark)
        # Each problem is logged with file, line, column and key.
        d.wait_for_log(r"sipregd\.yaml:\d+:\d+: error: lines\[3\]\.registar: .*did you mean 'registrar'",
                       since=mark)
        time.sleep(1)
        self.assertIsNone(d.proc.poll())
        self.assertEqual(set(self.bindings()), {"keep", "change", "remove"})
        self.assertEqual(self.kam.register_count(), registers)


class NotifyTest(LifecycleCase):
    def test_ready_status_watchdog_reloading_and_stopping(self):
        listener = NotifyListener()
        self.addCleanup(listener.close)
        d = Daemon(config(self.lines()), env=listener.env(watchdog_usec=400_000))
        d.start()
        self.addCleanup(d.cleanup)
        ready = listener.wait_for("READY", "1", timeout=10)
        self.assertEqual(ready.pid, d.pid)
        listener.wait_for("STATUS", "3/3 registered", timeout=15)
        # Watchdog pings at half of WATCHDOG_USEC while the loop is healthy.
        first = listener.wait_for("WATCHDOG", "1", timeout=5)
        time.sleep(1.2)
        listener.poll(0.1)
        pings = [m for m in listener.messages if m.fields.get("WATCHDOG") == "1" and m.t >= first.t]
        self.assertGreaterEqual(len(pings), 4)
        self.assertLessEqual(len(pings), 12)

        mark = len(listener.messages)
        d.reload()
        reloading = listener.wait_for("RELOADING", "1", timeout=5, since=mark)
        self.assertIn("MONOTONIC_USEC", reloading.fields)
        self.assertGreater(int(reloading.fields["MONOTONIC_USEC"]), 0)
        after = listener.wait_for("READY", "1", timeout=5, since=mark)
        self.assertGreaterEqual(after.t, reloading.t)

        mark = len(listener.messages)
        self.assertEqual(d.terminate_and_wait(timeout=10), 0)
        listener.poll(0.2)
        stopping = listener.wait_for("STOPPING", "1", timeout=2, since=mark)
        self.assertEqual(stopping.pid, d.pid)
        self.assertEqual(self.kam.ul_dump(), [])


if __name__ == "__main__":
    unittest.main()
