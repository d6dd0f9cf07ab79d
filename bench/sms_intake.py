#!/usr/bin/env python3
"""SMS intake throughput and latency: the whole app against a bare FastAPI floor.

    .venv/bin/python bench/sms_intake.py                      # sqlite and postgresql, 3 rounds of 5 s runs
    .venv/bin/python bench/sms_intake.py --quick              # 1 round of 3 s runs, short warm-ups
    .venv/bin/python bench/sms_intake.py --backends sqlite --rounds 5 --duration 8

For each backend the full app (`samleng serve`, one uvicorn process, signatures
checked, a fresh migrated database) is driven with pre-signed Twilio webhooks, each
a new report from a new number, by Debian's `wrk` at 1 and at 32 connections. The
bare app (bench/bare_app.py: same form parser, same TwiML, nothing else, served the
same way) gives the floor. All servers run side by side and are measured in
interleaved rounds (bare, then each full app, at 1 and then 32 connections); each
ratio is computed within a round and the median over rounds is reported, because
the machine is shared and its load changes from minute to minute. After every run
the database is counted to check that every answered request was stored. Everything runs on 127.0.0.1 and is bounded in time;
servers, the PostgreSQL cluster and temporary folders are removed on the way out.

Exit status: 0 all goals met, 1 a goal missed or a check failed, 2 wrk missing or bad usage.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BIN = ROOT / ".venv" / "bin"
WRK = "/usr/bin/wrk"
LUA = ROOT / "bench" / "sms_intake.lua"
BARE_APP = ROOT / "bench" / "bare_app.py"
SMS_PATH = "/webhooks/twilio/sms"
AUTH_TOKEN = "bench-twilio-auth-token-" + "7c1e4a9b2d"
ACCOUNT_SID = "AC" + "b" * 32
TO_NUMBER = "+85523000000"
LOW, HIGH = 1, 32  # connections: -t1 -c1 and -t2 -c32
THREADS = {LOW: 1, HIGH: 2}
WRK_TIMEOUT_S = 10  # a slow answer is measured, not dropped as a wrk timeout

GOAL_THROUGHPUT = {"sqlite": 0.20, "postgresql": 0.10}  # full@32 / bare@32
GOAL_P99_RATIO = 15.0  # full p99 / bare p99 at 32 connections
GOAL_SCALING = 0.80  # full@32 / full@1 throughput

# Realistic first messages (English, no keywords, no Khmer): each becomes a new report.
NARRATIVES = (
    "The nurse at the health centre asked me to pay 20000 riel before she would test my child for fever.",
    "I waited from 7 in the morning until 4 in the afternoon and nobody saw me, then they told me to come back.",
    "Staff at the district hospital shouted at me in front of other patients because of my HIV status.",
    "The pharmacy said the medicine on my prescription is out of stock but sold it to me at a private price.",
    "My mother was refused treatment because she does not have her ID Poor card with her, she is 74.",
    "The midwife was not there at night and my sister had to deliver alone at the health post.",
    "They charged us for the ambulance even though the sign on the wall says referral is free.",
    "The doctor told my friend she should not have children because she is positive. This is not fair.",
    "Police took money from the outreach worker and threatened people waiting outside the clinic.",
    "There was no water and the toilets were locked, pregnant women had to go to the field behind the centre.",
    "The vaccination session was cancelled three times this month and no one explained why.",
    "A staff member asked for money to write the health equity fund form for my father.",
)


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


class BenchError(RuntimeError):
    """A run could not be made (server did not start, wrk failed, ...)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- requests ------------------------------------------------------------------------------------

