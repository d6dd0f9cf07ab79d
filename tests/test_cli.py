"""The `samleng` command line, run as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect
from sqlmodel import Session, select

from service.orgs.models import Organisation, User
from service.reports.models import Report
from tests.support.browser import needs_chromium
from tests.support.database import TEST_KEYS

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cli(tmp_path: Path):  # type: ignore[no-untyped-def]
    db = tmp_path / "cli.db"
    env = {**os.environ, **TEST_KEYS, "SAMLENG_DATABASE_URL": f"sqlite:///{db}", "SAMLENG_ENV": "development",
           "SAMLENG_SPOOL_DIR": str(tmp_path / "spool"), "SAMLENG_VAR_DIR": str(tmp_path / "var"),
           "PYTHONPATH": str(ROOT)}  # this checkout's code, whatever the venv's editable install points at

    def run(*args: str, stdin: str = "", **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "service.cli", *args], input=stdin, capture_output=True,
                              text=True, env={**env, **extra}, cwd=tmp_path, timeout=180)

    run.engine = lambda: create_engine(f"sqlite:///{db}")  # type: ignore[attr-defined]
    return run


def test_migrate_then_org_and_user(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("migrate").returncode == 0
    assert "report" in inspect(cli.engine()).get_table_names()
    first = cli("org", "create", "--slug", "khana", "--name", "KHANA")
    again = cli("org", "create", "--slug", "khana", "--name", "KHANA Cambodia")
    assert first.returncode == again.returncode == 0
    assert first.stdout.split()[-1] == again.stdout.split()[-1], "idempotent: same id"
    made = cli("user", "create", "--email", "Dara@khana.org", "--org", "khana", "--role", "handler",
               stdin="a long enough passphrase\n")
    assert made.returncode == 0, made.stderr
    with Session(cli.engine()) as s:
        assert s.exec(select(Organisation)).one().name == "KHANA Cambodia"
        user = s.exec(select(User)).one()
        assert user.email == "dara@khana.org" and user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1")
        assert "passphrase" not in user.password_hash


@pytest.mark.parametrize(
    "args, stdin",
    [
        (("user", "create", "--email", "x@y.org", "--org", "khana", "--role", "handler"), "short\n"),
        (("user", "create", "--email", "x@y.org", "--org", "nowhere", "--role", "handler"), "a long enough passphrase\n"),
        (("user", "create", "--email", "x@y.org", "--role", "handler"), "a long enough passphrase\n"),
        (("org", "create", "--slug", "bad slug!", "--name", "X"), ""),
    ],
)
def test_errors_are_one_line_and_non_zero(cli, args, stdin) -> None:  # type: ignore[no-untyped-def]
    assert cli("migrate").returncode == 0
    cli("org", "create", "--slug", "khana", "--name", "KHANA")
    result = cli(*args, stdin=stdin)
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("samleng:")


def test_a_common_password_is_refused_with_a_reason(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("migrate").returncode == 0
    cli("org", "create", "--slug", "khana", "--name", "KHANA")
    result = cli("user", "create", "--email", "x@khana.org", "--org", "khana", "--role", "handler", stdin="qwerty123456\n")
    assert result.returncode != 0 and "common" in result.stderr
    with Session(cli.engine()) as s:
        assert s.exec(select(User)).all() == []


def test_platform_admin_has_no_org(cli) -> None:  # type: ignore[no-untyped-def]
    cli("migrate")
    assert cli("user", "create", "--email", "root@samleng.org", "--role", "admin",
               stdin="a long enough passphrase\n").returncode == 0


def test_demo_is_idempotent(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("migrate").returncode == 0
    first = cli("demo", "--history", "200")
    assert first.returncode == 0, first.stderr
    assert "new_cases=10" in first.stdout and "history=200" in first.stdout
    second = cli("demo")
    assert second.returncode == 0 and "new_cases=0" in second.stdout and "history=0" in second.stdout
    with Session(cli.engine()) as s:
        assert s.exec(select(func.count()).select_from(Report)).one() == 210
        categories = {r.category for r in s.exec(select(Report)).all()}
        assert {"service_quality", "financial_hardship", "human_rights_violation"} <= categories
        assert s.exec(select(func.count()).select_from(Report).where(Report.place_id.is_not(None))).one() >= 8  # type: ignore[union-attr]
    assert cli("worker", "--once").returncode == 0


def test_demo_is_refused_in_production(cli) -> None:  # type: ignore[no-untyped-def]
    result = subprocess.run([sys.executable, "-m", "service.cli", "demo"], capture_output=True, text=True,
                            env={**os.environ, "SAMLENG_ENV": "production"}, timeout=60)
    assert result.returncode != 0 and result.stderr.startswith("samleng:")


def test_unknown_command_fails(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("fly").returncode != 0


def test_cli_changes_are_audited_and_verifiable(cli) -> None:  # type: ignore[no-untyped-def]
    cli("migrate")
    cli("org", "create", "--slug", "khana", "--name", "KHANA")
    cli("user", "create", "--email", "a@khana.org", "--org", "khana", "--role", "supervisor",
        stdin="a long enough passphrase\n")
    result = cli("audit", "verify")
    assert result.returncode == 0 and "intact" in result.stdout
    with cli.engine().begin() as conn:
        conn.exec_driver_sql("UPDATE audit_event SET action = 'forged' WHERE id = 1")
    broken = cli("audit", "verify")
    assert broken.returncode == 1 and "broken at entry 1" in broken.stderr


def _this_quarter() -> tuple[str, str]:
    from service.kit.clock import now

    today = now()
    return str(today.year), str((today.month - 1) // 3 + 1)


@needs_chromium
def test_quarterly_report_right_after_the_demo(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("migrate").returncode == 0
    assert cli("demo").returncode == 0
    year, quarter = _this_quarter()
    out = tmp_path / "q.pdf"
    made = cli("report", "quarterly", "--year", year, "--quarter", quarter, "--lang", "km", "--output", str(out))
    assert made.returncode == 0, made.stderr
    assert out.read_bytes().startswith(b"%PDF") and made.stdout.startswith(f"wrote {out}")


def test_quarterly_report_in_portuguese(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Southern-African organisations report in Portuguese: the CLI offers every platform language."""
    assert cli("migrate").returncode == 0
    year, quarter = _this_quarter()
    out = tmp_path / "q.pdf"
    made = cli("report", "quarterly", "--year", year, "--quarter", quarter, "--lang", "pt", "--output", str(out))
    assert made.returncode == 0, made.stderr
    assert out.read_bytes().startswith(b"%PDF")


