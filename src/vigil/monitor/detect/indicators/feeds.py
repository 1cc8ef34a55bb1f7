"""Reads indicators of compromise from STIX 2.1 bundles, MISP events and signature-base IOC lists.

Each reader returns the indicators it understood and, for everything else, a problem
(`InputProblem`) that names the file and line (or object id), the reason and a code: a bad
record is reported and quarantined, never fatal and never dropped silently.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import stix2
import stix2.patterns as stix_patterns
from sqlalchemy.orm import Session
from stix2.exceptions import STIXError
from stix2.pattern_visitor import create_pattern_object
from stix2patterns.exceptions import ParseException

from vigil.core.access import Actor
from vigil.core.clock import to_utc
from vigil.core.errors import IngestError, Location
from vigil.core.indicators import (
    Indicator,
    IndicatorError,
    IndicatorKind,
    hash_kind,
    normalise_cidr,
    normalise_domain,
    normalise_filename_regex,
    normalise_ip,
    normalise_url,
)
from vigil.core.problems import InputProblem
from vigil.lake.quarantine import Quarantine, QuarantineEntry
from vigil.store.indicators import UpsertResult, upsert_indicators

QUARANTINE_DATASET = "indicators"
FORMATS = ("stix", "misp", "sigbase")


@dataclass
class ImportReport:
    path: str
    format: str
    indicators: list[Indicator] = field(default_factory=list)
    #: What did not become an indicator, and why (each one an error: the record is left out).
    problems: list[InputProblem] = field(default_factory=list)
    #: Records left out on purpose (to_ids false, revoked, duplicates...), by reason.
    skipped: Counter[str] = field(default_factory=Counter)

    def kinds(self) -> dict[str, int]:
        return dict(sorted(Counter(ind.kind.value for ind in self.indicators).items()))

    def problem(
        self,
        reason: str,
        code: str,
        *,
        line: int | None = None,
        record: str | None = None,
        raw: str = "",
    ) -> None:
        self.problems.append(
            InputProblem.error(self.path, reason, line=line, record=record, code=code, raw=raw)
        )

    def add(self, indicator: Indicator) -> None:
        self.indicators.append(indicator)


def _dedupe(report: ImportReport) -> ImportReport:
    """Keep the first of repeated (kind, value, source) keys and count the repeats."""
    seen: dict[tuple[str, str, str], Indicator] = {}
    for ind in report.indicators:
        if ind.key in seen:
            report.skipped["duplicate"] += 1
        else:
            seen[ind.key] = ind
    report.indicators = list(seen.values())
    return report


# --- signature-base IOC lists ----------------------------------------------------------------

#: signature-base names the list type in the file name (its README says so).
SIGBASE_LISTS = ("hash", "filename", "c2")
#: A c2 or hash line without a score of its own.
SIGBASE_CONFIDENCE = 80


@dataclass(frozen=True)
class SigbaseLine:
    """One data line of a signature-base IOC list."""

    kind: IndicatorKind
    value: str
    confidence: int
    comment: str = ""
    exclude: str = ""


def sigbase_list_type(path: Path) -> str | None:
    name = path.name.lower()
    return next((t for t in SIGBASE_LISTS if t in name), None)


def _score(text: str) -> int:
    try:
        score = int(text.strip())
    except ValueError as e:
        raise IndicatorError(f"score {text.strip()!r} is not a number") from e
    if not 0 <= score <= 100:
        raise IndicatorError(f"score {score} is outside 0-100")
    return score


def _network_kind(value: str) -> tuple[IndicatorKind, str]:
    """A c2 entry: an IP address, a block, a domain or a URL."""
    readers: tuple[tuple[IndicatorKind, Callable[[str], str]], ...] = (
        (IndicatorKind.IP, normalise_ip),
        (IndicatorKind.CIDR, normalise_cidr),
        (IndicatorKind.DOMAIN, normalise_domain),
    )
    for kind, read in readers:
        try:
            return kind, read(value)
        except IndicatorError:
            continue
    if "/" in value or "://" in value:
        return IndicatorKind.URL, normalise_url(value)
    raise IndicatorError(f"not an IP address, block, domain or URL: {value!r}")


def parse_sigbase_line(list_type: str, text: str) -> SigbaseLine | None:
    """None for a blank or comment line; IndicatorError for a line that is not an indicator.

    hash lists: HASH;COMMENT. c2 lists: VALUE[;SCORE]. filename lists: REGEX;SCORE[;EXCLUDE_REGEX].
    """
    line = text.strip()
    if not line or line.startswith("#"):
        return None
    if list_type == "hash":
        value, _, comment = line.partition(";")
        kind = hash_kind(value)
        if kind is None:
            raise IndicatorError(f"not an MD5, SHA-1 or SHA-256 hash: {value.strip()!r}")
        return SigbaseLine(kind, value.strip().lower(), SIGBASE_CONFIDENCE, comment.strip())
    if list_type == "c2":
        value, _, score = line.partition(";")
        kind, normal = _network_kind(value.strip())
        return SigbaseLine(kind, normal, _score(score) if score.strip() else SIGBASE_CONFIDENCE)
    if list_type == "filename":
        parts = line.split(";")
        if len(parts) not in (2, 3):
            raise IndicatorError(f"expected REGEX;SCORE[;EXCLUDE], found {len(parts)} fields")
        exclude = normalise_filename_regex(parts[2]) if len(parts) == 3 else ""
        regex = normalise_filename_regex(parts[0])
        return SigbaseLine(IndicatorKind.FILENAME_REGEX, regex, _score(parts[1]), "", exclude)
    raise IndicatorError(f"unknown signature-base list type {list_type!r}")


def read_sigbase(path: Path, source: str = "signature-base") -> ImportReport:
    """One signature-base IOC list; the type (hash, filename, c2) comes from the file name."""
    report = ImportReport(str(path), "sigbase")
    list_type = sigbase_list_type(path)
    if list_type is None:
        raise IngestError(
            f"not a signature-base IOC list: the name must contain {' or '.join(SIGBASE_LISTS)}",
            location=Location(str(path)),
        )
    heading = ""
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, 1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                report.problem("not UTF-8", "not-utf8", line=number, raw=raw.decode("latin-1"))
                continue
            stripped = text.strip()
            if stripped.startswith("#"):
                # The last comment above a block says what the block is (campaign, report).
                comment = stripped.lstrip("#").strip()
                if comment and not set(comment) <= {"-", "=", "#"}:
                    heading = comment
                continue
            try:
                parsed = parse_sigbase_line(list_type, text)
                if parsed is None:
                    continue
                report.add(
                    Indicator(
                        parsed.kind,
                        parsed.value,
                        source,
                        confidence=parsed.confidence,
                        description=parsed.comment or heading,
                        exclude=parsed.exclude,
                        tags=("signature-base", list_type),
                    )
                )
            except IndicatorError as e:
                report.problem(e.message, "indicator", line=number, raw=stripped)
    return _dedupe(report)


# --- STIX 2.1 ------------------------------------------------------------------------------------

_STIX_VALUE_KINDS: dict[tuple[str, str], IndicatorKind | None] = {
    ("ipv4-addr", "value"): None,  # an address or a block: decided by the value
    ("ipv6-addr", "value"): None,
    ("domain-name", "value"): IndicatorKind.DOMAIN,
    ("url", "value"): IndicatorKind.URL,
    ("email-addr", "value"): IndicatorKind.EMAIL,
    ("file", "name"): IndicatorKind.FILENAME,
}
_STIX_HASHES = {
    "md5": IndicatorKind.MD5,
    "sha-1": IndicatorKind.SHA1,
    "sha1": IndicatorKind.SHA1,
    "sha-256": IndicatorKind.SHA256,
    "sha256": IndicatorKind.SHA256,
}


class UnsupportedPattern(Exception):
    """A STIX pattern that is more than an OR of equalities on values Vigil can match."""


def _path_kind(path: stix_patterns.ObjectPath) -> IndicatorKind | None:
    names = [str(getattr(c, "property_name", "")) for c in path.property_path]
    object_type = str(path.object_type_name)
    if len(names) == 2 and object_type == "file" and names[0] == "hashes":
        kind = _STIX_HASHES.get(names[1].strip("'").lower())
        if kind is None:
            raise UnsupportedPattern(f"hash type {names[1]!r} is not supported")
        return kind
    key = (object_type, ".".join(names))
    if key not in _STIX_VALUE_KINDS:
        raise UnsupportedPattern(f"{object_type}:{'.'.join(names)} is not supported")
    return _STIX_VALUE_KINDS[key]


def _comparisons(node: Any) -> Iterator[tuple[IndicatorKind | None, str]]:
    """(kind, value) of every equality in a pattern made only of ORs, '=' and IN."""
    if isinstance(node, stix_patterns.OrObservationExpression | stix_patterns.OrBooleanExpression):
        for operand in node.operands:
            yield from _comparisons(operand)
    elif isinstance(
        node, stix_patterns.ObservationExpression | stix_patterns.ParentheticalExpression
    ):
        yield from _comparisons(getattr(node, "operand", None) or getattr(node, "expression", None))
    elif isinstance(node, stix_patterns.EqualityComparisonExpression) and not node.negated:
        kind = _path_kind(node.lhs)
        if not isinstance(node.rhs, stix_patterns.StringConstant | stix_patterns.HashConstant):
            raise UnsupportedPattern("only string values are supported")
        yield kind, str(node.rhs.value)
    elif isinstance(node, stix_patterns.InComparisonExpression) and not node.negated:
        kind = _path_kind(node.lhs)
        for item in node.rhs.value:
            yield kind, str(item.value)
    else:
        name = type(node).__name__.removesuffix("Expression")
        raise UnsupportedPattern(f"{name} is not supported (only OR, = and IN)")


def stix_pattern_values(pattern: str) -> list[tuple[IndicatorKind, str]]:
    """The (kind, raw value) pairs a simple STIX pattern names; UnsupportedPattern otherwise."""
    try:
        tree = create_pattern_object(pattern, version="2.1")
    except ParseException as e:
        raise UnsupportedPattern(f"pattern does not parse: {e}") from e
    values = []
    for kind, value in _comparisons(tree):
        if kind is None:
            kind = IndicatorKind.CIDR if "/" in value else IndicatorKind.IP
        values.append((kind, value))
    return values


def _stix_time(value: Any) -> datetime | None:
    return to_utc(value) if isinstance(value, datetime) else None


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        line = getattr(e, "lineno", None)
        raise IngestError(f"not JSON: {e}", location=Location(str(path), line)) from e


def read_stix(path: Path, source: str | None = None, default_confidence: int = 50) -> ImportReport:
    """Indicators of a STIX 2.1 bundle; `source` overrides the creator named by created_by_ref."""
    report = ImportReport(str(path), "stix")
    data = _load_json(path)
    if not isinstance(data, dict) or data.get("type") != "bundle":
        raise IngestError('not a STIX bundle (no "type": "bundle")', location=Location(str(path)))
    raw_objects = data.get("objects") or []
    identities = {
        o.get("id"): str(o.get("name") or o.get("id"))
        for o in raw_objects
        if isinstance(o, dict) and o.get("type") == "identity"
    }
    for number, raw in enumerate(raw_objects):
        record = str(raw.get("id")) if isinstance(raw, dict) else f"objects[{number}]"
        if not isinstance(raw, dict) or raw.get("type") != "indicator":
            report.skipped["not an indicator"] += 1
            continue
        try:
            obj = stix2.parse(raw, allow_custom=True, version="2.1")
        except (STIXError, ValueError, ParseException) as e:
            report.problem(
                f"invalid STIX indicator: {e}",
                "stix",
                record=record,
                raw=json.dumps(raw)[:2000],
            )
            continue
        if obj.get("revoked"):
            report.skipped["revoked"] += 1
            continue
        if obj.get("pattern_type", "stix") != "stix":
            message = f"pattern type {obj['pattern_type']!r} is not supported"
            report.problem(message, "pattern-type", record=record)
            continue
        try:
            values = stix_pattern_values(obj["pattern"])
        except UnsupportedPattern as e:
            report.problem(
                f"unsupported pattern: {e}", "pattern", record=record, raw=obj["pattern"]
            )
            continue
        creator = obj.get("created_by_ref")
        origin = source or identities.get(creator) or (str(creator) if creator else "stix")
        tags = [*(obj.get("indicator_types") or []), *(obj.get("labels") or [])]
        for kind, value in values:
            try:
                report.add(
                    Indicator(
                        kind,
                        value,
                        origin[:200],
                        confidence=int(obj.get("confidence", default_confidence)),
                        valid_from=_stix_time(obj.get("valid_from")),
                        valid_until=_stix_time(obj.get("valid_until")),
                        tags=tuple(str(t) for t in tags),
                        description=str(obj.get("name") or obj.get("description") or ""),
                        external_id=str(obj["id"]),
                    )
                )
            except IndicatorError as e:
                report.problem(e.message, "indicator", record=record, raw=value)
    return _dedupe(report)


# --- MISP ----------------------------------------------------------------------------------------

# MISP attribute types and what each part of a "a|b" value is; None parts are not indicators.
_MISP_TYPES: dict[str, tuple[IndicatorKind | None, ...]] = {
    "ip-src": (IndicatorKind.IP,),
    "ip-dst": (IndicatorKind.IP,),
    "ip-src|port": (IndicatorKind.IP, None),
    "ip-dst|port": (IndicatorKind.IP, None),
    "domain": (IndicatorKind.DOMAIN,),
    "hostname": (IndicatorKind.DOMAIN,),
    "domain|ip": (IndicatorKind.DOMAIN, IndicatorKind.IP),
    "hostname|port": (IndicatorKind.DOMAIN, None),
    "url": (IndicatorKind.URL,),
    "md5": (IndicatorKind.MD5,),
    "sha1": (IndicatorKind.SHA1,),
    "sha256": (IndicatorKind.SHA256,),
    "filename": (IndicatorKind.FILENAME,),
    "filename|md5": (IndicatorKind.FILENAME, IndicatorKind.MD5),
    "filename|sha1": (IndicatorKind.FILENAME, IndicatorKind.SHA1),
    "filename|sha256": (IndicatorKind.FILENAME, IndicatorKind.SHA256),
    "email": (IndicatorKind.EMAIL,),
    "email-src": (IndicatorKind.EMAIL,),
    "email-dst": (IndicatorKind.EMAIL,),
}
# threat_level_id: 1 high, 2 medium, 3 low, 4 undefined.
_MISP_CONFIDENCE = {"1": 90, "2": 70, "3": 50, "4": 50}


def _misp_events(data: Any) -> list[dict[str, Any]]:
    """An export holds one event, a list of events, or a REST 'response' list."""
    if isinstance(data, dict) and "response" in data:
        data = data["response"]
    items = data if isinstance(data, list) else [data]
    return [
        item["Event"]
        for item in items
        if isinstance(item, dict) and isinstance(item.get("Event"), dict)
    ]


def _tag_names(holder: dict[str, Any]) -> list[str]:
    return [
        str(t.get("name")) for t in holder.get("Tag") or [] if isinstance(t, dict) and t.get("name")
    ]


def _misp_attributes(event: dict[str, Any]) -> Iterable[tuple[str, dict[str, Any]]]:
    for i, attribute in enumerate(event.get("Attribute") or []):
        yield f"Attribute[{i}]", attribute
    for i, obj in enumerate(event.get("Object") or []):
        if isinstance(obj, dict) and not obj.get("deleted"):
            for j, attribute in enumerate(obj.get("Attribute") or []):
                yield f"Object[{i}].Attribute[{j}]", attribute


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def read_misp(path: Path, source: str | None = None) -> ImportReport:
    """Attributes flagged for detection (to_ids) of MISP event JSON; Event.info names the source."""
    report = ImportReport(str(path), "misp")
    events = _misp_events(_load_json(path))
    if not events:
        raise IngestError("no MISP Event in the file", location=Location(str(path)))
    for event in events:
        origin = (source or str(event.get("info") or "misp")).strip()[:200] or "misp"
        event_tags = _tag_names(event)
        confidence = _MISP_CONFIDENCE.get(str(event.get("threat_level_id", "4")), 50)
        for where, attribute in _misp_attributes(event):
            record = f"{event.get('uuid', '?')} {where}"
            if not isinstance(attribute, dict):
                report.problem("attribute is not an object", "misp", record=record)
                continue
            if attribute.get("deleted") and _truthy(attribute["deleted"]):
                report.skipped["deleted"] += 1
                continue
            if not _truthy(attribute.get("to_ids", False)):
                report.skipped["to_ids is false"] += 1
                continue
            kind_parts = _MISP_TYPES.get(str(attribute.get("type")))
            if kind_parts is None:
                report.skipped[f"type {attribute.get('type')} is not an indicator kind"] += 1
                continue
            raw = str(attribute.get("value", ""))
            values = raw.split("|") if len(kind_parts) > 1 else [raw]
            if len(values) != len(kind_parts):
                report.problem(
                    f"{attribute.get('type')} value needs {len(kind_parts)} parts",
                    "misp",
                    record=record,
                    raw=raw,
                )
                continue
            for kind, value in zip(kind_parts, values, strict=True):
                if kind is None:
                    continue
                try:
                    report.add(
                        Indicator(
                            kind,
                            value,
                            origin,
                            confidence=confidence,
                            tags=tuple(event_tags + _tag_names(attribute)),
                            description=str(attribute.get("comment") or event.get("info") or ""),
                            external_id=str(attribute.get("uuid") or ""),
                        )
                    )
                except IndicatorError as e:
                    report.problem(e.message, "indicator", record=record, raw=raw)
    return _dedupe(report)


# --- one entry point -----------------------------------------------------------------------------


def detect_format(path: Path) -> str:
    """sigbase for text lists, stix for a bundle, misp for an event; IngestError otherwise."""
    if path.suffix.lower() != ".json" and sigbase_list_type(path) is not None:
        return "sigbase"
    data = _load_json(path)
    if isinstance(data, dict) and data.get("type") == "bundle":
        return "stix"
    if _misp_events(data):
        return "misp"
    raise IngestError(
        "cannot tell the format: use --format stix|misp|sigbase", location=Location(str(path))
    )


def read_indicators(path: Path, fmt: str | None = None, source: str | None = None) -> ImportReport:
    fmt = fmt or detect_format(path)
    if fmt == "sigbase":
        return read_sigbase(path, source or "signature-base")
    if fmt == "stix":
        return read_stix(path, source)
    if fmt == "misp":
        return read_misp(path, source)
    raise IngestError(f"unknown indicator format {fmt!r}; use one of {', '.join(FORMATS)}")


def import_indicators(
    session: Session,
    actor: Actor,
    paths: Iterable[Path],
    *,
    fmt: str | None = None,
    source: str | None = None,
    quarantine: Quarantine | None = None,
) -> tuple[list[ImportReport], UpsertResult]:
    """Read each file, quarantine its problems, store its indicators; a re-import adds nothing."""
    reports = []
    indicators: list[Indicator] = []
    for path in paths:
        if not path.is_file():
            raise IngestError("no such file", location=Location(str(path)))
        report = read_indicators(path, fmt, source)
        reports.append(report)
        indicators.extend(report.indicators)
        if quarantine is not None:
            for problem in report.problems:
                quarantine.add(QuarantineEntry.of(QUARANTINE_DATASET, problem))
    origin = ", ".join(r.path for r in reports)
    result = upsert_indicators(session, actor, indicators, origin=origin[:1000])
    return reports, result