class RequestFactory:
    """Signed Twilio webhooks: a fresh MessageSid each, and a fresh From number each
    (except `repeat_fraction` of them, which reuse an earlier number of the same pool)."""

    def __init__(self, repeat_fraction: float = 0.0) -> None:
        from twilio.request_validator import RequestValidator

        self.validator = RequestValidator(AUTH_TOKEN)
        self.repeat_fraction = repeat_fraction
        self.number = 0  # numbers are never reused across pools of one invocation
        self.prefix = uuid.uuid4().hex[:8]  # MessageSids of this invocation
        self.sids = 0

    def params(self, sender: str) -> dict[str, str]:
        self.sids += 1
        sid = f"SM{self.prefix}{self.sids:024x}"
        sms = sid
        body = NARRATIVES[self.sids % len(NARRATIVES)]
        return {  # what Twilio posts for an inbound SMS
            "ToCountry": "KH", "ToState": "", "SmsMessageSid": sms, "NumMedia": "0", "ToCity": "",
            "FromZip": "", "SmsSid": sms, "FromState": "", "SmsStatus": "received", "FromCity": "PHNOM PENH",
            "Body": body, "FromCountry": "KH", "To": TO_NUMBER, "ToZip": "", "NumSegments": "1",
            "MessageSid": sid, "AccountSid": ACCOUNT_SID, "From": sender, "ApiVersion": "2010-04-01",
        }

    def new_sender(self) -> str:
        self.number += 1
        return f"+8559{self.number:08d}"

    def signed(self, public_url: str, params: dict[str, str]) -> tuple[str, str]:
        signature = self.validator.compute_signature(public_url.rstrip("/") + SMS_PATH, params)
        return signature, urlencode(params)

    def write_pool(self, path: Path, public_url: str, n: int) -> Path:
        senders: list[str] = []
        step = int(1 / self.repeat_fraction) if self.repeat_fraction > 0 else 0
        with path.open("w") as fh:
            for i in range(n):
                if step and senders and i % step == step - 1:
                    sender = senders[(i * 7919) % len(senders)]
                else:
                    sender = self.new_sender()
                    senders.append(sender)
                signature, body = self.signed(public_url, self.params(sender))
                fh.write(f"{signature}\t{body}\n")
        return path


