#!/usr/bin/env python3
"""Review-queue speed on a million cases: every filter, a deep page, text search, counts,
against a primary-key lookup and a bare endpoint measured in the same run.

    .venv/bin/python bench/make_cases.py --url sqlite:////tmp/cases.db        # once (see that file)
    .venv/bin/python bench/review_queue.py --url sqlite:////tmp/cases.db
    .venv/bin/python bench/review_queue.py --postgres                                 # throwaway durable cluster,
                                                                               # filled by make_cases first

For the database given, a fresh `samleng serve` (one uvicorn process) is started on 127.0.0.1.
"cold" is the first request of each kind on that fresh process (the OS page cache is not
dropped: the machine is shared); "warm" is the median and p95 of the next 30 sequential
requests. Throughput is Debian's `wrk` for 5 s at 1 and at 32 connections, on the queue's
first page (JSON list, bearer token), on the web queue's HTML first page `/` (session cookie;
its counts come in a second request, /queue/counts, timed apart) and on GET /healthz (the bare
endpoint). The primary-key lookup is
`SELECT … FROM report WHERE id = ?` in process. Query plans are taken on the real tables.

Latency under load: 32 handlers at once (`wrk -c32`, bounded by `--duration` seconds and a
10 s timeout per request) on the web queue's first page `/`, the JSON first page and the case
page `/cases/{id}` (fifty of the handler's cases in turn; each view writes its audit entry, as a
real view does); wrk reports the p95 through a small Lua script. Goals: first page p95 ≤ 50 ms,
case page p95 ≤ 80 ms. `--only-load` runs just these (and the bare endpoint) for a quick figure.
`--think MS` (repeatable) gives each of the 32 handlers a pause between their requests, drawn
evenly from 0.5–1.5 × MS (wrk's `delay()`; the pause is not part of the latency): 32 people who
read what they opened, instead of 32 connections that ask again the moment an answer comes.
`--think 0` is the closed loop above (the default). A paced run lasts at least 30 s per page so
that its p95 rests on hundreds of requests. Every level asked for is checked against the goals.
`--processes N` (PostgreSQL) serves with N processes sharing the port instead of one.
The server runs THIS checkout's code (`python -m service.cli serve`, PYTHONPATH the repository).

Exit status: 0 all goals met, 1 a goal missed, 2 bad usage.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named like the standard library's `queue`: take its folder off the import path
# before anything imports `queue` (uvicorn, the app's writer thread).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = ROOT / ".venv" / "bin"
WRK = "/usr/bin/wrk"
WARM = 30


def say(message: str) -> None:
    print(f"[queue-bench] {message}", flush=True)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tokens(url: str) -> dict[str, str]:
    """Bearer tokens for a handler of the biggest organisation and for the platform admin."""
    from sqlmodel import Session, select

    from service.auth.service import start_session
    from service.config import get_settings
    from service.db import build_engine
    from service.orgs.models import User

    engine = build_engine(get_settings(), url=url)
    out = {}
    with Session(engine) as s:
        for key, email in (("handler", "handler0@org00.bench"), ("admin", "root@bench")):
            user = s.exec(select(User).where(User.email == email)).one()
            out[key] = start_session(s, user=user, kind="bearer").token
        # the web queue's session cookie for the same handler (what a browser sends)
        user = s.exec(select(User).where(User.email == "handler0@org00.bench")).one()
        out["web"] = start_session(s, user=user, kind="web").token
        s.commit()
    engine.dispose()
    return out


def sample_ids(url: str) -> dict:
    """A province, a cluster, a case id and a cursor deep in the handler's queue."""
    from sqlalchemy import text
    from sqlmodel import Session

    from service.config import get_settings
    from service.db import build_engine
    from service.queue.service import OPEN_STATUSES, encode_cursor

    engine = build_engine(get_settings(), url=url)
    with Session(engine) as s:
        org = s.execute(text("SELECT org_id FROM app_user WHERE email='handler0@org00.bench'")).scalar()
        province = s.execute(text("SELECT id FROM place WHERE kind='province' AND code LIKE 'KH%' ORDER BY id LIMIT 1")).scalar() \
            or s.execute(text("SELECT id FROM place WHERE kind='province' ORDER BY id LIMIT 1")).scalar()
        cluster = s.execute(text("SELECT cluster_id FROM report WHERE org_id=:o AND cluster_id IS NOT NULL LIMIT 1"),
                            {"o": org}).scalar()
        case_id = s.execute(text("SELECT max(id) FROM report WHERE org_id=:o"), {"o": org}).scalar()
        statuses = ", ".join(f"'{x}'" for x in OPEN_STATUSES)
        segment = f"org_id=:o AND urgency='normal' AND due_at IS NOT NULL AND status IN ({statuses})"
        size = s.execute(text(f"SELECT count(*) FROM report WHERE {segment}"), {"o": org}).scalar()
        row = s.execute(text(f"SELECT due_at, created_at, id FROM report WHERE {segment} "
                             "ORDER BY due_at, created_at, id LIMIT 1 OFFSET :k"), {"o": org, "k": size // 2}).one()
        from service.kit.models import UTCDateTime

        conv = UTCDateTime().process_result_value
        due, created = (conv(v if not isinstance(v, str) else __import__("datetime").datetime.fromisoformat(v), None)
                        for v in row[:2])
        open_total = s.execute(text(f"SELECT count(*) FROM report WHERE org_id=:o AND status IN ({statuses})"),
                               {"o": org}).scalar()
        total = s.execute(text("SELECT count(*) FROM report")).scalar()
    engine.dispose()
    return {"org": org, "province": province, "cluster": cluster, "case": case_id, "total": total,
            "open": open_total, "deep_offset": size // 2,
            "deep_cursor": encode_cursor((2, 0, due, created, row[2]))}


def pk_lookup(url: str, case_id: int, n: int = 200) -> list[float]:
    from sqlalchemy import text

    from service.config import get_settings
    from service.db import build_engine

    engine = build_engine(get_settings(), url=url)
    times = []
    with engine.connect() as conn:
        for i in range(n):
            t = time.perf_counter()
            conn.execute(text("SELECT * FROM report WHERE id = :id"), {"id": case_id - (i % 50)}).one()
            times.append(time.perf_counter() - t)
        conn.rollback()
    engine.dispose()
    return times


def plans(url: str, ids: dict) -> dict[str, str]:
    """EXPLAIN of the first segment query of each filter, on the real tables (no planner hints)."""
    from sqlmodel import Session, select

    from service.config import get_settings
    from service.db import build_engine
    from service.kit.clock import now
    from service.orgs.models import User
    from service.queue import service as q

    engine = build_engine(get_settings(), url=url)
    out = {}
    with Session(engine) as s:
        user = s.exec(select(User).where(User.email == "handler0@org00.bench")).one()
        for name, filters in filter_cases(ids).items():
            f = q.Filters(**filters)
            conds = q.filter_conditions(s, user=user, filters=f, at=now())
            rank, seg = q._segments(f)[0]
            stmt = q.segment_statement(base=[*q.scope_conditions(s, user)[0], *conds], rank=rank, seg=seg,
                                       after=None, limit=51)
            out[name] = q.explain(s, stmt, seqscan=True)
    engine.dispose()
    return out


def filter_cases(ids: dict) -> dict[str, dict]:
    return {
        "status=in_progress": {"status": ("in_progress",)}, "category": {"category": "stigma_discrimination"},
        "urgency=urgent": {"urgency": "urgent"}, "place (province)": {"place_id": ids["province"]},
        "channel=telegram": {"channel": "telegram"}, "population": {"population": "sex_worker"},
        "assigned=me": {"assigned": "me"}, "unassigned": {"assigned": "unassigned"}, "overdue": {"overdue": True},
        "cluster": {"cluster_id": ids["cluster"]}, "q=clinic": {"q": "clinic"}, "q=methadone": {"q": "methadone"},
        "q=Khmer word": {"q": "មណ្ឌលសុខភាព"},
    }


def query_string(filters: dict) -> dict:
    out = {}
    for k, v in filters.items():
        out[k] = v[0] if isinstance(v, tuple) else ("true" if v is True else v)
    return out


def timed(client: httpx.Client, path: str, params: dict, headers: dict) -> tuple[float, list[float]]:
    def one() -> float:
        t = time.perf_counter()
        r = client.get(path, params=params, headers=headers)
        elapsed = time.perf_counter() - t
        if r.status_code != 200:
            raise SystemExit(f"{path} {params}: HTTP {r.status_code} {r.text[:200]}")
        return elapsed

    cold = one()
    return cold, [one() for _ in range(WARM)]


def p95(xs: list[float]) -> float:
    return sorted(xs)[max(0, int(len(xs) * 0.95) - 1)]


P95_SCRIPT = """
local paths = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
%s
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("P95_US %%d\\nP50_US %%d\\nREQUESTS %%d\\nERRORS %%d\\n", latency:percentile(95),
    latency:percentile(50), summary.requests, e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def think_script(think_ms: int) -> str:
    """wrk's `delay()`: a pause of 0.5–1.5 × `think_ms` before each request of a connection (its first
    too, so the handlers do not all start at once). None at 0, so the closed loop stays as it was."""
    if think_ms <= 0:
        return ""
    return (f"math.randomseed({think_ms})\n"
            f"delay = function() return math.random({think_ms // 2}, {think_ms * 3 // 2}) end")


def wrk_latency(base: str, paths: list[str], headers: dict, conns: int, duration: int,
                think_ms: int = 0) -> dict[str, float]:
    """p50 and p95 (ms), requests per second and errors of `conns` connections for `duration` s,
    each connection asking for `paths` in turn, pausing `think_ms` on average between requests."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(P95_SCRIPT % (", ".join(f'"{p}"' for p in paths), think_script(think_ms)))
        script = f.name
    try:
        cmd = [WRK, "-t2", f"-c{conns}", f"-d{duration}s", "--timeout", "10s", "-s", script, base]
        for k, v in headers.items():
            cmd[1:1] = ["-H", f"{k}: {v}"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script)
    found = {k: float(v) for k, v in re.findall(r"^(P95_US|P50_US|REQUESTS|ERRORS) (\d+)$", out, re.M)}
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return {"p50": found["P50_US"] / 1000, "p95": found["P95_US"] / 1000, "rps": rate,
            "requests": found["REQUESTS"], "errors": found["ERRORS"]}


def case_ids(url: str, org: int, n: int = 50) -> list[int]:
    """`n` open cases of the handler's organisation (the case pages a handler opens)."""
    from sqlalchemy import text
    from sqlmodel import Session

    from service.config import get_settings
    from service.db import build_engine

    engine = build_engine(get_settings(), url=url)
    with Session(engine) as s:
        ids = list(s.execute(text("SELECT id FROM report WHERE org_id=:o AND status IN ('received', 'triaged', "
                                  "'in_progress') ORDER BY id DESC LIMIT :n"), {"o": org, "n": n}).scalars())
    engine.dispose()
    return ids


def load(base: str, url: str, ids: dict, h: dict, w: dict, duration: int, thinks: tuple[int, ...] = (0,)) -> bool:
    """32 handlers at once on the first page (HTML and JSON) and the case page: p50/p95 and the goals,
    for each pause between a handler's requests in `thinks` (ms; 0 = none, the closed loop)."""
    cases = case_ids(url, ids["org"])
    targets = (("HTML first page /", ["/"], w, 0.050), ("JSON first page /api/v1/cases", ["/api/v1/cases"], h, 0.050),
               ("case page /cases/{id}", [f"/cases/{c}" for c in cases], w, 0.080))
    print("| 32 handlers at once | pause between requests | requests | req/s | p50 ms | p95 ms | goal p95 | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    ok = True
    for think in thinks:
        seconds = duration if think <= 0 else max(duration, 30)
        pause = "none" if think <= 0 else f"{think / 2000:g}–{think * 3 / 2000:g} s"
        for name, paths, headers, goal in targets:
            r = wrk_latency(base, paths, headers, 32, seconds, think)
            met = r["p95"] <= goal * 1000 and r["errors"] == 0
            ok = ok and met
            print(f"| {name} | {pause} | {r['requests']:.0f} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | "
                  f"≤ {goal * 1000:.0f} {'MET' if met else 'MISSED'} | {r['errors']:.0f} |", flush=True)
    print()
    return ok


def wrk(url: str, headers: dict, conns: int, duration: int) -> float:
    threads = 1 if conns == 1 else 2
    cmd = [WRK, f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--timeout", "10s", url]
    for k, v in headers.items():
        cmd[1:1] = ["-H", f"{k}: {v}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"wrk saw errors:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


HTML = "HTML first page / (handler)"
FRAG = "HTML counts fragment /queue/counts"
FRAG_CAT = "HTML counts fragment, category filter"
FRAG_PLACE = "HTML counts fragment, province filter"


def serve_command(port: int, processes: int) -> list[str]:
    """`samleng serve` (one process, as deployed), or uvicorn's own supervisor with `processes`
    worker processes sharing the port: what several `serve` behind a proxy would do, without a proxy
    taking a share of the cores. PostgreSQL only (on SQLite a second `serve` is not supported)."""
    if processes == 1:
        return [sys.executable, "-m", "service.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    return [sys.executable, "-m", "uvicorn", "service.app:create_app", "--factory", "--workers", str(processes),
            "--no-access-log", "--log-level", "warning", "--host", "127.0.0.1", "--port", str(port)]


def run(url: str, duration: int, only_load: bool = False, processes: int = 1, thinks: tuple[int, ...] = (0,)) -> bool:
    ids = sample_ids(url)
    tok = tokens(url)
    say(f"{ids['total']} cases; handler's organisation has {ids['open']} open; deep cursor at offset "
        f"{ids['deep_offset']} of its normal-urgency segment")
    port = free_port()
    var = Path(tempfile.mkdtemp(prefix="samleng-qbench-"))
    env = {**os.environ, "SAMLENG_DATABASE_URL": url, "SAMLENG_LOG_LEVEL": "WARNING", "SAMLENG_VAR_DIR": str(var),
           "SAMLENG_SPOOL_DIR": str(var / "spool"), "SAMLENG_ENV": "development"}
    env["PYTHONPATH"] = str(ROOT)  # this checkout's code (the `samleng` script may point at another)
    server = subprocess.Popen(serve_command(port, processes), cwd=var, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    ok = True
    try:
        deadline = time.monotonic() + 120  # start-up takes longer on a loaded machine
        while True:
            try:
                if httpx.get(base + "/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("server did not start")
            time.sleep(0.1)
        h = {"Authorization": f"Bearer {tok['handler']}"}
        a = {"Authorization": f"Bearer {tok['admin']}"}
        w = {"Cookie": f"__Host-samleng={tok['web']}"}
        if only_load:
            with httpx.Client(base_url=base, timeout=60) as client:  # warm the process (templates, statements)
                for path, headers in (("/", w), ("/api/v1/cases", h)):
                    timed(client, path, {}, headers)
            return load(base, url, ids, h, w, duration, thinks)
        results: list[tuple[str, float, list[float]]] = []
        with httpx.Client(base_url=base, timeout=60) as client:
            results.append(("bare GET /healthz", *timed(client, "/healthz", {}, {})))
            results.append(("first page (handler)", *timed(client, "/api/v1/cases", {}, h)))
            results.append(("first page (platform admin)", *timed(client, "/api/v1/cases", {}, a)))
            results.append(("deep page (keyset)", *timed(client, "/api/v1/cases", {"cursor": ids["deep_cursor"]}, h)))
            results.append(("first page + counts", *timed(client, "/api/v1/cases", {"with_counts": "true"}, h)))
            for name, filters in filter_cases(ids).items():
                results.append((f"filter {name}", *timed(client, "/api/v1/cases", query_string(filters), h)))
            # The web queue (HTML, signed in by the session cookie): the page without its counts, the
            # 30-second refresh (rows only), the counts fragment the page loads after itself, and the
            # page with the counts inline (counts=1, the no-JavaScript link; what every page cost before).
            results.append(("HTML first page / (handler)", *timed(client, "/", {}, w)))
            results.append(("HTML rows refresh (HX-Request)", *timed(client, "/", {}, {**w, "HX-Request": "true"})))
            results.append(("HTML counts fragment /queue/counts", *timed(client, "/queue/counts", {}, w)))
            results.append((FRAG_CAT,
                            *timed(client, "/queue/counts", {"category": "stigma_discrimination"}, w)))
            results.append((FRAG_PLACE,
                            *timed(client, "/queue/counts", {"place_id": str(ids["province"])}, w)))
            results.append(("HTML page with counts inline (counts=1)", *timed(client, "/", {"counts": "1"}, w)))
        pk = pk_lookup(url, ids["case"])
        results.append(("primary-key lookup (in process)", pk[0], pk[1:]))
        print()
        print("| request | cold ms | warm median ms | warm p95 ms | × first page |")
        print("|---|---:|---:|---:|---:|")
        first = statistics.median(next(r for r in results if r[0] == "first page (handler)")[2])
        for name, cold, warm in results:
            print(f"| {name} | {cold * 1000:.1f} | {statistics.median(warm) * 1000:.1f} | {p95(warm) * 1000:.1f} | "
                  f"{statistics.median(warm) / first:.2f} |")
        print()
        med = {name: statistics.median(warm) for name, _, warm in results}
        q95 = {name: p95(warm) for name, _, warm in results}
        rps = {}
        targets = (("first page", "/api/v1/cases", h), ("HTML first page /", "/", w), ("bare /healthz", "/healthz", {}))
        for name, path, headers in targets:
            for conns in (1, 32):
                rps[(name, conns)] = wrk(base + path, headers, conns, duration)
        print("| target | req/s at 1 connection | req/s at 32 connections | 32 / 1 |")
        print("|---|---:|---:|---:|")
        for name, _, _ in targets:
            print(f"| {name} | {rps[(name, 1)]:.0f} | {rps[(name, 32)]:.0f} | {rps[(name, 32)] / rps[(name, 1)]:.2f} |")
        print()
        goals = [
            ("deep page ≤ 2× first page", med["deep page (keyset)"] <= 2 * first,
             f"{med['deep page (keyset)'] / first:.2f}×"),
            ("counts ≤ 10× first page", med["first page + counts"] <= 10 * first,
             f"{med['first page + counts'] / first:.2f}×"),
            ("first page @32 ≥ 10% of bare @32", rps[("first page", 32)] >= 0.10 * rps[("bare /healthz", 32)],
             f"{rps[('first page', 32)] / rps[('bare /healthz', 32)]:.1%}"),
            ("first page @32 ≥ 80% of its @1", rps[("first page", 32)] >= 0.80 * rps[("first page", 1)],
             f"{rps[('first page', 32)] / rps[('first page', 1)]:.0%}"),
            ("HTML first page @32 ≥ 10% of bare @32",
             rps[("HTML first page /", 32)] >= 0.10 * rps[("bare /healthz", 32)],
             f"{rps[('HTML first page /', 32)] / rps[('bare /healthz', 32)]:.1%}"),
            ("HTML first page @32 ≥ 80% of its @1", rps[("HTML first page /", 32)] >= 0.80 * rps[("HTML first page /", 1)],
             f"{rps[('HTML first page /', 32)] / rps[('HTML first page /', 1)]:.0%}"),
            ("HTML counts fragment ≤ 10× HTML first page (plain and filtered)",
             max(med[FRAG], med[FRAG_CAT], med[FRAG_PLACE]) <= 10 * med[HTML],
             f"{med[FRAG] / med[HTML]:.2f}×; with a category filter {med[FRAG_CAT] / med[HTML]:.2f}×, "
             f"with a province {med[FRAG_PLACE] / med[HTML]:.2f}×"),
            ("one-word search p95 < 100 ms", q95["filter q=clinic"] < 0.100 and q95["filter q=methadone"] < 0.100,
             f"clinic {q95['filter q=clinic'] * 1000:.0f} ms, methadone {q95['filter q=methadone'] * 1000:.0f} ms"),
        ]
        for name, met, figure in goals:
            print(f"- {'MET' if met else 'MISSED'}: {name} ({figure})")
            ok = ok and met
        print()
        ok = load(base, url, ids, h, w, duration, thinks) and ok
        for name, plan in plans(url, ids).items():
            flat = " / ".join(line.strip() for line in plan.splitlines() if line.strip())
            print(f"- plan {name}: {flat[:300]}")
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(var, ignore_errors=True)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a database made by bench/make_cases.py")
    parser.add_argument("--postgres", action="store_true",
                        help="start a throwaway durable PostgreSQL cluster, fill it with make_cases, measure")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--only-load", action="store_true",
                        help="only the 32-handler latency of the first page and the case page")
    parser.add_argument("--processes", type=int, default=1,
                        help="serve processes sharing the port (PostgreSQL only; default 1, as measured for the goals)")
    parser.add_argument("--think", type=int, action="append", metavar="MS",
                        help="each handler pauses 0.5-1.5 x MS between requests (repeatable; default 0, no pause)")
    args = parser.parse_args()
    thinks = tuple(args.think or [0])
    if any(t < 0 for t in thinks):
        say("--think takes milliseconds, 0 or more")
        return 2
    if args.processes < 1 or (args.processes > 1 and not args.postgres and not (args.url or "").startswith("postgresql")):
        say("--processes above 1 needs PostgreSQL (a second serve on SQLite is not supported)")
        return 2
    if not Path(WRK).exists():
        say("wrk is missing (apt-get install wrk)")
        return 2
    if args.postgres:
        import dev

        bindir = dev._pg_bindir()
        if bindir is None:
            say("no PostgreSQL here")
            return 2
        cluster = dev.ThrowawayPostgres(bindir, durable=True)
        url = cluster.start()
        try:
            t = time.perf_counter()
            subprocess.run([str(BIN / "python"), str(ROOT / "bench" / "make_cases.py"), "--url", url,
                            "--cases", str(args.cases)], check=True)
            say(f"make_cases took {time.perf_counter() - t:.1f}s")
            return 0 if run(url, args.duration, args.only_load, args.processes, thinks) else 1
        finally:
            cluster.stop()
    if not args.url:
        parser.print_usage()
        return 2
    return 0 if run(args.url, args.duration, args.only_load, args.processes, thinks) else 1


if __name__ == "__main__":
    sys.exit(main())
