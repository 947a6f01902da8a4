"""Misbehaving TCP/TLS peers for fault tests: each listens on 127.0.0.1 (an ephemeral
port), serves every accepted connection in its own thread with one fault, and records
what happened and when (time.monotonic()), so a test can line the daemon's log up with
the peer's side. Standard library only; every loop is bounded by a deadline and by
stop().

    peer = ResetMidMessagePeer().start()
    ...                                    # point a line at sip:127.0.0.1:{peer.port};transport=tcp
    peer.events("reset")                   # [(t, connection number, detail), ...]
    peer.stop()

The faults:
- ResetMidMessagePeer: reads the REGISTER, sends the first half of a 401, then resets
  the connection (SO_LINGER 0: RST instead of FIN).
- SilentPeer: reads everything and never answers (nor keep-alive pings).
- TricklePeer: answers every REGISTER with a well-formed 200, one byte per interval.
- CloseAfterAcceptPeer: ends its side with a FIN right after accept.
- GarbagePeer: reads the REGISTER, then sends bytes that never frame as SIP (no line
  break at all), more than the daemon's 64 KiB header limit.
- any of them over TLS: pass `tls=(cert_path, key_path)`; handshake failures are
  recorded as "tls_failed" events with the reason Python's ssl module gives."""
import os
import re
import select
import socket
import ssl
import struct
import threading
import time

# A peer gives up on a connection after this long whatever happens (bounded loops).
CONNECTION_LIFETIME = 240.0
POLL = 0.1


class SipRequestReader:
    """Frames SIP requests out of a byte stream by Content-Length; skips CRLF keep-alives
    (counted as pings)."""

    def __init__(self):
        self.buffer = b""
        self.pings = 0

    def feed(self, data):
        self.buffer += data
        out = []
        while True:
            stripped = self.buffer.lstrip(b"\r\n")
            if len(stripped) != len(self.buffer):
                self.pings += (len(self.buffer) - len(stripped)) // 4
                self.buffer = stripped
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return out
            head = self.buffer[:end]
            m = re.search(rb"^(?:Content-Length|l)\s*:\s*(\d+)", head, re.M | re.I)
            total = end + 4 + (int(m.group(1)) if m else 0)
            if len(self.buffer) < total:
                return out
            out.append(self.buffer[:total])
            self.buffer = self.buffer[total:]


def headers_of(request):
    """{lower-case name: [values]} of a request's header section."""
    text = request.decode("utf-8", "replace")
    head = text.split("\r\n\r\n", 1)[0].split("\r\n")
    out = {}
    for raw in head[1:]:
        if ":" in raw:
            name, value = raw.split(":", 1)
            out.setdefault(name.strip().lower(), []).append(value.strip())
    return out


def method_of(request):
    return request.split(b" ", 1)[0].decode("ascii", "replace")


def response_to(request, code=401, reason="Unauthorized", extra=()):
    """A well-formed response to `request` (Via, From, To with a tag, Call-ID, CSeq)."""
    h = headers_of(request)
    to = h.get("to", ["<sip:unknown@invalid>"])[0]
    if ";tag=" not in to:
        to += ";tag=" + os.urandom(4).hex()
    lines = [f"SIP/2.0 {code} {reason}"]
    lines += [f"Via: {v}" for v in h.get("via", [])]
    lines += [f"From: {h.get('from', [''])[0]}", f"To: {to}", f"Call-ID: {h.get('call-id', [''])[0]}",
              f"CSeq: {h.get('cseq', [''])[0]}", *extra, "Content-Length: 0", "", ""]
    return "\r\n".join(lines).encode()


def challenge_to(request):
    return response_to(request, 401, "Unauthorized", [
        f'WWW-Authenticate: Digest realm="fault.test", nonce="{os.urandom(12).hex()}", qop="auth", algorithm=MD5'])


def ok_to(request):
    h = headers_of(request)
    contact = h.get("contact", ["<sip:invalid>"])[0].split(";expires=")[0]
    return response_to(request, 200, "OK", [f"Contact: {contact};expires=60"])


