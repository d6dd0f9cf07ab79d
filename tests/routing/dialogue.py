"""Drive the intake dialogue in-process, as a phone would through the webhook, and read cases back."""

from __future__ import annotations

from sqlmodel import Session, col, select

from service.bodies.models import GrievanceBody
from service.escalation.models import Escalation
from service.intake.schemas import InboundMessage
from service.intake.service import receive
from service.orgs.models import Organisation
from service.orgs.service import create_user
from service.reports.models import Report
from service.routing.models import ReportRoute, RoutingRule

PASSWORD = "correct-horse-battery"
# The detention scenario: an urgent Khmer SMS, as a sibling would type it.
# "Please help, brothers and sisters: my younger brother was beaten by the police and is held in the
#  drug rehabilitation centre right now, they won't let us see him"
DETENTION = "បងៗជួយផង ប្អូនប្រុសខ្ញុំត្រូវប៉ូលីសវាយ ហើយចាប់ឃុំនៅមណ្ឌលស្តារនីតិសម្បទាគ្រឿងញៀន ឥឡូវនេះ គេមិនឲ្យជួបទេ"
# category 4 (rights), the province in Khmer, no follow-up
DETENTION_ANSWERS = ["4", "បន្ទាយមានជ័យ", "ទេ"]


def text(engine, settings, number: str, message: str, step: int) -> str:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        reply = receive(s, InboundMessage(channel="sms", external_id=f"SM{number[-7:]}{step:03d}", address=number,
                                          text=message), settings=settings)
        s.commit()
        return reply.text


def people(engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        for email, org in (("handler@khana.example", "khana-demo"), ("handler@legalaid.example", "legal-aid-demo"),
                           ("supervisor@legalaid.example", "legal-aid-demo")):
            create_user(s, email=email, org_slug=org, role="supervisor" if "supervisor" in email else "handler",
                        password=PASSWORD)
        s.commit()


def latest_report(s: Session) -> Report:
    return s.exec(select(Report).order_by(col(Report.id).desc())).first()  # type: ignore[return-value]


def org_of(s: Session, report: Report) -> str | None:
    return s.get_one(Organisation, report.org_id).slug if report.org_id else None


def rule_of(s: Session, report: Report) -> str | None:
    route = s.exec(select(ReportRoute).where(ReportRoute.report_id == report.id)).first()
    return s.get_one(RoutingRule, route.rule_id).rule_key if route and route.rule_id else None


def escalated_to(s: Session, report: Report) -> list[str]:
    rows = s.exec(select(Escalation).where(Escalation.report_id == report.id).order_by(col(Escalation.id))).all()
    return [s.get_one(GrievanceBody, e.body_id).slug for e in rows]
