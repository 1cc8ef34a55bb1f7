"""Demo monitoring: sensors on demo hosts, a day of ordinary events, planted attacks to catch.

Each host of a few units writes Sysmon and Security events (Windows events as JSON lines, the
shape Sysmon for Linux and exported EVTX share); a public web portal writes its access log. Into
that ordinary day go the attacks the baseline rule set (`vigil/monitor/rules/baseline`) must
catch, each planted as ground truth, and one sensor that fell silent. Everything runs through the
real ingest and the real rules, so the demo's findings are the product's own. Real attack
traces (SigmaHQ's EVTX samples) and files with planted malware strings come from `demo_replay`.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from vigil.core.clock import to_utc
from vigil.core.units import UnitKind
from vigil.monitor.ingest.sources.syslog import MONTHS as MONTH_NUMBERS
from vigil.plugins import DemoContext

SYSMON = "Microsoft-Windows-Sysmon/Operational"
MONTHS = sorted(MONTH_NUMBERS, key=MONTH_NUMBERS.__getitem__)
BASELINE = Path(__file__).parents[1] / "rules" / "baseline"
RULESET = "vigil-baseline"
#: Rule ids of the baseline set that the planted attacks trigger.
OFFICE_SHELL = "0f3a6a52-5c1e-4b7e-9d44-3b2a1f7c0001"
ENCODED_POWERSHELL = "0f3a6a52-5c1e-4b7e-9d44-3b2a1f7c0002"
LOG_CLEARED = "0f3a6a52-5c1e-4b7e-9d44-3b2a1f7c0003"
FAILED_LOGON = "0f3a6a52-5c1e-4b7e-9d44-3b2a1f7c0004"
LOGON_BURST = "0f3a6a52-5c1e-4b7e-9d44-3b2a1f7c0005"
WEB_SCANNER = "0f3a6a52-5c1e-4b7e-9d44-3b2a1f7c0006"
ORDINARY = (
    (
        "C:\\Windows\\explorer.exe",
        "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
        '"WINWORD.EXE" /n "C:\\Users\\canbo\\Documents\\danh-sach-cu-tri.docx"',
    ),
    (
        "C:\\Windows\\explorer.exe",
        "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
        '"chrome.exe" https://hethong.binhson.gov.vn',
    ),
    (
        "C:\\Windows\\System32\\services.exe",
        "C:\\Windows\\System32\\svchost.exe",
        "C:\\Windows\\system32\\svchost.exe -k netsvcs -p",
    ),
    (
        "C:\\Windows\\explorer.exe",
        "C:\\Windows\\System32\\notepad.exe",
        '"notepad.exe" C:\\Users\\canbo\\ghi-chu.txt',
    ),
)


@dataclass
class HostLog:
    """The events one demo host writes, as Windows events in JSON."""

    host: str
    unit: str
    events: list[dict[str, Any]] = field(default_factory=list)
    _record: int = 1000

    def add(self, ts: datetime, channel: str, code: int, data: dict[str, str]) -> None:
        self._record += 1
        self.events.append(
            {
                "Event": {
                    "System": {
                        "Provider": {
                            "#attributes": {
                                "Name": "Microsoft-Windows-Sysmon"
                                if channel == SYSMON
                                else "Microsoft-Windows-Security-Auditing"
                            }
                        },
                        "EventID": code,
                        "EventRecordID": self._record,
                        "Channel": channel,
                        "Computer": self.host,
                        "TimeCreated": {"#attributes": {"SystemTime": ts.isoformat() + "Z"}},
                    },
                    "EventData": data,
                }
            }
        )

    def process(self, ts: datetime, parent: str, image: str, command: str) -> None:
        self.add(
            ts,
            SYSMON,
            1,
            {
                "ParentImage": parent,
                "Image": image,
                "CommandLine": command,
                "User": f"{self.host.upper()}\\canbo",
            },
        )

    def write(self, folder: Path) -> Path:
        path = folder / f"{self.host}.jsonl"
        ordered = sorted(
            self.events,
            key=lambda e: e["Event"]["System"]["TimeCreated"]["#attributes"]["SystemTime"],
        )
        path.write_text(
            "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in ordered), encoding="utf-8"
        )
        return path


def _ordinary_day(log: HostLog, rng: random.Random, end: datetime, last_quiet: bool) -> None:
    """A working day of ordinary events; the last one a few minutes before `end`."""
    start = end - timedelta(hours=20)
    for _ in range(rng.randint(40, 70)):
        ts = start + timedelta(seconds=rng.randint(0, 19 * 3600))
        log.process(ts, *rng.choice(ORDINARY))
        if rng.random() < 0.3:
            log.add(
                ts + timedelta(seconds=2),
                "Security",
                4624,
                {"TargetUserName": "canbo", "LogonType": "3", "IpAddress": "10.20.0.5"},
            )
    if not last_quiet:
        log.process(end - timedelta(minutes=rng.randint(2, 20)), *ORDINARY[2])


def build_demo(ctx: DemoContext) -> None:
    """Write the demo's logs, register the baseline rules, ingest and scan, plant the truth."""
    from vigil.monitor.demo.replay import plant_malware_files, replay_sigma_samples
    from vigil.monitor.detect.sensors import silence_findings
    from vigil.monitor.detect.sigma.ruleset import add_rule_set
    from vigil.monitor.detect.sigma.scan import scan_all
    from vigil.monitor.ingest.pipeline import ingest_files
    from vigil.store.findings import record_findings

    deployment = ctx.deployment
    actor = deployment.system("demo")
    rng = random.Random(ctx.seed * 7 + 3)
    now = to_utc(deployment.now())
    units = [u.code for u in deployment.units.of_kind(UnitKind.DEPARTMENT, UnitKind.COMMUNE)][:6]
    units = units or [deployment.units.root.code]
    logs = [HostLog(f"{unit.lower()}-pc{n:02d}", unit) for unit in units for n in (1, 2)]
    silent = logs[-1]
    # Silent an hour longer than the phase in force allows.
    quiet_since = now - timedelta(minutes=deployment.policy().silence_minutes + 60)
    for log in logs:
        _ordinary_day(log, rng, now if log is not silent else quiet_since, False)

    # A macro in a received document starts encoded PowerShell.
    dropper = logs[0]
    when = now - timedelta(hours=5, minutes=12)
    dropper.process(
        when,
        "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
        "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
        "powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAKQA=",
    )
    ctx.plant("monitor", OFFICE_SHELL, dropper.host, dropper.unit, "a Word macro starts PowerShell")
    ctx.plant(
        "monitor",
        ENCODED_POWERSHELL,
        dropper.host,
        dropper.unit,
        "PowerShell runs an encoded download command",
    )
    # Someone guesses passwords against a file server, then clears its Security log.
    target = logs[min(2, len(logs) - 1)]
    burst = now - timedelta(hours=2, minutes=40)
    for i in range(14):
        target.add(
            burst + timedelta(seconds=9 * i),
            "Security",
            4625,
            {
                "TargetUserName": rng.choice(["admin", "administrator", "canbo", "ketoan"]),
                "LogonType": "3",
                "IpAddress": "10.20.7.66",
                "Status": "0xc000006d",
            },
        )
    target.add(
        burst + timedelta(minutes=4),
        "Security",
        1102,
        {"SubjectUserName": "admin", "SubjectDomainName": "BINHSON"},
    )
    ctx.plant(
        "monitor",
        LOGON_BURST,
        target.host,
        target.unit,
        "14 failed logons from 10.20.7.66 in two minutes",
    )
    # Each failed logon is itself an alert (low) on the host, besides the burst they make.
    ctx.plant(
        "monitor", FAILED_LOGON, target.host, target.unit, "failed network logons from 10.20.7.66"
    )
    ctx.plant("monitor", LOG_CLEARED, target.host, target.unit, "the Security log is cleared")
    ctx.plant(
        "monitor",
        "sensor-silent",
        silent.host,
        silent.unit,
        "the sensor stopped an hour longer than the phase allows",
    )

    folder = deployment.settings.data / "demo" / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    web = _portal_log(folder, rng, now)
    portal_unit = deployment.units.root.code
    ctx.plant("monitor", WEB_SCANNER, "portal", portal_unit, "sqlmap probes the public portal")

    with deployment.store.session() as session:
        add_rule_set(session, actor, BASELINE, RULESET)
    for log in logs:
        ingest_files(deployment, actor, [log.write(folder)], unit=log.unit, workers=1)
    ingest_files(deployment, actor, [web], unit=portal_unit, host="portal", workers=1)
    scan_all(deployment, actor)
    # What `vigil detect` would add: the silent sensor, at the demo's clock.
    with deployment.store.session() as session:
        record_findings(session, silence_findings(deployment))
    # After the silence check: the replayed samples' hosts last spoke when SigmaHQ recorded them.
    replay_sigma_samples(ctx, units)
    plant_malware_files(ctx, units)


