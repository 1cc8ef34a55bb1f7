"""Vietnamese names and how often each occurs, for synthetic people who look like a real register.

Family-name shares follow published surveys of Vietnamese surnames (Nguyễn about 38%, then Trần,
Lê, Phạm...); the long tail is lumped into the last entries. Middle names depend on sex and on
generation: Văn and Thị dominate among people born before the mid-1980s and much less after.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vigil.registry.text import nfc


@dataclass(frozen=True)
class NameTable:
    """Names with relative weights, drawn as indices so whole columns are sampled at once."""

    names: tuple[str, ...]
    weights: tuple[float, ...]

    @classmethod
    def of(cls, pairs: tuple[tuple[str, float], ...]) -> NameTable:
        return cls(tuple(nfc(n) for n, _ in pairs), tuple(w for _, w in pairs))

    @property
    def probabilities(self) -> np.ndarray:
        w = np.asarray(self.weights, dtype=np.float64)
        p: np.ndarray = w / w.sum()
        return p

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.choice(len(self.names), size=n, p=self.probabilities)


FAMILY = NameTable.of(
    (
        ("Nguyễn", 38.0),
        ("Trần", 11.0),
        ("Lê", 9.5),
        ("Phạm", 7.0),
        ("Hoàng", 4.0),
        ("Huỳnh", 1.5),
        ("Phan", 4.5),
        ("Vũ", 2.5),
        ("Võ", 2.0),
        ("Đặng", 2.1),
        ("Bùi", 2.0),
        ("Đỗ", 1.4),
        ("Hồ", 1.3),
        ("Ngô", 1.3),
        ("Dương", 1.0),
        ("Lý", 0.5),
        ("Trương", 0.8),
        ("Đinh", 0.7),
        ("Lâm", 0.5),
        ("Mai", 0.5),
        ("Cao", 0.4),
        ("Lương", 0.4),
        ("Trịnh", 0.4),
        ("Đoàn", 0.4),
        ("Hà", 0.4),
        ("Tô", 0.3),
        ("Lưu", 0.3),
        ("Châu", 0.3),
        ("Tạ", 0.2),
        ("Kiều", 0.2),
    )
)

MIDDLE_MALE_OLD = NameTable.of(
    (
        ("Văn", 55.0),
        ("Hữu", 8.0),
        ("Đức", 8.0),
        ("Công", 6.0),
        ("Quang", 5.0),
        ("Minh", 5.0),
        ("Xuân", 4.0),
        ("Thanh", 3.0),
        ("Ngọc", 3.0),
        ("Đình", 3.0),
    )
)
MIDDLE_MALE_YOUNG = NameTable.of(
    (
        ("Văn", 15.0),
        ("Minh", 14.0),
        ("Đức", 10.0),
        ("Quang", 9.0),
        ("Hoàng", 8.0),
        ("Anh", 7.0),
        ("Gia", 7.0),
        ("Tuấn", 6.0),
        ("Hữu", 5.0),
        ("Thành", 5.0),
        ("Bảo", 5.0),
        ("Công", 4.0),
        ("Ngọc", 3.0),
        ("Thanh", 2.0),
    )
)
MIDDLE_FEMALE_OLD = NameTable.of(
    (
        ("Thị", 75.0),
        ("Ngọc", 6.0),
        ("Thu", 5.0),
        ("Kim", 4.0),
        ("Thanh", 4.0),
        ("Hồng", 3.0),
        ("Xuân", 3.0),
    )
)
MIDDLE_FEMALE_YOUNG = NameTable.of(
    (
        ("Thị", 25.0),
        ("Ngọc", 12.0),
        ("Thu", 8.0),
        ("Thanh", 8.0),
        ("Minh", 7.0),
        ("Phương", 7.0),
        ("Bảo", 6.0),
        ("Kim", 5.0),
        ("Thùy", 5.0),
        ("Khánh", 5.0),
        ("Mai", 4.0),
        ("Hồng", 4.0),
        ("Diệu", 4.0),
    )
)

GIVEN_MALE = NameTable.of(
    tuple(
        (n, 1.0)
        for n in (
            "An",
            "Anh",
            "Bảo",
            "Bình",
            "Cường",
            "Dũng",
            "Duy",
            "Đạt",
            "Đức",
            "Hải",
            "Hiếu",
            "Hoàng",
            "Hùng",
            "Hưng",
            "Huy",
            "Khang",
            "Khánh",
            "Khoa",
            "Kiên",
            "Lâm",
            "Lộc",
            "Long",
            "Minh",
            "Nam",
            "Nghĩa",
            "Phong",
            "Phúc",
            "Quân",
            "Quang",
            "Sơn",
            "Tài",
            "Tâm",
            "Thắng",
            "Thành",
            "Thịnh",
            "Toàn",
            "Trung",
            "Tuấn",
            "Tùng",
            "Việt",
            "Vinh",
            "Vũ",
        )
    )
)
GIVEN_FEMALE = NameTable.of(
    tuple(
        (n, 1.0)
        for n in (
            "Anh",
            "Châu",
            "Chi",
            "Dung",
            "Giang",
            "Hà",
            "Hạnh",
            "Hằng",
            "Hiền",
            "Hoa",
            "Hồng",
            "Hương",
            "Huyền",
            "Lan",
            "Linh",
            "Loan",
            "Mai",
            "My",
            "Nga",
            "Ngân",
            "Ngọc",
            "Nhi",
            "Nhung",
            "Oanh",
            "Phương",
            "Quỳnh",
            "Tâm",
            "Thảo",
            "Thu",
            "Thủy",
            "Thúy",
            "Trang",
            "Trinh",
            "Tuyết",
            "Uyên",
            "Vân",
            "Vy",
            "Yến",
        )
    )
)

#: Born before this year: the older generation's middle names.
GENERATION_YEAR = 1985

ETHNICITY_LOWLAND = NameTable.of(
    (("Kinh", 97.0), ("Hoa", 1.5), ("Mường", 0.5), ("Tày", 0.4), ("Thái", 0.3), ("Khmer", 0.3))
)
ETHNICITY_HIGHLAND = NameTable.of(
    (("Kinh", 38.0), ("Hrê", 28.0), ("Cơ Tu", 18.0), ("Xơ Đăng", 12.0), ("Ba Na", 4.0))
)

# Mobile prefixes of Vietnamese networks since the 2018 renumbering (Viettel, MobiFone,
# VinaPhone, Vietnamobile, Gmobile, iTel).
MOBILE_PREFIXES = (
    "032",
    "033",
    "034",
    "035",
    "036",
    "037",
    "038",
    "039",
    "086",
    "096",
    "097",
    "098",
    "070",
    "076",
    "077",
    "078",
    "079",
    "089",
    "090",
    "093",
    "081",
    "082",
    "083",
    "084",
    "085",
    "088",
    "091",
    "094",
    "052",
    "056",
    "058",
    "092",
    "059",
    "099",
    "087",
)
