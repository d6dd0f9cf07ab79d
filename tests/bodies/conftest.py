"""Grievance-body page fixtures: the review world with the bodies file loaded, and the body form."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import Session

from service.bodies.service import load_bodies
from tests.support.review import World, build_world

FOCAL_SMS = "+85512345678"  # the body form's focal-point number


@pytest.fixture
def world(engine, places) -> World:  # type: ignore[no-untyped-def]
    """Two organisations with every role and cases in each (tests/support/review.py), and every body."""
    with Session(engine, expire_on_commit=False) as s:
        w = build_world(s)
        load_bodies(s)
        s.commit()
        return w


@pytest.fixture
def body_form() -> Callable[..., dict]:
    """The fields of the body form (/admin/bodies/new and /admin/bodies/<slug>), as a browser posts
    them, with the given ones changed: a facility-level test health centre in KH-2."""

    def form(**over: object) -> dict:
        data = {"slug": "hc-test", "name_en": "Test Health Centre", "name_km": "មណ្ឌលសុខភាពសាកល្បង",
                "level": "facility", "language": "km", "network": "", "deadline_hours": "48",
                "email": "focal@hc.test", "webhook_url": "", "sms": FOCAL_SMS, "places": "KH-2",
                "categories": ["service_quality", "financial_hardship"]}
        return {**data, **over}

    return form
