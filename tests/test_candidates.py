"""The candidates room: declarations imported, each kind of mismatch found exactly, statuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.candidates_fixtures import ADDRESS_1, CLEAN, csv_text, write_registry
from vigil.candidates.check import Status
from vigil.candidates.declarations import read_declarations
from vigil.candidates.detect import check_all, detect
from vigil.candidates.ingest import DATASET, import_declarations, latest_declarations
from vigil.candidates.mapping import Mapping, load_mapping
from vigil.cli import build_cli
from vigil.deployment import Deployment
from vigil.detection import run_detectors
from vigil.store.findings import list_findings


def _check(
    dep: Deployment, tmp_path: Path, **changes: str
) -> tuple[str, list[tuple[str, object, object]]]:
    """Import one declaration (CLEAN with `changes`) and check it: (status, mismatches)."""
    write_registry(dep)
    path = tmp_path / "one.csv"
    path.write_text(csv_text([CLEAN | changes]), encoding="utf-8")
    import_declarations(dep, path, Mapping())
    [result] = check_all(dep)
    return result.status.value, [(m.field, m.declared, m.recorded) for m in result.mismatches]


def test_a_truthful_declaration_is_verified(deployment: Deployment, tmp_path: Path) -> None:
    assert _check(deployment, tmp_path) == ("verified", [])


def test_the_commune_may_be_declared_by_code_or_without_diacritics(
    deployment: Deployment, tmp_path: Path
) -> None:
    assert _check(deployment, tmp_path, commune="xa hoa an", full_name="NGUYEN VAN AN") == (
        "verified",
        [],
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"birth_date": "13/05/1980"}, [("birth_date", "1980-05-13", "1980-05-12")]),
        # A wrong or missing ID: the person is found by name and birth date.
        ({"citizen_id": "046080999999"}, [("citizen_id", "046080999999", "046080000001")]),
        ({"citizen_id": ""}, [("citizen_id", None, "046080000001")]),
        ({"full_name": "Nguyễn Văn Ân"}, [("full_name", "Nguyễn Văn Ân", "Nguyễn Văn An")]),
        ({"commune": "C02"}, [("commune", "C02", "C01")]),
        (
            {"address": "Số 13, Thôn Đông, Xã Hòa An, Tỉnh Thử"},
            [("address", "Số 13, Thôn Đông, Xã Hòa An, Tỉnh Thử", ADDRESS_1)],
        ),
        ({"spouse": ""}, [("spouse", None, "Trần Thị Bình")]),
        (
            {"spouse": "Võ Thị Hạnh"},
            [("spouse", "Võ Thị Hạnh", None), ("spouse", None, "Trần Thị Bình")],
        ),
        ({"parents": ""}, [("parents", None, "Nguyễn Văn Em")]),
        (
            {"children": "Nguyễn Văn Cường; Nguyễn Thị Dung; Nguyễn Văn Khải"},
            [("children", "Nguyễn Văn Khải", None)],
        ),
        # In the registry, but not the candidate's child: a relation nobody records.
        (
            {"children": "Nguyễn Văn Cường; Nguyễn Thị Dung; Lê Văn Giang"},
            [("children", "Lê Văn Giang", None)],
        ),
        # In the household, but recorded as the father, not a child.
        (
            {"parents": "", "children": "Nguyễn Văn Cường; Nguyễn Thị Dung; Nguyễn Văn Em"},
            [
                ("parents", None, "Nguyễn Văn Em"),
                ("children", "Nguyễn Văn Em", "Nguyễn Văn Em (cha)"),
            ],
        ),
    ],
)
def test_each_contradicted_fact_is_one_mismatch(
    deployment: Deployment,
    tmp_path: Path,
    changes: dict[str, str],
    expected: list[tuple[str, object, object]],
) -> None:
    assert _check(deployment, tmp_path, **changes) == ("mismatch", expected)


def test_a_person_the_registry_does_not_hold_is_not_found(
    deployment: Deployment, tmp_path: Path
) -> None:
    status, mismatches = _check(
        deployment, tmp_path, full_name="Đỗ Văn Khang", citizen_id="046080123456"
    )
    assert (status, mismatches) == ("not_found", [("identity", "Đỗ Văn Khang", None)])


def test_an_id_of_somebody_else_does_not_make_the_candidate_that_person(
    deployment: Deployment, tmp_path: Path
) -> None:
    status, _ = _check(
        deployment,
        tmp_path,
        full_name="Đỗ Văn Khang",
        birth_date="01/01/1970",
        citizen_id="046075000006",
    )
    assert status == "not_found"


def test_under_age_on_voting_day(deployment: Deployment, tmp_path: Path) -> None:
    # NK3 turns 21 on 2026-01-20, before voting day (2026-03-15); NK4 is 15.
    write_registry(deployment)
    rows = [
        {
            "candidate_id": "UCV-3",
            "full_name": "Nguyễn Văn Cường",
            "birth_date": "2005-01-20",
            "citizen_id": "046005000003",
            "commune": "C01",
            "address": ADDRESS_1,
            "parents": "Nguyễn Văn An; Trần Thị Bình",
        },
        {
            "candidate_id": "UCV-4",
            "full_name": "Nguyễn Thị Dung",
            "birth_date": "2010-08-30",
            "citizen_id": "046110000004",
            "commune": "C01",
            "address": ADDRESS_1,
            "parents": "Nguyễn Văn An; Trần Thị Bình",
        },
    ]
    path = tmp_path / "young.csv"
    path.write_text(csv_text(rows), encoding="utf-8")
    import_declarations(deployment, path, Mapping())
    results = {r.candidate_id: r for r in check_all(deployment)}
    assert results["UCV-3"].status is Status.VERIFIED
    assert [(m.field, m.declared, m.recorded) for m in results["UCV-4"].mismatches] == [
        ("age", 15, 15)
    ]


def test_a_deceased_candidate(deployment: Deployment, tmp_path: Path) -> None:
    status, mismatches = _check(
        deployment,
        tmp_path,
        full_name="Phạm Văn Hùng",
        birth_date="1940-04-04",
        citizen_id="046040000007",
        commune="C02",
        address="Số 7, Thôn Tây, Xã Phú Lộc, Tỉnh Thử",
        spouse="",
        parents="",
        children="",
    )
    assert (status, mismatches) == ("mismatch", [("death_date", None, "2025-06-01")])


def test_findings_one_per_fact_on_the_candidates_commune_with_personal_data_apart(
    deployment: Deployment, tmp_path: Path
) -> None:
    write_registry(deployment)
    path = tmp_path / "two.csv"
    path.write_text(
        csv_text([CLEAN | {"children": "Nguyễn Văn Cường; Nguyễn Thị Dung; A Một; B Hai"}]),
        encoding="utf-8",
    )
    import_declarations(deployment, path, Mapping())
    detection = detect(deployment)
    assert [(f.capability, f.rule, f.unit, f.subject) for f in detection.findings] == [
        ("candidates", "declared-child-mismatch", "C01", "UCV-1"),
        ("candidates", "declared-child-mismatch", "C01", "UCV-1"),
    ]
    first, second = detection.findings
    assert first.fingerprint != second.fingerprint
    assert first.evidence["personal"] == {"full_name:declared": "A Một", "full_name:recorded": None}
    assert "A Một" not in first.title + first.title_vi


def test_import_is_idempotent_and_quarantines_bad_rows(
    deployment: Deployment, tmp_path: Path
) -> None:
    path = tmp_path / "mixed.csv"
    rows = [
        CLEAN,
        CLEAN | {"candidate_id": "UCV-2", "birth_date": "31/02/1980"},
        CLEAN | {"candidate_id": "UCV-3", "full_name": ""},
        CLEAN,  # the same candidate twice in one file
        CLEAN | {"candidate_id": "UCV 4;DROP"},
    ]
    path.write_text(csv_text(rows), encoding="utf-8")
    first = import_declarations(deployment, path, Mapping())
    assert (first.rows, first.imported, first.quarantined) == (5, 1, 4)
    assert [(p.location.line, p.message) for p in first.problems] == [
        (3, "birth_date '31/02/1980' is not a date (e.g. 1980-05-12 or 12/05/1980)"),
        (4, "required field full_name is empty"),
        (5, "candidate_id UCV-1 repeated (first on line 2)"),
        (6, "candidate_id 'UCV 4;DROP' is not an identifier"),
    ]
    entries = list(deployment.quarantine.entries(DATASET))
    assert [(e.source, e.line) for e in entries] == [(str(path), n) for n in (3, 4, 5, 6)]
    assert "UCV-2" in entries[0].raw
    again = import_declarations(deployment, path, Mapping())
    assert again.already and again.imported == 0
    assert deployment.lake.rows(DATASET) == 1
    assert deployment.quarantine.count(DATASET) == 4


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "tcvn3", "vni"])
def test_encodings_read_to_the_same_declarations(tmp_path: Path, encoding: str) -> None:
    from vigil.registry.ingest.encoding import encode_tcvn3, encode_vni

    text = csv_text([CLEAN])
    encoders = {"tcvn3": encode_tcvn3, "vni": encode_vni}
    path = tmp_path / "enc.csv"
    if encoding in encoders:
        path.write_bytes(encoders[encoding](text))
    else:
        path.write_text(text, encoding=encoding)
    result = read_declarations(path, Mapping())
    assert result.encoding == {"utf-8-sig": "utf-8"}.get(encoding, encoding)
    [d] = result.declarations
    expected = read_declarations(_utf8(tmp_path, text), Mapping()).declarations
    assert result.declarations == expected
    assert (d.full_name, d.children) == ("Nguyễn Văn An", ("Nguyễn Văn Cường", "Nguyễn Thị Dung"))


def _utf8(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "reference.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_file_in_no_known_encoding_is_one_clear_error(
    deployment: Deployment, tmp_path: Path
) -> None:
    path = tmp_path / "binary.csv"
    path.write_bytes(b"candidate_id,full_name\n\x81\x82\x83,\x90\x91\n")
    result = CliRunner().invoke(
        build_cli(), ["candidates", "import", str(path), "--data", str(deployment.settings.data)]
    )
    assert result.exit_code == 1
    assert "not UTF-8, UTF-16, TCVN3 or VNI text" in " ".join(result.output.split())
    assert deployment.lake.rows(DATASET) == 0


def test_xlsx_with_a_mapping(deployment: Deployment, tmp_path: Path) -> None:
    import openpyxl

    mapping = tmp_path / "layout.yaml"
    mapping.write_text(
        "columns:\n  candidate_id: Mã hồ sơ\n  full_name: Họ và tên\n  birth_date: Ngày sinh\n"
        "  children: Các con\nseparator: ','\nsheet: Danh sách\n",
        encoding="utf-8",
    )
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "Danh sách"
    headers = [
        "Mã hồ sơ",
        "Họ và tên",
        "Ngày sinh",
        "citizen_id",
        "commune",
        "address",
        "spouse",
        "parents",
        "Các con",
    ]
    ws.append(headers)
    from datetime import datetime

    ws.append(
        [
            "UCV-1",
            "Nguyễn Văn An",
            datetime(1980, 5, 12),
            "046080000001",
            "C01",
            ADDRESS_1,
            "Trần Thị Bình",
            "Nguyễn Văn Em",
            "Nguyễn Văn Cường, Nguyễn Thị Dung",
        ]
    )
    path = tmp_path / "list.xlsx"
    book.save(path)
    write_registry(deployment)
    result = import_declarations(deployment, path, load_mapping(mapping))
    assert (result.encoding, result.imported, result.quarantined) == ("xlsx", 1, 0)
    [d] = latest_declarations(deployment.lake)
    assert d.children == ("Nguyễn Văn Cường", "Nguyễn Thị Dung")
    assert [c.status for c in check_all(deployment)] == [Status.VERIFIED]


def test_a_later_file_replaces_a_candidates_declaration(
    deployment: Deployment, tmp_path: Path
) -> None:
    write_registry(deployment)
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text(csv_text([CLEAN | {"birth_date": "13/05/1980"}]), encoding="utf-8")
    second.write_text(csv_text([CLEAN]), encoding="utf-8")
    import_declarations(deployment, first, Mapping())
    assert [c.status for c in check_all(deployment)] == [Status.MISMATCH]
    deployment.clock = deployment.now().replace(minute=deployment.now().minute + 1)
    [run] = run_detectors(deployment, {"candidates"})
    assert run.result.created == 1
    import_declarations(deployment, second, Mapping())
    assert [c.status for c in check_all(deployment)] == [Status.VERIFIED]
    run_detectors(deployment, {"candidates"})
    with deployment.store.reader() as session:
        [row] = list_findings(session, capability="candidates")
        assert (row.rule, row.status) == ("declared-birth-date-mismatch", "resolved")


def test_cli_check_json_one_object_per_candidate_masked_unless_revealed(
    deployment: Deployment, tmp_path: Path
) -> None:
    write_registry(deployment)
    path = tmp_path / "list.csv"
    path.write_text(
        csv_text([CLEAN, CLEAN | {"candidate_id": "UCV-2", "citizen_id": "046080999999"}]),
        encoding="utf-8",
    )
    data = str(deployment.settings.data)
    cli = build_cli()
    assert (
        CliRunner().invoke(cli, ["candidates", "import", str(path), "--data", data]).exit_code == 0
    )
    result = CliRunner().invoke(cli, ["candidates", "check", "--json", "--data", data])
    assert result.exit_code == 3, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines == [
        {"candidate_id": "UCV-1", "status": "verified", "mismatches": []},
        {
            "candidate_id": "UCV-2",
            "status": "mismatch",
            "mismatches": [
                {"field": "citizen_id", "declared": "046*******99", "recorded": "046*******01"}
            ],
        },
    ]
    detected = CliRunner().invoke(
        cli, ["findings", "list", "--json", "--capability", "candidates", "--data", data]
    )
    [finding] = [json.loads(line) for line in detected.stdout.splitlines()]
    assert (finding["rule"], finding["subject"]) == ("declared-citizen-id-mismatch", "UCV-2")


def test_statuses_and_findings_are_stored_on_every_backend(
    any_deployment: Deployment, tmp_path: Path
) -> None:
    from vigil.candidates.review import candidate_rows

    dep = any_deployment
    write_registry(dep)
    path = tmp_path / "list.csv"
    path.write_text(
        csv_text(
            [
                CLEAN,
                CLEAN
                | {
                    "candidate_id": "UCV-2",
                    "full_name": "Đỗ Văn Khang",
                    "citizen_id": "046080123456",
                },
            ]
        ),
        encoding="utf-8",
    )
    import_declarations(dep, path, Mapping())
    [run] = run_detectors(dep, {"candidates"})
    assert run.error is None and run.result.created == 1
    with dep.store.reader() as session:
        rows = candidate_rows(session, dep.system("test"))
        assert [(r.candidate_id, r.unit, r.status) for r in rows] == [
            ("UCV-1", "C01", "verified"),
            ("UCV-2", "C01", "not_found"),
        ]


def test_the_linkage_model_learns_from_whole_communes_up_to_a_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pyarrow as pa

    from vigil.candidates import lookup

    monkeypatch.setattr(lookup, "MAX_TRAINING_PERSONS", 4)
    persons = pa.table({"commune": ["C02", "C01", "C01", "C03", "C03", "C03"]})
    assert lookup._training_sample(persons).column("commune").to_pylist() == ["C02", "C01", "C01"]
