"""Households and the people in them for one chunk of one commune, drawn column by column.

Every attribute is drawn for the whole chunk at once with numpy and assembled with Arrow compute,
so a chunk of 250,000 people costs no Python loop per person. Ages are coherent by construction:
children are at least 18 years younger than the younger of the head and spouse, and the head's
parents at least 18 years older than the head.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vigil.demo import names
from vigil.demo.province import CITIZEN_ID_PROVINCE, DEMO_CLOCK
from vigil.registry.citizen_id import CitizenIdAllocator

#: The day ages are counted at (the demo clock's date).
REFERENCE_DAY = np.datetime64(DEMO_CLOCK.date().isoformat(), "D")
MALE, FEMALE = "Nam", "Nữ"

# Shares of household sizes 1..7, close to the 2019 census (average about 3.5).
_SIZE_SHARES = np.array([0.10, 0.17, 0.21, 0.25, 0.15, 0.08, 0.04])
# Where people registered elsewhere were born (neighbouring provinces and the two big cities).
_OTHER_PROVINCES = np.array([45, 48, 49, 51, 52, 38, 40, 1, 79])
_BORN_HERE = 0.9


class Role(IntEnum):
    HEAD = 0
    SPOUSE = 1
    CHILD = 2
    PARENT = 3
    LODGER = 4


RELATION_HEAD = "chủ hộ"
RELATION_OTHER = "khác"


@dataclass(frozen=True)
class CommuneFrame:
    """What generation needs to know of a commune."""

    code: str
    name_vi: str
    province_vi: str
    village_codes: tuple[str, ...]
    village_names: tuple[str, ...]
    highland: bool = False


@dataclass
class BaseChunk:
    """A chunk before problems are planted: rows in household order, plus what planting needs."""

    persons: pa.Table  # PERSON columns except person_id
    households: pa.Table  # HOUSEHOLD columns except members
    hh: np.ndarray  # household index of each row, 0..H-1
    pos: np.ndarray  # position in the household, 0 = head
    age: np.ndarray
    birth: np.ndarray  # datetime64[D]
    male: np.ndarray
    dead: np.ndarray  # died and recorded as such (death_date set)
    death: np.ndarray  # datetime64[D], meaningful where dead


def _household_sizes(rng: np.random.Generator, n: int) -> np.ndarray:
    sizes = rng.choice(np.arange(1, 8), size=n // 3 + 16, p=_SIZE_SHARES)
    while sizes.sum() < n:
        sizes = np.concatenate(
            [sizes, rng.choice(np.arange(1, 8), size=n // 3 + 16, p=_SIZE_SHARES)]
        )
    total = np.cumsum(sizes)
    k = int(np.searchsorted(total, n))  # first household reaching n
    sizes = sizes[: k + 1].copy()
    sizes[k] -= int(total[k] - n)
    return sizes


def _strings(values: tuple[str, ...]) -> np.ndarray:
    return np.array(values, dtype=object)


def _draw_names(
    rng: np.random.Generator, male: np.ndarray, year: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Middle and given names by sex and generation, as object arrays of str."""
    n = len(male)
    old = year < names.GENERATION_YEAR
    middle = np.empty(n, dtype=object)
    for table, mask in (
        (names.MIDDLE_MALE_OLD, male & old),
        (names.MIDDLE_MALE_YOUNG, male & ~old),
        (names.MIDDLE_FEMALE_OLD, ~male & old),
        (names.MIDDLE_FEMALE_YOUNG, ~male & ~old),
    ):
        middle[mask] = _strings(table.names)[table.draw(rng, int(mask.sum()))]
    given = np.empty(n, dtype=object)
    for table, mask in ((names.GIVEN_MALE, male), (names.GIVEN_FEMALE, ~male)):
        idx = table.draw(rng, int(mask.sum()))
        pool = _strings(table.names)
        # "Minh Minh" does not happen: move to the next name when middle and given coincide.
        clash = pool[idx] == middle[mask]
        idx[clash] = (idx[clash] + 1) % len(pool)
        given[mask] = pool[idx]
    return middle, given


