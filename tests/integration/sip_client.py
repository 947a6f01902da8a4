"""A tiny SIP-over-UDP client for poking registrars from tests: builds a REGISTER, sends
it, and collects whatever datagrams come back within a bounded time."""
import os
import re
import socket
import time


class UdpSipClient:
    def __init__(self, host="127.0.0.1"):
        self.host = host
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.call_id = os.urandom(8).hex() + "@harness"
        self.from_tag = os.urandom(4).hex()
        self.cseq = 0

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def register(self, registrar_host, registrar_port, user="alice", expires=60, extra_headers=(),
                 branch=None):
        self.cseq += 1
        branch = branch or "z9hG4bK" + os.urandom(6).hex()
        lines = [
            f"REGISTER sip:{registrar_host}:{registrar_port} SIP/2.0",
            f"Via: SIP/2.0/UDP {self.host}:{self.port};branch={branch};rport",
            "Max-Forwards: 70",
            f"From: <sip:{user}@{registrar_host}>;tag={self.from_tag}",
            f"To: <sip:{user}@{registrar_host}>",
            f"Call-ID: {self.call_id}",
            f"CSeq: {self.cseq} REGISTER",
            f"Contact: <sip:{user}@{self.host}:{self.port}>",
            f"Expires: {expires}",
            *extra_headers,
            "Content-Length: 0",
            "", "",
        ]
        data = "\r\n".join(lines).encode()
        self.sock.sendto(data, (registrar_host, registrar_port))
        return data

    def send_raw(self, data, host, port):
        self.sock.sendto(data, (host, port))

    def collect(self, timeout, until=None):
        """Datagrams received within `timeout` seconds (stops early when `until(list)`)."""
        out = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or (until is not None and until(out)):
                return out
            self.sock.settimeout(left)
            try:
                data, _ = self.sock.recvfrom(65535)
            except socket.timeout:
                return out
            out.append(data)


def status_code(datagram):
    m = re.match(rb"SIP/2\.0 (\d{3}) ", datagram)
    return int(m.group(1)) if m else None


def header(datagram, name):
    m = re.search(rb"^" + re.escape(name.encode()) + rb"\s*:\s*(.*?)\r?$", datagram, re.MULTILINE | re.IGNORECASE)
    return m.group(1).decode() if m else None


def parse_challenge(value):
    """`Digest realm="x", nonce="y", qop="auth"` -> {"realm": "x", ...}"""
    scheme, _, rest = value.partition(" ")
    params = dict((k.lower(), v1 if v1 else v2)
                  for k, v1, v2 in re.findall(r'([A-Za-z-]+)\s*=\s*(?:"([^"]*)"|([^\s,]+))', rest))
    params["scheme"] = scheme
    return params


def digest_authorization(challenge, user, password, method, uri, nc=1, cnonce=None):
    """An Authorization value answering `challenge` (a parse_challenge dict) with qop=auth."""
    import hashlib
    algorithm = challenge.get("algorithm", "MD5")
    h = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}[algorithm.upper()]

    def hx(s):
        return h(s.encode()).hexdigest()

    cnonce = cnonce or os.urandom(8).hex()
    ha1 = hx(f"{user}:{challenge['realm']}:{password}")
    ha2 = hx(f"{method}:{uri}")
    ncs = f"{nc:08x}"
    response = hx(f"{ha1}:{challenge['nonce']}:{ncs}:{cnonce}:auth:{ha2}")
    value = (f'Digest username="{user}", realm="{challenge["realm"]}", nonce="{challenge["nonce"]}", '
             f'uri="{uri}", response="{response}", algorithm={algorithm}, qop=auth, nc={ncs}, cnonce="{cnonce}"')
    if "opaque" in challenge:
        value += f', opaque="{challenge["opaque"]}"'
    return value
