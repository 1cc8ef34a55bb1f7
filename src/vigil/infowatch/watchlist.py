"""The official domains, accounts and pages to protect.

Three layers, read together: the shipped reference list (`data/reference_watchlist.yaml`: state
services, big banks, e-wallets, telecom operators), the province's own from vigil.toml
(`[watchlist]`), and what officers add (`vigil watchlist add`, the watchlist page), kept in the
table `infowatch_watchlist`. Every addition is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.access import Actor, Permission
from vigil.core.config import ProvinceConfig
from vigil.core.errors import ConflictError, ValidationError
from vigil.core.indicators import IndicatorError, normalise_domain
from vigil.infowatch.models import WatchedItem
from vigil.infowatch.text import clean
from vigil.store.audit import audit

REFERENCE = Path(__file__).parent / "data" / "reference_watchlist.yaml"


class WatchKind(StrEnum):
    DOMAIN = "domain"
    ACCOUNT = "account"
    PAGE = "page"


@dataclass(frozen=True)
class Watched:
    """One entry of the watchlist, whichever layer it comes from."""

    kind: WatchKind
    value: str
    owner: str
    source: str
    platform: str = ""
    name: str = ""
    image_hash: str = ""
    aliases: tuple[str, ...] = ()
    category: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "value": self.value,
            "owner": self.owner,
            "source": self.source,
            "platform": self.platform,
            "name": self.name,
            "image_hash": self.image_hash,
            "aliases": list(self.aliases),
            "category": self.category,
        }


@cache
def reference_entries() -> tuple[Watched, ...]:
    raw = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))
    return tuple(
        Watched(
            WatchKind.DOMAIN,
            normalise_domain(item["domain"]),
            item["owner"],
            "reference",
            aliases=tuple(item.get("aliases") or ()),
            category=item.get("category", ""),
        )
        for item in raw["domains"]
    )


def normalise_value(kind: WatchKind, value: str) -> str:
    """A domain in its normal form (IDNA, lower case); a handle without '@', lower case."""
    value = clean(value).strip()
    if not value:
        raise ValidationError("the watchlist value is empty")
    if kind is WatchKind.DOMAIN:
        try:
            return normalise_domain(value)
        except IndicatorError as e:
            raise ValidationError(str(e)) from e
    return value.lstrip("@").lower()[:300]


def province_entries(province: ProvinceConfig) -> list[Watched]:
    entries = [
        Watched(WatchKind.DOMAIN, normalise_domain(d), province.province.code, "province")
        for d in province.watchlist.official_domains
    ]
    for account in province.watchlist.official_accounts:
        handle = account.get("handle", "")
        if handle:
            entries.append(
                Watched(
                    WatchKind.ACCOUNT,
                    normalise_value(WatchKind.ACCOUNT, handle),
                    account.get("owner", province.province.code),
                    "province",
                    platform=account.get("platform", ""),
                    name=account.get("name", ""),
                )
            )
    return entries


def watchlist(session: Session, province: ProvinceConfig) -> list[Watched]:
    """Every entry: reference, province, then officers' (a later layer wins on the same value)."""
    stored = [
        Watched(
            WatchKind(row.kind),
            row.value,
            row.owner,
            row.source or row.added_by,
            row.platform,
            row.name,
            row.image_hash,
        )
        for row in session.scalars(select(WatchedItem).order_by(WatchedItem.id))
    ]
    merged: dict[tuple[WatchKind, str], Watched] = {}
    for entry in (*reference_entries(), *province_entries(province), *stored):
        merged[(entry.kind, entry.value)] = entry
    return list(merged.values())


def add_watched(
    session: Session,
    actor: Actor,
    kind: WatchKind,
    value: str,
    owner: str,
    *,
    platform: str = "",
    name: str = "",
    image_hash: str = "",
    source: str = "",
) -> WatchedItem:
    """Add an official domain, account or page; audited. The same kind and value twice is a
    conflict (edit it instead)."""
    actor.require(Permission.ANALYSE)
    normal = normalise_value(kind, value)
    owner = clean(owner).strip()
    if not owner:
        raise ValidationError("--owner is required: who the official domain or account belongs to")
    found = session.scalar(
        select(WatchedItem).where(WatchedItem.kind == str(kind), WatchedItem.value == normal)
    )
    if found is not None:
        raise ConflictError(f"{kind} {normal} is on the watchlist already (owner {found.owner})")
    item = WatchedItem(
        kind=str(kind),
        value=normal,
        owner=owner[:300],
        platform=clean(platform).strip().lower()[:40],
        name=clean(name).strip()[:300],
        image_hash=image_hash.strip().lower()[:64],
        source=source or actor.username,
        added_by=actor.username,
    )
    session.add(item)
    session.flush()
    audit(session, actor, "infowatch.watchlist.add", f"{kind}:{normal}", {"owner": owner})
    return item


def remove_watched(session: Session, actor: Actor, item_id: int) -> None:
    actor.require(Permission.ANALYSE)
    item = session.get(WatchedItem, item_id)
    if item is None:
        raise ValidationError(f"no watchlist entry {item_id}")
    audit(session, actor, "infowatch.watchlist.remove", f"{item.kind}:{item.value}", {})
    session.delete(item)
