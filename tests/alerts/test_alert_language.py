"""An urgent case's alert email is written in each handler's own language: the user's (kept when
they switch the language of the pages), else their organisation's, else English and Khmer together
as before; Khmer, English and Portuguese from the catalogues (both databases)."""

from __future__ import annotations

import json

from sqlmodel import Session, col, select

from service.alerts.service import alert_urgent
from service.kit.crypto import unseal
from service.orgs.models import Organisation, User
from service.orgs.service import create_org, create_user
from service.outbox.models import OutboundMessage
from tests.support.factories import make_report
from tests.support.review import PASSWORD, build_world, csrf_of, sign_in


def _mails(s: Session, report_id: int) -> dict[str, dict]:
    rows = s.exec(select(OutboundMessage).where(OutboundMessage.report_id == report_id,
                                                col(OutboundMessage.dedupe_key).startswith("urgent-alert:"))).all()
    return {unseal(r.to_sealed): json.loads(unseal(r.body_sealed)) for r in rows}


def test_each_person_reads_the_alert_in_their_language(engine, settings) -> None:
    settings.smtp_url = "smtp://127.0.0.1:1"
    with Session(engine, expire_on_commit=False) as s:
        org = create_org(s, slug="mozambique-miners", name="Miners' TB group", language="pt")
        create_user(s, email="ana@mz.test", org_slug=org.slug, role="handler", password=PASSWORD)
        dara = create_user(s, email="dara@mz.test", org_slug=org.slug, role="supervisor", password=PASSWORD)
        dara.language = "km"
        other = create_org(s, slug="no-language", name="No language set")
        create_user(s, email="sok@kh.test", org_slug=other.slug, role="handler", password=PASSWORD)
        report = make_report(s, org_id=org.id, urgency="urgent", category="service_quality")
        unset = make_report(s, org_id=other.id, urgency="urgent", category="service_quality")
        assert alert_urgent(s, report, settings) == 2 and alert_urgent(s, unset, settings) == 1
        s.commit()
        mails = _mails(s, report.id)
        both = _mails(s, unset.id)["sok@kh.test"]
    ana, dara_mail = mails["ana@mz.test"], mails["dara@mz.test"]
    assert ana["subject"] == f"Caso urgente n.º {report.id} na sua fila"
    assert "Urgent" not in ana["text"] and "ករណី" not in ana["text"] and "/cases/" in ana["text"]
    assert "Mau atendimento" in ana["text"] and "service_quality" not in ana["text"]  # named, not its code
    assert dara_mail["subject"] == f"ករណីបន្ទាន់ #{report.id} នៅក្នុងបញ្ជីរបស់អ្នក"
    assert "Urgent" not in dara_mail["text"] and "service_quality" not in dara_mail["text"]
    # Nobody chose a language: English and Khmer, as before.
    assert both["subject"].startswith(f"Urgent case #{unset.id}") and "ករណីបន្ទាន់" in both["subject"]


def test_switching_the_pages_language_is_the_users_language(app, engine) -> None:
    with Session(engine, expire_on_commit=False) as s:
        world = build_world(s)
    sign_in(app, "handler@a.test")
    token = csrf_of(app.get("/").text)
    assert app.post("/lang", data={"lang": "pt", "csrf_token": token, "next": "/"},
                    follow_redirects=False).status_code == 303
    with Session(engine) as s:
        assert s.get(User, world.users["a:handler"].id).language == "pt"
        assert s.get(Organisation, world.orgs["a"]).language is None
    app.post("/lang", data={"lang": "xx", "csrf_token": token, "next": "/"}, follow_redirects=False)
    with Session(engine) as s:
        assert s.get(User, world.users["a:handler"].id).language == "pt"  # an unknown language changes nothing
