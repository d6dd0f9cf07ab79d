"""schemathesis against /openapi.json: generated requests to every /api/v1 operation get no 5xx and
answers that match the published schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from service.app import create_app
from tests.support.review import bearer


@pytest.fixture
def api_schema(settings, engine, world):  # type: ignore[no-untyped-def]
    app = create_app(settings)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return schema.include(path_regex="^/api/v1/")


@pytest.fixture
def auth_headers(app, world) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(app, "supervisor@a.test")


def test_openapi_is_published(app) -> None:  # type: ignore[no-untyped-def]
    spec = app.get("/openapi.json").json()
    assert {"/api/v1/cases", "/api/v1/cases/{case_id}", "/api/v1/auth/token"} <= set(spec["paths"])
    assert "/cases/{case_id}" not in spec["paths"]  # the web pages are not API


def test_api_fuzz(api_schema, auth_headers) -> None:  # type: ignore[no-untyped-def]
    """Every operation, up to 50 generated requests each (schemathesis' pytest plugin does not load
    schemas from fixtures under this pytest, so the operations are walked here)."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:
        headers = dict(auth_headers) if operation.path != "/api/v1/auth/token" else {}

        @given(case=operation.as_strategy())
        @settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case) -> None:  # type: ignore[no-untyped-def]
            case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance])

        run()
