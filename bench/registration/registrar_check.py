#!/usr/bin/env python3
"""Checks the benchmark's Kamailio registrar without sipregd: for TCP and TLS it starts
the tuned registrar (kamailio_registrar.py) with the benchmark's users, then

  - TLS only: `openssl s_client` against the listener with the throwaway CA and the
    server name the benchmark uses, which must verify (return code 0);
  - sends REGISTER over one connection, expects a 401 with a qop=auth challenge, answers
    it with digest credentials and expects a 200 that grants the asked expiry;
  - checks the memory Kamailio was given (core.shmmem) and that it saw one connection.

    python3 bench/registration/registrar_check.py [--users 10000]

Exits 0 when every check passes. Traffic stays on 127.0.0.1. Python 3 standard library
and the openssl command line only.
"""
import argparse
import hashlib
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from certs import OPENSSL, SERVER_NAME, TestPki  # noqa: E402
from kamailio_registrar import SHM_MIB, KamailioRegistrar, user_name, user_password  # noqa: E402
from stream_util import StreamSipClient  # noqa: E402


def header(message, name):
    m = re.search(rb"^" + name.encode() + rb"\s*:\s*(.*?)\r\n", message, re.MULTILINE | re.IGNORECASE)
    return m.group(1).decode() if m else None


def status(message):
    m = re.match(rb"SIP/2\.0 (\d{3}) ", message or b"")
    return int(m.group(1)) if m else None


def digest_authorization(challenge, *, user, password, method, uri):
    """An Authorization value answering a `Digest ...` challenge with MD5 and qop=auth."""
    params = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge))
    realm, nonce = params["realm"], params["nonce"]
    cnonce, nc = os.urandom(8).hex(), "00000001"
    ha1 = hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
    response = hashlib.md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}".encode()).hexdigest()
    value = (f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
             f'response="{response}", algorithm=MD5, qop=auth, nc={nc}, cnonce="{cnonce}"')
    if "opaque" in params:
        value += f', opaque="{params["opaque"]}"'
    return value


def check_s_client(port, ca_file):
    r = subprocess.run([OPENSSL, "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile", ca_file,
                        "-servername", SERVER_NAME, "-verify_hostname", SERVER_NAME, "-verify_return_error",
                        "-brief"],
                       input="", capture_output=True, text=True, timeout=20)
    text = r.stdout + r.stderr
    ok = r.returncode == 0 and "Verification: OK" in text
    protocol = re.search(r"Protocol version: (\S+)", text)
    return ok, (protocol.group(1) if protocol else "?"), text


def check_register(reg, *, tls, ca_file, user, password, expires):
    uri = f"sip:127.0.0.1:{reg.port};transport={'tls' if tls else 'tcp'}"
    with StreamSipClient("127.0.0.1", reg.port, tls=tls, ca_file=ca_file, server_name=SERVER_NAME) as c:
        c.register(uri, user=user, domain="bench.test", expires=expires)
        first = c.read_message()
        if status(first) != 401:
            return False, f"first REGISTER: expected 401, got {status(first)}"
        challenge = header(first, "WWW-Authenticate")
        if not challenge or "qop" not in challenge:
            return False, f"401 without a qop challenge: {challenge!r}"
        auth = digest_authorization(challenge, user=user, password=password, method="REGISTER", uri=uri)
        c.register(uri, user=user, domain="bench.test", expires=expires,
                   extra_headers=[f"Authorization: {auth}"])
        second = c.read_message()
        if status(second) != 200:
            return False, f"REGISTER with credentials: expected 200, got {status(second)}"
        contact = header(second, "Contact") or ""
        granted = re.search(r"expires=(\d+)", contact)
        conns = reg.connections()
        return True, (f"401 then 200 (Contact expires={granted.group(1) if granted else '?'}); "
                      f"Kamailio lists {len(conns)} connection(s): "
                      + ", ".join(f"{x.get('type')} {x.get('src_ip')}:{x.get('src_port')}" for x in conns))


def shm_total_mib(reg):
    out = reg.kam.kamcmd("core.shmmem")
    m = re.search(r"\btotal:\s*(\d+)", out)
    return int(m.group(1)) / (1 << 20) if m else None


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--users", type=int, default=10000)
    p.add_argument("--expires", type=int, default=60)
    args = p.parse_args()
    # The last user: proves the cfg's loop filled the whole htable.
    user, password = user_name(args.users - 1), user_password(args.users - 1)
    failures = 0
    with TestPki() as pki:
        for transport in ("tcp", "tls"):
            with KamailioRegistrar(transport, user_count=args.users, granted=args.expires, run_seconds=600,
                                   nonce_expire=15, tls_cert=pki.server) as reg:
                shm = shm_total_mib(reg)
                ok = shm is not None and shm >= SHM_MIB * 0.9
                failures += not ok
                print(f"[{'ok' if ok else 'FAIL'}] {transport}: Kamailio shared memory {shm:.0f} MiB")
                if transport == "tls":
                    ok, protocol, text = check_s_client(reg.port, pki.ca.cert_path)
                    failures += not ok
                    print(f"[{'ok' if ok else 'FAIL'}] tls: openssl s_client verified the server ({protocol})"
                          if ok else f"[FAIL] tls: openssl s_client:\n{text}")
                ok, detail = check_register(reg, tls=transport == "tls", ca_file=pki.ca.cert_path,
                                            user=user, password=password, expires=args.expires)
                failures += not ok
                print(f"[{'ok' if ok else 'FAIL'}] {transport}: {detail}")
                problems, first = reg.log_problems()
                if problems:
                    print(f"  Kamailio logged {problems} warning/error line(s), e.g.:\n    " + "\n    ".join(first))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
