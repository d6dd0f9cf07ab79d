"""Failed sign-ins slow down the next attempt for that email (a wait that doubles), the same way for
an email that has no account, and a stranger's failures never keep the owner out of a device they
have signed in from before."""

from __future__ import annotations

from service.auth import service as auth
from tests.support.review import PASSWORD, csrf_of, sign_in

WRONG = "wrong-password-123"


def _post(client, email: str, password: str):  # type: ignore[no-untyped-def]
    """Sign in without clearing the client's cookies (a browser that has been here before)."""
    token = csrf_of(client.get("/").text)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       follow_redirects=False)


def test_an_unknown_email_gets_the_same_answers_as_an_account(app, world) -> None:
    answers: dict[str, list[tuple[int, str]]] = {}
    for email in ("handler@a.test", "nobody@a.test"):
        seen = []
        for _ in range(auth.MAX_FAILURES + 2):
            response = sign_in(app, email, WRONG)
            error = response.text.split('role="alert">')[1].split("<")[0] if 'role="alert">' in response.text else ""
            seen.append((response.status_code, error))
        api = app.post("/api/v1/auth/token", data={"username": email, "password": WRONG})
        seen.append((api.status_code, api.json()["detail"]))
        answers[email] = seen
    assert answers["handler@a.test"] == answers["nobody@a.test"]
    assert answers["nobody@a.test"][-1][0] == 429  # slowed down, not "locked", and not "no such account"


def test_the_wait_grows_after_each_failure_past_the_free_ones(app, world, clock) -> None:
    for _ in range(auth.MAX_FAILURES):
        assert sign_in(app, "handler@a.test", WRONG).status_code == 401
    first = auth.wait_after(auth.MAX_FAILURES)
    clock.advance(seconds=first.total_seconds() - 2)
    assert sign_in(app, "handler@a.test", PASSWORD).status_code == 429
    clock.advance(seconds=4)
    assert sign_in(app, "handler@a.test", WRONG).status_code == 401
    second = auth.wait_after(auth.MAX_FAILURES + 1)
    assert second > first
    clock.advance(seconds=second.total_seconds() - 2)
    assert sign_in(app, "handler@a.test", PASSWORD).status_code == 429
    clock.advance(seconds=4)
    assert sign_in(app, "handler@a.test", PASSWORD).status_code == 303


def test_a_stranger_cannot_keep_the_owner_out_of_a_known_device(app, world, settings, clock) -> None:
    from fastapi.testclient import TestClient

    from service.app import create_app

    with TestClient(create_app(settings), base_url="https://testserver") as owner:
        assert _post(owner, "handler@a.test", PASSWORD).status_code == 303  # the owner's browser, known from now
        owner.post("/logout", data={"csrf_token": csrf_of(owner.get("/").text)})
        for failures in range(1, auth.MAX_FAILURES + 4):  # a stranger elsewhere, guessing as fast as allowed
            assert sign_in(app, "handler@a.test", WRONG).status_code == 401
            if failures < auth.MAX_FAILURES + 3:
                clock.advance(seconds=auth.wait_after(failures).total_seconds() + 1)
        assert sign_in(app, "handler@a.test", PASSWORD).status_code == 429  # a browser never used: waits
        assert _post(owner, "handler@a.test", PASSWORD).status_code == 303  # the owner's browser: admitted
        owner.post("/logout", data={"csrf_token": csrf_of(owner.get("/").text)})
        # The known device is not a way around the wait for a wrong password, nor for another account.
        assert _post(owner, "handler@a.test", WRONG).status_code == 401
        for _ in range(auth.MAX_FAILURES + 1):
            sign_in(app, "supervisor@a.test", WRONG)
        assert _post(owner, "supervisor@a.test", PASSWORD).status_code == 429
