#!/usr/bin/env python3
"""Refresh docs/screenshots/: every page of the app, taken from the demo (its 18-month history included)
by Debian's chromium through Playwright, on a throwaway SQLite database.

    .venv/bin/python tools/screenshots.py            # or: python3 dev.py screenshots
    .venv/bin/python tools/screenshots.py --out /tmp/shots

It runs `samleng migrate`, `samleng demo`, one worker pass (so the development outbox holds the demo's
messages) and `samleng serve` on a free loopback port, as separate processes, then signs in as the demo's
supervisor and its platform administrator. The PNGs are reduced to 64 colours (a page is mostly flat
colour and text) and cut at 2400 px high, so the folder stays small in git.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("SAMLENG_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-quic", "--disable-sync", "--no-first-run"]
PASSWORD = "samleng-demo-password"  # service/demo.py (refused in production)
SUPERVISOR, ADMIN = "supervisor@khana.demo", "admin@samleng.demo"
SCORECARD = "KH-2-OD-THMORKOUL-HC-CHREY"  # Chrey health centre: the history's busiest
MAX_HEIGHT = 2400
TIMEOUT_MS = 180_000


def say(message: str) -> None:
    print(f"[screenshots] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "service.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=900)
    if done.returncode:
        raise SystemExit(f"samleng {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def small_png(path: Path) -> None:
    """64 colours, optimised: a third of the size or less, and still sharp text."""
    from PIL import Image

    with Image.open(path) as img:
        reduced = img.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    reduced.save(path, optimize=True)


def shoot(page, out: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_load_state("networkidle")
    height = min(page.evaluate("document.documentElement.scrollHeight"), MAX_HEIGHT)
    width = page.viewport_size["width"]
    target = out / f"{name}.png"
    page.screenshot(path=str(target), full_page=True, clip={"x": 0, "y": 0, "width": width, "height": height})
    small_png(target)
    say(f"{name}.png {target.stat().st_size // 1024} kB")


def sign_in(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("table.queue")


def take(base: str, out: Path, case_id: int, escalated_id: int) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS, timeout=TIMEOUT_MS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.goto(base + "/public")
        shoot(page, out, "public")
        page.goto(base + "/public?lang=km")
        shoot(page, out, "public-km")
        page.goto(base + "/status")
        shoot(page, out, "status")
        page.goto(base + "/")
        shoot(page, out, "login")
        sign_in(page, base, SUPERVISOR)
        page.wait_for_selector("#counts [data-counts]")
        shoot(page, out, "queue")
        page.goto(base + f"/cases/{case_id}")
        shoot(page, out, "case")
        page.goto(base + f"/cases/{escalated_id}")
        shoot(page, out, "case-after")  # a case of the history: escalations, the bodies' answers, closure
        page.goto(base + "/dashboard")
        shoot(page, out, "dashboard")
        page.goto(base + f"/scorecards/{SCORECARD}")
        shoot(page, out, "scorecard")
        page.goto(base + "/account")
        shoot(page, out, "account")
        for candidate in [case_id, *range(1, 60)]:  # a case that still has a body to go to
            page.goto(base + f"/cases/{candidate}/escalate")
            if page.locator("#escalate-confirm-form").count():
                break
        shoot(page, out, "escalate-confirm")  # where the case would go, before it goes
        for path, name in (("/supervise/workload", "workload"), ("/supervise/replies", "reply-templates"),
                           ("/tags", "tags"), ("/filters", "saved-views"), ("/admin/bodies", "bodies")):
            page.goto(base + path)
            shoot(page, out, name)
        page.goto(base + "/")
        page.get_by_role("button", name="ខ្មែរ").click()
        page.wait_for_function("document.documentElement.lang === 'km'")
        page.wait_for_selector("#counts [data-counts]")
        shoot(page, out, "queue-km")
        page.goto(base + f"/cases/{case_id}")
        shoot(page, out, "case-km")
        page.goto(base + "/dashboard")
        shoot(page, out, "dashboard-km")
        page.goto(base + "/")
        page.get_by_role("button", name="English").click()
        page.wait_for_function("document.documentElement.lang === 'en'")
        context.close()

        admin = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
        admin.set_default_timeout(TIMEOUT_MS)
        page = admin.new_page()
        sign_in(page, base, ADMIN)
        for path, name in (("/admin/users", "users"), ("/admin/routing", "routing"), ("/admin/audit", "audit"),
                           ("/admin/dead-letters", "dead-letters"), ("/admin/agents", "agents"),
                           ("/dev/outbox", "dev-outbox")):
            page.goto(base + path)
            shoot(page, out, name)
        admin.close()

        phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        phone.set_default_timeout(TIMEOUT_MS)
        page = phone.new_page()
        sign_in(page, base, SUPERVISOR)
        shoot(page, out, "queue-phone")
        phone.close()
        browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="samleng-shots-"))
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SAMLENG_DATABASE_URL": f"sqlite:///{work}/demo.db",
           "SAMLENG_VAR_DIR": str(work), "SAMLENG_INTAKE_ORG": "khana-demo",
           "SAMLENG_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    started = time.perf_counter()
    cli(env, "migrate")
    say(cli(env, "demo"))
    cli(env, "worker", "--once")
    say(f"demo database ready in {time.perf_counter() - started:.1f}s")
    case_id, escalated_id = _cases(env)
    server = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--host", "127.0.0.1", "--port",
                               str(port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=5)  # noqa: S310 - loopback
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("samleng serve did not start") from None
                time.sleep(0.5)
        take(base, args.out, case_id, escalated_id)
    finally:
        server.terminate()
        server.wait(30)
    say(f"done in {time.perf_counter() - started:.1f}s: {args.out}")
    return 0


def _cases(env: dict[str, str]) -> tuple[int, int]:
    """The urgent live demo case (police and condoms), and a closed history case that climbed its ladder."""
    code = ("from sqlmodel import Session, select, col\n"
            "from service.db import get_engine\n"
            "from service.reports.models import Report\n"
            "from service.escalation.models import Escalation\n"
            "with Session(get_engine()) as s:\n"
            "    live = s.exec(select(Report.id).where(Report.urgency == 'urgent', Report.id <= 10)"
            ".order_by(col(Report.id))).first()\n"
            "    esc = s.exec(select(Escalation.report_id).join(Report, col(Report.id) == col(Escalation.report_id))"
            ".where(Escalation.status == 'resolved', Escalation.rung >= 1, Report.status == 'closed')"
            ".order_by(col(Escalation.report_id).desc())).first()\n"
            "    print(live or 1, esc or 1)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    first, second = out.stdout.split()
    return int(first), int(second)


if __name__ == "__main__":
    sys.exit(main())
