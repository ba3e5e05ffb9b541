#!/usr/bin/env python3
"""A 1 MiB markdown material end to end on the embedded default (SPEC 10.5, issue 15).

Starts `ainative serve` (BIN, default target/release/ainative) on a free loopback port in a
temporary directory: SQLite, in-process cache, the lexical retrieval index, WORKERS=2 inside
the server. An administrator (made with `ainative create-admin`) creates and publishes an
activity and uploads SIZE bytes (default 1 MiB) of generated course-like markdown. It prints:

- the time from sending the upload to `overall: completed` (target: <= 10 s), and each
  stage's own time from the status record;
- the server's RSS before the upload, after processing (workers in the same process) and
  after a student's grounded turn, when the retrieval index of the activity is loaded; and
  the peak (VmHWM);
- the median time of TURNS further grounded, uncached turns (end to end over HTTP).

It measures and prints; it asserts nothing about speed.

    cargo build --release && python3 benches/material_e2e.py
    BIN=target/debug/ainative SIZE=131072 python3 benches/material_e2e.py
"""
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.abspath(os.environ.get("BIN", os.path.join(ROOT, "target/release/ainative")))
SIZE = int(os.environ.get("SIZE", str(1024 * 1024)))
TURNS = int(os.environ.get("TURNS", "50"))
PASSWORD = "Analytical7Engine"
FIXTURE = os.path.join(ROOT, "crates/materials/tests/fixtures/recursion.md")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def markdown(size):
    """Deterministic course-like prose from the fixture's sentences, under headings."""
    text = open(FIXTURE, encoding="utf-8").read()
    sentences = [s.strip() + "." for s in text.replace("\n", " ").split(".") if len(s.split()) > 4]
    rng = random.Random(7)
    parts, length, section = [], 0, 0
    while length < size:
        section += 1
        block = f"\n## Section {section}: {rng.choice(sentences)[:40]}\n\n"
        block += " ".join(rng.choice(sentences) for _ in range(rng.randint(6, 14))) + "\n"
        if section % 5 == 0:
            block += "\n```python\ndef total(xs):\n    acc = 0\n    for x in xs:\n        acc += x\n    return acc\n```\n"
        parts.append(block)
        length += len(block.encode("utf-8"))
    return "# Generated course notes\n" + "".join(parts)


class Api:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method, path, token=None, body=None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.conn.request(method, path, json.dumps(body) if body is not None else None, headers)
        res = self.conn.getresponse()
        data = res.read()
        return res.status, (json.loads(data) if data else None)

    def ok(self, method, path, token=None, body=None, status=200):
        got, data = self.call(method, path, token, body)
        if got != status:
            raise SystemExit(f"{method} {path}: {got} {data}")
        return data["data"]


def main():
    port = free_port()
    work = tempfile.mkdtemp(prefix="material-e2e-")
    env = dict(os.environ, APP_ENV="test", APP_PORT=str(port), METRICS_ADDR="127.0.0.1:0",
               JWT_SECRET_KEY="material-bench-secret-material-bench-secret",
               BCRYPT_COST="4", LOG_LEVEL="warn", RATE_LIMIT_ANONYMOUS="0",
               RATE_LIMIT_FREE_TIER="0", RATE_LIMIT_PREMIUM_TIER="0", RATE_LIMIT_ADMIN_TIER="0",
               MAIL_OUTBOX_DIR=os.path.join(work, "outbox"))
    server = subprocess.Popen([BIN, "serve"], cwd=work, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                api = Api(port)
                api.call("GET", "/api/v1/health/live")
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise SystemExit("server did not start")
        subprocess.run([BIN, "create-admin", "--email", "root@example.com", "--username", "root"],
                       cwd=work, env=env, input=PASSWORD + "\n", text=True, check=True,
                       capture_output=True)
        admin = api.ok("POST", "/api/v1/auth/login", body={"username": "root", "password": PASSWORD})
        admin = admin["access_token"]
        activity = api.ok("POST", "/api/v1/activities", admin, {
            "title": "Recursion", "instructions": "Write a recursive sum of a list.",
            "subject": "python", "difficulty": "beginner", "policies": {}}, status=201)["id"]
        api.ok("POST", f"/api/v1/activities/{activity}/publish", admin, {})
        content = markdown(SIZE)
        rss_idle = rss_mb(server.pid)

        started = time.perf_counter()
        material = api.ok("POST", f"/api/v1/activities/{activity}/materials", admin, {
            "title": "Notes", "content_type": "text/markdown", "content": content}, status=202)["id"]
        status = None
        while time.perf_counter() - started < 300:
            status = api.ok("GET", f"/api/v1/materials/{material}/status", admin)
            if status["overall"] in ("completed", "failed"):
                break
            time.sleep(0.02)
        took = time.perf_counter() - started
        rss_processed = rss_mb(server.pid)

        student = api.ok("POST", "/api/v1/auth/register", body={
            "email": "ada@example.com", "username": "ada", "password": PASSWORD,
            "full_name": "Ada"}, status=201)["access_token"]
        session = api.ok("POST", "/api/v1/sessions", student, {"activity_id": activity},
                         status=201)["id"]
        first = api.ok("POST", f"/api/v1/sessions/{session}/interactions", student,
                       {"prompt": "How does the base case stop a recursive sum?"}, status=201)
        rss_index = rss_mb(server.pid)
        turns = []
        for i in range(TURNS):
            t0 = time.perf_counter()
            api.ok("POST", f"/api/v1/sessions/{session}/interactions", student,
                   {"prompt": f"Why does recursion need a base case? (question {i})"}, status=201)
            turns.append((time.perf_counter() - t0) * 1000)

        print(f"binary {BIN}")
        print(f"material {len(content.encode('utf-8'))} bytes of markdown: {status['overall']} "
              f"in {took:.2f} s (target <= 10 s)")
        for stage in status["stages"]:
            print(f"  {stage['stage']:<10} {stage['status']:<10} {stage.get('started_at')} -> "
                  f"{stage.get('finished_at')}")
        print(f"sources on the first turn: {len((first.get('interaction') or {}).get('sources') or [])}")
        print(f"RSS idle {rss_idle:.1f} MB, after processing {rss_processed:.1f} MB, "
              f"after a grounded turn (index loaded) {rss_index:.1f} MB, "
              f"peak {rss_mb(server.pid, 'VmHWM'):.1f} MB")
        print(f"grounded uncached turns: median {statistics.median(turns):.2f} ms over {TURNS}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
