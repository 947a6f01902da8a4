"""Helpers for stream (TCP/TLS) peers in the harness: free TCP ports, a port free for
both UDP and TCP, a bounded connect probe, and a one-shot SIP OPTIONS over TCP or TLS
(the harness's own check that a listener really speaks SIP). Standard library only."""
import os
import re
import socket
import ssl


def _family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def free_tcp_port(host="127.0.0.1"):
    """A TCP port the kernel just handed out and released on `host`."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_tcp_ports(count, host="127.0.0.1"):
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(_family(host), socket.SOCK_STREAM)
            s.bind((host, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def free_dual_port(hosts=("127.0.0.1",), attempts=50):
    """A port number free for UDP and TCP on every host in `hosts` at once (SIP
    listeners usually share one number across transports). Bounded attempts."""
    for _ in range(attempts):
        held = []
        try:
            first = socket.socket(_family(hosts[0]), socket.SOCK_STREAM)
            held.append(first)
            first.bind((hosts[0], 0))
            port = first.getsockname()[1]
            ok = True
            for host in hosts:
                for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                    if host == hosts[0] and kind == socket.SOCK_STREAM:
                        continue
                    s = socket.socket(_family(host), kind)
                    held.append(s)
                    try:
                        s.bind((host, port))
                    except OSError:
                        ok = False
                        break
                if not ok:
                    break
            if ok:
                return port
        finally:
            for s in held:
                s.close()
    raise RuntimeError(f"no port free for UDP and TCP on {hosts} after {attempts} attempts")


def tcp_connectable(host, port, timeout=0.3):
    """True when a TCP connect to host:port succeeds within `timeout`."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _options_request(host, port, local, transport):
    hostport = f"[{host}]" if ":" in host else host
    local_host, local_port = local[0], local[1]
    local_hp = f"[{local_host}]" if ":" in local_host else local_host
    branch = "z9hG4bK" + os.urandom(6).hex()
    return (f"OPTIONS sip:{hostport}:{port};transport={transport.lower()} SIP/2.0\r\n"
            f"Via: SIP/2.0/{transport} {local_hp}:{local_port};branch={branch};rport\r\n"
            f"Max-Forwards: 70\r\n"
            f"From: <sip:ping@{hostport}>;tag={os.urandom(4).hex()}\r\n"
            f"To: <sip:{hostport}:{port}>\r\n"
            f"Call-ID: {os.urandom(8).hex()}@harness\r\n"
            f"CSeq: 1 OPTIONS\r\n"
            f"Content-Length: 0\r\n\r\n").encode()


def _read_status(sock):
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    m = re.match(rb"SIP/2\.0 (\d{3}) ", data)
    return int(m.group(1)) if m else None


def sip_options_stream(host, port, *, tls=False, ca_file=None, server_name=None, verify=True, timeout=2.0):
    """Sends one OPTIONS over a fresh TCP (or TLS) connection and returns the status
    code, or None when nothing SIP came back. TLS verification errors propagate as
    ssl.SSLCertVerificationError so callers can assert on them."""
    raw = socket.create_connection((host, port), timeout=timeout)
    sock = raw
    try:
        if tls:
            ctx = ssl.create_default_context(cafile=ca_file) if verify else ssl._create_unverified_context()
            sock = ctx.wrap_socket(raw, server_hostname=server_name or host)
        sock.settimeout(timeout)
        sock.sendall(_options_request(host, port, sock.getsockname(), "TLS" if tls else "TCP"))
        try:
            return _read_status(sock)
        except (socket.timeout, OSError):
            return None
    finally:
        sock.close()
        raw.close()


class StreamSipClient:
    """A SIP client on one TCP (or TLS) connection for harness checks: sends a REGISTER
    (with optional extra headers such as Route) and reads whole messages back, framed by
    Content-Length, within bounded time."""

    def __init__(self, host, port, *, tls=False, ca_file=None, server_name=None, timeout=3.0):
        self.remote = (host, port)
        raw = socket.create_connection((host, port), timeout=timeout)
        if tls:
            ctx = ssl.create_default_context(cafile=ca_file)
            raw = ctx.wrap_socket(raw, server_hostname=server_name or host)
        self.sock = raw
        self.sock.settimeout(timeout)
        self.transport = "TLS" if tls else "TCP"
        local = self.sock.getsockname()
        self.local_host, self.local_port = local[0], local[1]
        self.call_id = os.urandom(8).hex() + "@harness"
        self.from_tag = os.urandom(4).hex()
        self.cseq = 0
        self._buffer = b""

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def register(self, request_uri, user="alice", domain="sipreg.test", expires=60, extra_headers=()):
        self.cseq += 1
        local_hp = f"[{self.local_host}]" if ":" in self.local_host else self.local_host
        lines = [
            f"REGISTER {request_uri} SIP/2.0",
            f"Via: SIP/2.0/{self.transport} {local_hp}:{self.local_port};branch=z9hG4bK{os.urandom(6).hex()};rport",
            "Max-Forwards: 70",
            f"From: <sip:{user}@{domain}>;tag={self.from_tag}",
            f"To: <sip:{user}@{domain}>",
            f"Call-ID: {self.call_id}",
            f"CSeq: {self.cseq} REGISTER",
            f"Contact: <sip:{user}@{local_hp}:{self.local_port};transport={self.transport.lower()}>",
            f"Expires: {expires}",
            *extra_headers,
            "Content-Length: 0",
            "", "",
        ]
        data = "\r\n".join(lines).encode()
        self.sock.sendall(data)
        return data

    def read_message(self, timeout=3.0):
        """The next whole SIP message as bytes, or None when the connection closed or
        nothing complete arrived within `timeout` seconds."""
        self.sock.settimeout(timeout)
        while True:
            head_end = self._buffer.find(b"\r\n\r\n")
            if head_end >= 0:
                m = re.search(rb"^(?:Content-Length|l)\s*:\s*(\d+)", self._buffer[:head_end],
                              re.MULTILINE | re.IGNORECASE)
                total = head_end + 4 + (int(m.group(1)) if m else 0)
                if len(self._buffer) >= total:
                    message, self._buffer = self._buffer[:total], self._buffer[total:]
                    return message
            if len(self._buffer) > 1 << 20:
                raise ValueError("no SIP message in the first MiB received")
            try:
                chunk = self.sock.recv(65536)
            except (socket.timeout, OSError):
                return None
            if not chunk:
                return None
            self._buffer += chunk
