"""A dnsmasq (Debian `dnsmasq-base`) DNS server on a free loopback port serving the
NAPTR, SRV, A and AAAA records of a test domain, for RFC 3263 tests. It has no upstream
servers and no /etc/hosts: it knows only what the test gives it, and names under the
`local` domains that it does not know get NXDOMAIN/NODATA instead of REFUSED.

    dns = Dnsmasq(srv=[Srv("_sip._udp.example.test", "a.example.test", 5070, priority=10)],
                  hosts={"a.example.test": ["127.0.0.1"]}, local=["example.test"])
    with dns:
        dns.server      # "127.0.0.1:PORT", for sipregd's dns.servers
        dns_query(dns.host, dns.port, "_sip._udp.example.test", "SRV")
        dns.queries()   # [("SRV", "_sip._udp.example.test"), ...] as dnsmasq logged them

dns_query() is a small stdlib DNS client (one UDP query, bounded) used by the harness
to check what the server answers."""
import ipaddress
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
from dataclasses import dataclass, field

from harness_util import ManagedProcess, free_udp_port, wait_until

DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "TXT": 16, "AAAA": 28, "SRV": 33, "NAPTR": 35}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


class DnsmasqError(RuntimeError):
    pass


@dataclass
class Srv:
    """One SRV record: `name` is the full owner ("_sip._tcp.example.test")."""
    name: str
    target: str
    port: int
    priority: int = 10
    weight: int = 10

    def option(self):
        return f"--srv-host={self.name},{self.target},{self.port},{self.priority},{self.weight}"


@dataclass
class Naptr:
    """One NAPTR record for RFC 3263: service "SIP+D2U", "SIP+D2T" or "SIPS+D2T",
    flags "S", replacement the SRV owner name it points to."""
    name: str
    order: int
    preference: int
    service: str
    replacement: str
    flags: str = "S"
    regexp: str = ""

    def option(self):
        return (f"--naptr-record={self.name},{self.order},{self.preference},{self.flags},"
                f"{self.service},{self.regexp},{self.replacement}")


def _check_name(name):
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError(f"unsupported DNS name {name!r}")
    return name


