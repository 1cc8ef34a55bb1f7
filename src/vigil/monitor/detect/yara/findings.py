"""What a YARA scan becomes downstream: one Finding per rule and file, counted per file content."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from vigil.core.errors import ValidationError
from vigil.core.finding import Finding
from vigil.core.severity import Severity
from vigil.monitor.detect.indicators.match import IndicatorHit, indicator_finding
from vigil.monitor.detect.yara.scan import FileScan, RuleHit, ScanReport

CAPABILITY = "monitor"
#: Rule metadata copied into the evidence.
EVIDENCE_META = ("description", "author", "reference", "date", "score", "level", "severity")
#: Pattern matches listed per finding.
EVIDENCE_STRINGS = 10

# THOR's score bands (signature-base's `score` meta): 40 notable, 60 suspicious, 75+ alert.
_SCORE_BANDS = (
    (100, Severity.CRITICAL),
    (75, Severity.HIGH),
    (60, Severity.MEDIUM),
    (40, Severity.LOW),
)


def severity_of_rule(meta: dict[str, Any]) -> Severity:
    """From the rule's score, level or severity meta; HIGH when it says nothing usable."""
    lowered = {str(k).lower(): v for k, v in meta.items()}
    score = lowered.get("score")
    if isinstance(score, str) and score.strip().isdigit():
        score = int(score)
    if isinstance(score, int) and not isinstance(score, bool):
        return next((sev for bound, sev in _SCORE_BANDS if score >= bound), Severity.INFO)
    for key in ("severity", "level"):
        value = lowered.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            try:
                return Severity.parse(value)
            except ValidationError:
                continue
    return Severity.HIGH


def subject_of(path: str, host: str | None) -> str:
    return f"{host}:{path}" if host else path


def rule_name(hit: RuleHit) -> str:
    return f"yara:{hit.namespace}:{hit.rule}"


def yara_finding(
    scan: FileScan, hit: RuleHit, *, unit: str, host: str | None, at: datetime
) -> Finding:
    subject = subject_of(scan.path, host)
    return Finding(
        capability=CAPABILITY,
        rule=rule_name(hit),
        severity=severity_of_rule(hit.meta),
        unit=unit,
        subject=subject,
        title=f"YARA rule {hit.rule} matched {subject}",
        title_vi=f"Luật YARA {hit.rule} khớp với tệp {subject}",
        evidence={
            "path": scan.path,
            "host": host,
            "sha256": scan.sha256,
            "size": scan.size,
            "namespace": hit.namespace,
            "rule": hit.rule,
            "tags": list(hit.tags),
            "meta": {k: v for k, v in hit.meta.items() if k.lower() in EVIDENCE_META},
            "strings": [
                {"id": p.identifier, "offset": p.offset, "length": p.length}
                for p in hit.patterns[:EVIDENCE_STRINGS]
            ],
        },
        observed_at=at,
        # The same content found again is the same occurrence; changed content is a new one.
        occurrences=(scan.sha256,),
    )


def file_indicator_findings(
    scan: FileScan, *, unit: str, host: str | None, at: datetime
) -> list[Finding]:
    """A scanned file whose hash or path an indicator names (only indicators valid at `at`)."""
    groups: dict[tuple[str, str], list[tuple[str, Any]]] = {}
    for what, ind in scan.indicators:
        if ind.active_at(at):
            groups.setdefault((ind.kind.value, ind.value), []).append((what, ind))
    findings: list[Finding] = []
    for pairs in groups.values():
        what = pairs[0][0]
        matched = scan.path if what == "path" else scan.hashes.get(what, scan.sha256)
        hit = IndicatorHit(
            indicators=tuple(sorted((ind for _, ind in pairs), key=lambda i: -i.confidence)),
            unit=unit,
            subject=subject_of(scan.path, host),
            field=what,
            matched=matched,
            observed_at=at,
            occurrence=scan.sha256,
            context={
                "file": {"path": scan.path, "size": scan.size, "sha256": scan.sha256, **scan.hashes}
            },
        )
        findings.append(indicator_finding(hit))
    return findings


def scan_findings(
    report: ScanReport, *, unit: str, host: str | None, at: datetime
) -> list[Finding]:
    findings: list[Finding] = []
    for scan in report.results:
        findings.extend(yara_finding(scan, hit, unit=unit, host=host, at=at) for hit in scan.hits)
        findings.extend(file_indicator_findings(scan, unit=unit, host=host, at=at))
    return findings
