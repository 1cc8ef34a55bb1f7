"""Officer accounts as the web admin sees them: list, add, and each user's interface language."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.access import Actor, Permission, Role
from vigil.core.errors import NotFoundError, ValidationError
from vigil.core.i18n import LANGUAGES
from vigil.core.units import UnitTree
from vigil.store.audit import audit
from vigil.store.models import User
from vigil.store.users import create_user


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