def _clf_time(ts: datetime) -> str:
    """Common Log Format time in the province's zone, month in English whatever the locale."""
    local = ts + timedelta(hours=7)
    return f"{local:%d}/{MONTHS[local.month - 1]}/{local:%Y:%H:%M:%S} +0700"


def _portal_log(folder: Path, rng: random.Random, now: datetime) -> Path:
    """The public portal's access log: citizens looking up polling stations, and one scanner."""
    lines = []
    start = now - timedelta(hours=6)
    for i in range(300):
        ts = start + timedelta(seconds=70 * i + rng.randint(0, 50))
        ip = f"113.161.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        page = rng.choice(["/", "/tra-cuu-diem-bo-phieu", "/danh-sach-ung-vien", "/lien-he"])
        lines.append((ts, ip, f"GET {page} HTTP/1.1", 200, "Mozilla/5.0 (Linux; Android 14)"))
    scan = now - timedelta(hours=1, minutes=30)
    for i in range(25):
        lines.append(
            (
                scan + timedelta(seconds=i),
                "45.77.12.9",
                f"GET /tra-cuu-diem-bo-phieu?id=1%27+OR+{i}%3D{i} HTTP/1.1",
                500,
                "sqlmap/1.8.2#stable (https://sqlmap.org)",
            )
        )
    lines.sort()
    path = folder / "portal-access.log"
    path.write_text(
        "".join(
            f'{ip} - - [{_clf_time(ts)}] "{req}" {status} 512 "-" "{agent}"\n'
            for ts, ip, req, status, agent in lines
        ),
        encoding="utf-8",
    )
    return path