def _padded(values: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(pc.cast(pa.array(values, pa.int64()), pa.string()), width, "0")


def draw_chunk(
    rng: np.random.Generator,
    n: int,
    commune: CommuneFrame,
    first_household: int,
    ids: CitizenIdAllocator,
) -> BaseChunk:
    """`n` people of `commune` in households numbered from `first_household`."""
    size = _household_sizes(rng, n)
    h = len(size)
    start = np.concatenate([[0], np.cumsum(size)[:-1]])
    hh = np.repeat(np.arange(h), size)
    pos = np.arange(n) - start[hh]

    # Who lives in each household.
    head_male = rng.random(h) < 0.72
    has_spouse = (size >= 2) & (rng.random(h) < 0.82)
    r = rng.random(h)
    n_parents = np.where((size >= 4) & (r < 0.08), 2, np.where((size >= 3) & (r < 0.22), 1, 0))
    free = size - 1 - has_spouse - n_parents
    has_lodger = (size >= 3) & (free >= 1) & (rng.random(h) < 0.03)
    n_children = free - has_lodger

    role = np.full(n, Role.CHILD, dtype=np.int8)
    role[pos == 0] = Role.HEAD
    role[(pos == 1) & has_spouse[hh]] = Role.SPOUSE
    first_parent = size - n_parents
    role[pos >= first_parent[hh]] = Role.PARENT
    role[has_lodger[hh] & (pos == first_parent[hh] - 1)] = Role.LODGER

    # Ages: the head's first, then everyone relative to the head.
    head_age = rng.integers(22, 86, size=h)
    head_age = np.maximum(head_age, 20 + 2 * n_children)
    head_age = np.where(n_parents > 0, rng.integers(25, 61, size=h), head_age)
    head_age = np.where(size == 1, rng.integers(18, 91, size=h), head_age)
    spouse_age = np.maximum(18, head_age + np.where(head_male, -1, 1) * rng.integers(-2, 8, size=h))
    parents_age = np.where(has_spouse, np.minimum(head_age, spouse_age), head_age)

    age = np.empty(n, dtype=np.int64)
    is_head, is_spouse = role == Role.HEAD, role == Role.SPOUSE
    is_child, is_parent, is_lodger = role == Role.CHILD, role == Role.PARENT, role == Role.LODGER
    age[is_head] = head_age[hh[is_head]]
    age[is_spouse] = spouse_age[hh[is_spouse]]
    younger = parents_age[hh[is_child]]
    age[is_child] = younger - rng.integers(18, np.minimum(younger, 45) + 1)
    age[is_parent] = np.minimum(
        99, head_age[hh[is_parent]] + rng.integers(18, 37, size=int(is_parent.sum()))
    )
    age[is_lodger] = rng.integers(16, 71, size=int(is_lodger.sum()))
    birth = REFERENCE_DAY - (age * 365.2425).astype(np.int64) - rng.integers(0, 365, size=n)
    year = birth.astype("datetime64[Y]").astype(np.int64) + 1970

    # Sex: spouses are of the other sex; two parents are father then mother.
    male = rng.random(n) < 0.51
    male[is_head] = head_male[hh[is_head]]
    male[is_spouse] = ~head_male[hh[is_spouse]]
    two = is_parent & (n_parents[hh] == 2)
    male[two] = pos[two] == first_parent[hh[two]]

    relation = np.empty(n, dtype=object)
    relation[is_head] = RELATION_HEAD
    relation[is_spouse & male] = "chồng"
    relation[is_spouse & ~male] = "vợ"
    relation[is_child] = "con"
    relation[is_parent & male] = "cha"
    relation[is_parent & ~male] = "mẹ"
    relation[is_lodger] = RELATION_OTHER

    # Family names: children take the father's, the head's father shares the head's.
    head_family = names.FAMILY.draw(rng, h)
    spouse_family = names.FAMILY.draw(rng, h)
    child_family = np.where(head_male | ~has_spouse, head_family, spouse_family)
    family = names.FAMILY.draw(rng, n)
    family[is_head] = head_family[hh[is_head]]
    family[is_spouse] = spouse_family[hh[is_spouse]]
    family[is_child] = child_family[hh[is_child]]
    father = is_parent & male
    family[father] = head_family[hh[father]]
    middle, given = _draw_names(rng, male, year)
    full_name = pc.binary_join_element_wise(
        pa.array(_strings(names.FAMILY.names)[family], pa.string()),
        pa.array(middle, pa.string()),
        pa.array(given, pa.string()),
        " ",
    )

    ethnic_table = names.ETHNICITY_HIGHLAND if commune.highland else names.ETHNICITY_LOWLAND
    ethnicity = _strings(ethnic_table.names)[ethnic_table.draw(rng, h)][hh]

    # Where each household lives.
    village = rng.integers(0, len(commune.village_codes), size=h)
    house_no = rng.integers(1, 320, size=h)
    address = pc.binary_join_element_wise(
        pc.binary_join_element_wise("Số", pc.cast(pa.array(house_no), pa.string()), " "),
        pa.array(_strings(commune.village_names)[village], pa.string()),
        commune.name_vi,
        commune.province_vi,
        ", ",
    )
    household_id = pc.binary_join_element_wise("HK", _padded(first_household + np.arange(h), 8), "")
    registered = np.datetime64("1995-01-01") + rng.integers(0, 11_600, size=h)

    # Citizen IDs: mostly born in this province, each one distinct.
    province = np.where(
        rng.random(n) < _BORN_HERE,
        int(CITIZEN_ID_PROVINCE),
        _OTHER_PROVINCES[rng.integers(0, len(_OTHER_PROVINCES), size=n)],
    )
    sex_century = (year // 100 - 19) * 2 + (~male).astype(np.int64)
    citizen_id = _padded(ids.allocate(province, sex_century, year), 12)

    # Phones for most people of 16 and over, shown masked as registers export them.
    has_phone = (age >= 16) & (rng.random(n) < 0.85)
    prefix = pa.array(
        _strings(names.MOBILE_PREFIXES)[rng.integers(0, len(names.MOBILE_PREFIXES), size=n)]
    )
    phone = pc.binary_join_element_wise(
        prefix,
        pc.cast(pa.array(rng.integers(0, 10, size=n)), pa.string()),
        "***",
        _padded(rng.integers(0, 1000, size=n), 3),
        "",
    )
    phone = pc.if_else(pa.array(has_phone), phone, pa.nulls(n, pa.string()))

    # A few old people died and the register knows it.
    dead = (age >= 70) & (rng.random(n) < 0.03)
    death = REFERENCE_DAY - rng.integers(10, 2000, size=n)

    hh_village = pa.array(_strings(commune.village_codes)[village], pa.string())
    persons = pa.table(
        {
            "citizen_id": citizen_id,
            "full_name": full_name,
            "sex": pa.array(np.where(male, MALE, FEMALE), pa.string()),
            "birth_date": pa.array(birth, pa.date32()),
            "ethnicity": pa.array(ethnicity, pa.string()),
            "commune": pa.array(np.full(n, commune.code, dtype=object), pa.string()),
            "village": hh_village.take(pa.array(hh)),
            "household_id": household_id.take(pa.array(hh)),
            "relation_to_head": pa.array(relation, pa.string()),
            "address": address.take(pa.array(hh)),
            "phone": phone,
            "death_date": pa.array(np.where(dead, death, np.datetime64("NaT")), pa.date32()),
        }
    )
    households = pa.table(
        {
            "household_id": household_id,
            "commune": pa.array(np.full(h, commune.code, dtype=object), pa.string()),
            "village": hh_village,
            "address": address,
            "registered_on": pa.array(registered, pa.date32()),
        }
    )
    return BaseChunk(persons, households, hh, pos, age, birth, male, dead, death)
