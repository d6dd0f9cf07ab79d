"""Demo data: places, organisations, users and a set of realistic cases (idempotent)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from service.analytics.rollup import refresh
from service.bodies.service import load_bodies
from service.config import get_settings
from service.demo_history import REPORTS, load_history
from service.flows.routing import route_report
from service.intake.schemas import InboundMessage
from service.intake.service import receive
from service.kit.clock import now
from service.kit.crypto import pseudonym, unseal
from service.orgs.models import Organisation, User
from service.orgs.service import create_org, create_user
from service.places.service import load_places
from service.reports.models import Report, Reporter
from service.routing.models import ReportRoute
from service.routing.service import load_rules
from service.triage.service import apply_triage

DEMO_PASSWORD = "samleng-demo-password"

ORGS = [
    ("khana-demo", "KHANA (demo) - HIV/TB key populations"),
    ("legal-aid-demo", "Legal aid network (demo) - drug treatment and detention"),
    ("exminers-demo", "Ex-mineworkers association (demo) - Southern Africa"),
]
# Each organisation's time zone: Cambodian CSOs in Phnom Penh's, the ex-mineworkers' association
# (Carletonville, Gauteng) in South Africa's.
ZONES = {"khana-demo": "Asia/Phnom_Penh", "legal-aid-demo": "Asia/Phnom_Penh", "exminers-demo": "Africa/Johannesburg"}
USERS = [
    ("handler@khana.demo", "khana-demo", "handler"),
    ("supervisor@khana.demo", "khana-demo", "supervisor"),
    ("handler@legalaid.demo", "legal-aid-demo", "handler"),
    ("handler@exminers.demo", "exminers-demo", "handler"),
    ("admin@samleng.demo", None, "admin"),
]
# (channel, story, answers to category / place / consent)
CASES = [
    ("sms", "No ARV at the health centre for two weeks, they told us to come back next month", ["1", "Chrey", "yes"]),
    ("sms", "The nurse asked me for 10000 riel for a TB test that should be free", ["3", "Thmor Koul", "0"]),
    ("sms", "មណ្ឌលសុខភាពមិនមានថ្នាំ PrEP ទេ ខ្ញុំមកបីដងហើយ", ["1", "បាត់ដំបង", "ទេ"]),
    ("sms", "Staff shouted at me in front of everyone because I am transgender", ["2", "Siem Reap", "0"]),
    (
        "sms",
        "Police took our condoms and threatened to arrest us near the market last night",
        ["4", "Phnom Penh", "yes"],
    ),
    (
        "whatsapp",
        "My brother was taken to the compulsory drug centre and we cannot visit him",
        ["4", "Banteay Meanchey", "0"],
    ),
    ("sms", "គ្រូពេទ្យមិននៅទេ យើងរង់ចាំពេញមួយថ្ងៃ", ["1", "0", "0"]),
    (
        "sms",
        "I worked 15 years at the mine and got TB, the compensation fund never answered",
        ["3", "Carletonville", "no"],
    ),
    ("sms", "They refused my ID Poor card at the referral hospital", ["3", "Battambang", "0"]),
    ("sms", "Thank you to the counsellor at the methadone clinic, very kind", ["5", "0", "0"]),
]
# Review queue: which organisation handles each demo case, its urgency, population and
# deadline in hours from now (negative: already overdue). Set once, only while a case is unrouted.
ROUTING = [
    ("khana-demo", "high", "plhiv", 48),
    ("khana-demo", "normal", "tb", 72),
    ("khana-demo", "normal", "msm", 72),
    ("khana-demo", "high", "transgender", 24),
    ("khana-demo", "urgent", "sex_worker", -2),
    ("legal-aid-demo", "urgent", "people_who_use_drugs", 12),
    ("khana-demo", "normal", "general", 96),
    ("exminers-demo", "high", "miner", 48),
    ("khana-demo", "normal", "general", 120),
    ("khana-demo", "normal", "general", None),
]


def load_demo(session: Session, *, history: int | None = None) -> dict[str, int]:
    """Load everything a demo needs. Safe to run again: nothing is duplicated.

    `history` reports of the past 18 months come on top of the ten live cases (service/demo_history.py;
    default 3000, 0 for none), so the dashboards, scorecards and public page show real figures."""
    places = load_places(session)
    for slug, name in ORGS:
        create_org(session, slug=slug, name=name, time_zone=ZONES.get(slug))
    for email, org, role in USERS:
        if session.exec(select(User).where(User.email == email)).first() is None:
            create_user(session, email=email, org_slug=org, role=role, password=DEMO_PASSWORD)
    # escalation: grievance bodies and routing rules from the bundled YAML seeds
    bodies = load_bodies(session)
    rules = load_rules(session)
    settings = get_settings()
    created = 0
    start = now() - timedelta(days=len(CASES))
    for index, (channel, story, answers) in enumerate(CASES):
        # Demo reporters are fake addresses, stable so a second run finds the same messages.
        address = f"+8550000{index:05d}"
        at = start + timedelta(days=index)
        for step, text in enumerate([story, *answers]):
            reply = receive(
                session,
                InboundMessage(
                    channel=channel,
                    external_id=f"DEMO{index:04d}{step:02d}",
                    address=address,
                    text=text,
                    received_at=at,
                ),
                settings=settings,
            )
            created += int(step == 0 and not reply.duplicate)
    session.flush()
    _triage_demo_cases(session)  # what the worker does seconds after a report arrives
    _shape_demo_cases(session)  # urgency, population, deadline (review queue)
    routed = _route_demo_cases(session)  # organisation and ladder by the routing rules
    past = load_history(session, reports=REPORTS if history is None else history) if history != 0 else 0
    if past:
        refresh(session)  # the dashboards show the history at once, not after the worker's first minute
    return {
        "places": places,
        "organisations": len(ORGS),
        "users": len(USERS),
        "new_cases": created,
        "bodies": bodies,
        "rules": rules,
        "routed": routed,
        "history": past,
    }


def _triage_demo_cases(session: Session) -> None:
    for report in session.exec(select(Report).where(Report.status == "received")).all():
        if report.narrative_sealed is not None:
            apply_triage(session, report, unseal(report.narrative_sealed))


def _route_demo_cases(session: Session) -> int:
    """Route demo cases not yet routed (escalation)."""
    routed = 0
    for report in session.exec(select(Report).where(Report.status != "withdrawn")).all():
        if session.exec(select(ReportRoute).where(ReportRoute.report_id == report.id)).first() is None:
            route_report(session, report, actor="demo")
            routed += 1
    return routed


def _shape_demo_cases(session: Session) -> None:
    """Give each demo case its organisation, urgency and deadline, so the queue has something to show."""
    orgs = {o.slug: o.id for o in session.exec(select(Organisation)).all()}
    for index, (slug, urgency, population, due_hours) in enumerate(ROUTING):
        report = _demo_report(session, index)
        if report is None or report.org_id is not None:
            continue
        report.org_id, report.urgency, report.population = orgs[slug], urgency, population
        report.due_at = now() + timedelta(hours=due_hours) if due_hours is not None else None
        session.add(report)
    session.flush()


def _demo_report(session: Session, index: int):
    channel = CASES[index][0]
    reporter = session.exec(
        select(Reporter).where(Reporter.pseudonym == pseudonym(channel, f"+8550000{index:05d}"))
    ).first()
    if reporter is None:
        return None
    return session.exec(select(Report).where(Report.reporter_id == reporter.id).order_by(col(Report.id))).first()
