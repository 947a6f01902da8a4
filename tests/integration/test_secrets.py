"""Secrets end to end: sipregd at trace level against a Kamailio registrar that logs every
Authorization header it receives, with a line for each secret source (password,
password_file, password_env, password_ha1), metrics, the control socket and an on_change
recorder. The registrar's log gives the real digest responses and cnonces; none of them,
no password (old or new) and no HA1 may show up in anything sipregd writes or serves.
Also: secret files (plain and systemd credentials) are read again on reload, and a
literal password in a file other users can read gives a warning naming file:line:col."""
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import unittest
import urllib.request

from daemon import Daemon, sipregd_binary
from kamailio import Kamailio
from peer_case import PeerCase
from sipregd_config import config, line
from stream_util import free_tcp_port

REALM = "sipreg.test"  # line()'s default domain: the registrar's realm ($td)
ELLIPSIS = "\u2026"     # what redaction puts in place of a hidden value

# /proc/$$/environ and /proc/$$/cmdline are what the script was started with; each file
# appears under its final name only when complete.
RECORDER = """#!/bin/sh
f=$(mktemp "$1/run.XXXXXX") || exit 1
cat /proc/$$/environ > "$f.part" && mv "$f.part" "$f.env"
cat /proc/$$/cmdline > "$f.cpart" && mv "$f.cpart" "$f.argv"
rm -f "$f"
"""


def sipregctl_binary():
    path = os.environ.get("SIPREGCTL_BIN")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError(f"SIPREGCTL_BIN={path!r} is not an executable (ctest sets it to the sipregctl target)")
    return path


def md5_hex(text):
    return hashlib.md5(text.encode()).hexdigest()


def ha1(user, password, realm=REALM):
    return md5_hex(f"{user}:{realm}:{password}")


class AuthLoggingKamailio(Kamailio):
    """The harness's registrar, plus one log line per REGISTER with the From user and the
    whole Authorization header as received: the ground truth of what was sent."""

    AUTH_LOG = re.compile(r"AUTHZ user=(\S+) (Digest .*)$", re.M)

    def render_cfg(self):
        cfg = super().render_cfg()
        anchor = 'if (is_method("REGISTER")) {\n'
        if cfg.count(anchor) != 1:
            raise RuntimeError("the harness's Kamailio config changed: no single REGISTER block to log in")
        return cfg.replace(anchor, anchor + '        if ($hdr(Authorization) != $null) {\n'
                                            '            xlog("L_INFO", "AUTHZ user=$fU $hdr(Authorization)\\n");\n'
                                            '        }\n')

    def authorizations(self):
        """[(from user, {param: value})] of every Authorization header received."""
        out = []
        for m in self.AUTH_LOG.finditer(self.log_text()):
            params = dict((k.lower(), v1 if v1 else v2)
                          for k, v1, v2 in re.findall(r'(\w+)=(?:"([^"]*)"|([^",\s]+))', m.group(2)))
            out.append((m.group(1), params))
        return out

    def set_password(self, user, password):
        """Changes a user's password in the running registrar (its htable)."""
        self.kamcmd("htable.sets", "users", user, password)


def digest_response(params, password):
    """RFC 7616 MD5 response with qop=auth for a REGISTER, from the header's parameters."""
    h1 = ha1(params["username"], password, params["realm"])
    h2 = md5_hex(f"REGISTER:{params['uri']}")
    return md5_hex(f"{h1}:{params['nonce']}:{params['nc']}:{params['cnonce']}:{params['qop']}:{h2}")


