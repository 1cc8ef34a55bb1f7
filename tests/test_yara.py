"""YARA scanning: planted files, externals per file, broken rule files, the compiled cache."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from tests.conftest import BEFORE, shared_data
from vigil.core.severity import Severity
from vigil.monitor.detect.yara.findings import scan_findings, severity_of_rule
from vigil.monitor.detect.yara.rules import CompiledRules, compile_rules, rule_files
from vigil.monitor.detect.yara.scan import FileScanner, ScanOptions, externals_for, scan_paths

MARKER_RULES = r"""
rule Vigil_Test_Marker : test planted {
    meta:
        description = "planted marker string"
        author = "vigil tests"
        reference = "tests/test_yara.py"
        score = 80
    strings:
        $marker = "VIGIL-PLANTED-MARKER"
        $hex = { DE AD BE EF }
    condition:
        $marker and $hex
}
"""

EXTERNAL_RULES = r"""
rule Named_Invoice {
    meta:
        level = "medium"
    condition:
        filename == "invoice.exe"
}

rule Exe_Disguised_As_Data {
    condition:
        filetype == "EXE" and extension == ".dat" and filepath endswith "drop"
}
"""

BROKEN_RULES = """rule Broken_One {
    strings:
        $a = "abc"
    condition:
        $a and $missing
}
"""

PLANTED = b"header:VIGIL-PLANTED-MARKER;\xde\xad\xbe\xef;VIGIL-PLANTED-MARKER\n"


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


@pytest.fixture
def marker_rules(tmp_path: Path) -> CompiledRules:
    rules = tmp_path / "rules"
    write(rules / "marker.yar", MARKER_RULES)
    write(rules / "ext" / "externals.yara", EXTERNAL_RULES)
    return compile_rules([rules], tmp_path / "cache")


def test_planted_file_fires_exact_rule_offsets_and_hash(
    tmp_path: Path, marker_rules: CompiledRules
) -> None:
    target = tmp_path / "files"
    planted = write(target / "sub" / "planted.bin", PLANTED)
    write(target / "clean.txt", b"nothing to see here, VIGIL-PLANTED but not the marker\n")

    report = scan_paths(marker_rules, [target])

    assert report.files == 2
    assert report.bytes == len(PLANTED) + 54
    assert [r.path for r in report.results] == [str(planted)]
    (scan,) = report.results
    assert scan.sha256 == hashlib.sha256(PLANTED).hexdigest()
    assert scan.size == len(PLANTED)
    (hit,) = scan.hits
    assert (hit.namespace, hit.rule, hit.tags) == (
        "marker",
        "Vigil_Test_Marker",
        ("test", "planted"),
    )
    assert [(p.identifier, p.offset, p.length) for p in hit.patterns] == [
        ("$marker", 7, 20),
        ("$marker", 33, 20),
        ("$hex", 28, 4),
    ]
    assert hit.meta["score"] == 80

    (finding,) = scan_findings(report, unit="C01", host="ws-07", at=BEFORE)
    assert finding.rule == "yara:marker:Vigil_Test_Marker"
    assert finding.capability == "monitor"
    assert finding.subject == f"ws-07:{planted}"
    assert finding.severity is Severity.HIGH
    assert finding.occurrences == (hashlib.sha256(PLANTED).hexdigest(),)
    assert finding.evidence["sha256"] == scan.sha256
    assert finding.evidence["meta"] == {
        "description": "planted marker string",
        "author": "vigil tests",
        "reference": "tests/test_yara.py",
        "score": 80,
    }
    assert finding.evidence["strings"][0] == {"id": "$marker", "offset": 7, "length": 20}


def test_externals_are_set_per_file(tmp_path: Path, marker_rules: CompiledRules) -> None:
    files = tmp_path / "files"
    write(files / "invoice.exe", b"just bytes")
    write(files / "invoice.pdf", b"just bytes")
    write(files / "drop" / "payload.dat", b"MZ\x90\x00rest of a PE")
    write(files / "keep" / "payload.dat", b"MZ\x90\x00rest of a PE")

    report = scan_paths(marker_rules, [files])

    hits = sorted(
        (Path(r.path).relative_to(files).as_posix(), h.rule) for r in report.results for h in r.hits
    )
    assert hits == [("drop/payload.dat", "Exe_Disguised_As_Data"), ("invoice.exe", "Named_Invoice")]
    assert externals_for("/srv/drop/payload.dat", b"MZ\x90\x00", 0) == {
        "filename": "payload.dat",
        "filepath": "/srv/drop",
        "extension": ".dat",
        "filetype": "EXE",
        "owner": "root",
    }


def test_broken_rule_file_is_reported_and_the_rest_scan(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    write(rules / "good.yar", MARKER_RULES)
    broken = write(rules / "broken.yar", BROKEN_RULES)

    compiled = compile_rules([rules])

    assert compiled.report.files == 2
    assert compiled.report.rules == 1
    assert compiled.report.skipped_files == [str(broken)]
    (error,) = compiled.report.errors
    assert (error.location.line, error.location.column, error.code) == (5, 16, "E025")
    assert error.message.startswith("unknown pattern `$missing`")
    assert (error.is_error, str(error.location)) == (True, f"{broken}:5:16")
    assert error.raw == BROKEN_RULES.splitlines()[4]

    planted = write(tmp_path / "files" / "x.bin", PLANTED)
    report = scan_paths(compiled, [planted])
    assert [(r.path, r.hits[0].rule) for r in report.results] == [
        (str(planted), "Vigil_Test_Marker")
    ]


def test_compiled_rules_are_cached_and_reused(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    write(rules / "marker.yar", MARKER_RULES)
    cache = tmp_path / "cache"

    first = compile_rules([rules], cache)
    assert first.from_cache is False
    assert first.cache_path is not None and first.cache_path.parent == cache
    assert first.cache_path.name == f"{first.digest}.yarc"
    stamp = first.cache_path.stat().st_mtime_ns

    second = compile_rules([rules], cache)
    assert second.from_cache is True
    assert second.digest == first.digest
    assert second.report.rules == 1
    assert first.cache_path.stat().st_mtime_ns == stamp
    planted = write(tmp_path / "x.bin", PLANTED)
    assert [r.hits[0].rule for r in scan_paths(second, [planted]).results] == ["Vigil_Test_Marker"]

    write(rules / "marker.yar", MARKER_RULES.replace("score = 80", "score = 60"))
    third = compile_rules([rules], cache)
    assert third.from_cache is False
    assert third.digest != first.digest
    assert sorted(p.name for p in cache.glob("*.yarc")) == sorted(
        [f"{first.digest}.yarc", f"{third.digest}.yarc"]
    )


def test_damaged_cache_is_rebuilt(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    write(rules / "marker.yar", MARKER_RULES)
    first = compile_rules([rules], tmp_path / "cache")
    assert first.cache_path is not None
    first.cache_path.write_bytes(b"not rules")
    again = compile_rules([rules], tmp_path / "cache")
    assert again.from_cache is False
    assert again.report.rules == 1


def test_size_limit_unreadable_and_links(
    tmp_path: Path, marker_rules: CompiledRules, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = tmp_path / "files"
    write(files / "big.bin", PLANTED * 10)
    small = write(files / "small.bin", PLANTED)
    os.symlink(small, files / "link.bin")
    os.mkfifo(files / "pipe")

    report = scan_paths(marker_rules, [files], options=ScanOptions(max_size=len(PLANTED) * 2))

    assert [(Path(s.path).name, s.skipped) for s in report.skipped] == [
        ("big.bin", f"larger than {len(PLANTED) * 2} bytes")
    ]
    assert [Path(r.path).name for r in report.results] == ["small.bin"]
    assert dict(report.passed_over) == {"symlink": 1, "special file": 1}

    # A link named on the command line is followed; a relative path becomes absolute.
    monkeypatch.chdir(tmp_path)
    named = scan_paths(marker_rules, [Path("files/link.bin")])
    assert [r.path for r in named.results] == [str(files / "link.bin")]

    gone = files / "gone.bin"
    st = small.stat()
    result = FileScanner(marker_rules.rules, ScanOptions()).scan(str(gone), st)
    assert result is not None
    assert result.error == "cannot read: No such file or directory"

    missing = scan_paths(marker_rules, [tmp_path / "nowhere"])
    assert [(e.path, e.error) for e in missing.errors] == [
        (str(tmp_path / "nowhere"), "cannot stat: No such file or directory")
    ]


def test_process_pool_finds_what_one_process_finds(
    tmp_path: Path, marker_rules: CompiledRules
) -> None:
    files = tmp_path / "files"
    expected = set()
    for i in range(40):
        data = PLANTED if i % 7 == 0 else f"clean file {i}\n".encode()
        write(files / f"d{i % 3}" / f"f{i}.bin", data)
        if i % 7 == 0:
            expected.add(str(files / f"d{i % 3}" / f"f{i}.bin"))
    write(files / "invoice.exe", b"x")
    expected.add(str(files / "invoice.exe"))

    one = scan_paths(marker_rules, [files], workers=1)
    two = scan_paths(marker_rules, [files], workers=2)

    assert {r.path for r in one.results} == expected
    assert {(r.path, h.rule, r.sha256) for r in two.results for h in r.hits} == {
        (r.path, h.rule, r.sha256) for r in one.results for h in r.hits
    }
    assert (two.files, two.bytes) == (one.files, one.bytes) == (41, one.bytes)


@pytest.mark.parametrize(
    ("meta", "severity"),
    [
        ({"score": 100}, Severity.CRITICAL),
        ({"score": 80}, Severity.HIGH),
        ({"score": 75}, Severity.HIGH),
        ({"score": 60}, Severity.MEDIUM),
        ({"score": "50"}, Severity.LOW),
        ({"score": 10}, Severity.INFO),
        ({"Severity": "critical"}, Severity.CRITICAL),
        ({"level": "informational"}, Severity.INFO),
        ({"level": "weird"}, Severity.HIGH),
        ({"description": "no severity at all"}, Severity.HIGH),
    ],
)
def test_severity_from_rule_meta(meta: dict[str, object], severity: Severity) -> None:
    assert severity_of_rule(meta) is severity


def test_rule_files_namespaces(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    write(rules / "a.yar", "rule a { condition: true }")
    write(rules / "a.yara", "rule a { condition: true }")
    write(rules / "sub" / "b.yar", "rule b { condition: true }")
    write(rules / "notes.txt", "not a rule")
    assert [(p.name, ns) for p, ns in rule_files([rules])] == [
        ("a.yar", "a"),
        ("a.yara", "a.yara"),
        ("b.yar", "sub/b"),
    ]


# --- signature-base --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def signature_base(tmp_path_factory: pytest.TempPathFactory) -> CompiledRules:
    rules = shared_data("yara", "signature-base", "yara")
    return compile_rules([rules], tmp_path_factory.mktemp("yara-cache"))


@pytest.mark.shared_data
def test_signature_base_compiles_with_stable_skip_list(signature_base: CompiledRules) -> None:
    report = signature_base.report
    skipped = len(report.skipped_files)
    print(f"signature-base: {report.files} files, {report.rules} rules, {skipped} skipped")
    assert report.files == 741
    # yara-x 1.x compiles every file of this snapshot once the five externals are defined.
    assert report.skipped_files == []
    assert report.rules == 5883


@pytest.mark.shared_data
def test_signature_base_external_rule_needs_the_file_name(
    tmp_path: Path, signature_base: CompiledRules
) -> None:
    line = b"deploy ALL=(ALL) NOPASSWD: /usr/bin/vim /etc/hosts\n"
    write(tmp_path / "etc" / "sudoers", line)
    write(tmp_path / "etc" / "notes.txt", line)

    report = scan_paths(signature_base, [tmp_path / "etc"])

    hits = [(Path(r.path).name, h.namespace, h.rule) for r in report.results for h in r.hits]
    assert hits == [("sudoers", "configured_vulns_ext_vars", "VULN_Linux_Sudoers_Commands")]
    (finding,) = scan_findings(report, unit="D01", host=None, at=BEFORE)
    assert finding.rule == "yara:configured_vulns_ext_vars:VULN_Linux_Sudoers_Commands"
    assert finding.severity is Severity.LOW  # score = 50
    assert line.index(b"/vim ") == 35
    assert finding.evidence["strings"] == [{"id": "$command12", "offset": 35, "length": 5}]


def test_the_cached_report_keeps_each_left_out_file_as_it_was_said(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    write(rules / "good.yar", MARKER_RULES)
    write(rules / "broken.yar", BROKEN_RULES)
    first = compile_rules([rules], tmp_path / "cache")
    second = compile_rules([rules], tmp_path / "cache")
    assert second.from_cache and second.report.errors == first.report.errors
    # A report cached by an earlier version (its own five fields) is read as well.
    assert first.cache_path is not None
    report = first.cache_path.with_suffix(".json")
    data = json.loads(report.read_text(encoding="utf-8"))
    data["errors"] = [
        {k: e[k] for k in ("path", "line", "column", "code", "reason")} for e in data["errors"]
    ]
    report.write_text(json.dumps(data), encoding="utf-8")
    (old,) = compile_rules([rules], tmp_path / "cache").report.errors
    assert (str(old.location), old.code, old.raw) == (f"{rules / 'broken.yar'}:5:16", "E025", "")
