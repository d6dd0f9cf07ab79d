"""Reply templates an organisation's supervisor writes, in Khmer, English and Portuguese.

A handler sends one from the case page like the built-in ones (service/queue/actions.py): the text
in the report's language (English when that language's text is empty), through the outbox, with
the same consent check, timeline event and audit entry. Each text shows its SMS length: GSM-7 fits
160 characters in one SMS and 153 a part after that; anything outside GSM-7, Khmer included, is
UCS-2: 70 in one SMS, 67 a part (service/kit/segments.py). Plain functions; callers commit.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from service.auth.principal import Principal
from service.audit.service import record
from service.kit import clock, segments
from service.kit.errors import InvalidInput, NotFound
from service.kit.fastsql import FastQuery, session_connection
from service.kit.masking import mask
from service.queue import actions
from service.queue.actions import MAX_REPLY, NotPermitted
from service.reports.models import Report
from service.supervision.models import ReplyTemplate

LANGS = ("km", "en", "pt")
PREFIX = "org:"  # the case page's template key of an organisation's template: "org:<id>"


def _supervisor_of_org(user: Principal) -> int:
    if user.role not in ("supervisor", "admin") or user.org_id is None:
        raise NotPermitted("an organisation's supervisors and administrators write its reply templates")
    return user.org_id


def org_templates(session: Session, org_id: int | None, *, active_only: bool = True) -> list[ReplyTemplate]:
    if org_id is None:
        return []
    stmt = select(ReplyTemplate).where(ReplyTemplate.org_id == org_id)
    if active_only:
        stmt = stmt.where(col(ReplyTemplate.active).is_(True))
    return list(session.exec(stmt.order_by(col(ReplyTemplate.name))).all())


class _Texts(NamedTuple):
    id: int
    text_km: str
    text_en: str
    text_pt: str


# The case page asks for them on every view: compiled once.
_ACTIVE_TEXTS = FastQuery(
    select(ReplyTemplate.id, ReplyTemplate.text_km, ReplyTemplate.text_en, ReplyTemplate.text_pt)
    .where(ReplyTemplate.org_id == bindparam("org_id"), col(ReplyTemplate.active).is_(True))
    .order_by(col(ReplyTemplate.name)),
    _Texts,
)


def _text(template: ReplyTemplate | _Texts, language: str | None) -> str:
    own = getattr(template, f"text_{language}", "") if language in LANGS else ""
    return own or template.text_en


def counts(template: ReplyTemplate) -> dict[str, segments.SegmentCount | None]:
    return {
        lang: segments.count(getattr(template, f"text_{lang}")) if getattr(template, f"text_{lang}") else None
        for lang in LANGS
    }


def for_case(session: Session, report: Report) -> dict[str, str]:
    """The organisation's active templates for this case, keyed "org:<id>", in the report's language."""
    return {
        f"{PREFIX}{t.id}": _text(t, report.language)
        for t in (_ACTIVE_TEXTS.all(session_connection(session), {"org_id": report.org_id}) if report.org_id else ())
        if _text(t, report.language)
    }


def text_for_case(session: Session, report: Report, key: str) -> str:
    """The text a handler sends with template `key` ("org:<id>"): only a template of the case's organisation."""
    raw = key.removeprefix(PREFIX)
    template = session.get(ReplyTemplate, int(raw)) if raw.isdigit() and int(raw) < 2**31 else None
    if template is None or not template.active or template.org_id != report.org_id:
        raise InvalidInput("unknown reply template")
    text = _text(template, report.language)
    if not text:
        raise InvalidInput("unknown reply template")
    return text


def _clean(name: str, texts: dict[str, str]) -> tuple[str, dict[str, str]]:
    # NUL cannot be stored on PostgreSQL and nobody types one: dropped (the JSON API refuses it with 422).
    name = " ".join((name or "").replace("\x00", "").split())
    texts = {lang: (text or "").replace("\x00", "") for lang, text in texts.items()}
    if not name or len(name) > 80:
        raise InvalidInput("give the template a name (at most 80 characters)")
    cleaned = {lang: (texts.get(lang) or "").strip() for lang in LANGS}
    if not cleaned["en"]:
        raise InvalidInput("the English text is required (it is sent when the report's language has none)")
    for lang, text in cleaned.items():
        if len(text) > MAX_REPLY:
            raise InvalidInput("a reply has at most 640 characters")
        if mask(text) != text:
            raise InvalidInput("a template cannot hold a phone number, email or other identifier")
    return name, cleaned


def save(
    session: Session, *, user: Principal, name: str, texts: dict[str, str], template_id: int | None = None
) -> ReplyTemplate:
    """Create a template for the user's organisation, or edit one of its templates."""
    org_id = _supervisor_of_org(user)
    name, cleaned = _clean(name, texts)
    if template_id is None:
        row = ReplyTemplate(org_id=org_id, name=name)
        before = None
    else:
        found = session.get(ReplyTemplate, template_id)
        if found is None or found.org_id != org_id:
            raise NotFound("no such reply template")
        row = found
        before = {lang: getattr(row, f"text_{lang}") for lang in LANGS}
    clash = session.exec(
        select(ReplyTemplate).where(
            ReplyTemplate.org_id == org_id, ReplyTemplate.name == name, ReplyTemplate.id != row.id if row.id else True
        )
    ).first()
    if clash is not None:
        raise InvalidInput("another template has this name")
    row.name, row.active, row.updated_at = name, True, clock.now()
    for lang in LANGS:
        setattr(row, f"text_{lang}", cleaned[lang])
    session.add(row)
    session.flush()
    changed = sorted(lang for lang in LANGS if before is None or before[lang] != cleaned[lang])
    # The audit entry names the languages whose text changed and their SMS length, never the text.
    record(
        session,
        actor=user.email,
        action="reply_template.create" if before is None else "reply_template.update",
        object_type="reply_template",
        object_id=row.id,
        detail={"languages": changed, "segments": {lang: c.segments for lang, c in counts(row).items() if c}},
    )
    return row


def deactivate(session: Session, *, user: Principal, template_id: int) -> None:
    org_id = _supervisor_of_org(user)
    row = session.get(ReplyTemplate, template_id)
    if row is None or row.org_id != org_id or not row.active:
        raise NotFound("no such reply template")
    row.active = False
    row.updated_at = clock.now()
    session.add(row)
    record(
        session, actor=user.email, action="reply_template.deactivate", object_type="reply_template", object_id=row.id
    )


actions.TEMPLATE_SOURCES[PREFIX] = text_for_case  # a handler's reply with "org:<id>" (queue.actions.reply)
