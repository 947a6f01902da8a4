"""Runs SIPp scenarios (Debian `sip-tester`) as a scripted peer on 127.0.0.1.

UAS scenarios in sipp/ play registrars that Kamailio cannot be made to imitate (503 with
Retry-After, silence, malformed responses, a hostile registrar, a challenge-everything
benchmark registrar).
SIPp runs in the foreground in its own session so it is stopped by pid; its message
trace, error trace and statistics go to a temporary folder for assertions.

    with Sipp("uas_503_retry_after.xml", keys={"retry_after": 5}) as uas:
        ...   # uas.port; uas.received("REGISTER"); uas.sent_status_codes()
"""
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import time

from harness_util import ManagedProcess, free_udp_port, wait_until
from stream_util import free_tcp_port

SIPP = shutil.which("sipp") or "/usr/bin/sipp"
SCENARIO_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sipp")

# Defaults for the keywords the scenarios use, so every scenario loads without -key.
DEFAULT_KEYS = {"retry_after": "5", "granted": "60", "expires": "300"}
TRANSPORTS = ("u1", "un", "ui", "t1", "tn")

# SIPp reads at most about 64 KB of scenario file, so the big parts of uas_hostile.xml's
# messages come in as keywords: SIPp copies a keyword's value into the message verbatim at
# send time (CR LF, leading white space and bytes above 0x7F included), while the literal
# scenario text has its lines' leading white space stripped. NUL cannot travel in argv.
HOSTILE_VIA_COUNT = 3000
HOSTILE_HUGE_BYTES = 60000
HOSTILE_BINARY_BYTES = 1400
HOSTILE_PAD_BYTES = 65000


def hostile_binary(size=HOSTILE_BINARY_BYTES, seed=6):
    """`size` bytes from 0x01-0x08, 0x0E-0x1F and 0x80-0xFF: no NUL (argv cannot carry it),
    no CR/LF (one line), no colon and no space, so it can be neither a request line nor a
    header line, whatever the seed."""
    alphabet = bytes(list(range(0x01, 0x09)) + list(range(0x0E, 0x20)) + list(range(0x80, 0x100)))
    rnd = random.Random(seed)
    return bytes(rnd.choice(alphabet) for _ in range(size))


def hostile_keys():
    """The keyword values uas_hostile.xml is made for (see the scenario's comment)."""
    values = ",".join(["SIP/2.0/UDP h"] * HOSTILE_VIA_COUNT)
    folded = ("SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKhostile-folded," + "".join(
        ["\r\n SIP/2.0/UDP h,"] * (HOSTILE_VIA_COUNT - 2)) + "\r\n\tSIP/2.0/UDP h")
    return {
        "hostile_huge": "h" * HOSTILE_HUGE_BYTES,
        "hostile_via_lines": "\r\n".join(["v: SIP/2.0/UDP h"] * HOSTILE_VIA_COUNT),
        "hostile_via_list": values,
        "hostile_via_folded": folded,
        "hostile_binary": hostile_binary(),
        "hostile_pad": "p" * HOSTILE_PAD_BYTES,
    }


# Keywords a scenario cannot do without, added before the caller's own keys.
SCENARIO_KEYS = {"uas_hostile.xml": hostile_keys}


class SippError(RuntimeError):
    pass


def scenario_path(name):
    return name if os.path.isabs(name) else os.path.join(SCENARIO_DIR, name)


