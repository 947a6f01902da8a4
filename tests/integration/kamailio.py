"""A real Kamailio 5.6 registrar for integration tests.

Everything lives in one temporary folder (cfg, pid file, control socket, log). The
registrar authenticates REGISTER with digest (qop=auth, nonce-count checked on stateful
replies) against a fixed set of users, keeps bindings in memory (usrloc), and counts
every REGISTER it receives in an htable so tests can assert how often a client tried.

    with Kamailio(users={"alice": "secret"}) as kam:
        ...            # kam.port, kam.ul_dump(), kam.register_count("alice")

Stream transports are optional: `tcp=True` adds a TCP listener on the UDP port's number,
`tls=certificate` (a certs.Certificate, or a (cert_path, key_path) pair) adds a TLS
listener on `tls_port`; `listen_ipv6=True` repeats every listener on ::1 (`ipv6_port`
for UDP and TCP, `ipv6_tls_port` for TLS). restart() kills the registrar and starts it
again on the same ports with nothing kept: its location table and counters are lost and
every TCP/TLS connection to it is closed.

`netns` (a netns.NetNs) runs the registrar inside that network namespace, on its own
127.0.0.1, and the harness's own probes (OPTIONS, TCP connects) go there too; the control
socket is a file, so kamcmd works from anywhere. `count_expired=True` counts every binding
the location table's timer removes because it expired (expired_count()): the registrar's
own record of a lapse, however short.
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
from stream_util import free_dual_port, free_tcp_port, tcp_connectable

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


def _cert_and_key(tls):
    """(cert_path, key_path) from a certs.Certificate or a pair of paths."""
    if hasattr(tls, "cert_path") and hasattr(tls, "key_path"):
        cert, key = tls.cert_path, tls.key_path
    else:
        cert, key = tls
    for path in (cert, key):
        if not os.path.isfile(path):
            raise ValueError(f"TLS file {path} does not exist")
        _cfg_string(path)
    return cert, key


class Kamailio(ManagedProcess):
    def __init__(self, users=None, *, port=None, listen_ipv6=False, ipv6_port=None,
                 algorithm="MD5", challenge=401, realm=None,
                 min_expires=10, max_expires=3600, default_expires=3600, min_expires_mode=False,
                 nonce_expire=300, timer_interval=1, children=2, start_timeout=15.0,
                 extra_log=False, tcp=False, tls=None, tls_port=None, ipv6_tls_port=None,
                 tls_method="TLSv1.2+", tcp_connection_lifetime=3605, netns=None, count_expired=False):
        super().__init__()
        self.netns = netns
        self.count_expired = count_expired
        if algorithm not in ("MD5", "SHA-256"):
            raise ValueError("algorithm must be MD5 or SHA-256")
        if challenge not in (401, 407):
            raise ValueError("challenge must be 401 or 407")
        self.users = dict(users or {"alice": "alice-secret"})
        self.host = "127.0.0.1"
        self.tcp = tcp
        self.tls_cert, self.tls_key = _cert_and_key(tls) if tls is not None else (None, None)
        self.tls = tls is not None
        # Stream listeners need the kernel (and Kamailio) to be able to bind TCP too.
        self.port = port or (free_dual_port((self.host,)) if tcp else free_udp_port(self.host))
        self.listen_ipv6 = listen_ipv6
        self.ipv6_port = ipv6_port or (
            (free_dual_port(("::1",)) if tcp else free_udp_port("::1")) if listen_ipv6 else None)
        self.tls_port = tls_port or (free_tcp_port(self.host) if self.tls else None)
        self.ipv6_tls_port = ipv6_tls_port or (free_tcp_port("::1") if self.tls and listen_ipv6 else None)
        self.tls_method = tls_method
        self.tcp_connection_lifetime = tcp_connection_lifetime
        self.starts = 0
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
    def tls_cfg_path(self):
        return os.path.join(self.dir, "tls.cfg")

    @property
    def address(self):
        return f"{self.host}:{self.port}"

    @property
    def tls_address(self):
        return f"{self.host}:{self.tls_port}"

    @property
    def ipv6_address(self):
        return f"[::1]:{self.ipv6_port}"

    @property
    def ipv6_tls_address(self):
        return f"[::1]:{self.ipv6_tls_port}"

    def listeners(self):
        """(proto, host, port) of every socket Kamailio listens on."""
        out = [("udp", self.host, self.port)]
        if self.tcp:
            out.append(("tcp", self.host, self.port))
        if self.tls:
            out.append(("tls", self.host, self.tls_port))
        if self.listen_ipv6:
            out.append(("udp", "::1", self.ipv6_port))
            if self.tcp:
                out.append(("tcp", "::1", self.ipv6_port))
            if self.tls:
                out.append(("tls", "::1", self.ipv6_tls_port))
        return out

    def render_tls_cfg(self):
        # The server side does not ask for client certificates: tests check our client's
        # verification of the server, not the other way round.
        return f"""# TLS profiles written by the sipregd integration harness.
[server:default]
method = {self.tls_method}
verify_certificate = no
require_certificate = no
certificate = {self.tls_cert}
private_key = {self.tls_key}

