"""Sign-in: password (argon2id) + optional TOTP, lockout, sessions with hashed tokens, CSRF.

Plain functions, session first; they raise AuthError subclasses and never commit.
Time comes from `service.kit.clock.now` looked up at call time, so tests can move it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import namedtuple
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, Engine, bindparam, func
from sqlmodel import Session, col, delete, or_, select, update

from service.auth.models import AuthSession, UserSecurity
from service.orgs.passwords import check_new
from service.auth.principal import Principal
from service.config import get_settings
from service.kit import clock
from service.kit.clock import as_utc
from service.kit.ratelimit import RateEvent
from service.kit.crypto import rate_key, seal, unseal
from service.kit.errors import DomainError, InvalidInput, NotFound
from service.kit.fastsql import FastQuery
from service.kit.models import require_id
from service.orgs.models import Organisation, User
from service.orgs.service import hasher

IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=8)
# Writing last_seen_at on every request would make every read a write; a minute of slack is enough.
TOUCH_EVERY = timedelta(seconds=60)
# Failed sign-ins are counted per email (whether or not it has an account) over FAILURE_MEMORY; past
# MAX_FAILURES each attempt waits after the last failure, the wait doubling from FIRST_WAIT up to
# LONGEST_WAIT. The correct password from a device that signed in to this email before is admitted
# without waiting, so nobody can lock an owner out by guessing (docs/security.md).
MAX_FAILURES = 5
FIRST_WAIT = timedelta(seconds=30)
LONGEST_WAIT = timedelta(minutes=15)
FAILURE_MEMORY = timedelta(hours=1)
DEVICE_COOKIE = "__Host-samleng-device"
DEVICE_MAX_AGE = 400 * 24 * 3600  # the longest a browser keeps a cookie
TOTP_ROLES = ("supervisor", "admin")
# A hash to verify against when the email is unknown, so timing does not reveal which emails exist.
_DUMMY_HASH = hasher.hash("samleng-no-such-user-password")


class AuthError(DomainError):
    """Sign-in failed; the message is safe to show."""


class BadCredentials(AuthError):
    pass


class Throttled(AuthError):
    """Too many recent failures for this email (an account or not): wait, or use a known device."""

    def __init__(self, message: str, wait: timedelta) -> None:
        super().__init__(message)
        self.wait = wait


LockedOut = Throttled  # the old name


class SecondFactorRequired(AuthError):
    pass


class NotAllowed(DomainError):
    """The signed-in user's role does not allow this."""

    http_status = 403


@dataclass(frozen=True)
class Issued:
    token: str  # shown once to the client; only its hash is stored
    session: AuthSession


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _security(session: Session, user_id: int) -> UserSecurity:
    row = session.get(UserSecurity, user_id)
    if row is None:
        row = UserSecurity(user_id=user_id)
        session.add(row)
    return row


def _normal(email: str) -> str:
    return email.strip().lower()


def wait_after(failures: int) -> timedelta:
    """How long after the last failure the next attempt waits, given the recent failures."""
    if failures < MAX_FAILURES:
        return timedelta()
    return min(FIRST_WAIT * 2 ** min(failures - MAX_FAILURES, 16), LONGEST_WAIT)


def _failures_bucket(email: str) -> str:
    return rate_key(f"login-account:{_normal(email)}")


def account_wait(session: Session, *, email: str) -> timedelta:
    """What is left of the wait for this email now (zero when an attempt may be made)."""
    at = clock.now()
    n, last = session.exec(
        select(func.count(), func.max(RateEvent.at)).where(
            RateEvent.bucket == _failures_bucket(email), RateEvent.at >= at - FAILURE_MEMORY
        )
    ).one()
    if not n or last is None:
        return timedelta()
    return max(as_utc(last) + wait_after(int(n)) - at, timedelta())


def _count_failure(session: Session, email: str) -> None:
    session.add(RateEvent(bucket=_failures_bucket(email), at=clock.now()))
    session.flush()  # the caller raises after this: the failure must still be saved


