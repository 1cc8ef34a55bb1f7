"""One YARA scan as a job: rules loaded or compiled, indicators loaded, files scanned, findings
recorded and the scan written to the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from time import perf_counter

from vigil.core.access import Actor, Permission
from vigil.core.finding import Finding
from vigil.deployment import Deployment
from vigil.monitor.detect.yara.findings import scan_findings
from vigil.monitor.detect.yara.rules import CompiledRules, compile_rules
from vigil.monitor.detect.yara.scan import DEFAULT_MAX_SIZE, ScanOptions, ScanReport, scan_paths
from vigil.store.audit import audit
from vigil.store.findings import RecordResult, record_findings
from vigil.store.indicators import load_matcher


def yara_cache_dir(deployment: Deployment) -> Path:
    return deployment.settings.data / "cache" / "yara"


def default_rules_dir(deployment: Deployment) -> Path:
    return deployment.settings.data / "rules" / "yara"


@dataclass
class ScanJob:
    compiled: CompiledRules
    report: ScanReport
    findings: list[Finding]
    recorded: RecordResult
    seconds: float


def run_scan(
    deployment: Deployment,
    actor: Actor,
    paths: list[Path],
    *,
    unit: str,
    rules: list[Path] | None = None,
    host: str | None = None,
    workers: int = 1,
    max_size: int = DEFAULT_MAX_SIZE,
    indicators: bool = True,
) -> ScanJob:
    """Scan `paths` of a machine of `unit`; each YARA or indicator hit is recorded as a finding.

    The store is only written after the scan, so no write transaction is held while it runs.
    """
    actor.require(Permission.ANALYSE)
    deployment.units.get(unit)
    actor.require_unit(unit)
    compiled = compile_rules(rules or [default_rules_dir(deployment)], yara_cache_dir(deployment))
    matcher = None
    if indicators:
        with deployment.store.reader() as session:
            matcher = load_matcher(session, active_at=deployment.now())
    options = ScanOptions(max_size=max_size, matcher=matcher if matcher else None)
    started = perf_counter()
    report = scan_paths(compiled, paths, workers=workers, options=options)
    seconds = perf_counter() - started
    findings = scan_findings(report, unit=unit, host=host, at=deployment.now())
    with deployment.store.session() as session:
        recorded = record_findings(session, findings)
        audit(
            session,
            actor,
            "yara.scan",
            f"yara:{host or ''}:{','.join(map(str, paths))}",
            {
                "files": report.files,
                "bytes": report.bytes,
                "findings": len(findings),
                "errors": len(report.errors),
                "rules": compiled.digest,
            },
            unit=unit,
        )
    return ScanJob(compiled, report, findings, recorded, seconds)