class Connection:
    """One accepted connection as a fault handler sees it."""

    def __init__(self, peer, number, sock, address):
        self.peer = peer
        self.number = number
        self.sock = sock
        self.address = address
        self.reader = SipRequestReader()
        self.deadline = time.monotonic() + peer.connection_lifetime

    def alive(self):
        return not self.peer.stopping.is_set() and time.monotonic() < self.deadline

    def record(self, kind, detail=""):
        self.peer.record(kind, self.number, detail)

    def read_some(self, timeout=POLL):
        """Bytes received (b"" at EOF), or None when nothing came within `timeout`."""
        try:
            ready, _, _ = select.select([self.sock], [], [], timeout)
            if not ready and not (isinstance(self.sock, ssl.SSLSocket) and self.sock.pending()):
                return None
            return self.sock.recv(65536)
        except (ssl.SSLWantReadError, BlockingIOError, socket.timeout):
            return None
        except OSError as e:
            self.record("read_error", str(e))
            return b""

    def take_requests(self, data):
        """Requests framed from `data`, each recorded as a "request" event."""
        requests = self.reader.feed(data)
        for r in requests:
            self.record("request", method_of(r))
        return requests

    def read_request(self):
        """The next whole request, or None at EOF or when the peer is stopping."""
        while self.alive():
            data = self.read_some()
            if data is None:
                continue
            if not data:
                self.record("eof")
                return None
            requests = self.take_requests(data)
            if requests:
                return requests[0]
        return None

    def drain_until_closed(self):
        """Reads and ignores until EOF (recorded) or stop."""
        while self.alive():
            data = self.read_some()
            if data is None:
                continue
            if not data:
                self.record("eof")
                return
            self.take_requests(data)

    def send(self, data):
        try:
            self.sock.sendall(data)
            return True
        except OSError as e:
            self.record("write_error", str(e))
            return False


class StreamFaultPeer:
    """Accepts on 127.0.0.1:0 and runs `serve(connection)` per connection in a thread.
    Subclasses implement serve(). Events are (monotonic time, connection number, kind,
    detail): "accept", "tls_failed", "request", "eof", "closed", and the fault's own."""
    connection_lifetime = CONNECTION_LIFETIME

    def __init__(self, *, tls=None, max_connections=64, host="127.0.0.1"):
        self.host = host
        self.tls_context = None
        if tls is not None:
            cert, key = (tls.cert_path, tls.key_path) if hasattr(tls, "cert_path") else tls
            self.tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls_context.load_cert_chain(cert, key)
        self.max_connections = max_connections
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._events = []
        self._threads = []
        self._sockets = set()
        self._listener = None
        self._acceptor = None
        self.port = None

    @property
    def transport(self):
        return "tls" if self.tls_context else "tcp"

    @property
    def address(self):
        return f"{self.host}:{self.port}"

    def start(self):
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((self.host, 0))
        self._listener.listen(16)
        self._listener.settimeout(POLL)
        self.port = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept_loop, name=f"{type(self).__name__}-accept",
                                          daemon=True)
        self._acceptor.start()
        return self

    def stop(self, timeout=5.0):
        """Stops accepting, ends every connection (their threads see `stopping`) and
        joins the threads, bounded. Idempotent."""
        self.stopping.set()
        if self._acceptor is not None:
            self._acceptor.join(timeout)
        if self._listener is not None:
            self._listener.close()
        deadline = time.monotonic() + timeout
        for t in list(self._threads):
            t.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            leftover = list(self._sockets)
        for s in leftover:
            try:
                s.close()
            except OSError:
                pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def record(self, kind, number, detail=""):
        with self._lock:
            self._events.append((time.monotonic(), number, kind, detail))

    def events(self, kind=None):
        """[(t, connection number, detail)] of one kind, or every (t, number, kind, detail)."""
        with self._lock:
            events = list(self._events)
        if kind is None:
            return events
        return [(t, n, d) for t, n, k, d in events if k == kind]

    def connections(self):
        return len(self.events("accept"))

    def requests(self):
        return len(self.events("request"))

    def _accept_loop(self):
        number = 0
        while not self.stopping.is_set() and number < self.max_connections:
            try:
                sock, address = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            number += 1
            self.record("accept", number, f"{address[0]}:{address[1]}")
            with self._lock:
                self._sockets.add(sock)
            t = threading.Thread(target=self._serve, args=(number, sock, address),
                                 name=f"{type(self).__name__}-{number}", daemon=True)
            self._threads.append(t)
            t.start()

    def _serve(self, number, sock, address):
        conn_sock = sock
        try:
            if self.tls_context is not None:
                sock.settimeout(10.0)
                try:
                    conn_sock = self.tls_context.wrap_socket(sock, server_side=True)
                except (ssl.SSLError, OSError) as e:
                    self.record("tls_failed", number, getattr(e, "reason", None) or str(e))
                    return
                with self._lock:
                    self._sockets.add(conn_sock)
                self.record("tls_ok", number)
            conn_sock.settimeout(None)
            conn_sock.setblocking(False)
            self.serve(Connection(self, number, conn_sock, address))
        except Exception as e:  # a fault handler must never take the test down
            self.record("handler_error", number, repr(e))
        finally:
            for s in {conn_sock, sock}:
                try:
                    s.close()
                except OSError:
                    pass
                with self._lock:
                    self._sockets.discard(s)
            self.record("closed", number)

    def serve(self, connection):
        raise NotImplementedError