def forget_failures(session: Session, *, email: str) -> None:
    session.exec(delete(RateEvent).where(col(RateEvent.bucket) == _failures_bucket(email)))


def _device_mac(email: str, nonce: str) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"device:{_normal(email)}:{nonce}".encode(), hashlib.sha256).hexdigest()[:32]


def device_token(email: str) -> str:
    """The cookie a browser gets when it signs in: it marks the browser as known for this email."""
    nonce = secrets.token_urlsafe(12)
    return f"{nonce}.{_device_mac(email, nonce)}"


def known_device(device: str | None, email: str) -> bool:
    if not device or len(device) > 80 or "." not in device:
        return False
    nonce, mac = device.split(".", 1)
    return hmac.compare_digest(_device_mac(email, nonce), mac)


def authenticate(
    session: Session, *, email: str, password: str, totp: str | None = None, device: str | None = None
) -> User:
    """The user for these credentials. Each failure makes the next attempt for this email wait longer
    (accounts and unknown emails alike); a known device with the right password does not wait."""
    if "\x00" in email:  # PostgreSQL text cannot hold NUL; no user has one
        raise BadCredentials("wrong email or password")
    wait = account_wait(session, email=email)
    if wait and not known_device(device, email):
        raise Throttled(
            "too many failed sign-ins for this email; wait a few minutes and try again, "
            "or sign in from a device you have used before",
            wait,
        )
    user = session.exec(select(User).where(User.email == _normal(email))).first()
    if user is None or not user.is_active:
        try:
            hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        _count_failure(session, email)
        raise BadCredentials("wrong email or password")
    sec = _security(session, require_id(user))
    at = clock.now()
    if not check_password(user, password):
        _count_failure(session, email)
        raise BadCredentials("wrong email or password")
    if sec.totp_enabled and sec.totp_secret_sealed:
        if not totp:
            raise SecondFactorRequired("enter the 6-digit code from your authenticator app")
        if not _spend_code(session, sec, unseal(sec.totp_secret_sealed), totp, at):
            _count_failure(session, email)
            raise BadCredentials("wrong code")
    forget_failures(session, email=email)
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
        session.add(user)
    return user


def start_session(session: Session, *, user: Principal, kind: str = "web", replaces: str | None = None) -> Issued:
    """A new session with a fresh 128-bit token; the one it replaces (login rotation) is revoked."""
    if replaces:
        end_session(session, token=replaces)
    token = secrets.token_urlsafe(16)  # 128 bits
    at = clock.now()
    row = AuthSession(
        token_hash=token_hash(token),
        user_id=user.id,
        kind=kind,
        created_at=at,
        last_seen_at=at,
        expires_at=at + ABSOLUTE,
    )
    session.add(row)
    session.flush()
    return Issued(token=token, session=row)


def _usable(row: AuthSession | Any, kind: str | None, at: datetime) -> bool:
    """A session row may be used now: not revoked, of the kind asked for, within both limits."""
    return (
        row.revoked_at is None
        and not (kind and row.kind != kind)
        and at < as_utc(row.expires_at)
        and at - as_utc(row.last_seen_at) < IDLE
    )


def resolve(session: Session, *, token: str, kind: str | None = None) -> tuple[User, AuthSession] | None:
    """The user and session behind a token, if still valid (idle and absolute limits); touches it."""
    if not token or len(token) > 64:
        return None
    row = session.exec(select(AuthSession).where(AuthSession.token_hash == token_hash(token))).first()
    at = clock.now()
    if row is None or not _usable(row, kind, at):
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    if at - as_utc(row.last_seen_at) >= TOUCH_EVERY:
        row.last_seen_at = at
        session.add(row)
    return user, row


