"""Retention: with the clock moved past each period, nothing of a closed case's identity or raw story is left.

Residue is counted everywhere it could hide: every encrypted column of every table
(decrypted and searched), every text column, the outbox, the spool folder, the evidence
folder and an `evidence` table (as the Telegram channel may add).
"""

from __future__ import annotations

import io

from datetime import timedelta
from pathlib import Path

from sqlalchemy import LargeBinary, text
from sqlmodel import Session, SQLModel, select

from service.escalation import service as esc
from service.evidence.service import store_evidence
from service.intake.models import ContactVault
from service.kit.crypto import unseal
from service.outbox.models import OutboundMessage
from service.worker import Worker
from service.reports.models import Report
from service.retention.service import purge
from tests.escalation.factories import make_case

PHONE = "+85512399001"
KEPT = "report.narrative_masked"
STORY = "RAWSTORY Sokha at the Chrey centre took 20000 riel, call 012 345 678"


def residue(engine, needles: list[str]) -> list[str]:  # type: ignore[no-untyped-def]
    """Where any needle is still found: 'table.column' for each hit, sealed columns decrypted."""
    hits = []
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            rows = conn.execute(table.select()).mappings().all()
            for row in rows:
                for column in table.columns:
                    value = row[column.name]
                    if value is None:
                        continue
                    if isinstance(column.type, LargeBinary):
                        try:
                            value = unseal(bytes(value))
                        except ValueError:
                            value = bytes(value).decode("latin-1")
                    value = str(value)
                    where = f"{table.name}.{column.name}"
                    # The masked copy is kept by design (it has no phone numbers): only the raw text must go.
                    hits += [where for n in needles if n in value and not (where == KEPT and n == "RAWSTORY")]
    return hits


def files_with(folder: Path, needles: list[str]) -> list[Path]:
    if not folder.exists():
        return []
    return [p for p in folder.rglob("*") if p.is_file() and any(n.encode() in p.read_bytes() for n in needles)]


def jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (24, 24), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def test_purge_leaves_no_contact_raw_narrative_or_evidence_of_closed_cases(settings, engine, seeded, controlled_clock, capsys) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        closed = make_case(s, narrative=STORY, address=PHONE, population=None)
        kept = make_case(s, narrative="RAWKEPT still open", address="+85512399002", population=None)
        escalation = esc.escalate(s, closed, actor="handler")
        esc.record_response(s, escalation, action="resolved", text="Refunded, see 012 345 678")
        esc.close_case(s, closed, actor="handler")
        closed_id, kept_id = closed.id, kept.id
        # A photo of a fee receipt on each case (the Telegram channel's evidence).
        closed_file = store_evidence(s, report_id=closed_id, data=jpeg(), settings=settings).stored_name
        kept_file = store_evidence(s, report_id=kept_id, data=jpeg(), settings=settings).stored_name
        s.commit()
    Worker(engine, settings).run_once()
    evidence = Path(settings.evidence_dir) / closed_file
    assert evidence.exists()
    spool = Path(settings.spool_dir)
    spool.mkdir(parents=True, exist_ok=True)
    (spool / "20261123-dead.bad").write_bytes(b"undecryptable RAWSTORY " + PHONE.encode())

    needles = ["RAWSTORY", PHONE, PHONE.lstrip("+")]
    assert residue(engine, needles), "the setup must leave something to purge"
    with Session(engine) as s:
        assert purge(s, dry_run=True) == {"contacts": 0, "unsent_messages": 0, "narratives": 0,
                                          "outbox_payloads": 0, "evidence": 0, "spool": 0}

    controlled_clock.advance(timedelta(days=settings.contact_grace_days, hours=1))
    with Session(engine) as s:
        dry = purge(s, dry_run=True)
        assert dry["contacts"] == 1 and dry["narratives"] == 0
    from service.cli import main

    assert main(["purge", "--dry-run"]) == 0
    assert "would remove: contacts=1" in capsys.readouterr().out
    assert residue(engine, needles), "a dry run removes nothing"

    controlled_clock.advance(timedelta(days=settings.narrative_retention_days))
    assert Worker(engine, settings).run_once()["purged"] > 0
    assert residue(engine, needles) == []
    assert files_with(Path(settings.evidence_dir), needles) == [] and not evidence.exists()
    assert (Path(settings.evidence_dir) / kept_file).exists()
    assert files_with(spool, needles) == []
    with Session(engine) as s:
        report = s.get(Report, closed_id)
        assert report.narrative_sealed is None and "RAWSTORY" in report.narrative_masked  # type: ignore[union-attr]
        assert report.category == "service_quality" and report.closed_at is not None  # type: ignore[union-attr]
        assert s.exec(select(ContactVault).where(ContactVault.report_id == closed_id)).all() == []
        for row in s.exec(select(OutboundMessage).where(OutboundMessage.report_id == closed_id)).all():
            assert row.body_sealed is None and row.to_sealed is None
        assert s.execute(text("SELECT count(*) FROM evidence WHERE report_id = :r"), {"r": closed_id}).scalar() == 0
        # The open case keeps everything.
        other = s.get(Report, kept_id)
        assert other.narrative_sealed is not None and "RAWKEPT" in unseal(other.narrative_sealed)  # type: ignore[union-attr,arg-type]
        assert s.exec(select(ContactVault).where(ContactVault.report_id == kept_id)).first() is not None
        assert purge(s, dry_run=True) == {"contacts": 0, "unsent_messages": 0, "narratives": 0,
                                          "outbox_payloads": 0, "evidence": 0, "spool": 0}
