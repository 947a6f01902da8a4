#!/usr/bin/env python3
"""Runs the demo's local Kamailio registrar until SIGTERM/SIGINT, then stops it.

Usage: demo-registrar.py PORT USER:PASSWORD...
Prints "ready" once the registrar answers, and the location table when asked with
SIGUSR1. Uses the integration tests' Kamailio harness."""
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from kamailio import Kamailio  # noqa: E402


def main():
    port = int(sys.argv[1])
    users = dict(arg.split(":", 1) for arg in sys.argv[2:])
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    kam = Kamailio(users=users, port=port, min_expires=10, default_expires=60)
    kam.start()
    try:
        signal.signal(signal.SIGUSR1, lambda *_: print_bindings(kam))
        print(f"ready: Kamailio registrar on udp 127.0.0.1:{port} (pid {kam.pid}), users: "
              + ", ".join(sorted(users)), flush=True)
        while not done.wait(1.0):
            if not kam.running():
                print("the registrar exited", file=sys.stderr, flush=True)
                return 1
    finally:
        kam.cleanup()
    return 0


def print_bindings(kam):
    try:
        rows = kam.ul_dump()
    except Exception as e:  # the demo keeps running whatever kamcmd says
        print(f"registrar: cannot read the location table: {e}", flush=True)
        return
    print(f"registrar holds {len(rows)} binding(s):", flush=True)
    for b in rows:
        print(f"  {b['aor']:<8} {b['contact']}  expires in {b['expires']} s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