_CALLER = (
    select(  # type: ignore[call-overload]  # 11 columns: more than select()'s typed overloads take
        col(AuthSession.id),
        col(AuthSession.kind),
        col(AuthSession.last_seen_at),
        col(AuthSession.expires_at),
        col(AuthSession.revoked_at),
        col(User.id).label("user_id"),
        col(User.email),
        col(User.org_id),
        col(User.role),
        col(User.is_active),
        func.coalesce(User.time_zone, Organisation.time_zone).label("time_zone"),
    )
    .join(User, col(User.id) == col(AuthSession.user_id))
    .outerjoin(Organisation, col(Organisation.id) == col(User.org_id))
    .where(col(AuthSession.token_hash) == bindparam("token_hash"))
)
# compiled once, run on the DBAPI cursor (service/kit/fastsql.py): every queue page reads it
_CALLER_QUERY = FastQuery(_CALLER, namedtuple("CallerRow", [c.key for c in _CALLER.selected_columns]))


def resolve_caller(session: Session | Connection, *, token: str, kind: str | None = None) -> Principal | None:
    """`resolve` in one read-only query: the same limits (revoked, kind, idle, absolute, active user),
    nothing written. When `touch_at` is set the caller saves it with `touch` in its own transaction."""
    if not token or len(token) > 64:
        return None
    conn = session.connection() if isinstance(session, Session) else session  # Core rows, no ORM loading
    found = _CALLER_QUERY.all(conn, {"token_hash": token_hash(token)})
    row = found[0] if found else None
    at = clock.now()
    if row is None or not row.is_active or not _usable(row, kind, at):
        return None
    touch_at = at if at - as_utc(row.last_seen_at) >= TOUCH_EVERY else None
    return Principal(
        id=row.user_id,
        email=row.email,
        org_id=row.org_id,
        role=row.role,
        session_id=row.id,
        touch_at=touch_at,
        time_zone=row.time_zone,
    )


def touch(session: Session | Connection, *, caller: Principal) -> None:
    """Save the session's last-seen time that `resolve_caller` found due (never moves it back)."""
    if caller.touch_at is not None:
        session.execute(
            update(AuthSession)
            .where(col(AuthSession.id) == caller.session_id, col(AuthSession.last_seen_at) < caller.touch_at)
            .values(last_seen_at=caller.touch_at)
        )


def touch_after_read(engine: Engine, *, caller: Principal) -> None:
    """`touch` in its own short write transaction, after a page read on a read-only connection;
    nothing when the last-seen time is not due (at most once a minute per session)."""
    if caller.touch_at is not None:
        with Session(engine) as session:
            touch(session, caller=caller)
            session.commit()


def end_session(session: Session, *, token: str) -> None:
    """Revoke the session behind a token (sign-out)."""
    session.exec(
        update(AuthSession).where(col(AuthSession.token_hash) == token_hash(token)).values(revoked_at=clock.now())
    )


def end_all_sessions(session: Session, *, user_id: int) -> None:
    session.exec(
        update(AuthSession)
        .where(col(AuthSession.user_id) == user_id, col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=clock.now())
    )


def can_manage(actor: Principal, target: User) -> bool:
    """Admins manage users of their own organisation; platform admins manage everyone."""
    if actor.role != "admin":
        return False
    return actor.org_id is None or actor.org_id == target.org_id


def reset_password(session: Session, *, actor: Principal, user_id: int, password: str) -> User:
    """An administrator sets a new password; the user's sessions end and any lockout is lifted."""
    target = session.get(User, user_id)
    if target is None or not can_manage(actor, target):
        raise NotAllowed("you cannot reset this user's password")
    check_new(password)
    target.password_hash = hasher.hash(password)
    session.add(target)
    sec = _security(session, require_id(target))
    sec.failed_logins, sec.locked_until, sec.password_reset_at = 0, None, clock.now()
    session.add(sec)
    forget_failures(session, email=target.email)
    end_all_sessions(session, user_id=require_id(target))
    return target


