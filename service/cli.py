"""The `samleng` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from service.audit.service import record
from service.config import ConfigError, get_settings
from service.kit.errors import DomainError


def _setup_logging() -> None:
    from service.ops.logs import configure_logging

    configure_logging(get_settings().log_level)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.app import create_app

    _setup_logging()
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="info",
                proxy_headers=True, forwarded_allow_ips=args.forwarded_allow_ips)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from service.db import get_engine
    from service.outbox.worker import Worker

    _setup_logging()
    worker = Worker(get_engine(), get_settings())
    if args.once:
        result = worker.run_once()
        print(" ".join(f"{k}={v}" for k, v in result.items()))
        return 0
    worker.run_forever(interval=args.interval)
    return 0


def cmd_migrate(_args: argparse.Namespace) -> int:
    from service.migrate import upgrade

    upgrade(get_settings().database_url)
    return 0


def cmd_demo(_args: argparse.Namespace) -> int:
    from service.db import get_engine, session_scope
    from service.demo import load_demo

    if get_settings().is_production:
        raise ConfigError("demo data (with a published password) is refused in production")
    with session_scope(get_engine()) as session:
        summary = load_demo(session)
    print(" ".join(f"{k}={v}" for k, v in summary.items()))
    return 0


def cmd_audit_verify(_args: argparse.Namespace) -> int:
    from service.audit.service import verify
    from service.db import get_engine, session_scope

    with session_scope(get_engine()) as session:
        intact, bad = verify(session)
    if not intact:
        print(f"samleng: audit chain broken at entry {bad}", file=sys.stderr)
        return 1
    print("audit chain intact")
    return 0


def cmd_org_create(args: argparse.Namespace) -> int:
    from service.db import get_engine, session_scope
    from service.orgs.service import create_org

    with session_scope(get_engine()) as session:
        org = create_org(session, slug=args.slug, name=args.name)
        record(session, actor="cli", action="org.create", object_type="organisation", object_id=org.id,
               detail={"slug": org.slug})
        print(f"organisation {org.slug} id={org.id}")
    return 0


def cmd_user_create(args: argparse.Namespace) -> int:
    from service.db import get_engine, session_scope
    from service.orgs.service import create_user

    password = sys.stdin.readline().rstrip("\n")
    with session_scope(get_engine()) as session:
        user = create_user(session, email=args.email, org_slug=args.org, role=args.role, password=password)
        record(session, actor="cli", action="user.create", object_type="user", object_id=user.id,
               detail={"role": user.role, "org": args.org})
        print(f"user {user.email} id={user.id} role={user.role}")
    return 0


# --- analytics (issue 7) ---------------------------------------------------------------------------

def cmd_dhis2_push(args: argparse.Namespace) -> int:
    import json

    from service.analytics.dhis2 import push
    from service.db import get_engine, session_scope

    with session_scope(get_engine()) as session:
        result = push(session, period=args.period, actor="cli", dry_run=args.dry_run)
    if args.dry_run:
        print(json.dumps(result["payload"], ensure_ascii=False, indent=1))
        print(f"dry run: {len(result['payload']['dataValues'])} values, {result['suppressed_cells']} cells "
              f"suppressed, unmapped places: {', '.join(result['unmapped_places']) or 'none'}", file=sys.stderr)
    else:
        print(f"DHIS2 {result['http']} {result['status']} {json.dumps(result['importCount'])}")
    return 0


def cmd_report_quarterly(args: argparse.Namespace) -> int:
    from pathlib import Path

    from service.analytics.pages import quarterly_report_pdf
    from service.db import get_engine, session_scope

    with session_scope(get_engine()) as session:
        pdf = quarterly_report_pdf(session, year=args.year, quarter=args.quarter, language=args.lang)
        record(session, actor="cli", action="export.quarterly_report", object_type="export",
               detail={"year": args.year, "quarter": args.quarter, "language": args.lang})
    Path(args.output).write_bytes(pdf)
    print(f"wrote {args.output} ({len(pdf)} bytes)")
    return 0


def cmd_analytics_refresh(args: argparse.Namespace) -> int:
    from service.analytics import rollup
    from service.db import get_engine, session_scope

    with session_scope(get_engine()) as session:
        if args.full:
            rollup.rebuild(session)
            print("analytics rollup rebuilt")
        else:
            days = rollup.refresh(session)
            print("analytics rollup rebuilt" if days < 0 else f"analytics rollup: {days} day(s) recomputed")
    return 0


def _add_analytics_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    analytics = sub.add_parser("analytics", help="dashboard figures").add_subparsers(dest="analytics_command",
                                                                                   required=True)
    refresh = analytics.add_parser("refresh", help="bring the pre-aggregated rollup up to date")
    refresh.add_argument("--full", action="store_true", help="recompute everything")
    refresh.set_defaults(func=cmd_analytics_refresh)
    dhis2 = sub.add_parser("dhis2", help="DHIS2 aggregate export").add_subparsers(dest="dhis2_command", required=True)
    push = dhis2.add_parser("push", help="POST the suppressed dataValueSet for a period to SAMLENG_DHIS2_URL")
    push.add_argument("--period", required=True, help="month 2026-07 or quarter 2026Q3")
    push.add_argument("--dry-run", action="store_true", help="print the payload, send nothing")
    push.set_defaults(func=cmd_dhis2_push)
    report = sub.add_parser("report", help="evidence reports").add_subparsers(dest="report_command", required=True)
    quarterly = report.add_parser("quarterly", help="the quarterly evidence report as PDF")
    quarterly.add_argument("--year", type=int, required=True)
    quarterly.add_argument("--quarter", type=int, choices=(1, 2, 3, 4), required=True)
    quarterly.add_argument("--lang", choices=("en", "km"), default="en")
    quarterly.add_argument("--output", required=True)
    quarterly.set_defaults(func=cmd_report_quarterly)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="samleng", description="Samleng feedback and grievance platform")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the web app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--forwarded-allow-ips", default="127.0.0.1")
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="run the background worker")
    worker.add_argument("--once", action="store_true", help="one pass, then exit")
    worker.add_argument("--interval", type=float, default=2.0)
    worker.set_defaults(func=cmd_worker)

    sub.add_parser("migrate", help="upgrade the database to head").set_defaults(func=cmd_migrate)
    sub.add_parser("demo", help="load demo data (idempotent)").set_defaults(func=cmd_demo)

    org = sub.add_parser("org", help="organisations").add_subparsers(dest="org_command", required=True)
    org_create = org.add_parser("create")
    org_create.add_argument("--slug", required=True)
    org_create.add_argument("--name", required=True)
    org_create.set_defaults(func=cmd_org_create)

    audit = sub.add_parser("audit", help="audit log").add_subparsers(dest="audit_command", required=True)
    audit.add_parser("verify", help="check the hash chain").set_defaults(func=cmd_audit_verify)

    user = sub.add_parser("user", help="users").add_subparsers(dest="user_command", required=True)
    user_create = user.add_parser("create", help="password is read from stdin")
    user_create.add_argument("--email", required=True)
    user_create.add_argument("--org")
    user_create.add_argument("--role", required=True, choices=("handler", "supervisor", "admin"))
    user_create.set_defaults(func=cmd_user_create)
    _add_analytics_commands(sub)  # analytics (issue 7)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ConfigError, DomainError) as exc:
        print(f"samleng: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one line, no traceback with data in it
        print(f"samleng: {type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
