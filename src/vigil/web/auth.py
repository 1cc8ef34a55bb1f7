"""Logging in and out: password check, audit of every attempt, and a per-user+address backoff."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from vigil.core.access import Actor, Role
from vigil.core.errors import AuthError
from vigil.core.units import UnitTree
from vigil.store.audit import audit
from vigil.store.db import Store
from vigil.store.models import User
from vigil.store.users import actor_for, authenticate
from vigil.web.errors import LoginThrottled

#: Failures allowed before any wait; then the wait doubles with each failure up to the cap.
FREE_FAILURES = 5
MAX_WAIT_SECONDS = 15 * 60
_MAX_TRACKED = 10_000


def anonymous(ip: str | None) -> Actor:
    """Who a failed login is recorded against: nobody has proved who they are yet."""
    return Actor(username="anonymous", role=Role.VIEWER, unit="", scope=frozenset(), ip=ip)


@dataclass
class _Failures:
    count: int
    locked_until: float


class LoginThrottle:
    """In-memory backoff per (username, address); one per app, forgotten on restart."""

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple[str, str], _Failures] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(username: str, ip: str | None) -> tuple[str, str]:
        return (username.strip().lower(), ip or "")

    def check(self, username: str, ip: str | None, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            entry = self._entries.get(self._key(username, ip))
        if entry is not None and entry.locked_until > now:
            raise LoginThrottled(int(entry.locked_until - now) + 1)

    def failed(self, username: str, ip: str | None, now: float | None = None) -> int:
        """Count a failure; returns how many seconds the next attempt must wait."""
        now = time.monotonic() if now is None else now
        key = self._key(username, ip)
        with self._lock:
            entry = self._entries.pop(key, None) or _Failures(0, 0.0)
            entry.count += 1
            wait = 0
            if entry.count >= FREE_FAILURES:
                wait = min(2 ** (entry.count - FREE_FAILURES), MAX_WAIT_SECONDS)
                entry.locked_until = now + wait
            self._entries[key] = entry
            while len(self._entries) > _MAX_TRACKED:
                self._entries.popitem(last=False)
        return wait

    def succeeded(self, username: str, ip: str | None) -> None:
        with self._lock:
            self._entries.pop(self._key(username, ip), None)


def login(
    store: Store,
    tree: UnitTree,
    throttle: LoginThrottle,
    username: str,
    password: str,
    ip: str | None,
) -> User:
    """Check a password; audit the outcome either way (a failure in its own transaction)."""
    username = username.strip()
    throttle.check(username, ip)
    try:
        with store.session() as session:
            user = authenticate(session, username, password)
            audit(
                session,
                actor_for(user, tree, ip),
                "auth.login",
                f"user:{user.username}",
                unit=user.unit,
            )
    except AuthError:
        throttle.failed(username, ip)
        with store.session() as session:
            audit(session, anonymous(ip), "auth.login_failed", f"user:{username}")
        raise
    throttle.succeeded(username, ip)
    return user


def logout(store: Store, actor: Actor) -> None:
    with store.session() as session:
        audit(session, actor, "auth.logout", f"user:{actor.username}", unit=actor.unit)