[client:default]
method = {self.tls_method}
verify_certificate = no
require_certificate = no
"""

    def render_cfg(self):
        user_lines = "\n".join(
            f'    $sht(users=>{_cfg_string(u)}) = "{_cfg_string(p)}";' for u, p in sorted(self.users.items()))
        listen = "".join(f"listen={proto}:{f'[{host}]' if ':' in host else host}:{port}\n"
                         for proto, host, port in self.listeners())
        streams = self.tcp or self.tls
        # tls.so wants to be loaded before any module that may use OpenSSL.
        tls_module = 'loadmodule "tls.so"\n' if self.tls else ""
        tls_params = f'modparam("tls", "config", "{self.tls_cfg_path}")\n' if self.tls else ""
        # tcp_connection_lifetime: idle connections stay up for the whole test, so only
        # restart() or the client closes them. tcp_crlf_ping answers RFC 5626 pings.
        stream_core = (f"disable_tcp=no\nenable_tls={'yes' if self.tls else 'no'}\n"
                       f"tcp_connection_lifetime={self.tcp_connection_lifetime}\n"
                       f"tcp_accept_no_cl=no\ntcp_crlf_ping=yes\n") if streams else "disable_tcp=yes\n"
        # The realm defaults to the To domain, the usual choice for a registrar.
        realm = "$td" if self.realm is None else _cfg_string(self.realm)
        if self.challenge == 401:
            authenticate = f'pv_www_authenticate("{realm}", "$sht(users=>$au)", "0")'
            challenge = "www_challenge"
        else:
            authenticate = f'pv_proxy_authenticate("{realm}", "$sht(users=>$au)", "0")'
            challenge = "proxy_challenge"
        expired_init = "    $sht(stats=>expired) = 0;\n" if self.count_expired else ""
        # The registrar module runs this route from usrloc's timer for each binding that
        # expired (not for ones removed by a REGISTER with expires=0).
        expired_route = ("""
event_route[usrloc:contact-expired] {
    $var(n) = $shtinc(stats=>expired);
    $var(k) = "expired::" + $ulc(exp=>aor);
    if ($sht(stats=>$var(k)) == $null) {
        $sht(stats=>$var(k)) = 1;
    } else {
        $var(n) = $shtinc(stats=>$var(k));
    }
    xlog("L_INFO", "binding expired: aor=$ulc(exp=>aor) contact=$ulc(exp=>addr)\\n");
}
""" if self.count_expired else "")
        log_register = ('xlog("L_INFO", "REGISTER from $si:$sp user=$fU call-id=$ci cseq=$cs proto=$pr\\n");'
                        if self.extra_log else "")
        return f"""#!KAMAILIO
# Test registrar written by the sipregd integration harness.
debug=2
log_stderror=yes
memdbg=5
memlog=5
children={self.children}
auto_aliases=no
{stream_core}
{listen}
mpath="{MODULE_PATH}"
{tls_module}loadmodule "kex.so"
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

