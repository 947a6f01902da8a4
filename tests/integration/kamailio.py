"""A real Kamailio 5.6 registrar for integration tests.

Everything lives in one temporary folder (cfg, pid file, control socket, log). The
registrar authenticates REGISTER with digest (qop=auth, nonce-count checked on stateful
replies) against a fixed set of users, keeps bindings in memory (usrloc), and counts
every REGISTER it receives in an htable so tests can assert how often a client tried.

    with Kamailio(users={"alice": "secret"}) as kam:
        ...            # kam.port, kam.ul_dump(), kam.register_count("alice")
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from harness_util import ManagedProcess, free_udp_port, pid_alive, wait_until

MODULE_PATH = "/usr/lib/x86_64-linux-gnu/kamailio/modules/"
KAMAILIO = shutil.which("kamailio") or "/usr/sbin/kamailio"
KAMCMD = shutil.which("kamcmd") or "/usr/sbin/kamcmd"


class KamailioError(RuntimeError):
    pass


def _cfg_string(value):
    """A value for a double-quoted cfg string (users and passwords are test data, but a
    quote or backslash would break the file)."""
    if any(c in value for c in '"\\\n\r$'):
        raise ValueError(f"unsupported character in {value!r}")
    return value


class Kamailio(ManagedProcess):
    def __init__(self, users=None, *, port=None, listen_ipv6=False, ipv6_port=None,
                 algorithm="MD5", challenge=401, realm=None,
                 min_expires=10, max_expires=3600, default_expires=3600, min_expires_mode=False,
                 nonce_expire=300, timer_interval=1, children=2, start_timeout=15.0,
                 extra_log=False):
        super().__init__()
        if algorithm not in ("MD5", "SHA-256"):
            raise ValueError("algorithm must be MD5 or SHA-256")
        if challenge not in (401, 407):
            raise ValueError("challenge must be 401 or 407")
        self.users = dict(users or {"alice": "alice-secret"})
        self.host = "127.0.0.1"
        self.port = port or free_udp_port(self.host)
        self.listen_ipv6 = listen_ipv6
        self.ipv6_port = ipv6_port or (free_udp_port("::1") if listen_ipv6 else None)
        self.algorithm = algorithm
        self.challenge = challenge
        self.realm = realm
        self.min_expires = min_expires
        self.max_expires = max_expires
        self.default_expires = default_expires
        self.min_expires_mode = min_expires_mode
        self.nonce_expire = nonce_expire
        self.timer_interval = timer_interval
        self.children = children
        self.start_timeout = start_timeout
        self.extra_log = extra_log

    # -- files ------------------------------------------------------------------
    @property
    def cfg_path(self):
        return os.path.join(self.dir, "kamailio.cfg")

    @property
    def pid_path(self):
        return os.path.join(self.dir, "kamailio.pid")

    @property
    def ctl_path(self):
        return os.path.join(self.dir, "ctl.sock")

    @property
    def log_path(self):
        return os.path.join(self.dir, "kamailio.log")

    @property
    def address(self):
        return f"{self.host}:{self.port}"

    def render_cfg(self):
        user_lines = "\n".join(
            f'    $sht(users=>{_cfg_string(u)}) = "{_cfg_string(p)}";' for u, p in sorted(self.users.items()))
        listen = f"listen=udp:{self.host}:{self.port}\n"
        if self.listen_ipv6:
            listen += f"listen=udp:[::1]:{self.ipv6_port}\n"
        # The realm defaults to the To domain, the usual choice for a registrar.
        realm = "$td" if self.realm is None else _cfg_string(self.realm)
        if self.challenge == 401:
            authenticate = f'pv_www_authenticate("{realm}", "$sht(users=>$au)", "0")'
            challenge = "www_challenge"
        else:
            authenticate = f'pv_proxy_authenticate("{realm}", "$sht(users=>$au)", "0")'
            challenge = "proxy_challenge"
        log_register = ('xlog("L_INFO", "REGISTER from $si:$sp user=$fU call-id=$ci cseq=$cs\\n");'
                        if self.extra_log else "")
        return f"""#!KAMAILIO