class Tracer:
    """`sipregctl trace` in the background; its stdout and stderr are collected."""

    def __init__(self, socket, *args):
        self.proc = subprocess.Popen([sipregctl_binary(), "-s", socket, "trace", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        self._chunks = {"out": [], "err": []}
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._read, args=(self.proc.stdout, "out"), daemon=True),
                         threading.Thread(target=self._read, args=(self.proc.stderr, "err"), daemon=True)]
        for t in self._threads:
            t.start()

    def _read(self, stream, key):
        for raw in stream:
            with self._lock:
                self._chunks[key].append(raw.decode("utf-8", "replace"))

    def output(self):
        with self._lock:
            return "".join(self._chunks["out"])

    def errors(self):
        with self._lock:
            return "".join(self._chunks["err"])

    def finish(self, timeout=10.0):
        """Waits for the end (the daemon closing the socket), Ctrl-C after `timeout`."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(timeout=5.0)
        for t in self._threads:
            t.join(timeout=2.0)
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5.0)
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()


def write_secret(path, text, mode=0o600):
    """Replaces a secret file atomically (as a rotation tool would) with `mode`."""
    tmp = path + ".new"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


class SecretsCase(PeerCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sipreg-secrets-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.socket = os.path.join(self.tmp, "control.sock")
        self.control_outputs = []  # every byte sipregctl printed

    def start_registrar(self, users, **kwargs):
        return self.start_peer(AuthLoggingKamailio(users=users, **kwargs))

    def ctl(self, *args, timeout=20):
        r = subprocess.run([sipregctl_binary(), "-s", self.socket, *args], capture_output=True, text=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
        self.control_outputs.append(f"$ sipregctl {' '.join(args)}\n{r.stdout}{r.stderr}")
        return r

    def ctl_ok(self, *args):
        r = self.ctl(*args)
        self.assertEqual(r.returncode, 0, f"sipregctl {' '.join(args)}: {r.stdout}{r.stderr}")
        return r.stdout

    def states(self):
        return {l["id"]: l["state"] for l in json.loads(self.ctl_ok("status", "--json"))["lines"]}

    def wait_log_count(self, d, pattern, count, timeout, what):
        self.wait(lambda: d.count_log(pattern) >= count, timeout, what)


class NoSecretLeaksTest(SecretsCase):
    def test_no_password_ha1_or_digest_response_leaves_the_daemon(self):
        users = {"ulit": "Lit-pw-7Qx2vB", "urot": "Rot-old-pw-K3m9", "ufile": "File-old-pw-Hd81",
                 "uenv": "Env-pw-Wz55Tq", "uha1": "Ha1-pw-Pp04Ls"}
        rotated = {"urot": "Rot-new-pw-J6c2", "ufile": "File-new-pw-Rr73"}
        kam = self.start_registrar(users, max_expires=10, min_expires=5)
        metrics_port = free_tcp_port()
        records = os.path.join(self.tmp, "records")
        os.mkdir(records)
        recorder = os.path.join(self.tmp, "record")
        with open(recorder, "w") as f:
            f.write(RECORDER)
        os.chmod(recorder, stat.S_IRWXU)
        password_file = os.path.join(self.tmp, "ufile.pw")
        write_secret(password_file, users["ufile"] + "\n")
        ha1_value = ha1("uha1", users["uha1"])

        def lines(rot_password):
            return [
                line("lit", "ulit", kam.address, users["ulit"]),
                line("rot", "urot", kam.address, rot_password),
                line("file", "ufile", kam.address, auth={"password_file": password_file}),
                line("env", "uenv", kam.address, auth={"password_env": "SIPREG_TEST_ENV_PASSWORD"}),
                # Upper case on purpose: the daemon folds it, the search below looks for both.
                line("ha1", "uha1", kam.address, auth={"realm": REALM, "password_ha1": {"MD5": ha1_value.upper()}}),
            ]

        def config_text(rot_password):
            return config(lines(rot_password), expires=60, start_spread="2s", control=self.socket,
                          metrics=f"127.0.0.1:{metrics_port}",
                          on_change={"command": [recorder, records, "--from-config"], "timeout": "10s"})

        ids = ["lit", "rot", "file", "env", "ha1"]
        d = self.start_daemon(config_text(users["urot"]), args=("--log-level", "trace"),
                              env={"SIPREG_TEST_ENV_PASSWORD": users["uenv"]})
        d.wait_for_log(r"control socket ")
        tracers = [Tracer(self.socket), Tracer(self.socket, "--json")]
        for t in tracers:
            self.addCleanup(t.kill)
            self.wait(lambda t=t: "tracing every line" in t.errors(), 10, "a trace to start", t.errors)

        pages = []

        def scrape():
            with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as r:
                pages.append(r.read().decode("utf-8", "replace"))
            return pages[-1]

        # Register, then at least one refresh of every line (grants of 10 s).
        self.wait_registered(kam, list(users), timeout=30)
        for i in ids:
            self.wait_log_count(d, rf"line={i} registered, expires 10 s", 1, 25, f"a refresh of {i}")
        self.assertTrue(all(s == "registered" for s in self.states().values()), self.states())
        self.ctl_ok("status")
        for i in ids:
            self.ctl_ok("show", i)
            self.ctl_ok("show", i, "--json")
        page = scrape()
        self.assertEqual(len(re.findall(r'^sipregd_line_registered\{line="[a-z0-9]+"\} 1$', page, re.M)), 5, page)

        # SIGHUP with a new literal password for one line (the registrar knows only it now).
        kam.set_password("urot", rotated["urot"])
        mark = len(d.log())
        d.write_config(config_text(rotated["urot"]))
        d.reload()
        d.wait_for_log(r"reload applied: 0 added, 0 removed, 1 changed, 4 unchanged", since=mark, timeout=15)
        self.wait_log_count(d, r"line=rot registering -> registered", 2, 20, "rot registered with its new password")

        # sipregctl reload after the password file was rotated: the config text is the same.
        kam.set_password("ufile", rotated["ufile"])
        write_secret(password_file, rotated["ufile"] + "\n")
        out = self.ctl_ok("reload")
        self.assertIn("reload applied: 0 added, 0 removed, 1 changed, 4 unchanged", out)
        self.assertIn("  changed: file", out)
        self.wait_log_count(d, r"line=file registering -> registered", 2, 20, "file registered with its new password")
        # One more refresh of every line after the reloads: rot and file with the new passwords.
        mark = len(d.log())
        for i in ids:
            self.wait(lambda i=i: any(re.search(rf"line={i} registered, expires 10 s", t) for t in d.log()[mark:]),
                      25, f"a refresh of {i} after the reloads")
        self.ctl_ok("status", "--json")
        self.ctl_ok("status")
        for i in ids:
            self.ctl_ok("show", i)
        self.ctl("check")
        scrape()

        # SIGTERM: every line unregisters (with credentials), the tracers see it, exit 0.
        self.assertEqual(d.terminate_and_wait(timeout=20), 0, d.tail())
        self.assertEqual(kam.ul_dump(), [], "a binding survived the shutdown")
        self.assertEqual(d.count_log(r"-> stopped: unregistered"), 5, d.tail())
        for t in tracers:
            t.finish(timeout=10)
        check = subprocess.run([sipregd_binary(), "--check", "-c", d.config_path], capture_output=True, text=True,
                               timeout=60, env=dict(os.environ, SIPREG_TEST_ENV_PASSWORD=users["uenv"]))
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)

        # What the registrar received: the digest responses and cnonces actually sent.
        auths = kam.authorizations()
        responses = {p["response"] for _, p in auths}
        cnonces = {p["cnonce"] for _, p in auths}
        # A retransmission repeats a header: requests are told apart by cnonce and nc.
        requests = {(p["cnonce"], p["nc"]) for _, p in auths}
        # 5 lines x (register, 2 refreshes, unregister) + 2 re-registrations at least.
        self.assertGreaterEqual(len(requests), 22, f"only {len(requests)} authorized REGISTERs logged")
        self.assertEqual(len(responses), len(requests), "different requests with the same digest response")
        for user, p in auths:
            self.assertRegex(p["response"], r"^[0-9a-f]{32}$")
            self.assertGreaterEqual(len(p["cnonce"]), 8)
        # Each captured response is the digest of one of the test's passwords: the values
        # searched for below are the real ones, and the rotations really took effect.
        valid_with = {}
        for user, p in auths:
            candidates = [users[user]] + ([rotated[user]] if user in rotated else [])
            matched = [pw for pw in candidates if digest_response(p, pw) == p["response"]]
            self.assertEqual(len(matched), 1, f"response of {user} matches none of its passwords: {p}")
            valid_with.setdefault(user, set()).add(matched[0])
        self.assertEqual(set(valid_with), set(users))
        for user, new in rotated.items():
            self.assertEqual(valid_with[user], {users[user], new}, f"{user}: both the old and the new password used")

        # Everything sipregd wrote or served.
        records_text = []
        for path in sorted(glob.glob(os.path.join(records, "*.env")) + glob.glob(os.path.join(records, "*.argv"))):
            with open(path, "rb") as f:
                records_text.append((path, f.read().decode("utf-8", "replace")))
        self.assertGreaterEqual(len(records_text), 2 * 20, "too few on_change runs recorded")
        self.assertTrue(any("SIPREGD_LINE=rot" in text for _, text in records_text))
        self.assertTrue(any("--from-config" in text for _, text in records_text))
        haystacks = [("daemon log", d.log_text()),
                     ("sipregd --check", check.stdout + check.stderr),
                     *((f"control output {n}", text) for n, text in enumerate(self.control_outputs)),
                     *((f"trace {n}", t.output() + t.errors()) for n, t in enumerate(tracers)),
                     *((f"metrics page {n}", page) for n, page in enumerate(pages)),
                     *((f"on_change record {os.path.basename(p)}", text) for p, text in records_text)]

        # The search is only worth something if the places searched hold the messages.
        log = d.log_text()
        trace_text = tracers[0].output()
        trace_json = [json.loads(l) for l in tracers[1].output().splitlines() if l.strip()]
        for user in users:
            self.assertRegex(log, rf'Authorization: Digest [^\n]*username="{user}"[^\n]*response="{ELLIPSIS}"')
            self.assertRegex(trace_text, rf'Authorization: Digest [^\n]*username="{user}"[^\n]*'
                                         rf'response="{ELLIPSIS}"')
            self.assertRegex(trace_text, rf'Authorization: Digest [^\n]*username="{user}"[^\n]*'
                                         rf'cnonce="{ELLIPSIS}"')
            self.assertTrue(any(f'username="{user}"' in e.get("message", "") and f'response="{ELLIPSIS}"'
                                in e["message"] for e in trace_json), f"no redacted trace event of {user}")
        self.assertGreaterEqual(len(re.findall(r"^REGISTER sip:", trace_text, re.M)), 25)
        self.assertIn("Expires: 0", trace_text)  # the unregistrations were traced too
        self.assertGreaterEqual(sum(len(p) for p in pages), 2000)

        needles = {}
        for user, pw in list(users.items()) + [(u + " (new)", pw) for u, pw in rotated.items()]:
            name = user.split(" ")[0]
            needles[f"password of {user}"] = pw
            needles[f"HA1 of {user}"] = ha1(name, pw)
            needles[f"HA1 of {user} (upper case)"] = ha1(name, pw).upper()
        for n, r in enumerate(sorted(responses)):
            needles[f"digest response #{n}"] = r
        for n, c in enumerate(sorted(cnonces)):
            needles[f"cnonce #{n}"] = c
        self.assertIn(ha1_value, needles.values())
        # A self-check of the search: the registrar's own log does hold them.
        kam_log = kam.log_text()
        self.assertTrue(all(r in kam_log for r in responses))

        leaks = [f"{what} in {where}" for where, text in haystacks for what, value in needles.items()
                 if value in text]
        self.assertEqual(leaks, [], "secrets leaked")
        # Not even half of a response: a partial redaction would leave a prefix behind.
        partial = [f"{where}: {m}" for where, text in haystacks
                   for m in re.findall(r'response="?[0-9a-fA-F]{8,}', text)]
        self.assertEqual(partial, [])
        print(f"\nchecked {len(responses)} digest responses, {len(cnonces)} cnonces, "
              f"{len(users) + len(rotated)} passwords and their HA1s in {len(haystacks)} outputs "
              f"({sum(len(t) for _, t in haystacks)} characters)")


class SecretFileReloadTest(SecretsCase):
    def test_password_files_and_credentials_are_read_again_on_reload(self):
        users = {"upf": "Right-pw-Tn30", "ucred": "Cred-old-pw-Aa41"}
        kam = self.start_registrar(users, max_expires=3600)
        pw_file = os.path.join(self.tmp, "upf.pw")
        write_secret(pw_file, "Wrong-pw-Xv88\n")
        creds = os.path.join(self.tmp, "credentials")
        os.mkdir(creds, 0o700)
        write_secret(os.path.join(creds, "ucred-password"), users["ucred"], mode=0o400)
        text = config([line("pf", "upf", kam.address, auth={"password_file": pw_file}),
                       # A bare name is looked up in $CREDENTIALS_DIRECTORY (systemd LoadCredential=).
                       line("cred", "ucred", kam.address, auth={"password_file": "ucred-password"})],
                      expires=3600, failed_retry="10m", control=self.socket)
        d = self.start_daemon(text, env={"CREDENTIALS_DIRECTORY": creds})
        d.wait_for_log(r"line=pf registering -> failed: 401 ", timeout=20)
        self.wait_registered(kam, ["ucred"])
        d.wait_for_log(r"line=cred registering -> registered")
        self.assertEqual(self.states(), {"pf": "failed", "cred": "registered"})

        # Nothing changed on disk: nothing changed.
        out = self.ctl_ok("reload")
        self.assertIn("reload applied: 0 added, 0 removed, 0 changed, 2 unchanged", out)

        # The right password in the file, and a rotated credential; the config stays the same.
        write_secret(pw_file, users["upf"] + "\n")
        kam.set_password("ucred", "Cred-new-pw-Bb52")
        write_secret(os.path.join(creds, "ucred-password"), "Cred-new-pw-Bb52", mode=0o400)
        out = self.ctl_ok("reload")
        self.assertIn("reload applied: 0 added, 0 removed, 2 changed, 0 unchanged", out)
        self.assertRegex(out, r"  changed: (pf, cred|cred, pf)\n")
        self.wait_registered(kam, ["upf", "ucred"])
        self.wait(lambda: self.states() == {"pf": "registered", "cred": "registered"}, 20, "both lines registered",
                  lambda: str(self.states()))
        self.wait_log_count(d, r"line=cred registering -> registered", 2, 20, "cred registered again")

        # A refresh now is answered 200 only if the new credential is the one in use.
        before = kam.register_count("ucred")
        self.assertEqual(self.ctl_ok("refresh", "cred").strip(), "refresh started for cred")
        self.wait(lambda: kam.register_count("ucred") > before, 10, "cred's refresh REGISTER")
        self.wait(lambda: json.loads(self.ctl_ok("show", "cred", "--json"))["line"]["last_code"] == 200
                  and d.count_log(r"line=cred registered, expires") >= 1, 10, "cred's refresh accepted")
        self.assertEqual(self.states()["cred"], "registered")
        self.assertEqual(d.count_log(r"line=cred \S+ -> (failed|waiting)"), 0, d.tail())
        last = [p for user, p in kam.authorizations() if user == "ucred"][-1]
        self.assertEqual(digest_response(last, "Cred-new-pw-Bb52"), last["response"])

        # SIGHUP reads them too: the file goes wrong again, the line is changed and fails.
        mark = len(d.log())
        write_secret(pw_file, "Wrong-again-pw-Qq17\n")
        d.reload()
        d.wait_for_log(r"reload applied: 0 added, 0 removed, 1 changed, 1 unchanged", since=mark, timeout=15)
        d.wait_for_log(r"line=pf registering -> failed: 401 ", since=mark, timeout=20)
        for secret in ("Wrong-pw-Xv88", "Wrong-again-pw-Qq17", *users.values(), "Cred-new-pw-Bb52"):
            self.assertNotIn(secret, d.log_text())
            self.assertNotIn(secret, "".join(self.control_outputs))
        self.assertEqual(d.terminate_and_wait(timeout=15), 0, d.tail())


class LiteralPasswordWarningTest(SecretsCase):
    WARNING = re.compile(r"(\S+):(\d+):(\d+): warning: lines\[(\d+)\]\.auth\.password: the config file is readable "
                         r"by other users \(mode (\d{4})\) and holds (\d+) literal passwords?; chmod o-r it or use "
                         r"password_file / password_env$", re.M)

    def check(self, path):
        r = subprocess.run([sipregd_binary(), "--check", "-c", path], capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, SIPREG_TEST_ENV_PASSWORD="Env-pw-Ee90"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r

    @staticmethod
    def position_of_first_password(text):
        for number, row in enumerate(text.splitlines(), 1):
            m = re.search(r"\bpassword:", row)
            if m:
                return number, m.start() + 1
        raise AssertionError("no literal password in the file")

    def run_daemon(self, text, mode):
        d = Daemon(text, env={"SIPREG_TEST_ENV_PASSWORD": "Env-pw-Ee90"})
        self.addCleanup(d.cleanup)
        os.chmod(d.config_path, mode)
        self.daemon = d
        d.start()
        d.wait_for_log(r"started with \d+ lines")
        return d

    def test_literal_password_in_a_file_others_can_read_is_warned_about(self):
        registrar = "127.0.0.1:9"  # nothing answers: the lines only need to exist
        pw_file = os.path.join(self.tmp, "secret.pw")
        write_secret(pw_file, "File-pw-Lk22\n")
        literal = config([line("a", "ua", registrar, auth={"password_file": pw_file}),
                          line("b", "ub", registrar, "Literal-pw-Mm61"),
                          line("c", "uc", registrar, "Literal-pw-Nn72")], control=self.socket, shutdown_timeout="1s")
        row, column = self.position_of_first_password(literal)

        d = self.run_daemon(literal, 0o644)
        r = self.check(d.config_path)
        m = self.WARNING.search(r.stderr)
        self.assertIsNotNone(m, r.stdout + r.stderr)
        self.assertEqual(m.groups(), (d.config_path, str(row), str(column), "1", "0644", "2"))
        self.assertIn(", 1 warning", r.stdout)
        # The daemon logs the same warning at start, then runs.
        self.assertIn(m.group(0), d.log_text())
        self.assertEqual(len(self.WARNING.findall(d.log_text())), 1)
        # Made private and reloaded: no warning; readable again and reloaded: warned again.
        os.chmod(d.config_path, 0o600)
        mark = len(d.log())
        d.reload()
        d.wait_for_log(r"reload applied: ", since=mark, timeout=15)
        self.assertEqual(len(self.WARNING.findall(d.log_text())), 1)
        os.chmod(d.config_path, 0o604)
        mark = len(d.log())
        d.reload()
        d.wait_for_log(r"reload applied: ", since=mark, timeout=15)
        warned = [m.groups() for m in self.WARNING.finditer("\n".join(d.log()[mark:]))]
        self.assertEqual(warned, [(d.config_path, str(row), str(column), "1", "0604", "2")])
        for secret in ("Literal-pw-Mm61", "Literal-pw-Nn72", "File-pw-Lk22"):
            self.assertNotIn(secret, d.log_text() + r.stdout + r.stderr)
        self.assertEqual(d.terminate_and_wait(timeout=15), 0, d.tail())

        # Only the owner (and the group) can read it: no warning, from --check or the daemon.
        for mode in (0o600, 0o640):
            d = self.run_daemon(literal, mode)
            r = self.check(d.config_path)
            self.assertNotIn("warning", r.stdout + r.stderr)
            self.assertRegex(r.stdout, r": OK, 3 lines ")
            self.assertEqual(d.count_log(r": warning: "), 0, d.log_text())
            self.assertEqual(d.terminate_and_wait(timeout=15), 0, d.tail())

        # password_file and password_env in a world-readable file: nothing to warn about.
        indirect = config([line("a", "ua", registrar, auth={"password_file": pw_file}),
                           line("b", "ub", registrar, auth={"password_env": "SIPREG_TEST_ENV_PASSWORD"})],
                          control=self.socket, shutdown_timeout="1s")
        d = self.run_daemon(indirect, 0o644)
        r = self.check(d.config_path)
        self.assertNotIn("warning", r.stdout + r.stderr)
        self.assertEqual(d.count_log(r": warning: "), 0, d.log_text())
        self.assertEqual(d.terminate_and_wait(timeout=15), 0, d.tail())

        # The password file itself readable by others: its own warning, at its own position.
        os.chmod(pw_file, 0o644)
        r = self.check(d.config_path)
        prow = next(n for n, t in enumerate(indirect.splitlines(), 1) if "password_file" in t)
        self.assertRegex(r.stderr, rf"^{re.escape(d.config_path)}:{prow}:\d+: warning: lines\[0\]\.auth\."
                                   rf"password_file: '{re.escape(pw_file)}' is readable by other users; "
                                   rf"chmod o-r it$")
        self.assertNotIn("File-pw-Lk22", r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
