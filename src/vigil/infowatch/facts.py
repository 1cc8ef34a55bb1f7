"""The fact sheet: official facts and the false claims seen about each.

`vigil infowatch facts import FILE` reads JSON lines `{"id", "text", "claims": [...], "lang"}`;
a fact already there is replaced (the sheet is the latest file). A bad line is reported with
its line number and left out; the rest goes in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.access import Actor, Permission
from vigil.core.problems import InputProblem
from vigil.infowatch.detect.claims import ClaimMatcher
from vigil.infowatch.models import Fact
from vigil.infowatch.text import clean, decode_bytes
from vigil.store.audit import audit


@dataclass
class FactImport:
    added: int = 0
    replaced: int = 0
    problems: list[InputProblem] = field(default_factory=list)


def _read_fact(raw: object) -> tuple[str, str, list[str], str]:
    if not isinstance(raw, dict):
        raise ValueError("expected an object")
    fact_id, text, claims = raw.get("id"), raw.get("text"), raw.get("claims", [])
    if not isinstance(fact_id, str | int) or not str(fact_id).strip():
        raise ValueError("id: missing")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("text: missing")
    if not isinstance(claims, list) or not all(isinstance(c, str) for c in claims):
        raise ValueError("claims: expected a list of texts")
    lang = raw.get("lang", "vi")
    if not isinstance(lang, str):
        raise ValueError("lang: expected text")
    return (
        str(fact_id).strip()[:100],
        clean(text),
        [clean(c) for c in claims if c.strip()],
        lang[:8],
    )


def import_facts(session: Session, actor: Actor, path: Path) -> FactImport:
    actor.require(Permission.ANALYSE)
    text, _ = decode_bytes(path.read_bytes())
    result = FactImport()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            fact_id, fact_text, claims, lang = _read_fact(json.loads(line))
        except ValueError as e:
            result.problems.append(
                InputProblem.error(str(path), str(e), line=number, raw=line[:500])
            )
            continue
        row = session.get(Fact, fact_id)
        if row is None:
            session.add(
                Fact(id=fact_id, text=fact_text, claims=claims, lang=lang, source=str(path))
            )
            result.added += 1
        else:
            row.text, row.claims, row.lang, row.source = fact_text, claims, lang, str(path)
            result.replaced += 1
    session.flush()
    audit(
        session,
        actor,
        "infowatch.facts.import",
        str(path),
        {"added": result.added, "replaced": result.replaced, "problems": len(result.problems)},
    )
    return result


def load_facts(session: Session) -> list[Fact]:
    return list(session.scalars(select(Fact).order_by(Fact.id)))


def claim_matcher(facts: list[Fact]) -> ClaimMatcher | None:
    if not facts:
        return None
    return ClaimMatcher((f.id, f.text, f.claims) for f in facts)
