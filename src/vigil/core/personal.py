"""Personal data in findings: what counts as personal, how it is masked, where evidence keeps it.

The platform rule is "personal data is masked by default and every view of it is audited". This
module is the masking half; `vigil.store.personal` is the audited reveal.

Convention for Finding evidence
-------------------------------
A detector puts every personal value of a finding, and nothing else, under one evidence key,
``"personal"``: a mapping from a *field key* to the value::

    evidence = {
        "reason": "two living persons share one citizen ID",
        "records": ["R-1042", "R-7731"],
        "personal": {
            "citizen_id": "046190001245",
            "full_name:record_a": "Nguyễn Văn An",
            "full_name:record_b": "Nguyễn Văn Ân",
        },
    }

A field key is a `PersonalField` value, optionally followed by ``:`` and a label that tells apart
two values of one kind. A value is a string or a number, or a list or mapping of them (several
persons). Everything outside ``"personal"`` is shown as it is: a detector keeps personal data out
of the other evidence keys and out of the finding's subject and title (a record key or a hash
goes there instead).

One sub-mapping rather than a list of "which keys are personal": a key added later next to such
a list would be shown unmasked, while a key added to the mapping is masked with it; and the audit
of a reveal names exactly the keys of that mapping. A field key whose kind is unknown, and a
``"personal"`` value that is not a mapping, are masked with the strictest mask, never shown.

Masks
-----
Each keeps what a duty officer needs to triage (which province issued the ID, whether two
records plausibly name one person, the year of birth, which commune) and hides what
identifies the person:

- citizen_id: ``046190001245`` -> ``046*******45``: the province code (first 3 digits) and the
  last 2 digits; the length shows, so a CCCD (12) and an old CMND (9) stay apart.
- full_name: ``Nguyễn Văn An`` -> ``Nguyễn V. A.``: the family name, then initials (see below).
- birth_date: ``12/05/1987``, ``1987-05-12`` or ``05/1987`` -> ``1987``: the year only (enough
  to tell whether someone is of voting age).
- phone: ``0912 678 345`` -> ``0912***345``: the network prefix and the last 3 digits; the
  length is hidden.
- address: ``Thôn 3, xã Hòa An, tỉnh Phú Yên`` -> ``xã Hòa An, tỉnh Phú Yên``: from the commune
  (xã, phường, thị trấn, đặc khu) on; without a commune, the last part (the province).
- email: ``an.nguyen@gmail.com`` -> ``a***@gmail.com``: the first character and the domain.
- household_id: ``HK-04600123`` -> ``**-******23``: the last 2 characters, separators kept.
- anything else: ``B1234567`` -> ``B***``: the first character only.

Names keep the family name and shorten the rest to initials ("Nguyễn V. A.") rather than
"N*** V*** A***": a Vietnamese family name is shared by millions (Nguyễn by about four in ten
people), so it identifies nobody, while it lets an officer see at a glance whether two records
of a duplicate finding can be the same person. Middle and given names, which do identify, shrink
to initials. A name already made of initials loses its family name too (``N. V. A.``).

Every mask reads the NFC form of its input, returns NFC text and never raises, whatever the
text. Every mask returns strictly fewer letters and digits than it was given, so it never hands
back its input, with two exceptions that hold nothing more to hide: an address with no letter
or digit before the part the mask keeps, and a birth date that is a bare year.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date
from enum import StrEnum
from typing import Any

#: The one evidence key under which personal values live.
PERSONAL_KEY = "personal"
#: Marks where a mask hid something; never a letter or digit.
HIDDEN = "***"


class PersonalField(StrEnum):
    CITIZEN_ID = "citizen_id"  # CCCD (12 digits) or old CMND (9 digits)
    FULL_NAME = "full_name"
    BIRTH_DATE = "birth_date"
    PHONE = "phone"
    ADDRESS = "address"
    EMAIL = "email"
    HOUSEHOLD_ID = "household_id"


#: English labels (msgids; Vietnamese in core/locales/vi.po) for pages that list masked fields.
FIELD_LABELS: dict[PersonalField, str] = {
    PersonalField.CITIZEN_ID: "Citizen ID number",
    PersonalField.FULL_NAME: "Full name",
    PersonalField.BIRTH_DATE: "Date of birth",
    PersonalField.PHONE: "Phone number",
    PersonalField.ADDRESS: "Home address",
    PersonalField.EMAIL: "Email address",
    PersonalField.HOUSEHOLD_ID: "Household number",
}


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _alnum(text: str) -> int:
    return sum(1 for ch in text if ch.isalnum())


def _first_grapheme(word: str) -> str:
    """The first character with the combining marks that NFC could not fold into it."""
    end = 1
    while end < len(word) and unicodedata.combining(word[end]):
        end += 1
    return word[:end]


# --- masks, one per kind; each takes NFC text --------------------------------------------------


def mask_generic(text: str) -> str:
    """The strictest mask: the first character, and only when something after it is hidden."""
    text = nfc(text).strip()
    head = _first_grapheme(text) if text else ""
    if head and _alnum(text[len(head) :]):
        return nfc(head + HIDDEN)
    return HIDDEN


_SEPARATORS = re.compile(r"[\s.\-]")
_DIGITS = re.compile(r"[0-9]+")


def mask_citizen_id(text: str) -> str:
    """046190001245 -> 046*******45: the province code and the last two digits."""
    digits = _SEPARATORS.sub("", nfc(text))
    if _DIGITS.fullmatch(digits) and len(digits) >= 6:
        return digits[:3] + "*" * (len(digits) - 5) + digits[-2:]
    return mask_generic(text)


_PHONE_NOISE = re.compile(r"[\s.\-()]")
_PHONE = re.compile(r"\+?[0-9]{8,15}")


def mask_phone(text: str) -> str:
    """0912678345 -> 0912***345: the network prefix and the last three digits."""
    compact = _PHONE_NOISE.sub("", nfc(text))
    if _PHONE.fullmatch(compact):
        return compact[:4] + HIDDEN + compact[-3:]
    return mask_generic(text)


def mask_full_name(text: str) -> str:
    """Nguyễn Văn An -> Nguyễn V. A.: the family name, then initials."""
    words = nfc(text).split()
    if not words:
        return ""
    if len(words) == 1:
        only = words[0]
        return nfc(_first_grapheme(only) + ".") if _alnum(only) >= 2 else mask_generic(only)
    initials = [_first_grapheme(w) + "." for w in words]
    if any(_alnum(w) >= 2 for w in words[1:]):
        return nfc(" ".join([words[0], *initials[1:]]))
    if _alnum(words[0]) >= 2:
        return nfc(" ".join(initials))
    return mask_generic(text)


# Day first, as Vietnamese records write it, or ISO; a time after the date is ignored.
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[T ][0-9:.]+Z?)?")
_VN_DATE = re.compile(r"([0-9]{1,2})[/.\-]([0-9]{1,2})[/.\-]([0-9]{4})")
_MONTH_YEAR = re.compile(r"([0-9]{1,2})[/.\-]([0-9]{4})")
_YEAR = re.compile(r"[0-9]{4}")


def _valid_date(year: str, month: str, day: str) -> bool:
    try:
        date(int(year), int(month), int(day))
    except ValueError:
        return False
    return True


def mask_birth_date(text: str) -> str:
    """12/05/1987, 1987-05-12 or 05/1987 -> 1987: the year only."""
    value = nfc(text).strip()
    if m := _ISO_DATE.fullmatch(value):
        year, month, day = m.groups()
        if _valid_date(year, month, day):
            return year
    elif m := _VN_DATE.fullmatch(value):
        day, month, year = m.groups()
        if _valid_date(year, month, day):
            return year
    elif m := _MONTH_YEAR.fullmatch(value):
        month, year = m.groups()
        if _valid_date(year, month, "1"):
            return year
    elif _YEAR.fullmatch(value) and value != "0000":
        return value  # a bare year is all the mask would keep anyway
    return mask_generic(value)


_ADDRESS_PARTS = re.compile(r"\s*[,;\n]\s*|\s+[-–—]\s+")
_COMMUNE_FIRST = re.compile(
    r"(?:xã|xa|phường|phuong|thị trấn|thi tran|đặc khu|dac khu|commune|ward|township)\s+\S"
    r"|(?:p|x|tt)\.\s*\S",
    re.IGNORECASE,
)
_COMMUNE_LAST = re.compile(r".*\S\s+(?:commune|ward|township)", re.IGNORECASE)


def _is_commune(part: str) -> bool:
    return bool(_COMMUNE_FIRST.match(part) or _COMMUNE_LAST.fullmatch(part))


def mask_address(text: str) -> str:
    """Thôn 3, xã Hòa An, tỉnh Phú Yên -> xã Hòa An, tỉnh Phú Yên: the commune and above.

    Parts go from the most to the least precise, separated by commas (or " - "). The last part
    naming a commune wins, so that a street called "Xa lộ ..." is not taken for one. Without a
    commune the province (the last part) is kept, and a single unnamed part is masked whole.
    """
    parts = [p for p in _ADDRESS_PARTS.split(nfc(text).strip()) if p.strip()]
    communes = [i for i, part in enumerate(parts) if _is_commune(part)]
    if communes:
        return ", ".join(parts[communes[-1] :])
    if len(parts) >= 2:
        return parts[-1]
    return mask_generic(text)


def mask_email(text: str) -> str:
    """an.nguyen@gmail.com -> a***@gmail.com: whose mailbox is hidden, the provider is not."""
    value = nfc(text).strip()
    local, at, domain = value.rpartition("@")
    if (
        not at
        or not _alnum(local)
        or "." not in domain.strip(".")
        or any(c.isspace() for c in value)
    ):
        return mask_generic(value)
    return mask_generic(local) + "@" + domain


def mask_household_id(text: str) -> str:
    """HK-04600123 -> **-******23: the last two characters, separators where they were."""
    value = nfc(text).strip()
    total = _alnum(value)
    if total < 4:
        return mask_generic(value)
    out, seen = [], 0
    for ch in value:
        if ch.isalnum():
            seen += 1
            out.append(ch if seen > total - 2 else "*")
        else:
            out.append(ch)
    return nfc("".join(out))


MASKS: dict[PersonalField, Callable[[str], str]] = {
    PersonalField.CITIZEN_ID: mask_citizen_id,
    PersonalField.FULL_NAME: mask_full_name,
    PersonalField.BIRTH_DATE: mask_birth_date,
    PersonalField.PHONE: mask_phone,
    PersonalField.ADDRESS: mask_address,
    PersonalField.EMAIL: mask_email,
    PersonalField.HOUSEHOLD_ID: mask_household_id,
}


def mask_text(kind: PersonalField | None, text: str) -> str:
    """Mask one value of a kind; None (an unknown kind) gets the strictest mask."""
    return (MASKS[kind] if kind is not None else mask_generic)(text)


def mask_value(kind: PersonalField | None, value: Any) -> Any:
    """Mask a JSON value: text and numbers masked, lists and mappings item by item.

    True, False and null carry no identity and stay as they are.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return mask_text(kind, value)
    if isinstance(value, Mapping):
        return {str(k): mask_value(kind, v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(kind, v) for v in value]
    return mask_text(kind, str(value))


# --- the evidence convention -------------------------------------------------------------------


def field_kind(key: str) -> PersonalField | None:
    """The kind a field key names ("full_name:record_b" -> FULL_NAME); None when unknown."""
    name = key.split(":", 1)[0].strip().lower()
    try:
        return PersonalField(name)
    except ValueError:
        return None


def field_label(key: str) -> tuple[str, str]:
    """(English label msgid, qualifier) of a field key, for pages; unknown kinds show the key."""
    kind = field_kind(key)
    qualifier = key.split(":", 1)[1].strip() if ":" in key else ""
    if kind is None:
        return key, ""
    return FIELD_LABELS[kind], qualifier


def personal_fields(evidence: Mapping[str, Any] | None) -> list[str]:
    """The field keys of the personal data an evidence holds, sorted; [] when it holds none."""
    if not isinstance(evidence, Mapping) or evidence.get(PERSONAL_KEY) is None:
        return []
    personal = evidence[PERSONAL_KEY]
    if isinstance(personal, Mapping):
        return sorted(str(key) for key in personal)
    return [PERSONAL_KEY]  # not the agreed shape: the whole value counts as one field


def mask_evidence(evidence: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of `evidence` with every personal value masked; the rest as it was."""
    if not isinstance(evidence, Mapping):
        return {}
    out = dict(evidence)
    if out.get(PERSONAL_KEY) is None:
        return out
    personal = out[PERSONAL_KEY]
    if isinstance(personal, Mapping):
        out[PERSONAL_KEY] = {str(k): mask_value(field_kind(str(k)), v) for k, v in personal.items()}
    else:
        out[PERSONAL_KEY] = mask_value(None, personal)
    return out