{tls_params}modparam("ctl", "binrpc", "unix:{self.ctl_path}")
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
{expired_init}}}

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
        $var(p) = "proto::" + $pr;
        if ($sht(stats=>$var(p)) == $null) {{
            $sht(stats=>$var(p)) = 1;
        }} else {{
            $var(n) = $shtinc(stats=>$var(p));
        }}
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
{expired_route}"""

    # -- lifecycle --------------------------------------------------------------
    def start(self):
        self.dir = tempfile.mkdtemp(prefix="sipreg-kamailio-")
        with open(self.cfg_path, "w") as f:
            f.write(self.render_cfg())
        if self.tls:
            with open(self.tls_cfg_path, "w") as f:
                f.write(self.render_tls_cfg())
        check = subprocess.run([KAMAILIO, "-c", "-f", self.cfg_path], capture_output=True, text=True,
                               timeout=30)
        if check.returncode != 0:
            raise KamailioError(f"kamailio -c rejected {self.cfg_path}:\n{check.stdout}{check.stderr}")
        self._launch()
        return self

    def restart(self, down_for=0.0):
        """Kills the registrar (SIGKILL to the whole group: a crash, nothing is saved)
        and starts it again with the same configuration and ports after `down_for`
        seconds. Bindings, counters and connections are all gone afterwards."""
        if self.proc is None:
            raise KamailioError("restart() before start()")
        self.stop_signal = signal.SIGKILL
        try:
            self.stop()
        finally:
            self.stop_signal = signal.SIGTERM
        if down_for > 0:
            time.sleep(down_for)
        self._launch()
        return self

    # Shared and per-process memory in MiB (kamailio -m / -M); a registrar holding many
    # users raises them.
    shm_mib = 64
    pkg_mib = 8

    def _launch(self):
        for stale in (self.ctl_path, self.pid_path):
            try:
                os.unlink(stale)
            except FileNotFoundError:
                pass
        self.starts += 1
        self._output = open(self.log_path, "a")
        if self.starts > 1:
            self._output.write(f"--- harness: start {self.starts} ---\n")
            self._output.flush()
        argv = [KAMAILIO, "-DD", "-E", "-f", self.cfg_path, "-P", self.pid_path, "-m", str(self.shm_mib),
                "-M", str(self.pkg_mib), "-Y", self.dir]
        if self.netns is not None:
            argv = self.netns.wrap(argv)  # `ip netns exec` execs: the pid stays Kamailio's
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL, stdout=self._output, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_until(self._answers_options, self.start_timeout, interval=0.1,
                       what=f"Kamailio to answer OPTIONS on {self.address}")
            for proto, host, port in self.listeners():
                if proto != "udp":
                    wait_until(lambda: self._running_or_raise() and self._inside(tcp_connectable, host, port),
                               self.start_timeout, interval=0.1,
                               what=f"Kamailio to accept {proto} connections on {host} port {port}")
            wait_until(lambda: os.path.exists(self.ctl_path), 5, what="Kamailio control socket")
        except Exception as e:
            tail = self.log_tail()
            self.stop()
            raise KamailioError(f"{e}\n--- kamailio log ---\n{tail}") from None

    def _running_or_raise(self):
        if self.proc.poll() is not None:
            raise KamailioError(f"kamailio exited with status {self.proc.returncode}")
        return True

    def _answers_options(self):
        if self.proc.poll() is not None:
            raise KamailioError(f"kamailio exited with status {self.proc.returncode}")
        return self._inside(sip_options_ping, self.host, self.port, timeout=0.3) == 200

    def _inside(self, fn, *args, **kwargs):
        """fn(...) in the registrar's network namespace (here when it has none)."""
        if self.netns is None:
            return fn(*args, **kwargs)
        return self.netns.call(fn, *args, **kwargs)

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

    def ul_dump_details(self):
        """Like ul_dump() with the receiving socket ("tcp:127.0.0.1:5060") and the
        flags of each binding as well."""
        return parse_ul_dump(self.kamcmd("ul.dump"), details=True)

    def tcp_connections(self):
        """Kamailio's open TCP/TLS connections (`core.tcp_list`): dicts with id, type
        ("TCP"/"TLS"), state, src_ip/src_port (the client's end), dst_ip/dst_port (ours)."""
        conns = []
        current = None
        for raw in self.kamcmd("core.tcp_list").splitlines():
            line = raw.strip()
            if line == "{":
                current = {}
                conns.append(current)
                continue
            m = re.match(r"^([A-Za-z_]+):\s*(.*)$", line)
            if m and current is not None:
                key, value = m.group(1), m.group(2).strip()
                current[key] = int(value) if re.fullmatch(r"-?\d+", value) else value
        return conns

    def register_count_by_proto(self, proto):
        """REGISTER requests received over `proto` ("udp", "tcp", "tls")."""
        out = self.kamcmd("htable.get", "stats", f"proto::{proto}")
        m = re.search(r"\bvalue:\s*(-?\d+)", out)
        return int(m.group(1)) if m else 0

    def location_stats(self):
        """usrloc's own counters: {"contacts", "users", "registered_users", "expires"}
        (bindings and AORs in the table now; bindings dropped as expired since start).
        Cheap at any table size, where ul_dump() stops at kamcmd's 64 KiB reply limit
        (about 150 bindings)."""
        out = {}
        for raw in self.kamcmd("stats.get_statistics", "usrloc:").splitlines():
            m = re.match(r"^usrloc:(?:location_)?(\w+)\s*=\s*(-?\d+)", raw.strip())
            if m:
                out[m.group(1)] = int(m.group(2))
        return out

    def expired_count(self, user=None):
        """Bindings the location table dropped because they expired (all, or `user`'s);
        needs count_expired=True."""
        if not self.count_expired:
            raise KamailioError("expired_count() needs Kamailio(count_expired=True)")
        key = "expired" if user is None else f"expired::{user}"
        out = self.kamcmd("htable.get", "stats", key)
        m = re.search(r"\bvalue:\s*(-?\d+)", out)
        return int(m.group(1)) if m else 0

    def register_count(self, user=None):
        """REGISTER requests received (all, or those whose From user is `user`),
        retransmissions included."""
        key = "register" if user is None else f"register::{user}"
        out = self.kamcmd("htable.get", "stats", key)
        m = re.search(r"\bvalue:\s*(-?\d+)", out)
        return int(m.group(1)) if m else 0


def parse_ul_dump(text, details=False):
    """Parses `kamcmd ul.dump` output. kamcmd prints nested structures as indented
    `key: value` lines; each binding starts at a `Contact:` block inside an `AoR:` block.
    `details` adds the receiving `socket` ("tcp:127.0.0.1:5060"), `flags` / `cflags`
    and `tcpconn_id` (the TCP/TLS connection the binding came over; -1 for UDP)."""
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
            if details:
                current.update({"socket": None, "flags": None, "cflags": None, "tcpconn_id": None})
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
        elif details and key == "Socket":
            current["socket"] = None if value in ("", "[not set]") else value
        elif details and key == "Flags":
            current["flags"] = value
        elif details and key == "CFlags":
            current["cflags"] = value
        elif details and key == "Tcpconn-Id":
            current["tcpconn_id"] = int(value) if re.fullmatch(r"-?\d+", value) else None
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
