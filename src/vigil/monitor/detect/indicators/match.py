"""Indicators of compromise matched against security events and scanned files, as Findings.

Events are matched value by value, not row by row: the distinct values of each address, domain,
URL, hash and path column are looked up once, and only rows holding a hit are read again. An
indicator counts only for events inside its validity window.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from vigil.core.finding import Finding
from vigil.core.indicators import Indicator, IndicatorMatcher, hash_kind, severity_of
from vigil.deployment import Deployment
from vigil.lake.datasets import Lake
from vigil.monitor.ingest.sources.base import DATASET
from vigil.store.indicators import load_matcher

CAPABILITY = "monitor"

#: Event columns (Sigma field names, case-insensitive) and how their values are looked up.
EVENT_FIELDS: dict[str, str] = {
    "DestinationIp": "ip",
    "SourceIp": "ip",
    "IpAddress": "ip",
    "SourceAddress": "ip",
    "DestAddress": "ip",
    "ClientIP": "ip",
    "c-ip": "ip",
    "src_ip": "ip",
    "dst_ip": "ip",
    "QueryName": "domain",
    "DestinationHostname": "domain",
    "cs-host": "domain",
    "query": "domain",
    "c-uri": "url",
    "url": "url",
    "Hashes": "hashes",
    "Hash": "hashes",
    "sha256": "hashes",
    "sha1": "hashes",
    "md5": "hashes",
    "Image": "filename",
    "ImageLoaded": "filename",
    "TargetFilename": "filename",
}
_EVENT_COLUMNS = ("event_id", "ts", "host", "unit", "source", "channel", "event_code")
#: Sysmon's Hashes field also carries IMPHASH, which is as long as an MD5 but names no file.
_FILE_HASHES = {"MD5", "SHA1", "SHA256"}


def hash_values(text: str) -> list[str]:
    """File hashes in a Sysmon 'SHA1=..,MD5=..,IMPHASH=..' field, or a bare hash."""
    found = []
    for part in text.split(","):
        name, eq, value = part.partition("=")
        if eq:
            if name.strip().upper() in _FILE_HASHES and hash_kind(value) is not None:
                found.append(value.strip().lower())
        elif hash_kind(name) is not None:
            found.append(name.strip().lower())
    return found


def lookup_value(matcher: IndicatorMatcher, family: str, value: str) -> list[Indicator]:
    """Every indicator covering one event value (in any time; callers check validity)."""
    if family == "hashes":
        return [ind for digest in hash_values(value) for ind in matcher.lookup_hash(digest)]
    return matcher.lookup(value, family)


def _columns(names: Iterable[str]) -> dict[str, str]:
    """Event column -> lookup family, for the columns present (names match case-insensitively)."""
    wanted = {name.lower(): family for name, family in EVENT_FIELDS.items()}
    return {name: wanted[name.lower()] for name in names if name.lower() in wanted}


def hit_values(
    matcher: IndicatorMatcher, family: str, values: Iterable[str]
) -> dict[str, list[Indicator]]:
    hits = {}
    for value in values:
        found = lookup_value(matcher, family, value)
        if found:
            hits[value] = found
    return hits


def indicator_evidence(ind: Indicator) -> dict[str, Any]:
    return {
        "kind": ind.kind.value,
        "value": ind.value,
        "source": ind.source,
        "confidence": ind.confidence,
        "description": ind.description,
        "tags": list(ind.tags),
        "external_id": ind.external_id,
        "valid_until": ind.valid_until.isoformat() if ind.valid_until else None,
    }


@dataclass(frozen=True)
class IndicatorHit:
    """One indicator value (from one or more sources) seen in one event or file."""

    indicators: tuple[Indicator, ...]
    unit: str
    subject: str
    field: str
    matched: str
    observed_at: datetime
    occurrence: str
    context: dict[str, Any]


def indicator_finding(hit: IndicatorHit) -> Finding:
    """rule ioc:<kind>, one row per indicator value and subject, counted per event or file."""
    first = hit.indicators[0]
    kind, value = first.kind.value, first.value
    return Finding(
        capability=CAPABILITY,
        rule=f"ioc:{kind}",
        severity=max(severity_of(ind) for ind in hit.indicators),
        unit=hit.unit,
        subject=hit.subject,
        title=f"Indicator of compromise ({kind}) {value} seen on {hit.subject}",
        title_vi=f"Phát hiện dấu hiệu xâm nhập ({kind}) {value} trên {hit.subject}",
        evidence={
            "indicator": indicator_evidence(first),
            "sources": sorted({ind.source for ind in hit.indicators}),
            "confidence": max(ind.confidence for ind in hit.indicators),
            "field": hit.field,
            "matched": hit.matched,
            **hit.context,
        },
        observed_at=hit.observed_at,
        occurrences=(hit.occurrence,),
        scope=f"{kind}:{value}",
    )


def _by_value(indicators: Iterable[Indicator]) -> list[tuple[Indicator, ...]]:
    """Group indicators of the same kind and value (several sources) together."""
    groups: dict[tuple[str, str], list[Indicator]] = defaultdict(list)
    for ind in indicators:
        groups[(ind.kind.value, ind.value)].append(ind)
    return [tuple(sorted(group, key=lambda i: -i.confidence)) for group in groups.values()]


def match_events(
    matcher: IndicatorMatcher,
    events: pa.Table,
    *,
    default_unit: str = "",
    at: datetime | None = None,
) -> list[Finding]:
    """Findings for every event whose address, domain, URL, hash or path an indicator covers.

    An indicator counts for an event when the event's time (its `ts`, else `at`) lies in the
    indicator's validity window.
    """
    if len(matcher) == 0 or events.num_rows == 0:
        return []
    findings: list[Finding] = []
    names = set(events.column_names)
    for column, family in _columns(events.column_names).items():
        values = events.column(column)
        if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
            values = pc.cast(values, pa.string())
        uniques = [v for v in pc.unique(values).to_pylist() if v]
        hits = hit_values(matcher, family, uniques)
        if not hits:
            continue
        mask = pc.is_in(values, value_set=pa.array(list(hits), type=pa.string()))
        rows = events.filter(pc.fill_null(mask, False))
        keep = [c for c in _EVENT_COLUMNS if c in names]
        for row, value in zip(
            rows.select(keep).to_pylist(), rows.column(column).to_pylist(), strict=True
        ):
            when = row.get("ts") or at
            found = [i for i in hits[str(value)] if when is None or i.active_at(when)]
            for group in _by_value(found):
                findings.append(_event_finding(group, row, column, str(value), default_unit, at))
    return findings


def _event_finding(
    group: tuple[Indicator, ...],
    row: dict[str, Any],
    column: str,
    value: str,
    default_unit: str,
    at: datetime | None,
) -> Finding:
    host = str(row.get("host") or "") or "(unknown host)"
    event = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}
    event_id = str(row.get("event_id") or "")
    hit = IndicatorHit(
        indicators=group,
        unit=str(row.get("unit") or default_unit),
        subject=host,
        field=column,
        matched=value,
        observed_at=row.get("ts") or at or datetime.min,
        occurrence=event_id or f"{column}={value}@{row.get('ts')}",
        context={"event": event},
    )
    return indicator_finding(hit)


def match_lake(
    lake: Lake, matcher: IndicatorMatcher, *, default_unit: str, at: datetime | None = None
) -> list[Finding]:
    """match_events over the monitor_events dataset, reading only the rows that hold a hit."""
    if len(matcher) == 0 or not lake.files(DATASET):
        return []
    schema = lake.query(f"SELECT * FROM {DATASET} LIMIT 0", datasets=[DATASET]).column_names
    present = [c for c in _EVENT_COLUMNS if c in schema]
    findings: list[Finding] = []
    dialect = lake.dialect
    for column, family in _columns(schema).items():
        quoted = dialect.quote(column)
        text = dialect.as_text(quoted)
        distinct = lake.query(
            f"SELECT DISTINCT {text} AS v FROM {DATASET} WHERE {quoted} IS NOT NULL",
            datasets=[DATASET],
        )
        hits = hit_values(matcher, family, (v for v in distinct.column("v").to_pylist() if v))
        if not hits:
            continue
        lake.engine.register_arrow(
            "ioc_hit_values", pa.table({"v": pa.array(list(hits), pa.string())})
        )
        rows = lake.query(
            f"SELECT {', '.join(present)}, {text} AS {quoted} FROM {DATASET} "
            f"WHERE {text} IN (SELECT v FROM ioc_hit_values)",
            datasets=[DATASET],
        )
        findings.extend(match_events(matcher, rows, default_unit=default_unit, at=at))
    return findings


def detect_indicators(deployment: Deployment) -> list[Finding]:
    """Indicator hits in monitor_events (the indicator part of `vigil detect`)."""
    with deployment.store.reader() as session:
        matcher = load_matcher(session)
    root = deployment.units.root.code
    return match_lake(deployment.lake, matcher, default_unit=root, at=deployment.now())
