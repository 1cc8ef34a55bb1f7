"""Where a Sigma log source lives in monitor_events: a table of conditions, and its pipeline.

Each Sigma `logsource` (product, category, service) maps to conditions on our core columns
(channel, event_code, source). The same table gives the pySigma processing pipeline that adds
those conditions to every rule and the prefilter that lets the runner evaluate all the rules of
one log source against only that source's events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, cast

from sigma.correlations import SigmaCorrelationRule
from sigma.pipelines.common import windows_logsource_mapping
from sigma.processing.conditions import RuleProcessingCondition
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import (
    AddConditionTransformation,
    FieldMappingTransformation,
)
from sigma.rule import SigmaLogSource, SigmaRule

from vigil.monitor.detect.sigma.backend import FOLDED_SUFFIX, sql_string
from vigil.monitor.ingest.events import CORE_COLUMNS, RENAMED_PREFIX

SYSMON = "Microsoft-Windows-Sysmon/Operational"
LINUX_SYSMON = "Linux-Sysmon/Operational"
POWERSHELL = ("Microsoft-Windows-PowerShell/Operational", "PowerShellCore/Operational")
POWERSHELL_CLASSIC = ("Windows PowerShell",)

#: Sysmon event ids of the generic Sigma categories (Sysmon's own documentation).
SYSMON_CATEGORIES: dict[str, tuple[int, ...]] = {
    "process_creation": (1,),
    "file_change": (2,),
    "network_connection": (3,),
    "sysmon_status": (4, 16),
    "process_termination": (5,),
    "driver_load": (6,),
    "image_load": (7,),
    "create_remote_thread": (8,),
    "raw_access_thread": (9,),
    "process_access": (10,),
    "file_event": (11,),
    "registry_add": (12,),
    "registry_delete": (12,),
    "registry_set": (13,),
    "registry_rename": (14,),
    "registry_event": (12, 13, 14),
    "create_stream_hash": (15,),
    "pipe_created": (17, 18),
    "wmi_event": (19, 20, 21),
    "dns_query": (22,),
    "file_delete": (23, 26),
    "clipboard_capture": (24,),
    "process_tampering": (25,),
    "file_delete_detected": (26,),
    "file_block_executable": (27,),
    "file_block_shredding": (28,),
    "file_executable_detected": (29,),
    "sysmon_error": (255,),
}

#: Categories Sysmon for Linux writes (its channel differs from Windows Sysmon's).
LINUX_SYSMON_CATEGORIES = (
    "process_creation",
    "network_connection",
    "process_termination",
    "raw_access_thread",
    "file_event",
    "file_delete",
)

#: Windows services that pySigma's table does not name yet.
EXTRA_WINDOWS_SERVICES: dict[str, tuple[str, ...]] = {
    "smbclient-connectivity": ("Microsoft-Windows-SmbClient/Connectivity",),
    "smbserver-connectivity": ("Microsoft-Windows-SMBServer/Connectivity",),
    "dns-server-audit": ("Microsoft-Windows-DNSServer/Audit",),
}

#: Sigma field names that are our core columns under another name.
FIELD_MAPPING: dict[str, str] = {
    "EventID": "event_code",
    "Channel": "channel",
    "Computer": "host",
}


@dataclass(frozen=True)
class LogsourceMapping:
    """One Sigma log source and the conditions that select its events."""

    key: str
    product: str | None = None
    category: str | None = None
    service: str | None = None
    #: column -> accepted values; all columns must match (an empty mapping selects everything).
    conditions: Mapping[str, tuple[str | int, ...]] = field(default_factory=dict)

    @property
    def specificity(self) -> int:
        return sum(x is not None for x in (self.product, self.category, self.service))

    def matches(self, logsource: SigmaLogSource) -> bool:
        return all(
            want is None or want == have
            for want, have in (
                (self.product, logsource.product),
                (self.category, logsource.category),
                (self.service, logsource.service),
            )
        )

    def prefilter(self) -> str:
        """SQL selecting this source's events; the rules carry the same conditions."""
        parts = []
        for column, values in self.conditions.items():
            if all(isinstance(v, int) for v in values):
                listed = ", ".join(str(v) for v in values)
                parts.append(f'"{column}" IN ({listed})')
            else:
                listed = ", ".join(sql_string(str(v).lower()) for v in values)
                parts.append(f'lower("{column}") IN ({listed})')
        return " AND ".join(parts) if parts else "TRUE"

    def rule_prefix(self) -> str:
        """The conditions the pipeline puts first in every rule of this source, as SQL text.

        The runner evaluates a rule only over events of its source, where these conditions hold,
        so it can drop them: binding them again for every rule cost DuckDB a sixth of its time.
        tests/test_monitor_backend.py checks this text against what the backend writes.
        """
        parts = []
        for column, values in self.conditions.items():
            if all(isinstance(v, int) for v in values):
                field, texts = f'"{column}"', [str(v) for v in values]
            else:
                field = f'"{column}{FOLDED_SUFFIX}"'
                texts = [sql_string(str(v).lower()) for v in values]
            if len(texts) == 1:
                parts.append(f"{field} = {texts[0]}")
            else:
                parts.append(f"({field} IN ({', '.join(texts)}))")
        return " AND ".join(parts)


