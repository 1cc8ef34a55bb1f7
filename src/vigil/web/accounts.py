"""Officer accounts as the web admin sees them: list, add, and each user's interface language."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.access import Actor, Permission, Role
from vigil.core.errors import AuthError, NotFoundError, ValidationError
from vigil.core.i18n import LANGUAGES
from vigil.core.units import UnitTree
from vigil.store.audit import audit
from vigil.store.models import User
from vigil.store.sessions import end_user_sessions
from vigil.store.users import MIN_PASSWORD, authenticate, create_user, hash_password


def list_users(session: Session, actor: Actor) -> list[User]:
    """Accounts of the units the admin sees, by unit then name."""
    actor.require(Permission.ADMIN)
    query = (
        select(User).where(User.unit.in_(sorted(actor.scope))).order_by(User.unit, User.username)
    )
    return list(session.scalars(query))


def add_user(
    session: Session,
    actor: Actor,
    tree: UnitTree,
    username: str,
    password: str,
    role: str,
    unit: str,
    full_name: str = "",
    lang: str = "vi",
) -> User:
    actor.require(Permission.ADMIN)
    actor.require_unit(unit)
    try:
        parsed_role = Role(role)
    except ValueError as e:
        raise ValidationError(f"unknown role {role!r}") from e
    user = create_user(session, tree, username, password, parsed_role, unit, full_name, lang)
    audit(
        session,
        actor,
        "user.create",
        f"user:{user.username}",
        {"role": user.role, "unit": unit, "lang": lang},
        unit=unit,
    )
    return user


def set_language(session: Session, actor: Actor, lang: str) -> str:
    """Store the actor's own interface language; any logged-in user may change their own."""
    if lang not in LANGUAGES:
        raise ValidationError(f"unknown language {lang!r}")
    if actor.user_id is None:
        raise NotFoundError(f"{actor.username} has no account")
    user = session.get(User, actor.user_id)
    if user is None:
        raise NotFoundError(f"no user {actor.username!r}")
    if user.lang != lang:
        old = user.lang
        user.lang = lang
        audit(
            session,
            actor,
            "user.lang",
            f"user:{user.username}",
            {"from": old, "to": lang},
            unit=user.unit,
        )
    return lang


def _account_of(session: Session, actor: Actor, username: str) -> User:
    """An account the admin may manage; one outside their units is absent, as an unknown one."""
    actor.require(Permission.ADMIN)
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not actor.sees(user.unit):
        raise NotFoundError(f"no user {username!r}")
    return user


def change_password(session: Session, actor: Actor, current: str, new: str) -> int:
    """The actor's own password; every session of the account ends (the caller opens a new
    one for the request that changed it). Returns how many sessions ended."""
    if actor.user_id is None:
        raise NotFoundError(f"{actor.username} has no account")
    try:
        user = authenticate(session, actor.username, current)
    except AuthError as e:
        raise ValidationError("the current password is wrong") from e
    if len(new) < MIN_PASSWORD:
        raise ValidationError(f"password must have at least {MIN_PASSWORD} characters")
    user.password_hash = hash_password(new)
    ended = end_user_sessions(session, user.id)
    audit(
        session,
        actor,
        "user.password",
        f"user:{user.username}",
        {"sessions_ended": ended},
        unit=user.unit,
    )
    return ended


def set_active(session: Session, actor: Actor, username: str, active: bool) -> User:
    """Enable or disable an account; disabling ends its sessions at once."""
    user = _account_of(session, actor, username)
    if user.id == actor.user_id and not active:
        raise ValidationError("an admin cannot disable their own account")
    ended = 0 if active else end_user_sessions(session, user.id)
    if user.active != active:
        user.active = active
        action = "user.enable" if active else "user.disable"
        audit(
            session,
            actor,
            action,
            f"user:{user.username}",
            {"sessions_ended": ended},
            unit=user.unit,
        )
    return user


def end_sessions(session: Session, actor: Actor, username: str) -> int:
    """An admin ends every session of an account (a lost laptop, a shared screen)."""
    user = _account_of(session, actor, username)
    ended = end_user_sessions(session, user.id)
    audit(
        session,
        actor,
        "user.end_sessions",
        f"user:{user.username}",
        {"sessions_ended": ended},
        unit=user.unit,
    )
    return ended