def _matching_step(secret: str, code: str, at: datetime) -> int | None:
    """The 30-second step (now, or one either side for a phone's clock) whose code this is."""
    code = code.strip()
    totp = pyotp.TOTP(secret)
    current = totp.timecode(at)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _spend_code(session: Session, sec: UserSecurity, secret: str, code: str, at: datetime) -> bool:
    """True once for a right code: its step is recorded with a conditional UPDATE, so the same code
    (or an older one) is refused afterwards, even by a sign-in racing this one."""
    step = _matching_step(secret, code, at)
    if step is None:
        return False
    session.flush()  # the security row exists before the conditional update
    done = session.exec(
        update(UserSecurity)
        .where(
            col(UserSecurity.user_id) == sec.user_id,
            or_(col(UserSecurity.totp_last_step).is_(None), col(UserSecurity.totp_last_step) < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        return False
    sec.totp_last_step = step
    return True


def check_password(user: User, password: str) -> bool:
    try:
        return bool(hasher.verify(user.password_hash, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _own_row(session: Session, user: Principal) -> User:
    """The signed-in user's own row, for a change to it (a principal holds no ORM object)."""
    row = session.get(User, user.id)
    if row is None:  # the session was resolved for an active user a moment ago
        raise NotFound("no such user")
    return row


def reauthenticate(session: Session, *, user: Principal, password: str, code: str | None) -> None:
    """The signed-in person proves again who they are before a second factor changes: the password,
    and the current code when a second factor is on (a code spent here cannot sign in afterwards)."""
    sec = _security(session, user.id)
    if not password or not check_password(_own_row(session, user), password):
        raise NotAllowed("enter your password to change two-step sign-in")
    if (
        sec.totp_enabled
        and sec.totp_secret_sealed
        and not (code and _spend_code(session, sec, unseal(sec.totp_secret_sealed), code, clock.now()))
    ):
        raise NotAllowed("enter the current code from your authenticator app to change two-step sign-in")


def change_password(session: Session, *, user: Principal, current: str, password: str) -> None:
    """The signed-in user sets a new password, proving the current one; their other sessions end."""
    row = _own_row(session, user)
    if not check_password(row, current):
        raise NotAllowed("your current password is not right")
    check_new(password)
    row.password_hash = hasher.hash(password)
    session.add(row)
    sec = _security(session, user.id)
    sec.password_reset_at = clock.now()
    session.add(sec)


def totp_begin(session: Session, *, user: Principal) -> str:
    """A new TOTP key for a supervisor or admin, pending until its first code is entered (an enabled
    key keeps working until then); returns the otpauth:// URI. Callers reauthenticate first."""
    if user.role not in TOTP_ROLES:
        raise NotAllowed("two-step sign-in is for supervisors and administrators")
    secret = pyotp.random_base32()
    sec = _security(session, user.id)
    sec.totp_pending_sealed = seal(secret)
    session.add(sec)
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name="Samleng")


def totp_confirm(session: Session, *, user: Principal, code: str) -> None:
    """Enable the pending key once the user proves their app produces the right code (spent here)."""
    sec = _security(session, user.id)
    pending = unseal(sec.totp_pending_sealed) if sec.totp_pending_sealed else None
    if pending is None or _matching_step(pending, code, clock.now()) is None:
        raise InvalidInput("that code is not right; check your phone's clock and try again")
    sec.totp_secret_sealed, sec.totp_pending_sealed, sec.totp_enabled = seal(pending), None, True
    sec.totp_last_step = None  # a new key: steps of the old one mean nothing
    session.add(sec)
    if not _spend_code(session, sec, pending, code, clock.now()):
        raise InvalidInput("that code is not right; check your phone's clock and try again")


def totp_disable(session: Session, *, user: Principal) -> None:
    """Turn the second factor off (callers reauthenticate first)."""
    sec = _security(session, user.id)
    sec.totp_secret_sealed = sec.totp_pending_sealed = None
    sec.totp_enabled, sec.totp_last_step = False, None
    session.add(sec)


def totp_pending(session: Session, *, user_id: int) -> bool:
    sec = session.get(UserSecurity, user_id)
    return bool(sec and sec.totp_pending_sealed)


def totp_enabled(session: Session, *, user_id: int) -> bool:
    sec = session.get(UserSecurity, user_id)
    return bool(sec and sec.totp_enabled)