# Test registrar written by the sipregd integration harness.
debug=2
log_stderror=yes
memdbg=5
memlog=5
children={self.children}
auto_aliases=no
disable_tcp=yes
{listen}
mpath="{MODULE_PATH}"
loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "sanity.so"
loadmodule "xlog.so"
loadmodule "htable.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
loadmodule "ctl.so"

modparam("ctl", "binrpc", "unix:{self.ctl_path}")
modparam("htable", "htable", "users=>size=6;")
modparam("htable", "htable", "stats=>size=6;")
modparam("usrloc", "db_mode", 0)
modparam("usrloc", "timer_interval", {self.timer_interval})
modparam("registrar", "min_expires", {self.min_expires})
modparam("registrar", "max_expires", {self.max_expires})
modparam("registrar", "default_expires", {self.default_expires})
modparam("registrar", "min_expires_mode", {1 if self.min_expires_mode else 0})
modparam("auth", "secret", "{os.urandom(16).hex()}")
modparam("auth", "algorithm", "{self.algorithm}")
modparam("auth", "qop", "auth")
modparam("auth", "nonce_count", 1)
modparam("auth", "nonce_expire", {self.nonce_expire})

event_route[htable:mod-init] {{
{user_lines}
    $sht(stats=>register) = 0;
}}