def post(port: int, signature: str | None, body: str, timeout: float = 10.0) -> tuple[int, str]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        conn.request("POST", SMS_PATH, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def twiml_text(xml: str) -> str:
    message = ET.fromstring(xml).find("Message")
    return "" if message is None else (message.text or "")


# -- servers -------------------------------------------------------------------------------------

@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # uvicorn's graceful stop: lifespan stops the writer
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start_server(name: str, cmd: list[str], env: dict[str, str], cwd: Path, port: int, log: Path,
                 stack: ExitStack) -> Server:
    fh = log.open("wb")
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    fh.close()
    server = Server(name, port, proc, log)
    stack.callback(server.stop)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"{name} exited with {proc.returncode} at start:\n{server.tail()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.1)
    raise BenchError(f"{name} did not listen on 127.0.0.1:{port} within 30 s:\n{server.tail()}")


def app_env(database_url: str, work: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SAMLENG_", "TWILIO_", "TELEGRAM_"))}
    env.update({
        "SAMLENG_ENV": "development",
        "SAMLENG_DATABASE_URL": database_url,
        "SAMLENG_VAR_DIR": str(work / "var"),
        "SAMLENG_SPOOL_DIR": str(work / "spool"),
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "SAMLENG_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "SAMLENG_LOG_LEVEL": "WARNING",
        "SAMLENG_REPORTS_PER_HOUR": "1000000",
        "PYTHONUNBUFFERED": "1",
    })
    return env


# -- databases -----------------------------------------------------------------------------------

def prepare_database(backend: str, work: Path, stack: ExitStack, state: dict) -> str:
    """A fresh, migrated database for `backend`; returns its URL."""
    if backend == "sqlite":
        url = f"sqlite:///{work / 'samleng.db'}"
    else:
        cluster = state.get("pg")
        if cluster is None:
            import dev

            bindir = dev._pg_bindir()
            if bindir is None:
                raise BenchError("no PostgreSQL here (/usr/lib/postgresql/*/bin/initdb); run dev.py test once "
                                 "as root to install it, or use --backends sqlite")
            cluster = dev.ThrowawayPostgres(bindir, durable=True)
            stack.callback(cluster.stop)
            state["pg_admin"] = cluster.start()
            state["pg"] = cluster
            say(f"PostgreSQL {bindir.parent.name} cluster on 127.0.0.1:{cluster.port} "
                "(durable defaults: fsync, synchronous_commit, full_page_writes on)")
        from sqlalchemy import create_engine, text

        name = f"samleng_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(state["pg_admin"], isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
                settings = dict(conn.execute(text(
                    "SELECT name, setting FROM pg_settings WHERE name IN "
                    "('fsync','synchronous_commit','full_page_writes','wal_sync_method')")).all())
        finally:
            admin.dispose()
        say("PostgreSQL settings: " + ", ".join(f"{k}={v}" for k, v in sorted(settings.items())))
        url = state["pg_admin"].rsplit("/", 1)[0] + f"/{name}"
    env = app_env(url, work, 0)
    result = subprocess.run([str(BIN / "samleng"), "migrate"], env=env, cwd=work, capture_output=True,
                            text=True, timeout=120)
    if result.returncode != 0:
        raise BenchError(f"samleng migrate failed on {backend}:\n{result.stdout}{result.stderr}")
    return url


def db_counts(url: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                "inbound": conn.execute(text("SELECT count(*) FROM inbound_message")).scalar_one(),
                "inbound_report": conn.execute(text(
                    "SELECT count(*) FROM inbound_message WHERE kind LIKE 'report%'")).scalar_one(),
                "reports": conn.execute(text("SELECT count(*) FROM report")).scalar_one(),
                "reporters": conn.execute(text("SELECT count(*) FROM reporter")).scalar_one(),
            }
    finally:
        engine.dispose()


def settled_counts(url: str, timeout: float = 10.0) -> dict[str, int]:
    """Counts once the writer has drained (two equal readings 0.5 s apart)."""
    previous = db_counts(url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.5)
        current = db_counts(url)
        if current == previous:
            return current
        previous = current
    return previous


# -- wrk -----------------------------------------------------------------------------------------

@dataclass
class Result:
    target: str  # "full/sqlite", "full/postgresql", "bare"
    connections: int
    threads: int
    wrk: dict
    pool: int
    checks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    round: int = 0
    cpu_s: float | None = None  # CPU time of the server process during the run (user + system)

    @property
    def cpu_ms_per_request(self) -> float | None:
        return None if self.cpu_s is None or not self.wrk["requests"] else 1000 * self.cpu_s / self.wrk["requests"]

    @property
    def rps(self) -> float:
        return self.wrk["requests"] / (self.wrk["duration_us"] / 1e6)

    @property
    def p50_ms(self) -> float:
        return self.wrk["p50_us"] / 1000

    @property
    def p99_ms(self) -> float:
        return self.wrk["p99_us"] / 1000


def writer_counts(server: Server) -> tuple[float, float] | None:
    """The web process's writer so far, from its /metrics: (units committed, commits), or None."""
    try:
        with urllib.request.urlopen(server.url + "/metrics", timeout=10) as response:
            body = response.read().decode()
    except OSError:
        return None
    values = {line.split()[0]: float(line.split()[1]) for line in body.splitlines()
              if line.startswith(("samleng_writer_units_committed ", "samleng_writer_commits "))}
    if len(values) != 2:
        return None
    return values["samleng_writer_units_committed"], values["samleng_writer_commits"]


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of one process so far (Linux /proc), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def run_wrk(server: Server, pool: Path, connections: int, duration: float, log: Path) -> dict:
    threads = THREADS.get(connections, min(2, connections))
    cmd = [WRK, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency",
           f"--timeout={WRK_TIMEOUT_S}s", "-s", str(LUA), server.url, "--", str(pool), str(threads)]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + WRK_TIMEOUT_S + 60)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"wrk did not finish: {' '.join(cmd)}") from exc
    log.write_text(result.stdout + result.stderr)
    for line in result.stdout.splitlines():
        if line.startswith("WRK_JSON "):
            data = json.loads(line[len("WRK_JSON "):])
            data["threads"] = threads
            return data
    raise BenchError(f"wrk gave no result (exit {result.returncode}):\n{result.stdout}{result.stderr}")


def pool_size(rate_estimate: float, duration: float, minimum: int = 2000) -> int:
    """Enough requests that no thread's slice wraps: twice the warm-up rate, plus a second of slack.
    (wrk reports a wrap if it happens anyway; the run is then flagged.)"""
    return max(minimum, int(math.ceil(rate_estimate * 2 * (duration + 1))))


