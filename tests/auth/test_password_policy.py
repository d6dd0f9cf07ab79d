"""A new password is checked against a list of common passwords shipped with Samleng, not its
length alone, wherever a password is set: the CLI (tests/test_cli.py), the users page and the
account page; the refusal says why, in the reader's language."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from service.orgs import passwords
from service.kit.errors import InvalidInput
from service.orgs.service import create_user
from tests.support.review import PASSWORD, csrf_of, sign_in

COMMON = ["qwerty123456", "1qaz2wsx3edc", "Password1234", "sunshine2024!", "iloveyouiloveyou", "aaaaaaaaaaaaaa"]


@pytest.mark.parametrize("password", COMMON)
def test_common_passwords_and_their_obvious_variants_are_refused(password: str) -> None:
    with pytest.raises(InvalidInput, match="common"):
        passwords.check_new(password)


def test_ordinary_passphrases_pass() -> None:
    for password in ("a long enough passphrase", PASSWORD, "samleng-demo-password", "mekong river at dawn 7"):
        passwords.check_new(password)
    with pytest.raises(InvalidInput, match="12 characters"):
        passwords.check_new("short")


def test_the_list_is_shipped_not_fetched() -> None:
    assert len(passwords.common()) >= 10_000
    assert "password" in passwords.common() and "123456" in passwords.common()


def test_creating_a_user_refuses_a_common_password(session: Session) -> None:
    from service.orgs.service import create_org

    create_org(session, slug="khana", name="KHANA")
    with pytest.raises(InvalidInput, match="common"):
        create_user(session, email="x@khana.org", org_slug="khana", role="handler", password="qwerty123456")


@pytest.mark.parametrize("lang, words", [("en", "too common"), ("km", "ពាក្យសម្ងាត់"), ("pt", "comum")])
def test_the_users_page_refuses_a_common_password_in_the_readers_language(app, world, lang, words) -> None:
    app.cookies.set("samleng-lang", lang)
    sign_in(app, "admin@a.test")
    app.cookies.set("samleng-lang", lang)
    token = csrf_of(app.get("/admin/users").text)
    response = app.post(f"/admin/users/{world.users['a:handler'].id}/password",
                        data={"password": "qwerty123456", "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 422
    assert words in response.text
    assert sign_in(app, "handler@a.test").status_code == 303  # unchanged


def test_the_account_page_changes_a_password_with_the_current_one_and_the_same_check(app, world) -> None:
    sign_in(app, "handler@a.test")
    token = csrf_of(app.get("/account").text)
    common = app.post("/account/password", data={"csrf_token": token, "current": PASSWORD, "password": "Password1234"})
    assert common.status_code == 422 and "too common" in common.text
    wrong = app.post("/account/password", data={"csrf_token": token, "current": "not-my-password",
                                                "password": "mekong river at dawn 7"})
    assert wrong.status_code == 403
    ok = app.post("/account/password", data={"csrf_token": token, "current": PASSWORD,
                                             "password": "mekong river at dawn 7"}, follow_redirects=False)
    assert ok.status_code == 303
    assert sign_in(app, "handler@a.test", "mekong river at dawn 7").status_code == 303
