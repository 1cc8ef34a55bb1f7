"""Vietnamese citizen ID numbers (CCCD, số định danh cá nhân): how they are made and checked.

Twelve digits: three for the province where the birth was registered, one for sex and century
(0/1 a man/woman born 1900-1999, 2/3 born 2000-2099, and so on), two for the year of birth, six
random. The demo gives every person a different number, as the real register does.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from vigil.core.errors import ValidationError

#: Province codes of citizen IDs (the 63 provinces before the 2025 merger; IDs issued keep them).
_CODES = (
    "001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025 026 027 030 031 033 034 035 "
    "036 037 038 040 042 044 045 046 048 049 051 052 054 056 058 060 062 064 066 067 068 070 072 "
    "074 075 077 079 080 082 083 084 086 087 089 091 092 093 094 095 096"
)
PROVINCE_CODES = frozenset(_CODES.split())

_RANDOM_SPACE = 1_000_000
_BUCKETS = 1_000_000  # province (3 digits) x sex/century (1) x year (2)


def sex_century_digit(birth_year: int, male: bool) -> int:
    return (birth_year // 100 - 19) * 2 + (0 if male else 1)


def citizen_id_problem(
    citizen_id: str | None, birth_date: date | None, sex: str | None
) -> str | None:
    """Why `citizen_id` cannot belong to a person of this birth date and sex, or None if it can.

    `sex` is "Nam" (male) or "Nữ" (female); a missing birth date or sex skips those checks.
    """
    if citizen_id is None or citizen_id == "":
        return "missing"
    if len(citizen_id) != 12:
        return "length"
    if not (citizen_id.isascii() and citizen_id.isdigit()):
        return "not_digits"
    if citizen_id[:3] not in PROVINCE_CODES:
        return "province"
    if birth_date is not None:
        if int(citizen_id[4:6]) != birth_date.year % 100:
            return "birth_year"
        if sex in ("Nam", "Nữ"):
            if int(citizen_id[3]) != sex_century_digit(birth_date.year, sex == "Nam"):
                return "sex_century"
        elif int(citizen_id[3]) // 2 != birth_date.year // 100 - 19:
            return "sex_century"
    return None


class CitizenIdAllocator:
    """Hands out citizen IDs that never repeat, chunk after chunk, without remembering them all.

    Within each (province, sex/century, year) bucket the n-th person gets a seeded permutation of
    the six random digits at position offset+n, so numbers look random yet are distinct; whether
    a number is taken is answered from the bucket's count.
    """

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng([seed, 46_046])
        self._perm = rng.permutation(_RANDOM_SPACE).astype(np.int64)
        self._inverse = np.empty_like(self._perm)
        self._inverse[self._perm] = np.arange(_RANDOM_SPACE, dtype=np.int64)
        self._salt = int(rng.integers(0, _RANDOM_SPACE))
        self._counts = np.zeros(_BUCKETS, dtype=np.int64)

    def _offset(self, bucket: np.ndarray) -> np.ndarray:
        return (bucket * 48_271 + self._salt) % _RANDOM_SPACE

    def allocate(
        self, province: np.ndarray, sex_century: np.ndarray, year: np.ndarray
    ) -> np.ndarray:
        """12-digit IDs as integers, one per person, in the order given."""
        bucket = province.astype(np.int64) * 1000 + sex_century.astype(np.int64) * 100 + year % 100
        order = np.argsort(bucket, kind="stable")
        sorted_bucket = bucket[order]
        first = np.searchsorted(sorted_bucket, sorted_bucket, side="left")
        rank = np.empty_like(bucket)
        rank[order] = np.arange(len(bucket), dtype=np.int64) - first
        serial = self._counts[bucket] + rank
        self._counts += np.bincount(bucket, minlength=_BUCKETS)
        if len(bucket) and int(self._counts.max()) > _RANDOM_SPACE:
            raise ValidationError("more than a million people share a birth year and province")
        random_part = self._perm[(self._offset(bucket) + serial) % _RANDOM_SPACE]
        ids: np.ndarray = bucket * _RANDOM_SPACE + random_part
        return ids

    def taken(self, citizen_id: str) -> bool:
        """Whether a valid-looking ID was already handed out to someone."""
        if len(citizen_id) != 12 or not citizen_id.isdigit():
            return False
        bucket = int(citizen_id[:6])
        slot = int(self._inverse[int(citizen_id[6:])])
        serial = (slot - int(self._offset(np.array([bucket]))[0])) % _RANDOM_SPACE
        return serial < int(self._counts[bucket])