# -- the benchmark -------------------------------------------------------------------------------

class Bench:
    def __init__(self, args: argparse.Namespace, work: Path, stack: ExitStack) -> None:
        self.args = args
        self.work = work
        self.stack = stack
        self.factory = RequestFactory(args.repeat_senders)
        self.results: list[Result] = []
        self.state: dict = {}
        self.pools = 0
        self.reply_lengths: dict[str, int] = {}

    def pool(self, server: Server, n: int) -> Path:
        self.pools += 1
        path = self.work / f"pool-{self.pools:02d}-{server.name.replace('/', '-')}-{n}.txt"
        return self.factory.write_pool(path, server.url, n)

    def probe(self, server: Server) -> None:
        """One signed request by hand: 200 and a TwiML answer, before any load."""
        params = self.factory.params(self.factory.new_sender())
        signature, body = self.factory.signed(server.url, params)
        status, xml = post(server.port, signature, body)
        if status != 200:
            raise BenchError(f"{server.name}: probe answered {status}: {xml[:300]}\n{server.tail()}")
        self.reply_lengths[server.name] = len(twiml_text(xml))
        if server.name.startswith("full"):
            status, _ = post(server.port, "bad-signature", body)
            if status != 403:
                raise BenchError(f"{server.name}: a bad signature was answered {status}, not 403: "
                                 "the signature check is not on the measured path")

    def warm_up(self, server: Server) -> float:
        """A short unmeasured run at 32 connections; returns its rate (sizes the pools)."""
        seconds = self.args.warmup
        guess = 2000 if server.name.startswith("full") else 8000
        path = self.pool(server, pool_size(guess, seconds))
        data = run_wrk(server, path, HIGH, seconds, self.work / f"wrk-warmup-{server.name.replace('/', '-')}.log")
        path.unlink(missing_ok=True)
        rate = data["requests"] / (data["duration_us"] / 1e6)
        say(f"  warm-up {server.name}: {rate:.0f} req/s over {seconds:.0f} s")
        return rate

    def measure(self, server: Server, connections: int, rate: float, database_url: str | None) -> Result:
        duration = self.args.duration
        n = pool_size(rate, duration)
        path = self.pool(server, n)
        before = settled_counts(database_url) if database_url else None
        say(f"  {server.name} @{connections}: {duration:.0f} s, pool of {n} signed requests")
        cpu_before = cpu_seconds(server.proc.pid)
        writer_before = writer_counts(server) if database_url else None
        data = run_wrk(server, path, connections, duration,
                       self.work / f"wrk-{server.name.replace('/', '-')}-{connections}-{self.pools}.log")
        cpu_after = cpu_seconds(server.proc.pid)
        writer_after = writer_counts(server) if database_url else None
        path.unlink(missing_ok=True)
        result = Result(server.name, connections, data["threads"], data, n)
        if writer_before and writer_after:
            units, commits = (after - before for after, before in zip(writer_after, writer_before))
            if commits:
                result.checks.append(f"writer: {units:.0f} units in {commits:.0f} commits, "
                                     f"{units / commits:.2f} per commit")
        if cpu_before is not None and cpu_after is not None:
            result.cpu_s = cpu_after - cpu_before
        errors = data["errors"]
        if data["wrapped"]:
            result.problems.append(f"request pool wrapped {data['wrapped']}x (pool {n}): some requests replayed")
        if data["non2xx"] or errors["status"]:
            result.problems.append(f"{data['non2xx']} non-2xx responses")
        else:
            result.checks.append("non-2xx responses: 0")
        socket_errors = {k: v for k, v in errors.items() if k != "status" and v}
        if socket_errors:
            result.problems.append(f"socket errors {socket_errors}")
        if server.proc.poll() is not None:
            result.problems.append(f"server exited with {server.proc.returncode}")
        if database_url and before is not None:
            after = settled_counts(database_url)
            delta = {k: after[k] - before[k] for k in after}
            done = data["requests"]
            # wrk stops counting at the deadline: requests still in flight then were stored but not counted.
            in_flight = connections + errors["timeout"]
            line = (f"DB: +{delta['inbound']} inbound_message, +{delta['reports']} report, "
                    f"+{delta['inbound_report']} report-kind inbound, +{delta['reporters']} reporter; "
                    f"wrk completed {done} (2xx {done - data['non2xx']}), sent {data['sent']}")
            ok = (done - data["non2xx"] <= delta["inbound"] <= done + in_flight
                  and delta["reports"] == delta["inbound_report"])
            if self.args.repeat_senders == 0:
                ok = ok and delta["reports"] == delta["inbound"]
            (result.checks if ok else result.problems).append(line + ("" if ok else "  <-- MISMATCH"))
            spooled = list((self.work / "spool").glob("*.msg")) if (self.work / "spool").exists() else []
            if spooled:
                result.problems.append(f"{len(spooled)} messages spooled (answered 200, not in the database)")
        self.results.append(result)
        for line in result.checks:
            say(f"    ok: {line}")
        for line in result.problems:
            say(f"    PROBLEM: {line}")
        return result

    def start_bare(self) -> Target:
        port = free_port()
        run_dir = self.work / "bare"
        run_dir.mkdir()
        env = app_env("sqlite:///unused.db", run_dir, port)
        cmd = [str(BIN / "python"), str(BARE_APP), "--host", "127.0.0.1", "--port", str(port),
               "--log-level", env["SAMLENG_LOG_LEVEL"]]
        say("bare app (bench/bare_app.py)")
        server = start_server("bare", cmd, env, run_dir, port, run_dir / "server.log", self.stack)
        self.probe(server)
        return Target(server, self.warm_up(server), None)

    def start_full(self, backend: str, variant: tuple[str, str] | None = None) -> Target:
        name = f"full/{backend}" + (f"-{variant[0]}" if variant else "")
        run_dir = self.work / name.split("/", 1)[1]
        run_dir.mkdir()
        url = prepare_database(backend, run_dir, self.stack, self.state)
        if variant:  # --also-sqlite: the same app on a database changed by SQL after `samleng migrate`
            import sqlite3

            conn = sqlite3.connect(url.removeprefix("sqlite:///"))
            conn.executescript(variant[1])
            conn.close()
            say(f"{name}: applied after migrate: {variant[1]}")
        port = free_port()
        env = app_env(url, run_dir, port)
        cmd = [str(BIN / "samleng"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        say(f"full app on {backend} (samleng serve)")
        server = start_server(name, cmd, env, run_dir, port, run_dir / "server.log", self.stack)
        self.probe(server)
        return Target(server, self.warm_up(server), url)

    def run(self) -> None:
        """All servers up at once (idle ones cost nothing), then rounds that measure each target
        right after the bare floor: on a shared, noisy machine a ratio is only fair between
        neighbouring measurements, and the median over rounds ignores a round someone else spoiled."""
        targets = [self.start_bare()] + [self.start_full(backend) for backend in self.args.backends]
        targets += [self.start_full("sqlite", variant=(name, sql)) for name, sql in self.args.also_sqlite]
        for round_no in range(1, self.args.rounds + 1):
            say(f"round {round_no} of {self.args.rounds}")
            for connections in (LOW, HIGH):
                for target in targets:
                    for _ in range(3):
                        result = self.measure(target.server, connections, target.rate, target.database_url)
                        result.round = round_no
                        if not result.wrk["wrapped"]:
                            break
                        # Replayed requests are duplicates, answered without storing anything: a run
                        # that replayed is faster than the truth. Size the pool from this run's rate.
                        say("    the pool was too small for this rate: measuring again with a larger one")
                        target.rate = max(target.rate, result.rps) * 1.5
                        self.results.remove(result)
        for target in targets:
            target.server.stop()
            warnings = [line for line in target.server.tail(100000).splitlines()
                        if " WARNING " in line or " ERROR " in line]
            if warnings:
                say(f"  {target.server.name} log has {len(warnings)} warnings/errors, e.g.: {warnings[0][:200]}")

    # -- report -----------------------------------------------------------------------------------

    def get(self, target: str, connections: int, round_no: int) -> Result | None:
        return next((r for r in self.results
                     if r.target == target and r.connections == connections and r.round == round_no), None)

    def report(self) -> bool:
        print()
        print(f"{'round':>5} {'target':<22} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}  {'requests':>8}"
              f"  {'cpu ms/req':>10}")
        for r in self.results:
            cpu = f"{r.cpu_ms_per_request:>10.3f}" if r.cpu_ms_per_request is not None else f"{'-':>10}"
            print(f"{r.round:>5} {r.target:<22} {r.connections:>5} {r.rps:>9.1f} {r.p50_ms:>8.2f} "
                  f"{r.p99_ms:>8.2f}  {r.wrk['requests']:>8}  {cpu}")
        print()
        all_met = True
        rounds = range(1, self.args.rounds + 1)
        variants = [f"sqlite-{name}" for name, _ in self.args.also_sqlite]
        for backend in [*self.args.backends, *variants]:
            per_round: dict[str, list[float]] = {"throughput": [], "p99": [], "scaling": [], "cpu": []}
            for n in rounds:
                bare = self.get("bare", HIGH, n)
                full1, full32 = self.get(f"full/{backend}", LOW, n), self.get(f"full/{backend}", HIGH, n)
                if bare and full1 and full32:
                    per_round["throughput"].append(full32.rps / bare.rps)
                    per_round["p99"].append(full32.p99_ms / bare.p99_ms)
                    per_round["scaling"].append(full32.rps / full1.rps)
                    if bare.cpu_ms_per_request and full32.cpu_ms_per_request:
                        per_round["cpu"].append(bare.cpu_ms_per_request / full32.cpu_ms_per_request)
            if not per_round["throughput"]:
                print(f"{backend}: incomplete, no ratios")
                all_met = False
                continue
            goal_t = GOAL_THROUGHPUT[backend.split("-", 1)[0]]
            medians = {k: statistics.median(v) for k, v in per_round.items() if v}
            ratios = (
                ("full/bare throughput @32", "throughput", f">= {goal_t:.2f}", medians["throughput"] >= goal_t),
                ("full p99 / bare p99 @32", "p99", f"<= {GOAL_P99_RATIO:.0f}", medians["p99"] <= GOAL_P99_RATIO),
                ("full@32 / full@1 throughput", "scaling", f">= {GOAL_SCALING:.2f}",
                 medians["scaling"] >= GOAL_SCALING),
            )
            spoiled = [r for r in self.results if r.target == f"full/{backend}" and r.problems]
            if spoiled:  # e.g. replayed duplicates are cheap: such a ratio flatters the app
                print(f"{backend}: {len(spoiled)} run(s) failed their checks (below); these ratios are NOT valid")
                all_met = False
            print(f"{backend} (median of {len(per_round['throughput'])} rounds; each round's values in brackets):")
            for label, key, goal, met in ratios:
                values = ", ".join(f"{v:.3f}" for v in per_round[key])
                print(f"  {label:<30} {medians[key]:>7.3f}   goal {goal:<8} {'MET' if met else 'MISSED'}   [{values}]")
                all_met = all_met and (met or backend in variants)  # a variant is a comparison, not a goal
            if per_round["cpu"]:
                # Not a goal: how much less CPU the bare server spends per request than this one, i.e.
                # the throughput ratio this process would reach if it had a core to itself.
                values = ", ".join(f"{v:.3f}" for v in per_round["cpu"])
                print(f"  {'bare/full server CPU per req @32':<30} {medians['cpu']:>7.3f}   (not a goal; "
                      f"server process only{', not PostgreSQL' if backend == 'postgresql' else ''})   [{values}]")
        problems = [(r, p) for r in self.results for p in r.problems]
        if self.reply_lengths:
            lengths = set(self.reply_lengths.values())
            if len(lengths) > 1:
                problems.append((None, f"reply lengths differ between targets: {self.reply_lengths}"))
        print()
        if problems:
            for r, p in problems:
                print(f"CHECK FAILED {r.target + '@' + str(r.connections) + ' round ' + str(r.round) if r else ''}: {p}")
        else:
            print("checks: every full run stored one inbound message and one report per answered request; "
                  "no non-2xx, no socket errors, no spooling, no replayed requests")
        print(f"goals: {'all met' if all_met else 'NOT all met'}")
        return all_met and not problems


@dataclass
class Target:
    server: Server
    rate: float  # warm-up rate at 32 connections, sizes the request pools
    database_url: str | None


def describe_machine() -> str:
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or "?"
    venv_python = subprocess.run([str(BIN / "python"), "-c", "import sys; print(sys.version.split()[0])"],
                                 capture_output=True, text=True).stdout.strip()
    wrk_version = subprocess.run([WRK, "--version"], capture_output=True, text=True).stdout.split("[")[0].strip()
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "?"
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "service", "bots", "migrations"],
                           capture_output=True, text=True).stdout.strip()
    return (f"nproc={os.cpu_count()} cpu={cpu} python={venv_python} {wrk_version} {platform.system()} "
            f"{platform.release()} commit={commit}{'+dirty' if dirty else ''}")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="SMS intake benchmark: full app vs a bare FastAPI floor.")
    parser.add_argument("--quick", action="store_true", help="3 s runs and 1 s warm-ups (a smoke test)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql")
    parser.add_argument("--duration", type=float, default=None, help="seconds per measured run (default 5)")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 3; 1 with --quick)")
    parser.add_argument("--warmup", type=float, default=None, help="seconds of unmeasured load first (default 3)")
    parser.add_argument("--repeat-senders", type=float, default=0.0,
                        help="fraction of requests from an earlier sender (answers, not new reports); default 0")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, databases)")
    parser.add_argument("--also-sqlite", action="append", default=[], metavar="NAME=SQL",
                        help="one more SQLite target, full/sqlite-NAME: the same app on a database to which SQL "
                             "is applied after `samleng migrate` (e.g. an index put back), measured in the same "
                             "rounds; reported for comparison, not held to the goals. Repeatable")
    args = parser.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = [b for b in args.backends if b not in GOAL_THROUGHPUT]
    if unknown or not args.backends:
        parser.error(f"unknown backend(s) {unknown}; use sqlite,postgresql")
    try:
        args.also_sqlite = [tuple(v.split("=", 1)) for v in args.also_sqlite]
        assert all(name.replace("_", "").isalnum() and sql for name, sql in args.also_sqlite)
    except (ValueError, AssertionError):
        parser.error("--also-sqlite takes NAME=SQL (NAME: letters, digits, _)")
    if args.duration is None:
        args.duration = 3.0 if args.quick else 5.0
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.warmup is None:
        args.warmup = 1.0 if args.quick else 3.0
    if not 0 <= args.repeat_senders < 1:
        parser.error("--repeat-senders must be in [0, 1)")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if not (os.path.isfile(WRK) and os.access(WRK, os.X_OK)):
        print(f"sms_intake: wrk not found at {WRK}; install Debian's wrk (apt-get install wrk). "
              "No fallback load generator is used.", file=sys.stderr)
        return 2
    if not (BIN / "samleng").exists():
        print(f"sms_intake: {BIN / 'samleng'} missing; run `python3 dev.py test` once to build .venv",
              file=sys.stderr)
        return 2

    def _terminate(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored
    say(describe_machine())
    say(f"backends={','.join(args.backends)} duration={args.duration:.0f}s warm-up={args.warmup:.0f}s "
        f"wrk -t1 -c{LOW} and -t2 -c{HIGH}")
    with ExitStack() as stack:
        work = Path(tempfile.mkdtemp(prefix="samleng-bench-"))
        if args.keep:
            stack.callback(say, f"kept {work}")
        else:
            stack.callback(shutil.rmtree, work, True)
        bench = Bench(args, work, stack)
        try:
            bench.run()
        except KeyboardInterrupt:
            say("interrupted: stopping servers and removing temporary files")
            return 130
        except BenchError as exc:
            say(f"FAILED: {exc}")
            if bench.results:
                bench.report()
            return 1
        ok = bench.report()
        if bench.reply_lengths:
            say("reply text lengths: " + ", ".join(f"{k}={v}" for k, v in bench.reply_lengths.items()))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
