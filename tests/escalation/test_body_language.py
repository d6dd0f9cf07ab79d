"""A grievance body gets its emails and its response page in its own language (km, en, pt).

The language is a body setting, edited in the bodies file (`samleng bodies load`); the email
goes over a real local SMTP server (aiosmtpd), the page over real HTTP.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from sqlmodel import Session

from service.bodies.service import DATA_FILE, get_body, load_bodies, upsert_body
from service.config import get_settings
from service.escalation import service as esc
from service.kit.errors import InvalidInput
from service.worker import Worker
from tests.escalation.factories import make_case

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
KHMER = re.compile("[\u1780-\u17ff]")


def set_language_in_bodies_file(session: Session, tmp_path: Path, slug: str, language: str) -> None:
    """Edit the bodies file the way a deployer does, then load it."""
    data = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    for item in data["bodies"]:
        if item["slug"] == slug:
            item["language"] = language
    path = tmp_path / "bodies.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    load_bodies(session, path)


def escalate_and_deliver(settings, engine, smtp):  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        report = make_case(s, narrative="No TB medicine at the health centre, call me on 012 345 678")
        escalation = esc.escalate(s, report, actor="handler")
        url = esc.response_url(escalation)
        s.commit()
    assert Worker(engine, settings).run_once()["delivered"] >= 1
    (mail,) = smtp.messages
    return mail, url


def test_email_to_a_khmer_body_is_in_khmer(settings, engine, seeded, smtp) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        assert get_body(s, "chrey-hc").language == "km"
    mail, _ = escalate_and_deliver(settings, engine, smtp)
    text = mail.get_content()
    assert KHMER.search(str(mail["Subject"])) or KHMER.search(text)
    assert "សូមឆ្លើយតបមុនថ្ងៃ" in text and "Please answer by" not in text


def test_email_to_a_portuguese_body_is_in_portuguese(settings, engine, seeded, smtp, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        set_language_in_bodies_file(s, tmp_path, "chrey-hc", "pt")
        s.commit()
    mail, _ = escalate_and_deliver(settings, engine, smtp)
    subject, text = str(mail["Subject"]), mail.get_content()
    assert subject.startswith("[Samleng] Caso ") and "por favor responda até" in subject
    assert "Um membro da comunidade comunicou um problema" in text
    assert "Por favor responda até" in text and "Responda numa só página" in text
    assert "Mau atendimento" in text and "[phone]" in text and "012 345 678" not in text
    assert "Please answer by" not in text and not KHMER.search(text.split("/respond/")[0].replace(
        "មណ្ឌលសុខភាពជ្រៃ", ""))


def test_email_to_an_english_body_is_in_english(settings, engine, seeded, smtp, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        set_language_in_bodies_file(s, tmp_path, "chrey-hc", "en")
        s.commit()
    mail, _ = escalate_and_deliver(settings, engine, smtp)
    assert "Please answer by" in mail.get_content()


def test_response_page_of_a_portuguese_body(settings, engine, seeded, live_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    get_settings().public_url = live_server.base_url
    with Session(engine) as s:
        set_language_in_bodies_file(s, tmp_path, "chrey-hc", "pt")
        report = make_case(s)
        url = esc.response_url(esc.escalate(s, report, actor="handler"))
        s.commit()
    path = url.removeprefix(live_server.base_url)
    page = live_server.client.get(path)
    assert page.status_code == 200 and 'lang="pt"' in page.text
    assert "Resposta sobre um problema comunicado" in page.text and "Isto não é com a nossa instituição" in page.text
    assert 'href="?lang=km"' in page.text and 'href="?lang=en"' in page.text
    csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    answer = live_server.client.post(path, data={"csrf": csrf, "action": "acknowledge", "text": "", "lang": "pt"})
    assert answer.status_code == 200 and "A sua resposta foi registada" in answer.text
    khmer = live_server.client.get(path + "?lang=km")
    assert 'lang="km"' in khmer.text


def test_a_body_language_must_be_one_we_write(session: Session, seeded) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput, match="km, en or pt"):
        upsert_body(session, slug="x-body", name_en="X", level="national", language="fr")
    assert upsert_body(session, slug="mz-body", name_en="Y", level="national", language="pt").language == "pt"
