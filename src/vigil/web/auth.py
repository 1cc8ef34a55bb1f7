"""Logging in and out: password check, audit of every attempt, a backoff per account and per
address."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from vigil.core.access import Actor, Role
from vigil.core.errors import AuthError
from vigil.core.units import UnitTree
from vigil.store.audit import audit
from vigil.store.db import Store
from vigil.store.models import User
from vigil.store.sessions import SessionPolicy, end_session, open_session, purge_sessions
from vigil.store.users import actor_for, authenticate
from vigil.web.errors import LoginThrottled

#: Failures allowed per account before any wait; then the wait doubles up to the cap.
FREE_FAILURES = 5
#: Failures allowed per address (any accounts: a password spray tries one each) before a wait.
FREE_ADDRESS_FAILURES = 20
MAX_WAIT_SECONDS = 15 * 60
#: A count is forgotten this long after its last failure.
FORGET_SECONDS = 60 * 60
_MAX_TRACKED = 10_000


def anonymous(ip: str | None) -> Actor:
    """Who a failed login is recorded against: nobody has proved who they are yet."""
    return Actor(username="anonymous", role=Role.VIEWER, unit="", scope=frozenset(), ip=ip)


@dataclass
class _Failures:
    count: int
    last: float
    locked_until: float


class _Backoff:
    """Failures counted per key, with a doubling wait once `free` failures are spent."""

    def __init__(self, free: int) -> None:
        self.free = free
        self._entries: OrderedDict[str, _Failures] = OrderedDict()

    def wait(self, key: str, now: float) -> int:
        entry = self._entries.get(key)
        if entry is None or entry.locked_until <= now:
            return 0
        return int(entry.locked_until - now) + 1

    def failed(self, key: str, now: float) -> int:
        entry = self._entries.pop(key, None)
        if entry is None or now - entry.last > FORGET_SECONDS:
            entry = _Failures(0, now, 0.0)
        entry.count += 1
        entry.last = now
        wait = 0
        if entry.count >= self.free:
            wait = min(2 ** (entry.count - self.free), MAX_WAIT_SECONDS)
            entry.locked_until = now + wait
        self._entries[key] = entry
        while len(self._entries) > _MAX_TRACKED:
            self._entries.popitem(last=False)
        return wait

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)


class LoginThrottle:
    """In-memory backoff per account (from any address) and per address (over any accounts);
    one per app, forgotten on restart. The address is the peer's, or the client a trusted
    proxy names (vigil.web.addresses), never a header anyone can send."""

    def __init__(self) -> None:
        self._accounts = _Backoff(FREE_FAILURES)
        self._addresses = _Backoff(FREE_ADDRESS_FAILURES)
        self._lock = threading.Lock()

    @staticmethod
    def _account(username: str) -> str:
        return username.strip().lower()

    def check(self, username: str, ip: str | None, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            wait = max(
                self._accounts.wait(self._account(username), now),
                self._addresses.wait(ip or "", now),
            )
        if wait:
            raise LoginThrottled(wait)

    def failed(self, username: str, ip: str | None, now: float | None = None) -> int:
        """Count a failure; returns how many seconds the next attempt must wait."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return max(
                self._accounts.failed(self._account(username), now),
                self._addresses.failed(ip or "", now),
            )

    def succeeded(self, username: str, ip: str | None) -> None:
        """The account's count is cleared; the address's is not, or an attacker holding one
        account could reset it between the tries of a spray."""
        with self._lock:
            self._accounts.forget(self._account(username))


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


def open_login(
    store: Store, user_id: int, ip: str | None, now: datetime, policy: SessionPolicy
) -> str:
    """The server-side session of a login that just succeeded; returns the cookie's token.
    Sessions past their time are cleared on the way, so the table holds only live ones."""
    with store.session() as session:
        purge_sessions(session, now, policy)
        return open_session(session, user_id, now, ip)


def logout(store: Store, actor: Actor, token: str | None) -> None:
    """End this login (its row goes, so every copy of the cookie stops working) and audit it."""
    with store.session() as session:
        if token:
            end_session(session, token)
        audit(session, actor, "auth.logout", f"user:{actor.username}", unit=actor.unit)
