#!/usr/bin/env python3
"""A stand-in for sipregd used only to prove daemon.py: same command line (-c FILE
--log-level L), logs to stderr, reloads on SIGHUP, exits 0 on SIGTERM."""
import signal
import sys
import time

args = sys.argv[1:]
config = args[args.index("-c") + 1]
running = True


def log(text):
    print(f"[info] {text}", file=sys.stderr, flush=True)


def on_hup(_sig, _frame):
    with open(config) as f:
        log(f"reloaded config: {f.read().strip()}")


def on_term(_sig, _frame):
    global running
    log("stopping")
    running = False


signal.signal(signal.SIGHUP, on_hup)
signal.signal(signal.SIGTERM, on_term)
with open(config) as f:
    log(f"loaded config: {f.read().strip()}")
deadline = time.monotonic() + 60  # never outlive a test by much
while running and time.monotonic() < deadline:
    time.sleep(0.02)
sys.exit(0 if not running else 3)
