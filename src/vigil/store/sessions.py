"""Web logins kept in the store, so that ending one takes effect at once on every copy of its
cookie: the cookie carries a random session id, the table only its hash (a stolen database
does not hand out live sessions)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from vigil.store.models import User, WebSession

#: last_seen is written at most this often, so that reading a page is not a write each time.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class SessionPolicy:
    """How long a login lives: `idle` without a request, `lifetime` at most from the login."""

    idle: timedelta
    lifetime: timedelta


@dataclass(frozen=True)
class LiveSession:
    user: User
    #: True when last_seen is old enough to be written again (see touch_session).
    stale: bool


def _key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(session: Session, user_id: int, now: datetime, ip: str | None) -> str:
    """A new login of `user_id`; returns the token for the cookie (never stored as is)."""
    token = secrets.token_urlsafe(32)
    session.add(WebSession(id=_key(token), user_id=user_id, created_at=now, last_seen=now, ip=ip))
    session.flush()
    return token


def live_session(
    session: Session, token: str, now: datetime, policy: SessionPolicy
) -> LiveSession | None:
    """The user of a live session, or None: unknown or ended token, idle too long, older than
    the lifetime, or an account that is disabled."""
    row = session.get(WebSession, _key(token))
    if row is None:
        return None
    if now - row.last_seen > policy.idle or now - row.created_at > policy.lifetime:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return LiveSession(user, now - row.last_seen >= TOUCH_EVERY)


def touch_session(session: Session, token: str, now: datetime) -> None:
    session.execute(update(WebSession).where(WebSession.id == _key(token)).values(last_seen=now))


def end_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id == _key(token)))


def end_user_sessions(session: Session, user_id: int) -> int:
    """End every login of a user (password changed, account disabled, ended by an admin);
    returns how many there were."""
    result = session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)


def purge_sessions(session: Session, now: datetime, policy: SessionPolicy) -> int:
    """Drop rows that can no longer be used (called on each login, so the table stays small)."""
    result = session.execute(
        delete(WebSession).where(
            (WebSession.last_seen < now - policy.idle)
            | (WebSession.created_at < now - policy.lifetime)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def active_sessions(session: Session, user_id: int) -> int:
    return len(list(session.scalars(select(WebSession.id).where(WebSession.user_id == user_id))))
