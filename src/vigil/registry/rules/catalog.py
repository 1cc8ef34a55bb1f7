"""The rule catalog: catalog.yaml read into typed rules, their SQL filled in for one engine."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from vigil.core.errors import Location
from vigil.core.severity import Severity
from vigil.lake.dialect import Dialect
from vigil.registry.citizen_id import PROVINCE_CODES
from vigil.registry.errors import RegistryError

CATALOG = Path(__file__).with_name("catalog.yaml")
#: The four words of the task, and the household rules.
WORDS = ("correct", "sufficient", "clean", "living", "households")
_TEXT = re.compile(r"\{text ([\w.]+)\}")
_MATCH = re.compile(r"\{match (\w+) /(.+?)/\}")


@dataclass(frozen=True)
class QualityRule:
    name: str
    word: str
    severity: Severity
    title: str
    title_vi: str
    #: "sql" (run over the lake) or "linkage" (run by the record linkage).
    kind: str = "sql"
    #: "record": looks at new batches only; "all": at every record each time.
    scope: str = "all"
    sql: str = ""

    def query(self, dialect: Dialect, required: tuple[str, ...]) -> str:
        """The rule's SQL for an engine: placeholders filled."""
        codes = ", ".join(dialect.literal(c) for c in sorted(PROVINCE_CODES))
        missing = " || ".join(
            f"CASE WHEN {dialect.quote(f)} IS NULL OR {dialect.as_text(dialect.quote(f))} = '' "
            f"THEN {dialect.literal(f + ' ')} ELSE '' END"
            for f in required
        )
        sql = self.sql.replace("{province_codes}", codes)
        sql = sql.replace("{missing_fields}", f"trim({missing})")
        sql = _TEXT.sub(lambda m: dialect.as_text(m.group(1)), sql)
        return _MATCH.sub(lambda m: dialect.matches(m.group(1), dialect.literal(m.group(2))), sql)


@dataclass(frozen=True)
class Catalog:
    rules: tuple[QualityRule, ...]
    required_fields: tuple[str, ...]

    def rule(self, name: str) -> QualityRule:
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise RegistryError(f"no quality rule named {name!r}")


def parse_catalog(text: str, source: str) -> Catalog:
    try:
        body = yaml.safe_load(text)
        rules = tuple(
            QualityRule(
                name=str(item["name"]),
                word=str(item["word"]),
                severity=Severity.parse(item["severity"]),
                title=str(item["title"]),
                title_vi=str(item["title_vi"]),
                kind=str(item.get("kind", "sql")),
                scope=str(item.get("scope", "all")),
                sql=str(item.get("sql", "")),
            )
            for item in body["rules"]
        )
        required = tuple(str(f) for f in body["required_fields"])
    except (yaml.YAMLError, KeyError, TypeError, ValueError) as e:
        raise RegistryError(f"bad rule catalog: {e}", location=Location(source)) from e
    for rule in rules:
        if rule.word not in WORDS or rule.kind not in ("sql", "linkage"):
            raise RegistryError(f"rule {rule.name}: bad word or kind", location=Location(source))
        if rule.kind == "sql" and not rule.sql.strip():
            raise RegistryError(f"rule {rule.name} has no sql", location=Location(source))
    return Catalog(rules, required)


@cache
def load_catalog(path: Path = CATALOG) -> Catalog:
    return parse_catalog(path.read_text(encoding="utf-8"), str(path))