def reset_socket(sock):
    """Closes with an RST: SO_LINGER on with a zero timeout."""
    raw = sock
    if isinstance(sock, ssl.SSLSocket):
        raw = socket.socket(fileno=os.dup(sock.fileno()))
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    raw.close()
    if raw is not sock:
        sock.close()


class ResetMidMessagePeer(StreamFaultPeer):
    """Reads a REGISTER, sends the first half of a 401, waits `pause` so the daemon has
    read it, then resets the connection ("reset" event)."""

    def __init__(self, pause=0.3, **kwargs):
        super().__init__(**kwargs)
        self.pause = pause

    def serve(self, c):
        request = c.read_request()
        if request is None:
            return
        response = challenge_to(request)
        half = response[:len(response) // 2]
        if not c.send(half):
            return
        c.record("half_sent", f"{len(half)} of {len(response)} bytes")
        time.sleep(self.pause)
        c.sock.setblocking(True)
        reset_socket(c.sock)
        c.record("reset")


class SilentPeer(StreamFaultPeer):
    """Reads and ignores everything (requests and keep-alive pings) until the daemon
    closes ("eof") or the peer stops."""

    def serve(self, c):
        c.drain_until_closed()
        c.record("pings_seen", str(c.reader.pings))


class TricklePeer(StreamFaultPeer):
    """Answers each REGISTER with a well-formed 200 OK sent one byte every `interval`
    seconds ("trickle_done" when a whole response went out)."""

    def __init__(self, interval=1.0, **kwargs):
        super().__init__(**kwargs)
        self.interval = interval
        self._sent = 0

    @property
    def bytes_sent(self):
        with self._lock:
            return self._sent

    def serve(self, c):
        pending = b""
        next_byte = time.monotonic()
        while c.alive():
            wait = max(0.0, next_byte - time.monotonic()) if pending else POLL
            data = c.read_some(min(wait, POLL) if pending else POLL)
            if data == b"":
                c.record("eof")
                return
            if data:
                for r in c.take_requests(data):
                    if method_of(r) == "REGISTER":
                        pending += ok_to(r) + b"\x00"  # the marker is not sent
            if pending and time.monotonic() >= next_byte:
                byte, pending = pending[:1], pending[1:]
                if byte == b"\x00":
                    c.record("trickle_done")
                    continue
                if not c.send(byte):
                    return
                with self._lock:
                    self._sent += 1
                next_byte = time.monotonic() + self.interval


class CloseAfterAcceptPeer(StreamFaultPeer):
    """Sends a FIN at once after accept (shutdown of its writing side), then reads what
    arrives until the daemon closes too, so the close stays a clean FIN, not an RST."""

    def serve(self, c):
        try:
            c.sock.shutdown(socket.SHUT_WR)
        except OSError as e:
            c.record("write_error", str(e))
        c.record("fin")
        c.drain_until_closed()


class GarbagePeer(StreamFaultPeer):
    """Reads a REGISTER, then sends `size` printable bytes with no line break (they can
    never end a header section), in chunks, and waits for the daemon to close."""

    def __init__(self, size=96 * 1024, **kwargs):
        super().__init__(**kwargs)
        self.size = size

    def serve(self, c):
        request = c.read_request()
        if request is None:
            return
        c.record("garbage_start")
        chunk = bytes(range(0x21, 0x7f)) * 64
        sent = 0
        while sent < self.size and c.alive():
            piece = chunk[:min(len(chunk), self.size - sent)]
            c.sock.setblocking(True)
            c.sock.settimeout(2.0)
            try:
                c.sock.sendall(piece)
            except OSError as e:
                c.record("write_error", str(e))
                break
            finally:
                c.sock.setblocking(False)
            sent += len(piece)
        c.record("garbage_sent", str(sent))
        c.drain_until_closed()
