"""The `samleng` command line.

Each subcommand imports what it uses inside its own function, on purpose: `samleng migrate` or
`samleng org create` starts without loading the web app, the worker, the triage model or the
Telegram client. This is the one module where function-level imports need no `# deferred:` comment
(tests/test_layers.py checks every other module of service and bots).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import bots.telegram.models  # noqa: F401  (the Telegram adapter's tables)
import service.models  # noqa: F401  (every table, so each command sees the whole model)
from service.audit.service import record
from service.config import ConfigError, get_settings
from service.kit.errors import DomainError
from service.kit.i18n import LANGUAGES

# `samleng serve`: how long a stop waits for open requests (docs/operations.md).
SHUTDOWN_GRACE_SECONDS = 20


def _setup_logging() -> None:
    from service.ops.logs import configure_logging

    configure_logging(get_settings().log_level)
    _apply_clock_offset()


def _apply_clock_offset() -> None:
    """SAMLENG_CLOCK_OFFSET (development and testing only; Settings refuse it in production)."""
    import logging

    from service.kit.clock import parse_offset, set_offset

    offset = parse_offset(get_settings().clock_offset)
    set_offset(offset)
    if offset:
        logging.getLogger("samleng").warning(
            "clock offset %s in effect (SAMLENG_CLOCK_OFFSET): not real time", get_settings().clock_offset.strip()
        )


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.app import create_app

    _setup_logging()
    trust, allow = proxy_trust(args.forwarded_allow_ips)
    uvicorn.run(
        create_app(gc_tuning=True),
        host=args.host,
        port=args.port,
        log_level="info",
        # No request lines: a path can carry a secret (a grievance body's response link,
        # /respond/<token>). Our own log lines carry ids and kinds; /metrics counts the requests.
        access_log=False,
        proxy_headers=trust,
        forwarded_allow_ips=allow,
        # On SIGTERM, requests still open after this many seconds are cut and shutdown goes on
        # (the bot's stored updates wait for the next start): a stop always ends.
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )
    return 0


def proxy_trust(forwarded_allow_ips: str | None) -> tuple[bool, str | None]:
    """X-Forwarded-For/-Proto are believed only from the proxies named (--forwarded-allow-ips or
    SAMLENG_FORWARDED_ALLOW_IPS); by default from nobody, so without a proxy that sets them every
    client is its own address (per-client limits, /metrics' allowed networks)."""
    value = (
        forwarded_allow_ips if forwarded_allow_ips is not None else os.environ.get("SAMLENG_FORWARDED_ALLOW_IPS", "")
    ).strip()
    return (True, value) if value else (False, None)


def cmd_worker(args: argparse.Namespace) -> int:
    from service.db import get_engine
    from service.worker import Worker

    _setup_logging()
    from service.triage.service import warm

    only, skip = _task_set(args.only), _task_set(args.skip)
    try:
        worker = Worker(get_engine(), get_settings(), only=only, skip=skip)
    except ValueError as exc:  # a task name it does not know
        print(f"samleng: {exc}", file=sys.stderr)
        return 2
    warm()  # re-triage and clusters need the model; load it before the first pass
    if args.once:
        result = worker.run_once()
        print(" ".join(f"{k}={v}" for k, v in result.items()))
        if worker.failed:
            failed = ", ".join(f"{name} ({error})" for name, error in worker.failed.items())
            print(f"samleng: worker duties failed: {failed}", file=sys.stderr)
            return 1
        return 0
    worker.run_forever(interval=args.interval)
    return 0


def _task_set(names: str | None) -> set[str] | None:
    return None if names is None else {name.strip() for name in names.split(",") if name.strip()}


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
        summary = load_demo(session, history=_args.history)
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
    from service.flows.zones import create_org

    with session_scope(get_engine()) as session:
        org = create_org(
            session, slug=args.slug, name=args.name, time_zone=args.time_zone, language=getattr(args, "language", None)
        )
        record(
            session,
            actor="cli",
            action="org.create",
            object_type="organisation",
            object_id=org.id,
            detail={"slug": org.slug, "time_zone": org.time_zone},
        )
        print(f"organisation {org.slug} id={org.id}" + (f" time zone {org.time_zone}" if org.time_zone else ""))
    return 0


def cmd_org_zone(args: argparse.Namespace) -> int:
    """Set (or with "" clear) the time zone an organisation's pages, exports and PDFs show times in."""
    from service.db import get_engine, session_scope
    from service.kit import zones
    from service.flows.zones import set_org_time_zone

    with session_scope(get_engine()) as session:
        org = set_org_time_zone(session, slug=args.slug, time_zone=args.time_zone or None)
        record(
            session,
            actor="cli",
            action="org.time_zone",
            object_type="organisation",
            object_id=org.id,
            detail={"slug": org.slug, "time_zone": org.time_zone},
        )
        print(f"organisation {org.slug} time zone {org.time_zone or zones.default_name() + ' (platform default)'}")
    return 0


def cmd_org_hours(args: argparse.Namespace) -> int:
    """Set an organisation's working hours and public holidays (its working calendar)."""
    from service.db import get_engine, session_scope
    from service.orgs.service import set_org_calendar

    with session_scope(get_engine()) as session:
        org, changed = set_org_calendar(
            session, slug=args.slug, working_hours=args.hours or None, holiday_country=args.holidays or None
        )
        record(
            session,
            actor="cli",
            action="org.calendar",
            object_type="organisation",
            object_id=org.id,
            detail={"slug": org.slug, "changed": changed},
        )
        print(
            f"organisation {org.slug} working hours {org.working_hours or 'mon-fri 08:00-17:00 (default)'}"
            f", public holidays {org.holiday_country or 'none'}"
        )
    return 0


def cmd_user_create(args: argparse.Namespace) -> int:
    from service.db import get_engine, session_scope
    from service.orgs.service import create_user

    password = sys.stdin.readline().rstrip("\n")
    with session_scope(get_engine()) as session:
        user = create_user(session, email=args.email, org_slug=args.org, role=args.role, password=password)
        record(
            session,
            actor="cli",
            action="user.create",
            object_type="user",
            object_id=user.id,
            detail={"role": user.role, "org": args.org},
        )
        print(f"user {user.email} id={user.id} role={user.role}")
    return 0


# -- escalation: routing, bodies, purge, outbox dead letters ------------------------------
def cmd_routing_simulate(args: argparse.Namespace) -> int:
    import json

    from service.db import get_engine, session_scope
    from service.routing.service import simulate

    with session_scope(get_engine()) as session:
        result = simulate(
            session, category=args.category, place=args.place, urgency=args.urgency, population=args.population
        )
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    rule = result["rule"]
    if rule is None:
        print("no rule matches")
        return 0
    print(f"rule {rule['key']} v{rule['version']} (priority {rule['priority']}): {rule['name']}")
    print(f"handled by: {result['org'] or '-'}" + ("  (escalated at once)" if rule["auto_escalate"] else ""))
    for rung in result["ladder"]:
        spec = " ".join(f"{k}={v}" for k, v in rung["spec"].items())
        print(f"  {rung['rung'] + 1}. {spec:<40} -> {rung['body'] or '(no body here: skipped)'}")
    return 0


def cmd_routing_load(args: argparse.Namespace) -> int:
    from pathlib import Path

    from service.db import get_engine, session_scope
    from service.routing.service import load_rules

    with session_scope(get_engine()) as session:
        count = load_rules(session, Path(args.file) if args.file else None, actor="cli")
        record(
            session,
            actor="cli",
            action="routing.load",
            object_type="routing_rule",
            object_id=None,
            detail={"rules": count},
        )
    print(f"rules={count}")
    return 0


def cmd_routing_history(args: argparse.Namespace) -> int:
    from service.db import get_engine, session_scope
    from service.routing.service import rule_history

    with session_scope(get_engine()) as session:
        for rule in rule_history(session, args.key):
            state = "current" if rule.current else "old"
            print(
                f"v{rule.version} {state} {'active' if rule.active else 'retired'} by {rule.created_by} "
                f"at {rule.created_at.isoformat()}: {rule.name}"
            )
    return 0


def cmd_bodies_load(args: argparse.Namespace) -> int:
    from pathlib import Path

    from service.bodies.service import load_bodies
    from service.db import get_engine, session_scope

    with session_scope(get_engine()) as session:
        count = load_bodies(session, Path(args.file) if args.file else None)
        record(
            session,
            actor="cli",
            action="bodies.load",
            object_type="grievance_body",
            object_id=None,
            detail={"bodies": count},
        )
    print(f"bodies={count}")
    return 0


def cmd_bodies_list(_args: argparse.Namespace) -> int:
    from service.bodies.service import deadline_for, jurisdiction_codes, list_bodies
    from service.db import get_engine, session_scope

    with session_scope(get_engine()) as session:
        for body in list_bodies(session):
            outputs = ",".join(
                k for k, v in (("email", body.email), ("webhook", body.webhook_url), ("sms", body.sms_sealed)) if v
            )
            hours = int(deadline_for(body).total_seconds() // 3600)
            print(
                f"{body.slug:<18} {body.level:<21} {hours:>4}h {outputs:<18} {' '.join(jurisdiction_codes(session, body))}"
            )
    return 0


def cmd_bodies_credentials(args: argparse.Namespace) -> int:
    from service.bodies.service import get_body, issue_api_token, set_webhook_secret, webhook_secret
    from service.db import get_engine, session_scope

    with session_scope(get_engine()) as session:
        body = get_body(session, args.slug)
        if args.bodies_command == "token":
            print(issue_api_token(session, body))
            action = "bodies.token"
        else:
            print(set_webhook_secret(session, body) if args.rotate else (webhook_secret(body) or "(no webhook)"))
            action = "bodies.secret"
        record(session, actor="cli", action=action, object_type="grievance_body", object_id=body.id, detail={})
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    from service.db import get_engine, session_scope
    from service.retention.service import purge

    _apply_clock_offset()
    with session_scope(get_engine()) as session:
        counts = purge(session, dry_run=args.dry_run)
        if not args.dry_run:
            record(
                session, actor="cli", action="retention.purge", object_type="retention", object_id=None, detail=counts
            )
    print(("would remove: " if args.dry_run else "removed: ") + " ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


def cmd_outbox(args: argparse.Namespace) -> int:
    from service.db import get_engine, session_scope
    from service.outbox.service import dead_letters, retry_now

    with session_scope(get_engine()) as session:
        if args.outbox_command == "retry":
            row = retry_now(session, args.id)
            record(
                session, actor="cli", action="outbox.retry", object_type="outbound_message", object_id=row.id, detail={}
            )
            print(f"outbox #{row.id} queued again")
            return 0
        for row in dead_letters(session):
            print(
                f"#{row.id} {row.kind:<9} report={row.report_id or '-'} attempts={row.attempts} {row.last_error or ''}"
            )
    return 0


def _add_escalation_commands(sub: argparse._SubParsersAction) -> None:
    routing = sub.add_parser("routing", help="routing rules").add_subparsers(dest="routing_command", required=True)
    sim = routing.add_parser("simulate", help="where would this case go?")
    sim.add_argument("--category")
    sim.add_argument("--place", help="place code or name")
    sim.add_argument("--urgency", choices=("urgent", "high", "normal"))
    sim.add_argument("--population")
    sim.add_argument("--json", action="store_true")
    sim.set_defaults(func=cmd_routing_simulate)
    load = routing.add_parser("load", help="load rules from YAML (default: the bundled seed)")
    load.add_argument("--file")
    load.set_defaults(func=cmd_routing_load)
    hist = routing.add_parser("history", help="every version of a rule")
    hist.add_argument("--key", required=True)
    hist.set_defaults(func=cmd_routing_history)

    bodies = sub.add_parser("bodies", help="grievance bodies").add_subparsers(dest="bodies_command", required=True)
    bload = bodies.add_parser("load", help="load bodies from YAML (default: the bundled seed)")
    bload.add_argument("--file")
    bload.set_defaults(func=cmd_bodies_load)
    bodies.add_parser("list").set_defaults(func=cmd_bodies_list)
    token = bodies.add_parser("token", help="issue a new API bearer token for a body (printed once)")
    token.add_argument("--slug", required=True)
    token.set_defaults(func=cmd_bodies_credentials)
    secret = bodies.add_parser("secret", help="show (or --rotate) a body's webhook signing secret")
    secret.add_argument("--slug", required=True)
    secret.add_argument("--rotate", action="store_true")
    secret.set_defaults(func=cmd_bodies_credentials)

    purge = sub.add_parser("purge", help="apply the retention periods now")
    purge.add_argument("--dry-run", action="store_true", help="only count what would be removed")
    purge.set_defaults(func=cmd_purge)

    outbox = sub.add_parser("outbox", help="outbound messages").add_subparsers(dest="outbox_command", required=True)
    outbox.add_parser("dead", help="list dead letters").set_defaults(func=cmd_outbox)
    retry = outbox.add_parser("retry", help="retry a dead letter now")
    retry.add_argument("--id", type=int, required=True)
    retry.set_defaults(func=cmd_outbox)


# --- Telegram ---
def cmd_telegram_set_webhook(args: argparse.Namespace) -> int:
    import asyncio

    from bots.telegram.polling import set_webhook

    url = asyncio.run(set_webhook(get_settings(), url=args.url, drop_pending=args.drop_pending_updates))
    print(f"telegram webhook set to {url}")
    return 0


def cmd_telegram_poll(_args: argparse.Namespace) -> int:
    import asyncio

    from bots.telegram.polling import poll

    _setup_logging()
    asyncio.run(poll(get_settings()))
    return 0


# --- triage -------------------------------------------------------
def cmd_triage(args: argparse.Namespace) -> int:
    from service.triage.batch import run

    return run(sys.stdin.buffer, sys.stdout, sys.stderr)


def cmd_triage_train(args: argparse.Namespace) -> int:
    from service.triage import model as triage_model

    corrections = []
    if not args.no_db:
        from service.db import get_engine, session_scope
        from service.triage.service import corrections as read_corrections

        with session_scope(get_engine()) as session:
            corrections = read_corrections(session)
    examples = triage_model.repo_examples()
    model = triage_model.train(examples, corrections=corrections)
    path = triage_model.model_path()
    triage_model.save(model, path)
    print(f"triage model trained on {len(examples)} examples and {len(corrections)} corrections: {path}")
    return 0


# --- end triage ---------------------------------------------------------------
# --- analytics ---------------------------------------------------------------------------


def cmd_dhis2_push(args: argparse.Namespace) -> int:
    import json

    from service.analytics.dhis2 import push
    from service.db import get_engine, session_scope

    with session_scope(get_engine()) as session:
        result = push(session, period=args.period, actor="cli", dry_run=args.dry_run)
    if args.dry_run:
        print(json.dumps(result["payload"], ensure_ascii=False, indent=1))
        print(
            f"dry run: {len(result['payload']['dataValues'])} values, {result['suppressed_cells']} cells "
            f"suppressed, unmapped places: {', '.join(result['unmapped_places']) or 'none'}",
            file=sys.stderr,
        )
    else:
        print(f"DHIS2 {result['http']} {result['status']} {json.dumps(result['importCount'])}")
    return 0


def cmd_report_quarterly(args: argparse.Namespace) -> int:
    from pathlib import Path

    from service.analytics.pages import quarterly_report_pdf
    from service.db import get_engine, session_scope

    with session_scope(get_engine()) as session:
        pdf = quarterly_report_pdf(session, year=args.year, quarter=args.quarter, language=args.lang)
        record(
            session,
            actor="cli",
            action="export.quarterly_report",
            object_type="export",
            detail={"year": args.year, "quarter": args.quarter, "language": args.lang},
        )
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


def _add_analytics_commands(sub: argparse._SubParsersAction) -> None:
    analytics = sub.add_parser("analytics", help="dashboard figures").add_subparsers(
        dest="analytics_command", required=True
    )
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
    quarterly.add_argument("--lang", choices=LANGUAGES, default="en")
    quarterly.add_argument("--output", required=True)
    quarterly.set_defaults(func=cmd_report_quarterly)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="samleng", description="Samleng feedback and grievance platform")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the web app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--forwarded-allow-ips",
        default=None,
        help="proxies whose X-Forwarded-For is believed (default: none; SAMLENG_FORWARDED_ALLOW_IPS)",
    )
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="run the background worker")
    worker.add_argument("--once", action="store_true", help="one pass, then exit")
    worker.add_argument("--interval", type=float, default=2.0)
    worker.add_argument(
        "--only",
        metavar="TASKS",
        default=None,
        help="run only these tasks (comma-separated, e.g. triage; docs/deployment.md)",
    )
    worker.add_argument(
        "--skip",
        metavar="TASKS",
        default=None,
        help="run every task but these (e.g. triage, when another worker runs it)",
    )
    worker.set_defaults(func=cmd_worker)

    sub.add_parser("migrate", help="upgrade the database to head").set_defaults(func=cmd_migrate)
    demo = sub.add_parser("demo", help="load demo data (idempotent)")
    demo.add_argument(
        "--history",
        type=int,
        default=None,
        metavar="N",
        help="reports of the past 18 months to load once (default 3000; 0: only the live cases)",
    )
    demo.set_defaults(func=cmd_demo)

    org = sub.add_parser("org", help="organisations").add_subparsers(dest="org_command", required=True)
    org_create = org.add_parser("create")
    org_create.add_argument("--slug", required=True)
    org_create.add_argument("--name", required=True)
    org_create.add_argument("--time-zone", default=None, help="IANA zone, e.g. Asia/Phnom_Penh, Africa/Maputo")
    org_create.add_argument(
        "--language",
        choices=("km", "en", "pt"),
        default=None,
        help="language of its people's alert emails when they have not chosen one",
    )
    org_create.set_defaults(func=cmd_org_create)
    org_zone = org.add_parser("zone", help="set the time zone its pages, exports and PDFs show times in")
    org_zone.add_argument("--slug", required=True)
    org_zone.add_argument("--time-zone", required=True, help='IANA zone, e.g. Africa/Johannesburg; "" for the default')
    org_zone.set_defaults(func=cmd_org_zone)
    org_hours = org.add_parser("hours", help="set its working hours and public holidays (deadlines in working time)")
    org_hours.add_argument("--slug", required=True)
    org_hours.add_argument("--hours", default="", help='e.g. "mon-fri 08:00-12:00,13:00-17:00"; "" for the default')
    org_hours.add_argument("--holidays", default="", help='country code: KH, ZA, LS, MZ, SZ, BW, MW; "" for none')
    org_hours.set_defaults(func=cmd_org_hours)

    audit = sub.add_parser("audit", help="audit log").add_subparsers(dest="audit_command", required=True)
    audit.add_parser("verify", help="check the hash chain").set_defaults(func=cmd_audit_verify)

    triage = sub.add_parser("triage", help="triage JSON Lines from stdin (see docs/triage.md)")
    triage.set_defaults(func=cmd_triage)
    triage_sub = triage.add_subparsers(dest="triage_command")
    triage_train = triage_sub.add_parser("train", help="retrain the model from repo data and handler corrections")
    triage_train.add_argument("--no-db", action="store_true", help="repo data only, without the database")
    triage_train.set_defaults(func=cmd_triage_train)

    user = sub.add_parser("user", help="users").add_subparsers(dest="user_command", required=True)
    user_create = user.add_parser("create", help="password is read from stdin")
    user_create.add_argument("--email", required=True)
    user_create.add_argument("--org")
    user_create.add_argument("--role", required=True, choices=("handler", "supervisor", "admin"))
    user_create.set_defaults(func=cmd_user_create)
    _add_escalation_commands(sub)

    # --- Telegram ---
    telegram = sub.add_parser("telegram", help="Telegram bot").add_subparsers(dest="telegram_command", required=True)
    set_hook = telegram.add_parser("set-webhook", help="register SAMLENG_PUBLIC_URL/webhooks/telegram with the secret")
    set_hook.add_argument("--url", help="override the webhook URL")
    set_hook.add_argument("--drop-pending-updates", action="store_true")
    set_hook.set_defaults(func=cmd_telegram_set_webhook)
    telegram.add_parser("poll", help="run the bot by long polling (no public URL needed)").set_defaults(
        func=cmd_telegram_poll
    )
    _add_analytics_commands(sub)  # analytics
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