class Dnsmasq(ManagedProcess):
    term_timeout = 3.0
    kill_timeout = 3.0

    def __init__(self, *, srv=(), naptr=(), hosts=None, local=(), host="127.0.0.1", port=None, ttl=30,
                 log_queries=True, start_timeout=5.0):
        super().__init__()
        self.srv = list(srv)
        self.naptr = list(naptr)
        # name -> list of IPv4/IPv6 addresses (A and AAAA records)
        self.hosts = {k: list(v) for k, v in (hosts or {}).items()}
        self.local = list(local)
        self.host = host
        self.port = port or free_udp_port(host)
        self.ttl = ttl
        self.log_queries = log_queries
        self.start_timeout = start_timeout

    @property
    def server(self):
        """host:port as sipregd's `dns.servers` takes it."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def log_path(self):
        return os.path.join(self.dir, "dnsmasq.log")

    def command(self):
        cmd = [DNSMASQ, "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--no-poll",
               f"--port={self.port}", f"--listen-address={self.host}", "--bind-interfaces",
               # Only the loopback address given: no DHCP, no other interface.
               "--except-interface=nonexistent0",
               f"--pid-file={os.path.join(self.dir, 'dnsmasq.pid')}", "--user=root", "--group=root",
               f"--local-ttl={self.ttl}", f"--auth-ttl={self.ttl}", "--neg-ttl=5", "--cache-size=0"]
        if self.log_queries:
            cmd += ["--log-queries=extra", "--log-facility=-"]
        for domain in self.local:
            cmd.append(f"--local=/{_check_name(domain)}/")
        for name, addresses in self.hosts.items():
            # One --host-record per name with every address: A and AAAA from one place.
            addrs = [str(ipaddress.ip_address(a)) for a in addresses]
            cmd.append(f"--host-record={_check_name(name)},{','.join(addrs)}")
        for record in self.srv:
            _check_name(record.name), _check_name(record.target)
            cmd.append(record.option())
        for record in self.naptr:
            _check_name(record.name), _check_name(record.replacement)
            if "," in record.regexp or "," in record.service or "," in record.flags:
                raise ValueError("NAPTR fields must not contain commas")
            cmd.append(record.option())
        return cmd

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="sipreg-dnsmasq-")
        self._output = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=self._output,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_until(self._answers, self.start_timeout, interval=0.1,
                       what=f"dnsmasq to answer on {self.server}")
        except Exception as e:
            out = self.log_tail()
            self.stop()
            raise DnsmasqError(f"{e}\n--- dnsmasq output ---\n{out}") from None
        return self

    def _answers(self):
        if self.proc.poll() is not None:
            raise DnsmasqError(f"dnsmasq exited with status {self.proc.returncode}")
        try:
            dns_query(self.host, self.port, "harness-ready.invalid", "A", timeout=0.3)
            return True
        except (TimeoutError, OSError):
            return False

    def log_tail(self, lines=40):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"

    def queries(self):
        """(type, name) of every query dnsmasq logged, oldest first, the harness's own
        readiness probes left out."""
        try:
            with open(self.log_path, errors="replace") as f:
                text = f.read()
        except OSError:
            return []
        out = []
        for m in re.finditer(r"query\[([A-Z0-9]+)\] (\S+) from", text):
            if m.group(2) != "harness-ready.invalid":
                out.append((m.group(1), m.group(2)))
        return out


# -- a minimal DNS client ------------------------------------------------------------
@dataclass
class DnsRecord:
    name: str
    type: str
    ttl: int
    data: object  # str address / name, or a dict for SRV and NAPTR


@dataclass
class DnsAnswer:
    rcode: str
    answers: list = field(default_factory=list)
    additional: list = field(default_factory=list)

    def of_type(self, type_name):
        return [r for r in self.answers if r.type == type_name]


def _encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode("ascii")
        if not 0 < len(raw) < 64:
            raise ValueError(f"bad label in {name!r}")
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def _read_name(msg, offset):
    """(name, offset after it); follows compression pointers, at most 64 of them."""
    labels = []
    end = None
    for _ in range(64):
        length = msg[offset]
        if length & 0xC0 == 0xC0:
            if end is None:
                end = offset + 2
            offset = ((length & 0x3F) << 8) | msg[offset + 1]
            continue
        if length == 0:
            return ".".join(labels), (end if end is not None else offset + 1)
        labels.append(msg[offset + 1:offset + 1 + length].decode("ascii", "replace"))
        offset += 1 + length
    raise ValueError("DNS name compression loop")


def _read_char_string(msg, offset):
    length = msg[offset]
    return msg[offset + 1:offset + 1 + length].decode("ascii", "replace"), offset + 1 + length


def _parse_rdata(msg, type_code, start, length):
    if type_code == 1 and length == 4:
        return str(ipaddress.IPv4Address(msg[start:start + 4]))
    if type_code == 28 and length == 16:
        return str(ipaddress.IPv6Address(msg[start:start + 16]))
    if type_code in (2, 5, 12):
        return _read_name(msg, start)[0]
    if type_code == 33:
        priority, weight, port = struct.unpack("!HHH", msg[start:start + 6])
        return {"priority": priority, "weight": weight, "port": port, "target": _read_name(msg, start + 6)[0]}
    if type_code == 35:
        order, preference = struct.unpack("!HH", msg[start:start + 4])
        flags, o = _read_char_string(msg, start + 4)
        services, o = _read_char_string(msg, o)
        regexp, o = _read_char_string(msg, o)
        return {"order": order, "preference": preference, "flags": flags, "services": services,
                "regexp": regexp, "replacement": _read_name(msg, o)[0]}
    return msg[start:start + length]


def parse_dns_response(msg):
    _, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    offset = 12
    for _ in range(qd):
        _, offset = _read_name(msg, offset)
        offset += 4
    sections = []
    for count in (an, ns, ar):
        records = []
        for _ in range(count):
            name, offset = _read_name(msg, offset)
            type_code, _cls, ttl, length = struct.unpack("!HHIH", msg[offset:offset + 10])
            offset += 10
            records.append(DnsRecord(name, TYPE_NAMES.get(type_code, str(type_code)), ttl,
                                     _parse_rdata(msg, type_code, offset, length)))
            offset += length
        sections.append(records)
    return DnsAnswer(RCODES.get(flags & 0xF, str(flags & 0xF)), sections[0], sections[2])


def dns_query(server, port, name, type_name, timeout=1.0):
    """One UDP query; the parsed answer, or TimeoutError when nothing came back."""
    qid = int.from_bytes(os.urandom(2), "big")
    query = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + _encode_name(name) + struct.pack(
        "!HH", TYPES[type_name], 1)
    family = socket.AF_INET6 if ":" in server else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(query, (server, port))
        try:
            while True:
                data, _ = s.recvfrom(65535)
                if len(data) >= 12 and struct.unpack("!H", data[:2])[0] == qid:
                    return parse_dns_response(data)
        except socket.timeout:
            raise TimeoutError(f"no DNS answer from {server}:{port} for {name} {type_name} within {timeout}s") from None
