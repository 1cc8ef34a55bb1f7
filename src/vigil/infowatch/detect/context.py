"""What the detectors need from the deployment, built once per run: the watchlist as matchers,
the fact sheet, the monitoring room's indicators (shared reference data in the store)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from vigil.infowatch.detect.content import ContentChecker
from vigil.infowatch.detect.impersonation import ImpersonationMatcher, Official
from vigil.infowatch.detect.lookalike import LookalikeMatcher
from vigil.infowatch.facts import claim_matcher, load_facts
from vigil.infowatch.watchlist import Watched, WatchKind, watchlist
from vigil.store.indicators import load_matcher

if TYPE_CHECKING:
    from vigil.deployment import Deployment


@dataclass
class WatchContext:
    entries: list[Watched]
    content: ContentChecker
    impersonation: ImpersonationMatcher
    root_unit: str
    units: frozenset[str]

    def unit_of(self, owner: str) -> str:
        """The unit a finding goes to: the official item's owner when it is a unit."""
        return owner if owner in self.units else self.root_unit


def lookalike_matcher(entries: list[Watched]) -> LookalikeMatcher:
    domains = [e for e in entries if e.kind is WatchKind.DOMAIN]
    return LookalikeMatcher([e.value for e in domains], {e.value: e.aliases for e in domains})


def officials(entries: list[Watched]) -> list[Official]:
    return [
        Official(e.platform, e.value, e.name, e.image_hash, e.owner)
        for e in entries
        if e.kind in (WatchKind.ACCOUNT, WatchKind.PAGE)
    ]


def watch_context(deployment: Deployment, *, with_claims: bool = True) -> WatchContext:
    with deployment.store.reader() as session:
        entries = watchlist(session, deployment.province)
        facts = load_facts(session) if with_claims else []
        indicators = load_matcher(session, active_at=deployment.now())
        claims = claim_matcher(facts)
    content = ContentChecker(lookalike_matcher(entries), claims, indicators)
    return WatchContext(
        entries,
        content,
        ImpersonationMatcher(officials(entries)),
        deployment.units.root.code,
        frozenset(u.code for u in deployment.units),
    )
