"""A grievance body falling behind: its supervisors hear when its on-time share drops below their line.

An organisation sets `organisation.body_alert_below` (a percent; none: no alert). Each check takes,
per body, the escalations of the organisation's cases reported in the last `WINDOW_DAYS` days whose
deadline outcome is settled (answered on time, or late or never: service/analytics/escalations.py,
the dashboard's "Answered within the deadline"), and looks only at a body with at least the
suppression threshold of them (10 by default: fewer say little about a body). When the share is
below the line and was not at the last check, the organisation's active supervisors and
administrators get one email each, in their language, through the outbox. `body_alert` remembers
the state per organisation and body, so the next checks send nothing until the share has come back
to the line or above and falls again (one alert per crossing). Without SMTP nothing is queued; the
crossing is still remembered.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import text
from sqlmodel import Session, col, select

from service.alerts.models import BodyAlert
from service.alerts.service import reader_languages
from service.analytics import queries as q
from service.analytics.escalations import deadline_tally
from service.bodies.models import GrievanceBody
from service.config import Settings
from service.db import session_scope
from service.kit import zones
from service.kit.clock import now
from service.kit.crypto import seal
from service.kit.i18n import N_, gettext
from service.kit.models import require_id
from service.kit.tasks import Task, TaskContext
from service.orgs.models import BODY_ALERT_WINDOW_DAYS, SUPERVISING, Organisation, User
from service.outbox.models import OutboundMessage

WINDOW_DAYS = BODY_ALERT_WINDOW_DAYS
PREFIX = "body-alert:"  # the emails' dedupe keys: body-alert:<org>:<body>:<crossing>:<user>
SUBJECT = N_("[Samleng] {body} answered {share}% of your cases on time")
TEXT = N_(
    "Over the last {days} days, {body} answered {on_time} of {total} escalations of your organisation's "
    "cases by their deadline ({share}%): below the {below}% your organisation set for this alert. "
    "The dashboard has the body's figures: {url}"
)


def window_start(at: datetime | None = None) -> datetime:
    """The first day of the window, as a wall-clock bound (each report's local day, as the dashboard)."""
    day = zones.local(at or now(), zones.default_name()).date() - timedelta(days=WINDOW_DAYS)
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def check(session: Session, settings: Settings) -> int:
    """Compare every body's on-time share with each organisation's line; alert on the way down.
    Returns how many crossings were alerted."""
    alerted = 0
    if session.get_bind().dialect.name == "postgresql":  # several workers: one check at a time
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('samleng_body_alerts'))"))
    orgs = session.exec(select(Organisation).where(col(Organisation.body_alert_below).is_not(None))).all()
    for org in orgs:
        line, org_id = org.body_alert_below, require_id(org)
        if line is None:  # the query takes only organisations with a line
            continue
        tally = deadline_tally(session, q.Filters(window_start(), None, org_id=org.id))
        states = {s.body_id: s for s in session.exec(select(BodyAlert).where(BodyAlert.org_id == org.id))}
        for body_id, (on_time, late) in sorted(tally.items()):
            total = on_time + late
            if total < settings.suppression_threshold:
                continue  # too few to say anything about the body: the state stays as it was
            share = round(100 * on_time / total)
            below = 100 * on_time < line * total
            state = states.get(body_id) or BodyAlert(org_id=org_id, body_id=body_id)
            if below == state.below and state.id is not None:
                continue
            state.below, state.share, state.total, state.changed_at = below, share, total, now()
            if below:
                state.crossings += 1
                _queue(
                    session,
                    settings,
                    org,
                    body_id,
                    state.crossings,
                    {"share": share, "on_time": on_time, "total": total, "below": org.body_alert_below},
                )
                alerted += 1
            session.add(state)
    session.flush()
    return alerted


def _queue(
    session: Session, settings: Settings, org: Organisation, body_id: int, crossing: int, figures: dict[str, object]
) -> None:
    """One email per active supervisor or administrator of the organisation (each in their language)."""
    if not settings.smtp_url:
        return
    body = session.get(GrievanceBody, body_id)
    people = session.exec(
        select(User).where(User.org_id == org.id, col(User.is_active).is_(True), col(User.role).in_(SUPERVISING))
    ).all()
    url = f"{settings.public_url.rstrip('/')}/dashboard#body-answered_on_time"
    for user in people:
        key = f"{PREFIX}{org.id}:{body_id}:{crossing}:{user.id}"
        if session.exec(select(OutboundMessage.id).where(OutboundMessage.dedupe_key == key)).first() is not None:
            continue
        languages = reader_languages(user, org)

        def params(lang: str) -> dict[str, object]:
            name = (body.name_km if lang == "km" else body.name_en) if body else str(body_id)
            return {"body": name, "days": WINDOW_DAYS, "url": url, **figures}

        subject = " / ".join(gettext(lang, SUBJECT, **params(lang)) for lang in languages)
        text = "\n\n".join(gettext(lang, TEXT, **params(lang)) for lang in languages)
        session.add(
            OutboundMessage(
                kind="email",
                channel="email",
                dedupe_key=key,
                to_sealed=seal(user.email),
                body_sealed=seal(json.dumps({"subject": subject, "text": text}, ensure_ascii=False)),
                next_attempt_at=now(),
            )
        )


BODY_CHECK_SECONDS = 60.0


def check_bodies(ctx: TaskContext) -> int:
    with session_scope(ctx.engine) as session:
        return check(session, ctx.settings)


def tasks(ctx: TaskContext) -> list[Task]:
    """Once a minute at most: the bodies below an organisation's line (the worker's pass)."""
    return [Task("body_alerts", lambda: check_bodies(ctx), key="body_alerts", every_seconds=BODY_CHECK_SECONDS)]
