"""Tỉnh Bình Sơn: the fictional province of the demo, written as a vigil.toml, and the demo's clock.

The province does not depend on the seed: every demo has the same units, calendar, watchlist and
facts, so codes like C01-V02 mean the same place in every build.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import tomli_w

from vigil.core.config import ProvinceConfig, load_province
from vigil.core.errors import ConfigError, Location
from vigil.registry.text import nfc, strip_diacritics

PROVINCE_CODE = "P46"
PROVINCE_NAME_VI = "Tỉnh Bình Sơn"
PROVINCE_NAME_EN = "Binh Son Province"
#: The province part of the citizen IDs of people whose birth was registered here.
CITIZEN_ID_PROVINCE = "046"

_ICT = timezone(timedelta(hours=7))
VOTING_DAY = datetime(2027, 3, 14, 7, 0, tzinfo=_ICT)
#: The time the demo "is at": nine days before voting, in the 'before' phase.
DEMO_CLOCK = datetime(2027, 3, 5, 9, 0, tzinfo=_ICT)
CLOCK_FILE = Path("demo") / "clock.txt"

# (code, Vietnamese name, English name): departments, branches and the district-level localities.
DEPARTMENTS: tuple[tuple[str, str, str], ...] = (
    ("D01", "Sở Thông tin và Truyền thông", "Department of Information and Communications"),
    ("D02", "Công an tỉnh", "Provincial Police"),
    ("D03", "Sở Tư pháp", "Department of Justice"),
    ("D04", "Sở Nội vụ", "Department of Home Affairs"),
    ("D05", "Văn phòng Ủy ban nhân dân tỉnh", "Office of the Provincial People's Committee"),
    ("D06", "Ủy ban bầu cử tỉnh", "Provincial Election Committee"),
    ("D07", "Bưu điện tỉnh", "Provincial Post Office"),
    ("D08", "Trung tâm dữ liệu tỉnh", "Provincial Data Centre"),
    (
        "D09",
        "Văn phòng Đoàn đại biểu Quốc hội và Hội đồng nhân dân tỉnh",
        "Office of the National Assembly Delegation and the Provincial People's Council",
    ),
    ("D10", "Sở Giáo dục và Đào tạo", "Department of Education and Training"),
    ("D11", "Đài Phát thanh và Truyền hình tỉnh", "Provincial Radio and Television"),
    ("D12", "Bộ Chỉ huy Quân sự tỉnh", "Provincial Military Command"),
    ("D13", "Ủy ban nhân dân thành phố Bình Sơn", "Binh Son City People's Committee"),
    ("D14", "Ủy ban nhân dân thị xã Hòa Mỹ", "Hoa My Town People's Committee"),
    ("D15", "Ủy ban nhân dân huyện Tân Phước", "Tan Phuoc District People's Committee"),
    ("D16", "Ủy ban nhân dân huyện An Lương", "An Luong District People's Committee"),
    ("D17", "Ủy ban nhân dân huyện Phú Điền", "Phu Dien District People's Committee"),
    ("D18", "Ủy ban nhân dân huyện Trường Sơn", "Truong Son District People's Committee"),
)


@dataclass(frozen=True)
class CommuneSpec:
    """A commune or ward, its villages (thôn) or residential groups (tổ dân phố), and its people."""

    code: str
    ward: bool  # phường (urban, tổ dân phố) rather than xã (rural, thôn)
    name: str  # without the "Xã"/"Phường" prefix
    villages: tuple[str, ...]  # thôn names; wards number their groups instead
    #: Share of the province's people, relative to the other communes.
    weight: float
    #: Highland communes where ethnic minorities are a large share of the people.
    highland: bool = False

    @property
    def name_vi(self) -> str:
        return f"{'Phường' if self.ward else 'Xã'} {self.name}"

    @property
    def name_en(self) -> str:
        return f"{strip_diacritics(self.name)} {'Ward' if self.ward else 'Commune'}"

    def village_names(self) -> list[tuple[str, str]]:
        if self.ward:
            return [
                (f"Tổ dân phố {i}", f"Residential Group {i}")
                for i in range(1, len(self.villages) + 1)
            ]
        return [(f"Thôn {v}", f"{strip_diacritics(v)} Village") for v in self.villages]


_SIX = ("",) * 6
COMMUNES: tuple[CommuneSpec, ...] = (
    CommuneSpec("C01", True, "Bình Minh", _SIX, 1.7),
    CommuneSpec("C02", True, "Sơn Thủy", _SIX[:5], 1.5),
    CommuneSpec("C03", True, "Hòa Mỹ", _SIX[:5], 1.2),
    CommuneSpec(
        "C04", False, "An Phú", ("An Thạnh", "Phú Xuân", "Đông Yên", "Tây Lộc", "Gò Cát"), 1.0
    ),
    CommuneSpec("C05", False, "Hòa Lợi", ("Trung Hòa", "Nam Bình", "Bàu Sen", "Mỹ Lợi"), 0.9),
    CommuneSpec("C06", False, "Tân Hiệp", ("Tân Lập", "Hiệp Phước", "Kim Sơn", "Xuân Đài"), 0.9),
    CommuneSpec(
        "C07",
        False,
        "Phước Lộc",
        ("Phước Thọ", "Lộc An", "Vĩnh Hòa", "Thanh Bình", "Cây Sung"),
        1.0,
    ),
    CommuneSpec("C08", False, "Vĩnh Thạnh", ("Vĩnh An", "Thạnh Mỹ", "Long Hưng", "Đồng Tròn"), 0.8),
    CommuneSpec(
        "C09",
        False,
        "Đông Hải",
        ("Hải Đông", "Hải Tây", "Xóm Lưới", "Cồn Chim", "Tân Hải", "Lạch Bạng"),
        1.1,
    ),
    CommuneSpec("C10", False, "Thạch Long", ("Thạch Bàn", "Long Phú", "Gò Mít"), 0.7),
    CommuneSpec("C11", False, "Mỹ Hòa", ("Mỹ Thạnh", "Hòa Đông", "Bình Tây", "Phú Lương"), 0.8),
    CommuneSpec("C12", False, "Nghĩa Trung", ("Nghĩa Lập", "Trung Sơn", "Đá Bạc"), 0.6),
    CommuneSpec(
        "C13", False, "Sơn Lâm", ("Làng Rêu", "Nước Lăng", "Tà Vinh", "Ka Dăng"), 0.5, True
    ),
    CommuneSpec("C14", False, "Sơn Bao", ("Làng Mùng", "Nước Vương", "Đắk Rơn"), 0.4, True),
    CommuneSpec("C15", False, "Ba Điền", ("Làng Teo", "Gò Rộc", "Nước Nẻ"), 0.4, True),
)

CALENDAR_NAME = "Bầu cử đại biểu Hội đồng nhân dân các cấp tỉnh Bình Sơn năm 2027"

# Phase bounds and what each phase makes urgent: the two days around voting day are 'during'.
PHASES: dict[str, dict[str, Any]] = {
    "before": {
        "starts": datetime(2026, 12, 1, tzinfo=_ICT),
        "ends": datetime(2027, 3, 13, tzinfo=_ICT),
        "alert_threshold": "medium",
        "response_hours": {"critical": 2.0, "high": 8.0, "medium": 48.0, "low": 168.0},
        "silence_minutes": 240,
    },
    "during": {
        "starts": datetime(2027, 3, 13, tzinfo=_ICT),
        "ends": datetime(2027, 3, 16, tzinfo=_ICT),
        "alert_threshold": "low",
        "response_hours": {"critical": 0.5, "high": 1.0, "medium": 4.0, "low": 24.0},
        "silence_minutes": 30,
    },
    "after": {
        "starts": datetime(2027, 3, 16, tzinfo=_ICT),
        "ends": datetime(2027, 6, 30, tzinfo=_ICT),
        "alert_threshold": "high",
        "response_hours": {"critical": 4.0, "high": 24.0, "medium": 72.0, "low": 336.0},
        "silence_minutes": 720,
    },
}

OFFICIAL_DOMAINS = (
    "binhson.gov.vn",
    "baucu.binhson.gov.vn",
    "congan.binhson.gov.vn",
    "stttt.binhson.gov.vn",
    "dichvucong.binhson.gov.vn",
    "binhsontv.vn",
)

OFFICIAL_ACCOUNTS: tuple[dict[str, str], ...] = (
    {
        "platform": "facebook",
        "handle": "ubndtinhbinhson",
        "owner": "D05",
        "name": "Cổng thông tin điện tử tỉnh Bình Sơn",
    },
    {
        "platform": "facebook",
        "handle": "baucubinhson",
        "owner": "D06",
        "name": "Ủy ban bầu cử tỉnh Bình Sơn",
    },
    {
        "platform": "facebook",
        "handle": "congantinhbinhson",
        "owner": "D02",
        "name": "Công an tỉnh Bình Sơn",
    },
    {
        "platform": "facebook",
        "handle": "sotttbinhson",
        "owner": "D01",
        "name": "Sở Thông tin và Truyền thông Bình Sơn",
    },
    {"platform": "zalo", "handle": "baucu.binhson", "owner": "D06", "name": "Bầu cử Bình Sơn"},
    {
        "platform": "youtube",
        "handle": "BinhSonTV",
        "owner": "D11",
        "name": "Đài Phát thanh và Truyền hình Bình Sơn",
    },
)

# True statements about how to vote, for matching claims made in public posts.
FACTS: tuple[tuple[str, str, str], ...] = (
    (
        "voting_day",
        "Ngày bỏ phiếu là Chủ nhật, ngày 14 tháng 3 năm 2027.",
        "Voting day is Sunday, 14 March 2027.",
    ),
    (
        "voting_hours",
        "Việc bỏ phiếu bắt đầu lúc 7 giờ sáng và kết thúc lúc 7 giờ tối cùng ngày; Tổ bầu cử "
        "có thể cho bắt đầu sớm hơn nhưng không trước 5 giờ sáng, hoặc kết thúc muộn hơn nhưng "
        "không quá 9 giờ tối.",
        "Voting runs from 7 a.m. to 7 p.m.; a polling team may open earlier, but not before "
        "5 a.m., or close later, but not after 9 p.m.",
    ),
    (
        "in_person",
        "Cử tri bỏ phiếu trực tiếp tại khu vực bỏ phiếu; không có hình thức bỏ phiếu qua mạng, qua "
        "điện thoại hay qua tin nhắn.",
        "Voters vote in person at their polling station; there is no voting online, by phone or by "
        "text message.",
    ),
    (
        "no_proxy",
        "Không ai được bỏ phiếu thay người khác; cử tri không tự viết được phiếu bầu thì nhờ người "
        "khác viết hộ nhưng phải tự mình bỏ phiếu vào hòm phiếu.",
        "No one may vote on another's behalf; a voter who cannot write may ask someone to fill in "
        "the ballot, but must put it in the ballot box personally.",
    ),
    (
        "mobile_box",
        "Cử tri ốm đau, già yếu, khuyết tật không đến được khu vực bỏ phiếu thì Tổ bầu cử mang hòm "
        "phiếu phụ và phiếu bầu đến chỗ ở của cử tri.",
        "For voters who are ill, elderly or disabled and cannot come to the polling station, the "
        "polling team brings an auxiliary ballot box and ballots to where they live.",
    ),
    (
        "voting_age",
        "Công dân đủ 18 tuổi trở lên tính đến ngày bầu cử có quyền bầu cử.",
        "Citizens who are 18 or older on voting day have the right to vote.",
    ),
    (
        "voter_list",
        "Danh sách cử tri được niêm yết công khai tại trụ sở Ủy ban nhân dân xã, phường và nơi "
        "công cộng của khu vực bỏ phiếu; cử tri thấy sai sót có quyền khiếu nại với cơ quan lập "
        "danh sách.",
        "The voter list is posted publicly at the commune or ward People's Committee and in public "
        "places of the polling area; a voter who finds an error may complain to the body that drew "
        "it up.",
    ),
    (
        "no_fees",
        "Bầu cử không mất phí; cơ quan bầu cử không bao giờ yêu cầu cử tri chuyển tiền, cung "
        "cấp mã OTP, mật khẩu hay số tài khoản ngân hàng.",
        "Voting is free; election bodies never ask voters to send money or to give an OTP code, a "
        "password or a bank account number.",
    ),
    (
        "secret_ballot",
        "Bỏ phiếu kín: không ai được xem hay chụp ảnh phiếu bầu khi cử tri viết phiếu.",
        "The ballot is secret: no one may look at or photograph a ballot while the voter fills "
        "it in.",
    ),
    (
        "official_results",
        "Kết quả bầu cử do Ủy ban bầu cử tỉnh công bố chính thức và đăng trên trang "
        "baucu.binhson.gov.vn.",
        "Official results are announced by the provincial election committee and published on "
        "baucu.binhson.gov.vn.",
    ),
)


def commune_units(spec: CommuneSpec) -> list[dict[str, str]]:
    """The commune, its police office and its villages, as vigil.toml [[units]] tables."""
    police_vi = f"Công an {'phường' if spec.ward else 'xã'} {spec.name}"
    units = [
        {"code": spec.code, "kind": "commune", "name_vi": spec.name_vi, "name_en": spec.name_en},
        {
            "code": f"{spec.code}-POL",
            "kind": "commune_police",
            "parent": spec.code,
            "name_vi": police_vi,
            "name_en": f"{spec.name_en} Police",
        },
    ]
    for i, (vi, en) in enumerate(spec.village_names(), start=1):
        units.append(
            {
                "code": f"{spec.code}-V{i:02d}",
                "kind": "village",
                "parent": spec.code,
                "name_vi": vi,
                "name_en": en,
            }
        )
    return units


def province_document() -> dict[str, Any]:
    """The whole vigil.toml as a TOML-ready mapping, every text NFC-normalised."""
    units: list[dict[str, str]] = [
        {"code": code, "kind": "department", "name_vi": vi, "name_en": en}
        for code, vi, en in DEPARTMENTS
    ]
    for spec in COMMUNES:
        units.extend(commune_units(spec))
    document: dict[str, Any] = {
        "province": {
            "code": PROVINCE_CODE,
            "name_vi": PROVINCE_NAME_VI,
            "name_en": PROVINCE_NAME_EN,
        },
        "units": units,
        "calendar": {"name": CALENDAR_NAME, "voting_day": VOTING_DAY, "phases": PHASES},
        "watchlist": {
            "official_domains": list(OFFICIAL_DOMAINS),
            "official_accounts": [dict(a) for a in OFFICIAL_ACCOUNTS],
        },
        "facts": [{"key": key, "text_vi": vi, "text_en": en} for key, vi, en in FACTS],
    }
    composed: dict[str, Any] = _composed(document)
    return composed


def _composed(value: Any) -> Any:
    # Source files may be saved decomposed by some editors; the data directory never is.
    if isinstance(value, str):
        return nfc(value)
    if isinstance(value, dict):
        return {k: _composed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_composed(v) for v in value]
    return value


_HEADER = (
    "# Vigil demo province (fictional): written by `vigil demo`, rebuilt by `vigil demo --force`.\n"
    "# Times carry their offset (+07:00 is Vietnam).\n\n"
)


def write_province(data_dir: Path) -> ProvinceConfig:
    """Write <data>/vigil.toml and read it back the way every command will."""
    path = data_dir / "vigil.toml"
    data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(_HEADER + tomli_w.dumps(province_document()), encoding="utf-8")
    return load_province(path)


def write_clock(data_dir: Path, when: datetime = DEMO_CLOCK) -> Path:
    path = data_dir / CLOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(when.isoformat() + "\n", encoding="utf-8")
    return path


def read_clock(data_dir: Path) -> datetime | None:
    """The demo's fixed time, if this data directory was built by `vigil demo`."""
    path = data_dir / CLOCK_FILE
    if not path.exists():
        return None
    text = path.read_text(encoding="utf-8").strip()
    try:
        return datetime.fromisoformat(text)
    except ValueError as e:
        raise ConfigError(
            f"not an ISO 8601 time: {text[:40]!r}", location=Location(str(path), 1)
        ) from e