class Sipp(ManagedProcess):
    """One SIPp process. As a UAS (no `remote`) it listens on 127.0.0.1:`port`; as a UAC
    it calls `remote` ("host:port") and ends after `calls` calls."""

    def __init__(self, scenario, *, port=None, host="127.0.0.1", remote=None, keys=None, extra_args=(),
                 calls=None, trace_messages=True, start_timeout=5.0, transport="u1"):
        super().__init__()
        if transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {TRANSPORTS}")
        self.transport = transport
        self.term_timeout = 3.0
        self.kill_timeout = 3.0
        self.scenario = scenario_path(scenario)
        self.host = host
        self.port = port or (free_tcp_port(host) if self.stream else free_udp_port(host))
        self.remote = remote
        self.keys = dict(DEFAULT_KEYS)
        extra = SCENARIO_KEYS.get(os.path.basename(self.scenario))
        if extra is not None:
            self.keys.update(extra())
        # bytes values go to SIPp's argv as they are (for octets that are not UTF-8).
        self.keys.update({k: v if isinstance(v, bytes) else str(v) for k, v in (keys or {}).items()})
        self.extra_args = list(extra_args)
        self.calls = calls
        self.trace_messages = trace_messages
        self.start_timeout = start_timeout

    @property
    def stream(self):
        return self.transport.startswith("t")

    @property
    def address(self):
        return f"{self.host}:{self.port}"

    @property
    def message_file(self):
        return os.path.join(self.dir, "messages.log")

    @property
    def error_file(self):
        return os.path.join(self.dir, "errors.log")

    @property
    def stat_file(self):
        return os.path.join(self.dir, "stats.csv")

    @property
    def screen_file(self):
        return os.path.join(self.dir, "screen.log")

    @property
    def output_file(self):
        return os.path.join(self.dir, "stdout.log")

    def command(self):
        cmd = [SIPP, "-sf", self.scenario, "-i", self.host, "-p", str(self.port), "-t", self.transport,
               "-nostdin", "-trace_err", "-error_file", self.error_file,
               "-trace_stat", "-stf", self.stat_file, "-fd", "1",
               "-trace_screen", "-screen_file", self.screen_file]
        if self.trace_messages:
            cmd += ["-trace_msg", "-message_file", self.message_file]
        for k, v in self.keys.items():
            cmd += ["-key", k, v]
        if self.calls is not None:
            cmd += ["-m", str(self.calls)]
        cmd += self.extra_args
        if self.remote:
            cmd.append(self.remote)
        return cmd

    def start(self):
        if not os.path.exists(self.scenario):
            raise SippError(f"no such scenario: {self.scenario}")
        self.dir = tempfile.mkdtemp(prefix="sipreg-sipp-")
        self._output = open(self.output_file, "w")
        self.proc = subprocess.Popen(self.command(), cwd=self.dir, stdin=subprocess.DEVNULL,
                                     stdout=self._output, stderr=subprocess.STDOUT, start_new_session=True)
        if self.remote is None:
            # A UAS is ready once its socket is bound; SIPp exits at once on a bad scenario.
            try:
                wait_until(lambda: self.proc.poll() is not None or self._bound(), self.start_timeout,
                           what=f"SIPp to bind {self.address}")
            except TimeoutError as e:
                out = self.output()
                self.stop()
                raise SippError(f"{e}\n{out}") from None
            if self.proc.poll() is not None:
                out = self.output()
                self.stop()
                raise SippError(f"sipp exited with status {self.proc.returncode if self.proc else '?'}:\n{out}")
        return self

    def _bound(self):
        # /proc/net/{udp,tcp}[6] list local ports in hex; the UAS socket shows up once
        # bound (TCP: once listening, state 0A).
        port_hex = f":{self.port:04X}"
        names = ("tcp", "tcp6") if self.stream else ("udp", "udp6")
        for name in names:
            try:
                with open(f"/proc/net/{name}") as f:
                    rows = [line.split() for line in f.readlines()[1:]]
            except OSError:
                continue
            for row in rows:
                if len(row) > 3 and row[1].endswith(port_hex) and (not self.stream or row[3] == "0A"):
                    return True
        return False

    def wait(self, timeout):
        """Waits for a UAC run to end; returns its exit status (0: all calls succeeded)."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"sipp did not finish within {timeout}s:\n{self.output()}") from None

    def output(self):
        parts = []
        for path in (self.output_file, self.error_file):
            try:
                with open(path, errors="replace") as f:
                    parts.append(f.read()[-4000:])
            except OSError:
                pass
        return "\n".join(parts)

    # -- what SIPp saw ----------------------------------------------------------
    def messages(self):
        """Every message SIPp traced, oldest first: dicts {direction: "received"|"sent",
        text}. Needs trace_messages=True."""
        try:
            with open(self.message_file, errors="replace") as f:
                data = f.read()
        except OSError:
            return []
        return parse_message_trace(data)

    def received(self, method=None):
        """Requests SIPp received (of `method`, if given), retransmissions included."""
        out = []
        for m in self.messages():
            if m["direction"] != "received":
                continue
            first = m["text"].split("\r\n", 1)[0].split("\n", 1)[0]
            if first.startswith("SIP/2.0"):
                continue
            if method is None or first.split(" ", 1)[0] == method:
                out.append(m["text"])
        return out

    def sent_status_codes(self):
        codes = []
        for m in self.messages():
            if m["direction"] == "sent":
                mm = re.match(r"SIP/2\.0 (\d{3})", m["text"].lstrip())
                if mm:
                    codes.append(int(mm.group(1)))
        return codes


def parse_message_trace(data):
    """Splits SIPp's -trace_msg file into messages. Each starts with a dashed line and a
    timestamp, then "UDP message received [N] bytes :" or "UDP message sent (N bytes):"."""
    out = []
    matches = list(re.finditer(r"^(UDP|TCP|TLS|SCTP) message (received|sent) [\[(](\d+)[\])]? ?bytes\)? ?:\s*$",
                               data, re.MULTILINE))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(data)
        body = data[m.end():end]
        # Drop the separator line that introduces the next message.
        body = re.sub(r"\n-{10,}[^\n]*\n?$", "\n", body.rstrip("\n") + "\n")
        out.append({"direction": m.group(2), "text": body.strip("\n")})
    return out