def _as_tuple(value: str | Sequence[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _windows_services() -> dict[str, tuple[str, ...]]:
    services = {name: _as_tuple(channels) for name, channels in windows_logsource_mapping.items()}
    services.update(EXTRA_WINDOWS_SERVICES)
    return services


def build_mappings() -> tuple[LogsourceMapping, ...]:
    """The whole table: Windows services and categories, Sysmon for Linux, syslog, web logs."""
    rows: list[LogsourceMapping] = [LogsourceMapping("windows", product="windows")]
    for service, service_channels in sorted(_windows_services().items()):
        rows.append(
            LogsourceMapping(
                f"windows/service/{service}",
                "windows",
                service=service,
                conditions={"channel": service_channels},
            )
        )
    for category, ids in SYSMON_CATEGORIES.items():
        channels: tuple[str, ...] = (SYSMON,)
        codes: tuple[int, ...] = ids
        if category == "process_creation":
            # Security 4688 carries the same facts; ingest renames its fields to Sysmon's.
            channels, codes = (SYSMON, "Security"), (1, 4688)
        rows.append(
            LogsourceMapping(
                f"windows/{category}",
                "windows",
                category=category,
                conditions={"channel": channels, "event_code": codes},
            )
        )
    powershell = {
        "ps_module": (POWERSHELL, 4103),
        "ps_script": (POWERSHELL, 4104),
        "ps_classic_start": (POWERSHELL_CLASSIC, 400),
        "ps_classic_provider_start": (POWERSHELL_CLASSIC, 600),
        "ps_classic_script": (POWERSHELL_CLASSIC, 800),
    }
    for category, (channels, code) in powershell.items():
        rows.append(
            LogsourceMapping(
                f"windows/{category}",
                "windows",
                category=category,
                conditions={"channel": channels, "event_code": (code,)},
            )
        )
    for category in LINUX_SYSMON_CATEGORIES:
        rows.append(
            LogsourceMapping(
                f"linux/{category}",
                "linux",
                category=category,
                conditions={"channel": (LINUX_SYSMON,), "event_code": SYSMON_CATEGORIES[category]},
            )
        )
    rows += [
        LogsourceMapping("linux", "linux", conditions={"source": ("syslog",)}),
        LogsourceMapping(
            "linux/service/syslog", "linux", service="syslog", conditions={"source": ("syslog",)}
        ),
        LogsourceMapping(
            "linux/service/auth",
            "linux",
            service="auth",
            conditions={"channel": ("auth", "authpriv")},
        ),
        LogsourceMapping(
            "linux/service/cron", "linux", service="cron", conditions={"channel": ("cron",)}
        ),
        LogsourceMapping("webserver", category="webserver", conditions={"source": ("access",)}),
    ]
    return tuple(rows)


MAPPINGS = build_mappings()


def mapping_for(logsource: SigmaLogSource) -> LogsourceMapping | None:
    """The most specific mapping that covers `logsource`, or None if we cannot read it."""
    return _mapping_for(logsource.product, logsource.category, logsource.service)


@lru_cache(maxsize=1024)
def _mapping_for(
    product: str | None, category: str | None, service: str | None
) -> LogsourceMapping | None:
    logsource = SigmaLogSource(category, product, service)
    found = [m for m in MAPPINGS if m.matches(logsource)]
    if not found:
        return None
    best = max(found, key=lambda m: m.specificity)
    # A product alone matches only rules that name nothing more specific we know.
    if best.category is None and best.service is None and (category or service):
        return None
    return best


@dataclass
class ChosenLogsourceCondition(RuleProcessingCondition):
    """True when `mapping_for` picks this mapping for the rule: one mapping per rule, never two."""

    key: str

    def match(self, rule: SigmaRule | SigmaCorrelationRule) -> bool:
        if not isinstance(rule, SigmaRule):
            return False
        chosen = mapping_for(rule.logsource)
        return chosen is not None and chosen.key == self.key


def field_mapping() -> dict[str, str]:
    """Sigma names to columns: core renames, and fields ingest stored under a prefix."""
    mapping = dict(FIELD_MAPPING)
    for column in CORE_COLUMNS:
        for spelling in (column, column.capitalize(), column.upper()):
            if spelling not in mapping and spelling != column:
                mapping[spelling] = RENAMED_PREFIX + spelling
    return mapping


def vigil_pipeline() -> ProcessingPipeline:
    """Log-source conditions from the table, then Sigma field names to our columns."""
    items = [
        ProcessingItem(
            identifier=f"vigil_logsource_{m.key}",
            transformation=AddConditionTransformation(
                cast(Any, {column: list(values) for column, values in m.conditions.items()})
            ),
            rule_conditions=[ChosenLogsourceCondition(m.key)],
        )
        for m in MAPPINGS
        if m.conditions
    ]
    items.append(
        ProcessingItem(
            identifier="vigil_field_mapping",
            transformation=FieldMappingTransformation(cast(Any, field_mapping())),
        )
    )
    return ProcessingPipeline(name="Vigil monitor_events", priority=20, items=items)
