"""Officer accounts: argon2 password hashes, roles, units."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.access import Actor, Role
from vigil.core.errors import AuthError, ConflictError, NotFoundError, ValidationError
from vigil.core.units import UnitTree
from vigil.store.models import User

_HASHER = PasswordHasher()
#: Verified against when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH = _HASHER.hash("vigil-timing-equaliser")
MIN_PASSWORD = 10


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def create_user(
    session: Session,
    tree: UnitTree,
    username: str,
    password: str,
    role: Role | str,
    unit: str,
    full_name: str = "",
    lang: str = "vi",
) -> User:
    username = username.strip()
    if (
        not username
        or len(username) > 64
        or not username.replace(".", "").replace("_", "").replace("-", "").isalnum()
    ):
        raise ValidationError(f"invalid username {username!r}")
    if len(password) < MIN_PASSWORD:
        raise ValidationError(f"password must have at least {MIN_PASSWORD} characters")
    if unit not in tree:
        raise NotFoundError(f"unknown unit {unit!r}")
    if lang not in ("vi", "en"):
        raise ValidationError(f"unknown language {lang!r}")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ConflictError(f"user {username!r} exists")
    user = User(
        username=username,
        full_name=full_name or username,
        password_hash=hash_password(password),
        role=Role(role).value,
        unit=unit,
        lang=lang,
        active=True,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    try:
        _HASHER.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError) as e:
        raise AuthError("wrong username or password") from e
    if user is None or not user.active:
        raise AuthError("wrong username or password")
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def actor_for(user: User, tree: UnitTree, ip: str | None = None) -> Actor:
    return Actor(
        username=user.username,
        role=Role(user.role),
        unit=user.unit,
        scope=frozenset(tree.subtree(user.unit)),
        ip=ip,
        user_id=user.id,
    )


def officer_actor(session: Session, tree: UnitTree, username: str) -> Actor:
    """The actor of a command run on an officer's behalf (`--as`); a disabled account may not."""
    user = get_user(session, username)
    if not user.active:
        raise ValidationError(f"user {username!r} is disabled")
    return actor_for(user, tree)


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFoundError(f"no user {username!r}")
    return user