def test_quarterly_report_names_the_missing_package(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("migrate").returncode == 0
    year, quarter = _this_quarter()
    out = tmp_path / "q.pdf"
    missing = str(tmp_path / "no-such-chromium")
    result = cli("report", "quarterly", "--year", year, "--quarter", quarter, "--output", str(out),
                 SAMLENG_CHROMIUM=missing)
    assert result.returncode != 0 and not out.exists()
    assert result.stderr.splitlines() == [
        f"samleng: the quarterly report needs Chromium: apt-get install chromium (SAMLENG_CHROMIUM={missing} "
        "is not an executable)"]


def test_the_demo_worker_keeps_messages_in_the_development_outbox(cli) -> None:  # type: ignore[no-untyped-def]
    """`dev.py demo` runs in development without SMTP or Twilio: the worker (its own process) keeps the
    escalation email of the demo's urgent detention case for people to read, instead of a dead letter."""
    from service.outbox.models import DevOutboxMessage, OutboundMessage

    assert cli("migrate").returncode == 0
    assert cli("demo", "--history", "300").returncode == 0  # the history leaves the worker nothing to send
    done = cli("worker", "--once")
    assert done.returncode == 0, done.stderr
    with Session(cli.engine()) as s:
        rows = s.exec(select(OutboundMessage)).all()
        assert rows and {r.status for r in rows} == {"sent"}
        caught = s.exec(select(DevOutboxMessage)).all()
        assert [(c.route, c.to_masked) for c in caught if c.route == "email"] == [
            ("email", "pdcc.bmc@drugs.example.org")]
        assert {c.outbound_id for c in caught} == {r.id for r in rows}
    refused = cli("worker", "--once", SAMLENG_ENV="production", SAMLENG_DEV_OUTBOX="1")  # never in production
    assert refused.returncode != 0
    assert refused.stderr.strip() == "samleng: SAMLENG_DEV_OUTBOX is for development: it cannot be used in production"
