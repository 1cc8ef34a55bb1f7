"""Masks of personal data: exact outputs for sample values, and properties over any unicode."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.core.personal import (
    HIDDEN,
    PERSONAL_KEY,
    PersonalField,
    field_kind,
    field_label,
    mask_address,
    mask_birth_date,
    mask_citizen_id,
    mask_email,
    mask_evidence,
    mask_full_name,
    mask_generic,
    mask_household_id,
    mask_phone,
    mask_text,
    mask_value,
    personal_fields,
)

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KINDS: list[PersonalField | None] = [*PersonalField, None]


def alnum(text: str) -> int:
    return sum(1 for ch in text if ch.isalnum())


# --- exact outputs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("046190001245", "046*******45"),
        ("046 190 001 245", "046*******45"),
        ("079.203.004.567", "079*******67"),
        ("215673942", "215****42"),  # old 9-digit CMND
        ("12345", "1***"),  # too short to be an ID: the strict mask
        ("046-ABC-245", "0***"),
    ],
)
def test_citizen_id(value: str, masked: str) -> None:
    assert mask_citizen_id(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("Nguyễn Văn An", "Nguyễn V. A."),
        ("Trần Thị Ngọc Ánh", "Trần T. N. Á."),
        ("  Đặng   Đức  Ưng ", "Đặng Đ. Ư."),
        ("NGUYỄN VĂN AN", "NGUYỄN V. A."),
        ("Lê Ân", "Lê Â."),
        ("Hùng", "H."),
        ("Nguyễn V. A.", "N. V. A."),  # initials already: the family name goes too
        # Decomposed input (NFD) is read as NFC: the initial keeps its diacritics.
        (unicodedata.normalize("NFD", "Phạm Ưng Ý"), "Phạm Ư. Ý."),
        ("", ""),
    ],
)
def test_full_name(value: str, masked: str) -> None:
    assert mask_full_name(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("12/05/1987", "1987"),
        ("2/5/1987", "1987"),
        ("12-05-1987", "1987"),
        ("12.05.1987", "1987"),
        ("1987-05-12", "1987"),
        ("1987-05-12T00:00:00", "1987"),
        ("05/1987", "1987"),
        ("1987", "1987"),
        ("31/02/1987", "3***"),  # no such day: not a date, the strict mask
        ("khoảng năm 1987", "k***"),
    ],
)
def test_birth_date(value: str, masked: str) -> None:
    assert mask_birth_date(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("0912678345", "0912***345"),
        ("0912 678 345", "0912***345"),
        ("091.267.8345", "0912***345"),
        ("(028) 3829 1234", "0283***234"),
        ("+84 912 678 345", "+849***345"),
        ("113", "1***"),
    ],
)
def test_phone(value: str, masked: str) -> None:
    assert mask_phone(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("Thôn 3, xã Hòa An, tỉnh Phú Yên", "xã Hòa An, tỉnh Phú Yên"),
        (
            "Số 12 ngõ 5, Phường Bến Nghé, Thành phố Hồ Chí Minh",
            "Phường Bến Nghé, Thành phố Hồ Chí Minh",
        ),
        ("123 Lê Lợi, P.12, Q.3, TP.HCM", "P.12, Q.3, TP.HCM"),
        ("Tổ 4 - Thị trấn Chí Thạnh - Phú Yên", "Thị trấn Chí Thạnh, Phú Yên"),
        ("Xa lộ Hà Nội, phường An Phú, TP Thủ Đức", "phường An Phú, TP Thủ Đức"),
        ("12 Tran Hung Dao, Hoa An Commune, Phu Yen", "Hoa An Commune, Phu Yen"),
        ("12 Lê Lợi, Hà Nội", "Hà Nội"),
        ("Thôn Đông Bình", "T***"),
        ("xã Hòa An, tỉnh Phú Yên", "xã Hòa An, tỉnh Phú Yên"),  # nothing below the commune
    ],
)
def test_address(value: str, masked: str) -> None:
    assert mask_address(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("an.nguyen@gmail.com", "a***@gmail.com"),
        ("Đức@bầucử.vn", "Đ***@bầucử.vn"),
        ("a@ubnd.gov.vn", "***@ubnd.gov.vn"),
        ("not an email", "n***"),
        ("@gmail.com", "@***"),
    ],
)
def test_email(value: str, masked: str) -> None:
    assert mask_email(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [("HK-04600123", "**-******23"), ("046001234567", "**********67"), ("H12", "H***")],
)
def test_household_id(value: str, masked: str) -> None:
    assert mask_household_id(value) == masked


def test_generic_and_unknown_kinds() -> None:
    assert mask_generic("B1234567") == "B***"
    assert mask_generic("x") == HIDDEN
    assert mask_generic("   ") == HIDDEN
    assert mask_text(None, "Sổ hộ khẩu 123") == "S***"
    assert mask_value(PersonalField.CITIZEN_ID, 46190001245) == "461******45"
    assert mask_value(PersonalField.PHONE, ["0912678345", None, True]) == ["0912***345", None, True]
    assert mask_value(PersonalField.FULL_NAME, {"a": "Lê Văn Tám"}) == {"a": "Lê V. T."}


# --- the evidence convention --------------------------------------------------------------------

EVIDENCE: dict[str, Any] = {
    "reason": "two living persons share one citizen ID",
    "records": ["R-1042", "R-7731"],
    PERSONAL_KEY: {
        "citizen_id": "046190001245",
        "full_name:record_b": "Nguyễn Văn Ân",
        "full_name:record_a": "Nguyễn Văn An",
        "birth_date": "12/05/1987",
        "passport": "B1234567",
    },
}


def test_personal_fields_are_the_keys_of_the_personal_mapping_sorted() -> None:
    assert personal_fields(EVIDENCE) == [
        "birth_date",
        "citizen_id",
        "full_name:record_a",
        "full_name:record_b",
        "passport",
    ]
    assert personal_fields({"host": "PC-01"}) == []
    assert personal_fields({PERSONAL_KEY: None}) == []
    assert personal_fields(None) == []
    assert personal_fields({PERSONAL_KEY: "046190001245"}) == [PERSONAL_KEY]


def test_mask_evidence_masks_only_the_personal_mapping_and_copies() -> None:
    masked = mask_evidence(EVIDENCE)
    assert masked == {
        "reason": "two living persons share one citizen ID",
        "records": ["R-1042", "R-7731"],
        PERSONAL_KEY: {
            "citizen_id": "046*******45",
            "full_name:record_b": "Nguyễn V. Â.",
            "full_name:record_a": "Nguyễn V. A.",
            "birth_date": "1987",
            "passport": "B***",  # unknown kind: the strict mask
        },
    }
    assert EVIDENCE[PERSONAL_KEY]["citizen_id"] == "046190001245"  # the input is untouched
    assert mask_evidence({"host": "PC-01"}) == {"host": "PC-01"}
    assert mask_evidence({PERSONAL_KEY: ["046190001245"]}) == {PERSONAL_KEY: ["0***"]}
    assert mask_evidence(None) == {}


def test_field_kinds_and_labels() -> None:
    assert field_kind("full_name:record_b") is PersonalField.FULL_NAME
    assert field_kind("Citizen_ID") is PersonalField.CITIZEN_ID
    assert field_kind("passport") is None
    assert field_label("full_name:record_b") == ("Full name", "record_b")
    assert field_label("passport") == ("passport", "")


# --- properties ---------------------------------------------------------------------------------

DIGIT = st.sampled_from("0123456789")
VI_LETTERS = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
)
SYLLABLE = st.text(st.sampled_from(VI_LETTERS), min_size=2, max_size=7).map(str.capitalize)
CCCD = st.text(DIGIT, min_size=12, max_size=12)
NAME = st.lists(SYLLABLE, min_size=2, max_size=5).map(" ".join)
PHONE = st.builds(lambda d: "09" + d, st.text(DIGIT, min_size=8, max_size=8))
BIRTH = st.dates().map(lambda d: d.strftime("%d/%m/") + f"{d.year:04d}")
HOUSE = st.builds(lambda n, s: f"Số {n} {s}", st.integers(1, 999), SYLLABLE)
ADDRESS = st.builds(lambda h, c, p: f"{h}, xã {c}, tỉnh {p}", HOUSE, SYLLABLE, SYLLABLE)
EMAIL = st.builds(
    lambda u, d: f"{u}@{d}.vn",
    st.text(st.sampled_from("abcdefgh.0123"), min_size=2, max_size=12).filter(
        lambda u: sum(c.isalnum() for c in u) >= 2
    ),
    SYLLABLE,
)


@FAST
@given(CCCD)
def test_citizen_id_hides_the_middle_digits(value: str) -> None:
    masked = mask_citizen_id(value)
    assert masked == value[:3] + "*******" + value[-2:]
    assert value[3:10] not in masked


@FAST
@given(NAME)
def test_name_hides_every_given_and_middle_name(value: str) -> None:
    masked = mask_full_name(value)
    assert masked != value
    words = value.split()
    assert masked.split() == [words[0], *(w[0] + "." for w in words[1:])]


@FAST
@given(PHONE)
def test_phone_hides_the_middle(value: str) -> None:
    assert mask_phone(value) == value[:4] + HIDDEN + value[-3:]


@FAST
@given(BIRTH)
def test_birth_date_keeps_the_year_only(value: str) -> None:
    assert mask_birth_date(value) == value[-4:]


@FAST
@given(ADDRESS)
def test_address_drops_the_house(value: str) -> None:
    masked = mask_address(value)
    assert masked == value.split(", ", 1)[1]
    assert not masked.startswith("Số")


@FAST
@given(EMAIL)
def test_email_hides_the_mailbox(value: str) -> None:
    masked = mask_email(value)
    local, domain = value.split("@")
    assert masked == local[0] + HIDDEN + "@" + domain


def _fixed_point_allowed(kind: PersonalField | None, value: str, masked: str) -> bool:
    """The two documented values a mask may return whole: nothing in them is left to hide."""
    text = unicodedata.normalize("NFC", value).strip()
    if kind is PersonalField.BIRTH_DATE:
        return masked == text and len(text) == 4 and text.isdigit()
    if kind is PersonalField.ADDRESS:
        # Only punctuation came before the part kept: the same letters and digits, in order.
        return [c for c in masked if c.isalnum()] == [c for c in text if c.isalnum()]
    return False


@FAST
@given(st.sampled_from(KINDS), st.text(max_size=80))
def test_any_text_masks_to_nfc_with_fewer_letters_and_digits(
    kind: PersonalField | None, value: str
) -> None:
    masked = mask_text(kind, value)
    assert isinstance(masked, str)
    assert unicodedata.is_normalized("NFC", masked)
    before = alnum(unicodedata.normalize("NFC", value))
    if before == 0:
        assert alnum(masked) == 0  # nothing is invented
        return
    if alnum(masked) >= before:
        assert _fixed_point_allowed(kind, value, masked), (kind, value, masked)
    else:
        assert masked != value


@FAST
@given(
    st.dictionaries(
        st.one_of(st.sampled_from([k.value for k in PersonalField]), st.text(max_size=10)),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=5), inner, max_size=3)
            ),
            max_leaves=8,
        ),
        max_size=6,
    )
)
def test_mask_evidence_never_crashes_and_keeps_the_keys(personal: dict[str, Any]) -> None:
    evidence = {"host": "PC-01", PERSONAL_KEY: personal}
    masked = mask_evidence(evidence)
    assert masked["host"] == "PC-01"
    assert sorted(masked[PERSONAL_KEY]) == sorted(personal)
    assert personal_fields(masked) == personal_fields(evidence)


def test_field_labels_are_translated() -> None:
    from vigil.core.i18n import _
    from vigil.core.personal import FIELD_LABELS

    assert set(FIELD_LABELS) == set(PersonalField)
    assert {label: _(label, "vi") for label in FIELD_LABELS.values()} == {
        "Citizen ID number": "Số định danh cá nhân",
        "Full name": "Họ và tên",
        "Date of birth": "Ngày sinh",
        "Phone number": "Số điện thoại",
        "Home address": "Địa chỉ nơi ở",
        "Email address": "Địa chỉ email",
        "Household number": "Số hộ gia đình",
    }
