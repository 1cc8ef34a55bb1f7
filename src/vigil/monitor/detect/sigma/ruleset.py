"""Rule sets in the store: register a folder of Sigma rules, list them, switch rules on and off."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from vigil.core.access import Actor, Permission
from vigil.core.clock import utcnow
from vigil.core.errors import NotFoundError
from vigil.core.problems import InputProblem
from vigil.monitor.detect.sigma.rules import (
    ConvertedRule,
    attack_tags,
    convert_rules,
    load_rules,
    logsource_of,
    rule_level,
    rule_status,
)
from vigil.monitor.errors import RuleError
from vigil.monitor.models import MonitorRule, MonitorRuleSet, MonitorScan
from vigil.store.audit import audit

#: Rules with these statuses are stored but not run until someone enables them.
DISABLED_STATUSES = frozenset({"deprecated", "unsupported"})


@dataclass
class RuleSetResult:
    name: str
    rules: int = 0
    converted: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    failures: list[ConvertedRule] = field(default_factory=list)
    issues: list[InputProblem] = field(default_factory=list)


def _row_values(c: ConvertedRule) -> dict[str, Any]:
    return {
        "kind": c.kind,
        "title": c.rule.title[:500],
        "level": rule_level(c.rule),
        "status": rule_status(c.rule),
        "tags": attack_tags(c.rule),
        "logsource": logsource_of(c.rule),
        "group_key": c.group_key,
        "path": c.path,
        "sha": c.sha,
        "sql": c.sql,
        "columns": c.columns,
        "prefilter": c.prefilter,
        "error": c.error,
    }


def add_rule_set(
    session: Session, actor: Actor, folder: Path, name: str | None = None
) -> RuleSetResult:
    """Load, convert and store every rule of `folder` as the rule set `name` (default: folder name).

    Adding the same folder again updates changed rules and removes rules that are gone; a rule
    someone switched off stays off. Parsing and conversion happen before the write transaction.
    """
    actor.require(Permission.ANALYSE)
    name = name or folder.resolve().name
    files, issues = load_rules(folder)
    converted = convert_rules(files)
    result = RuleSetResult(name=name, rules=len(converted), issues=issues)
    result.converted = sum(1 for c in converted if c.sql is not None)
    result.failures = [c for c in converted if c.sql is None]
    ruleset = session.get(MonitorRuleSet, name)
    if ruleset is None:
        ruleset = MonitorRuleSet(name=name, path=str(folder.resolve()), added_at=utcnow())
        session.add(ruleset)
    ruleset.path, ruleset.rules, ruleset.converted = (
        str(folder.resolve()),
        result.rules,
        result.converted,
    )
    session.flush()
    existing = {
        r.id: r
        for r in session.scalars(
            select(MonitorRule).where(MonitorRule.id.in_([c.id for c in converted]))
        )
    }
    seen: set[str] = set()
    for c in converted:
        if c.id in seen:
            raise RuleError(f"rule id {c.id} appears twice (second time in {c.path})")
        seen.add(c.id)
        values = _row_values(c)
        row = existing.get(c.id)
        if row is None:
            enabled = values["status"] not in DISABLED_STATUSES
            session.add(
                MonitorRule(id=c.id, ruleset=name, enabled=enabled, updated_at=utcnow(), **values)
            )
            result.added += 1
        else:
            if row.sha != c.sha or row.ruleset != name or row.sql != c.sql:
                result.updated += 1
            for key, value in values.items():
                setattr(row, key, value)
            row.ruleset, row.updated_at = name, utcnow()
    gone = cast(
        "CursorResult[Any]",
        session.execute(
            delete(MonitorRule).where(MonitorRule.ruleset == name, MonitorRule.id.not_in(seen))
        ),
    )
    result.removed = gone.rowcount or 0
    session.flush()
    audit(
        session,
        actor,
        "monitor.rules.add",
        f"ruleset:{name}",
        {
            "path": str(folder.resolve()),
            "rules": result.rules,
            "converted": result.converted,
            "added": result.added,
            "updated": result.updated,
            "removed": result.removed,
        },
    )
    return result


def list_rules(
    session: Session, actor: Actor, ruleset: str | None = None, failed_only: bool = False
) -> list[MonitorRule]:
    actor.require(Permission.VIEW)
    q = select(MonitorRule).order_by(MonitorRule.ruleset, MonitorRule.group_key, MonitorRule.title)
    if ruleset:
        q = q.where(MonitorRule.ruleset == ruleset)
    if failed_only:
        q = q.where(MonitorRule.sql.is_(None))
    return list(session.scalars(q))


def list_rule_sets(session: Session, actor: Actor) -> list[MonitorRuleSet]:
    actor.require(Permission.VIEW)
    return list(session.scalars(select(MonitorRuleSet).order_by(MonitorRuleSet.name)))


def set_rule_enabled(session: Session, actor: Actor, rule_id: str, enabled: bool) -> MonitorRule:
    actor.require(Permission.ANALYSE)
    row = session.get(MonitorRule, rule_id)
    if row is None:
        raise NotFoundError(f"no Sigma rule {rule_id!r}")
    row.enabled = enabled
    row.updated_at = utcnow()
    audit(
        session,
        actor,
        "monitor.rules.enable" if enabled else "monitor.rules.disable",
        f"rule:{rule_id}",
        {"ruleset": row.ruleset},
    )
    return row


def forget_scans(session: Session, actor: Actor, ruleset: str) -> int:
    """Make a rule set run again over every batch (after its rules changed)."""
    actor.require(Permission.ANALYSE)
    if session.get(MonitorRuleSet, ruleset) is None:
        raise NotFoundError(f"no rule set {ruleset!r}")
    gone = cast(
        "CursorResult[Any]",
        session.execute(delete(MonitorScan).where(MonitorScan.ruleset == ruleset)),
    )
    audit(session, actor, "monitor.rules.rescan", f"ruleset:{ruleset}", {"batches": gone.rowcount})
    return gone.rowcount or 0
