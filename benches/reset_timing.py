#!/usr/bin/env python3
"""Enumeration timing of POST /auth/password-reset/request (SPEC 10.1, docs/decisions.md 90).

Starts `ainative` (BIN, default target/release/ainative) on a free loopback port in a
temporary directory (embedded SQLite, log mail transport), registers one user, then sends
ROUNDS pairs of reset requests -- one for the registered address, one for an unknown
address, in alternating order -- over one keep-alive connection and prints the median and
p90 of each and their relative difference. It measures; it asserts nothing.

    cargo build --release && python3 benches/reset_timing.py
    BIN=target/debug/ainative ROUNDS=400 python3 benches/reset_timing.py
"""
import http.client
import json
import os
import socket
import statistics
import subprocess
import tempfile
import time

BIN = os.path.abspath(os.environ.get("BIN", "target/release/ainative"))
ROUNDS = int(os.environ.get("ROUNDS", "300"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(conn, path, body):
    data = json.dumps(body)
    started = time.perf_counter()
    conn.request("POST", path, data, {"Content-Type": "application/json"})
    res = conn.getresponse()
    res.read()
    return res.status, time.perf_counter() - started


def main():
    port = free_port()
    work = tempfile.mkdtemp(prefix="reset-timing-")
    env = dict(os.environ, APP_ENV="test", APP_PORT=str(port), METRICS_ADDR="127.0.0.1:0",
               JWT_SECRET_KEY="timing-secret-timing-secret-timing-secret",
               BCRYPT_COST="4", LOG_LEVEL="error", RATE_LIMIT_ANONYMOUS="0",
               RATE_LIMIT_MAIL_IP="100000", RATE_LIMIT_MAIL="10000")
    server = subprocess.Popen([BIN, "serve"], cwd=work, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(1200):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/api/v1/health/live")
                conn.getresponse().read()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("server did not start")
        status, _ = post(conn, "/api/v1/auth/register", {
            "email": "known@example.com", "username": "known",
            "password": "Analytical7Engine", "full_name": "Known"})
        assert status == 201, status
        path = "/api/v1/auth/password-reset/request"
        for _ in range(20):  # warm-up
            post(conn, path, {"email": "known@example.com"})
            post(conn, path, {"email": "warmup@example.com"})
        known, unknown = [], []
        for i in range(ROUNDS):
            order = [("known@example.com", known), (f"nobody{i}@example.com", unknown)]
            if i % 2:
                order.reverse()
            for email, times in order:
                status, took = post(conn, path, {"email": email})
                assert status == 202, status
                times.append(took * 1000)
        mk, mu = statistics.median(known), statistics.median(unknown)
        q = lambda xs: statistics.quantiles(xs, n=10)[-1]
        print(f"rounds {ROUNDS} binary {BIN}")
        print(f"known   median {mk:.3f} ms  p90 {q(known):.3f} ms")
        print(f"unknown median {mu:.3f} ms  p90 {q(unknown):.3f} ms")
        print(f"median difference {abs(mk - mu) / max(mk, mu) * 100:.1f} %")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