request_route {{
    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        exit;
    }}
    if (!sanity_check("1511", "7")) {{
        exit;
    }}
    if (is_method("REGISTER")) {{
        $var(n) = $shtinc(stats=>register);
        $var(k) = "register::" + $fU;
        if ($sht(stats=>$var(k)) == $null) {{
            $sht(stats=>$var(k)) = 1;
        }} else {{
            $var(n) = $shtinc(stats=>$var(k));
        }}
        {log_register}
        # Stateful from here on: absorbs retransmissions and is required for nc checks.
        if (!t_newtran()) {{
            sl_reply_error();
            exit;
        }}
        {authenticate};
        $var(rc) = $rc;
        if ($var(rc) < 0) {{
            if ($var(rc) == -4) {{
                {challenge}("{realm}", "17");
            }} else {{
                {challenge}("{realm}", "1");
            }}
            exit;
        }}
        consume_credentials();
        if (!save("location")) {{
            sl_reply_error();
        }}
        exit;
    }}
    if (is_method("OPTIONS") && $rU == $null) {{
        sl_send_reply("200", "OK");
        exit;
    }}
    if (is_method("ACK")) {{
        exit;
    }}
    sl_send_reply("404", "Not Here");
    exit;
}}
"""

    # -- lifecycle --------------------------------------------------------------
    def start(self):
        self.dir = tempfile.mkdtemp(prefix="sipreg-kamailio-")
        with open(self.cfg_path, "w") as f:
            f.write(self.render_cfg())
        check = subprocess.run([KAMAILIO, "-c", "-f", self.cfg_path], capture_output=True, text=True,
                               timeout=30)
        if check.returncode != 0:
            raise KamailioError(f"kamailio -c rejected {self.cfg_path}:\n{check.stdout}{check.stderr}")
        self._output = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [KAMAILIO, "-DD", "-E", "-f", self.cfg_path, "-P", self.pid_path, "-m", "64", "-M", "8",
             "-Y", self.dir],
            stdin=subprocess.DEVNULL, stdout=self._output, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_until(self._answers_options, self.start_timeout, interval=0.1,
                       what=f"Kamailio to answer OPTIONS on {self.address}")
            wait_until(lambda: os.path.exists(self.ctl_path), 5, what="Kamailio control socket")
        except Exception as e:
            tail = self.log_tail()
            self.stop()
            raise KamailioError(f"{e}\n--- kamailio log ---\n{tail}") from None
        return self

    def _answers_options(self):
        if self.proc.poll() is not None:
            raise KamailioError(f"kamailio exited with status {self.proc.returncode}")
        return sip_options_ping(self.host, self.port, timeout=0.3) == 200

    def pause(self):
        """A silent outage: the whole group stops answering (SIGSTOP)."""
        os.killpg(self.proc.pid, signal.SIGSTOP)

    def resume(self):
        os.killpg(self.proc.pid, signal.SIGCONT)

    def running(self):
        return self.proc is not None and self.proc.poll() is None and pid_alive(self.proc.pid)

    def log_tail(self, lines=40):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    # -- control socket ---------------------------------------------------------
    def kamcmd(self, *args, timeout=5.0):
        r = subprocess.run([KAMCMD, "-s", f"unix:{self.ctl_path}", *args], capture_output=True, text=True,
                           timeout=timeout)
        if r.returncode != 0:
            raise KamailioError(f"kamcmd {' '.join(args)} failed ({r.returncode}): {r.stdout}{r.stderr}")
        return r.stdout

    def ul_dump(self):
        """The location table as a list of bindings:
        {aor, contact, expires, received, user_agent, callid, cseq} (expires in seconds
        left, as Kamailio reports it; received None when empty)."""
        return parse_ul_dump(self.kamcmd("ul.dump"))

    def bindings(self, aor=None):
        return [b for b in self.ul_dump() if aor is None or b["aor"] == aor]

    def register_count(self, user=None):
        """REGISTER requests received (all, or those whose From user is `user`),
        retransmissions included."""
        key = "register" if user is None else f"register::{user}"
        out = self.kamcmd("htable.get", "stats", key)
        m = re.search(r"\bvalue:\s*(-?\d+)", out)
        return int(m.group(1)) if m else 0


def parse_ul_dump(text):
    """Parses `kamcmd ul.dump` output. kamcmd prints nested structures as indented
    `key: value` lines; each binding starts at a `Contact:` block inside an `AoR:` block."""
    bindings = []
    aor = None
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line in ("{", "}"):
            continue
        m = re.match(r"^([A-Za-z_-]+):\s*(.*)$", line)
        if not m:
            continue
        key, value = m.group(1), m.group(2).strip()
        if key == "AoR":
            aor = value
            continue
        if key == "Address":
            current = {"aor": aor, "contact": value, "expires": None, "received": None,
                       "user_agent": None, "callid": None, "cseq": None}
            bindings.append(current)
            continue
        if current is None:
            continue
        if key == "Expires":
            current["expires"] = int(value) if re.fullmatch(r"-?\d+", value) else value
        elif key == "Received":
            current["received"] = None if value in ("", "[not set]") else value
        elif key == "User-Agent":
            current["user_agent"] = None if value in ("", "[not set]") else value
        elif key == "Call-ID":
            current["callid"] = value
        elif key == "CSeq":
            current["cseq"] = int(value) if value.isdigit() else value
    return bindings


def sip_options_ping(host, port, timeout=0.5):
    """Sends one OPTIONS and returns the response status code, or None without answer."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        s.settimeout(timeout)
        local_port = s.getsockname()[1]
        branch = "z9hG4bK" + os.urandom(6).hex()
        hostport = f"[{host}]" if family == socket.AF_INET6 else host
        msg = (f"OPTIONS sip:{hostport}:{port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP {hostport}:{local_port};branch={branch};rport\r\n"
               f"Max-Forwards: 70\r\n"
               f"From: <sip:ping@{hostport}>;tag={os.urandom(4).hex()}\r\n"
               f"To: <sip:{hostport}:{port}>\r\n"
               f"Call-ID: {os.urandom(8).hex()}@harness\r\n"
               f"CSeq: 1 OPTIONS\r\n"
               f"Content-Length: 0\r\n\r\n")
        try:
            s.sendto(msg.encode(), (host, port))
            data, _ = s.recvfrom(65535)
        except (socket.timeout, ConnectionRefusedError, OSError):
            return None
        m = re.match(rb"SIP/2\.0 (\d{3}) ", data)
        return int(m.group(1)) if m else None
