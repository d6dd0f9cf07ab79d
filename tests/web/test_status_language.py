"""The public status page speaks the reporter's language: ?lang=pt|km|en, else Accept-Language."""

from __future__ import annotations

from sqlmodel import Session

from service.reports.service import create_report
from tests.support.review import csrf_of


def _code(engine) -> str:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        _report, code = create_report(s, channel="sms", reporter_id=None, narrative="Nao ha medicamentos", language="pt")
        s.commit()
    return code


def test_status_page_in_portuguese_by_query(app, engine) -> None:  # type: ignore[no-untyped-def]
    code = _code(engine)
    page = app.get("/status?lang=pt").text
    assert "Ver uma queixa" in page and 'lang="pt"' in page
    result = app.post("/status?lang=pt", data={"code": code, "csrf_token": csrf_of(page)}).text
    assert "recebida, à espera de ser vista" in result
    missing = app.post("/status?lang=pt", data={"code": "0000-0000", "csrf_token": csrf_of(page)})
    assert missing.status_code == 404 and "Nenhuma queixa tem o codigo" in missing.text


def test_status_page_in_portuguese_by_accept_language(app) -> None:  # type: ignore[no-untyped-def]
    page = app.get("/status", headers={"Accept-Language": "pt-MZ,pt;q=0.9,en;q=0.5"}).text
    assert "Ver uma queixa" in page
    assert 'lang="km"' in app.get("/status", headers={"Accept-Language": "km-KH"}).text
    assert 'lang="en"' in app.get("/status", headers={"Accept-Language": "fr, en;q=0.5"}).text


def test_status_page_form_keeps_the_chosen_language(app) -> None:  # type: ignore[no-untyped-def]
    page = app.get("/status?lang=km").text
    assert 'lang="km"' in page and 'action="/status?lang=km"' in page


def test_unknown_language_falls_back_to_english(app) -> None:  # type: ignore[no-untyped-def]
    page = app.get("/status?lang=xx").text
    assert "Check a report" in page


def test_language_switch_offers_the_other_two(app) -> None:  # type: ignore[no-untyped-def]
    page = app.get("/status?lang=pt").text
    assert 'value="km"' in page and 'value="en"' in page and 'value="pt"' not in page
