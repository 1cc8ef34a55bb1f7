"""`vigil registry import`: encodings, layouts, idempotence, bad rows quarantined."""

from __future__ import annotations

import codecs
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from vigil.cli import build_cli
from vigil.deployment import Deployment
from vigil.registry.datasets import PERSONS
from vigil.registry.errors import RegistryError
from vigil.registry.ingest.encoding import (
    TCVN3,
    UTF8,
    UTF16,
    VNI,
    decode,
    decode_tcvn3,
    decode_vni,
    encode_tcvn3,
    encode_vni,
)
from vigil.registry.ingest.extract import import_extract
from vigil.registry.ingest.mapping import load_mapping

CSV = (
    "person_id,citizen_id,full_name,sex,birth_date,commune,household_id,relation_to_head,address\n"
    'NK1,046080123456,Nguyễn Văn Ánh,Nam,12/05/1980,C01,HK1,chủ hộ,"Thôn Đông, xã Hòa An"\n'
    'NK2,046185654321,Trần Thị Hương,Nữ,1985-03-01,C01,HK1,vợ,"Thôn Đông, xã Hòa An"\n'
    'NK3,46095111222,Đặng Quốc Việt,Nam,19950707,C01,HK1,con,"Thôn Đông, xã Hòa An"\n'
    "NK4,046190000004,Lê Ngọc Ý,Nữ,31/02/1990,C01,HK1,con,Thôn Đông\n"
    ",046190000005,Phạm Thúy Ưng,Nữ,1990-01-01,C01,HK1,con,Thôn Đông\n"
)


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


ENCODED = {
    UTF8: lambda text: text.encode("utf-8"),
    UTF16: lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
    TCVN3: encode_tcvn3,
    VNI: encode_vni,
}


def test_the_same_records_in_four_encodings_import_to_identical_rows(
    deployment: Deployment, tmp_path: Path
) -> None:
    tables = {}
    for encoding, encode in ENCODED.items():
        path = _write(tmp_path, f"{encoding}.csv", encode(CSV))
        report = import_extract(deployment, path, "persons")
        assert (report.encoding, report.rows, report.quarantined) == (encoding, 3, 2)
        tables[encoding] = pq.read_table(
            deployment.lake.folder(PERSONS) / f"{_batch(deployment, path)}.parquet"
        )
    rows = {enc: t.to_pylist() for enc, t in tables.items()}
    assert rows[UTF16] == rows[UTF8] == rows[TCVN3] == rows[VNI]
    first = rows[UTF8][0]
    assert first["full_name"] == "Nguyễn Văn Ánh"  # TCVN3's lower-case capital put back
    assert first["birth_date"] == date(1980, 5, 12)
    assert rows[UTF8][2]["citizen_id"] == "046095111222"  # the zero a spreadsheet ate
    assert rows[UTF8][2]["birth_date"] == date(1995, 7, 7)


def _batch(deployment: Deployment, path: Path) -> str:
    from vigil.lake.batches import BatchIndex, file_hash

    with BatchIndex.open(deployment.lake, PERSONS) as index:
        batch = index.batch_of(file_hash(path))
    assert batch is not None
    return batch


def test_bad_rows_are_quarantined_with_file_line_and_reason(
    deployment: Deployment, tmp_path: Path
) -> None:
    path = _write(tmp_path, "p.csv", CSV.encode())
    report = import_extract(deployment, path, "persons")
    assert [(p.location.line, p.message) for p in report.problems] == [
        (5, "birth_date: not a date: '31/02/1990' (day is out of range for month)"),
        (6, "no person_id"),
    ]
    entries = list(deployment.quarantine.entries(PERSONS))
    assert [(e.source, e.line) for e in entries] == [(str(path), 5), (str(path), 6)]
    assert "Lê Ngọc Ý" in entries[0].raw


def test_the_same_file_twice_adds_nothing(deployment: Deployment, tmp_path: Path) -> None:
    path = _write(tmp_path, "p.csv", CSV.encode())
    import_extract(deployment, path, "persons")
    again = import_extract(deployment, path, "persons")
    assert again.already and again.rows == 0
    assert deployment.lake.rows(PERSONS) == 3
    assert deployment.quarantine.count(PERSONS) == 2


def test_a_mapping_renames_and_converts_another_layout(
    deployment: Deployment, tmp_path: Path
) -> None:
    mapping = _write(
        tmp_path,
        "m.yaml",
        "columns:\n  Mã: person_id\n  Họ và tên: full_name\n  Giới tính: sex\n"
        "  Ngày sinh: birth_date\n  Số CCCD: citizen_id\n"
        "values:\n  sex: {M: Nam, F: Nữ}\nconstants:\n  commune: C02\n".encode(),
    )
    path = _write(
        tmp_path,
        "other.csv",
        "Mã;Họ và tên;Giới tính;Ngày sinh;Số CCCD\n"
        "A1;  nguyễn   văn  an ;M;01/02/1980;046 080 123 456\n".encode(),
    )
    report = import_extract(deployment, path, "persons", load_mapping(mapping))
    assert report.rows == 1
    row = deployment.lake.read(PERSONS).to_pylist()[0]
    assert (row["person_id"], row["full_name"], row["sex"], row["commune"], row["citizen_id"]) == (
        "A1", "Nguyễn Văn An", "Nam", "C02", "046080123456"
    )  # fmt: skip


def test_xlsx_and_parquet_extracts(deployment: Deployment, tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["household_id", "commune", "village", "address", "registered_on", "members"])
    sheet.append(["HK1", "C01", None, "Thôn Đông", date(2001, 1, 2), 3])
    book.save(tmp_path / "h.xlsx")
    report = import_extract(deployment, tmp_path / "h.xlsx", "households")
    assert (report.encoding, report.rows) == ("xlsx", 1)
    pq.write_table(
        pa.table({"record_id": ["KT1"], "full_name": ["Lê Văn Tám"], "death_date": ["2026-01-05"]}),
        tmp_path / "d.parquet",
    )
    report = import_extract(deployment, tmp_path / "d.parquet", "deaths")
    assert (report.encoding, report.rows) == ("parquet", 1)


def test_unknown_bytes_and_kinds_are_refused(deployment: Deployment, tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="not UTF-8, UTF-16, TCVN3 or VNI"):
        decode(b"\x80\x81\x82\x83", "x.csv")
    with pytest.raises(RegistryError, match="unknown kind"):
        import_extract(deployment, _write(tmp_path, "x.csv", b"a\n"), "pets")


def test_import_command_reports_the_encoding(deployment: Deployment, tmp_path: Path) -> None:
    path = _write(tmp_path, "p.csv", encode_vni(CSV))
    result = CliRunner().invoke(
        build_cli(), ["registry", "import", str(path), "--kind", "persons", "--data",
              str(deployment.settings.data)]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "encoding vni" in result.output and "2 quarantined" in result.output


VIETNAMESE = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
)


@given(st.text(alphabet=VIETNAMESE + VIETNAMESE.upper() + " ,.0123456789", max_size=60))
def test_vni_round_trips_any_vietnamese_text(text: str) -> None:
    assert decode_vni(encode_vni(text)) == text


@given(st.text(alphabet=VIETNAMESE + " ,.0123456789", max_size=60))
def test_tcvn3_round_trips_lower_case_text(text: str) -> None:
    assert decode_tcvn3(encode_tcvn3(text)) == text
