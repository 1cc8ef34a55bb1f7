"""What the room's pages read: its findings within the officer's units, grouped for each view,
and a server-rendered SVG of a campaign's co-activity graph."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.access import Actor
from vigil.core.errors import NotFoundError
from vigil.store.models import FindingRow

CAPABILITY = "infowatch"
RULES = (
    "scam",
    "lookalike-domain",
    "impersonation",
    "false-claim",
    "coordinated-campaign",
    "narrative-spike",
)


def findings(
    session: Session, actor: Actor, rule: str | None = None, *, open_only: bool = False
) -> list[FindingRow]:
    query = select(FindingRow).where(FindingRow.capability == CAPABILITY)
    if rule:
        query = query.where(FindingRow.rule == rule)
    if open_only:
        query = query.where(FindingRow.is_open.is_(True))
    rows = session.scalars(query.order_by(FindingRow.severity.desc(), FindingRow.last_seen.desc()))
    return [r for r in rows if actor.sees(r.unit)]


def finding(session: Session, actor: Actor, finding_id: int, rule: str | None = None) -> FindingRow:
    row = session.get(FindingRow, finding_id)
    if row is None or row.capability != CAPABILITY or not actor.sees(row.unit):
        raise NotFoundError(f"no finding {finding_id}")
    if rule is not None and row.rule != rule:
        raise NotFoundError(f"finding {finding_id} is not a {rule}")
    return row


@dataclass
class ClaimLine:
    fact_id: str
    posts: int
    platforms: Counter[str]
    examples: list[FindingRow]


def claims_by_fact(rows: list[FindingRow]) -> list[ClaimLine]:
    """Which facts are attacked, how often, where (platforms), with example posts."""
    grouped: dict[str, list[FindingRow]] = defaultdict(list)
    for row in rows:
        grouped[str(row.evidence.get("fact_id", "?"))].append(row)
    lines = [
        ClaimLine(
            fact,
            len(items),
            Counter(str(r.evidence.get("platform", "")) for r in items),
            items[:5],
        )
        for fact, items in grouped.items()
    ]
    return sorted(lines, key=lambda c: (-c.posts, c.fact_id))


def campaign_svg(evidence: dict[str, Any], size: int = 420) -> str:
    """The campaign's accounts on a circle, an edge per pair that acted together (thicker when
    they met more often)."""
    accounts: list[str] = list(evidence.get("accounts", []))
    edges = evidence.get("edges", [])
    centre, radius = size / 2, size / 2 - 70
    at = {
        a: (
            centre + radius * math.cos(2 * math.pi * i / max(len(accounts), 1)),
            centre + radius * math.sin(2 * math.pi * i / max(len(accounts), 1)),
        )
        for i, a in enumerate(accounts)
    }
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}" role="img" aria-label="co-activity graph">'
    ]
    for a, b, weight in edges:
        if a in at and b in at:
            (x1, y1), (x2, y2) = at[a], at[b]
            parts.append(
                f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                f'stroke="#888" stroke-width="{min(1 + float(weight) / 2, 6):.1f}"/>'
            )
    for account, (x, y) in at.items():
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="9" fill="#b00020"/>')
        parts.append(
            f'<text x="{x:.1f}" y="{y - 13:.1f}" font-size="11" text-anchor="middle">'
            f"{escape(account)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def timeline_svg(evidence: dict[str, Any], width: int = 640, height: int = 80) -> str:
    """The campaign's posts on a time line (one tick per post)."""
    from datetime import datetime

    times = [datetime.fromisoformat(t["at"]) for t in evidence.get("timeline", [])]
    if not times:
        return ""
    start, end = min(times), max(times)
    span = max((end - start).total_seconds(), 1.0)
    xs = [20 + (t - start).total_seconds() / span * (width - 40) for t in times]
    ticks = "".join(
        f'<line x1="{x:.1f}" y1="20" x2="{x:.1f}" y2="50" stroke="#b00020"/>' for x in xs
    )
    label = quoteattr(f"{len(times)} posts")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f"aria-label={label}>"
        f'<line x1="20" y1="50" x2="{width - 20}" y2="50" stroke="#333"/>{ticks}'
        f'<text x="20" y="70" font-size="11">{start:%H:%M:%S}</text>'
        f'<text x="{width - 20}" y="70" font-size="11" text-anchor="end">{end:%H:%M:%S} UTC</text>'
        "</svg>"
    )
