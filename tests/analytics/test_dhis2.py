"""DHIS2: the payload validates against the dataValueSet schema; push against a fake DHIS2 on 127.0.0.1."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from service.analytics import dhis2
from service.audit.models import AuditEvent
from service.cli import main
from service.kit.errors import InvalidInput
from tests.analytics.factories import make_many
from tests.support.database import configure
from tests.support.factories import place
from tests.support.receiver import Receiver, Reply, Request


DHIS2_AUTH = "Basic " + base64.b64encode(b"admin:district").decode()


def dhis2_answer(request: Request) -> Reply:
    """DHIS2's dataValueSets endpoint: 401 without the right Basic credentials, else an ImportSummary."""
    if request.headers.get("authorization", "") != DHIS2_AUTH:
        return Reply(401)
    return Reply(200, {"httpStatus": "OK", "httpStatusCode": 200, "status": "OK", "response": {
        "responseType": "ImportSummary", "status": "SUCCESS",
        "importCount": {"imported": len(request.json()["dataValues"]), "updated": 0, "ignored": 0, "deleted": 0}}})


@pytest.fixture
def fake_dhis2() -> Iterator[Receiver]:
    with Receiver(respond=dhis2_answer) as server:
        yield server


def _seed(session: Session) -> None:
    from datetime import datetime, timezone

    at = datetime(2026, 7, 10, tzinfo=timezone.utc)
    make_many(session, 14, place_id=place(session, "KH-12").id, category="stigma_discrimination", at=at)
    make_many(session, 11, place_id=place(session, "KH-2").id, category="stigma_discrimination", at=at)
    make_many(session, 3, place_id=place(session, "KH-7").id, category="stigma_discrimination", at=at)
    session.commit()


def test_payload_is_suppressed_and_valid(session: Session, places: None, settings) -> None:  # type: ignore[no-untyped-def]
    _seed(session)
    mapping = dhis2.load_mapping()
    payload = dhis2.build_payload(session, period="2026-07")
    body = payload.body
    dhis2.validate(body)
    assert body["period"] == "202607" and body["dataSet"] == mapping.data_set
    values = {(v["orgUnit"], v["dataElement"], v["categoryOptionCombo"]): v["value"] for v in body["dataValues"]}
    de = mapping.data_elements["stigma_discrimination"]
    normal = mapping.category_option_combos["normal"]
    # Kampot's 3 never leave; what is sent is 0 or at least 10.
    assert (mapping.org_units["KH-7"], de, normal) not in values
    assert all(v == "0" or int(v) >= 10 for v in values.values())
    assert payload.suppressed >= 2  # the 3 and at least one complement
    assert values.get((mapping.org_units["KH-12"], de, normal)) == "14"
    assert list(values.values()).count("0") > 50  # zeros are real figures and are sent
    # The schema has teeth.
    with pytest.raises(InvalidInput):
        dhis2.validate({**body, "dataValues": [{**body["dataValues"][0], "value": 3}]})
    with pytest.raises(InvalidInput):
        dhis2.validate({**body, "dataSet": "not-a-uid"})
    with pytest.raises(InvalidInput):
        dhis2.build_payload(session, period="2026-13")


def test_cli_dry_run_prints_payload_and_real_push(session: Session, places: None, settings, fake_dhis2, monkeypatch,  # type: ignore[no-untyped-def]
                                                  capsys) -> None:
    _seed(session)
    assert main(["dhis2", "push", "--period", "2026Q3", "--dry-run"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["period"] == "2026Q3" and printed["dataValues"]
    assert fake_dhis2.received() == []
    configure(monkeypatch, SAMLENG_DHIS2_URL=fake_dhis2.base_url, SAMLENG_DHIS2_USERNAME="admin", SAMLENG_DHIS2_PASSWORD="district")
    assert main(["dhis2", "push", "--period", "2026Q3"]) == 0
    assert "SUCCESS" in capsys.readouterr().out
    (pushed,) = fake_dhis2.received("POST")
    assert pushed.path.startswith("/api/dataValueSets")
    dhis2.validate(pushed.json())
    configure(monkeypatch, SAMLENG_DHIS2_PASSWORD="wrong")
    assert main(["dhis2", "push", "--period", "2026Q3"]) == 2
    assert "401" in capsys.readouterr().err
    session.expire_all()
    actions = [e.action for e in session.exec(select(AuditEvent)).all()]
    assert actions.count("dhis2.push") == 1  # the refused push rolled back with its failure
