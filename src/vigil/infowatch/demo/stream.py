"""The demo's stream of posts: ordinary chatter, news and official posts, with planted scams,
lookalike domains, impersonating pages, false claims (paraphrased, without diacritics, in
English), reported scam SMS and two coordinated campaigns hidden among them.

Everything here is synthetic text written for the demo; the planted items are returned with
the rule that must find them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

#: Claims seen about the province's facts (vigil.toml [[facts]] keys), Vietnamese and English.
CLAIMS: dict[str, list[str]] = {
    "voting_day": [
        "Ngày bầu cử đã được dời sang thứ Hai tuần sau",
        "Bầu cử năm nay kéo dài ba ngày, đi ngày nào cũng được",
        "Election day has been moved to Monday",
    ],
    "voting_hours": [
        "Điểm bỏ phiếu đóng cửa lúc 12 giờ trưa",
        "Bỏ phiếu chỉ đến 3 giờ chiều, sau đó không được bầu nữa",
        "Polling stations close at noon this year",
    ],
    "in_person": [
        "Năm nay cử tri có thể bỏ phiếu qua ứng dụng trên điện thoại",
        "Có thể bầu cử online bằng cách nhắn tin tới tổng đài",
        "You can vote online or by text message this year",
    ],
    "no_proxy": [
        "Một người có thể đi bầu thay cho cả gia đình",
        "Chủ hộ được bỏ phiếu thay cho mọi người trong nhà",
        "One family member can vote for the whole household",
    ],
    "voting_age": [
        "Phải đủ 21 tuổi mới được đi bầu cử",
        "Only people aged 21 or over may vote",
    ],
    "no_fees": [
        "Cử tri phải nộp lệ phí 50.000 đồng để nhận phiếu bầu",
        "Voters must pay a fee to receive a ballot",
    ],
    "secret_ballot": [
        "Cán bộ sẽ kiểm tra phiếu của từng người trước khi bỏ vào hòm",
        "Officials check each ballot before it goes into the box",
    ],
}

#: Posts repeating those claims: paraphrased, without diacritics, in teencode, in English.
FALSE_POSTS: list[tuple[str, str]] = [
    ("voting_hours", "Nghe noi diem bo phieu dong cua luc 12h trua, ae di som nhe"),
    ("voting_hours", "Năm nay bỏ phiếu chỉ tới 3 giờ chiều thôi, sau đó là không được bầu nữa đâu"),
    ("voting_day", "Ngay bau cu da bi doi sang thu hai tuan sau roi mn oi"),
    ("in_person", "Nam nay co the bo phieu qua ung dung tren dien thoai, khong can ra diem bau"),
    ("in_person", "Heard you can vote online or by text message this year, no need to queue"),
    ("no_proxy", "Chủ hộ được bỏ phiếu thay cho mọi người trong nhà nhé, khỏi đi cả nhà"),
    ("no_proxy", "mot nguoi co the di bau thay cho ca gia dinh ma, ko can di het"),
    ("voting_age", "Phai du 21 tuoi moi duoc di bau cu, con minh 19 tuoi khoi di"),
    ("no_fees", "Cử tri phải nộp lệ phí 50 nghìn đồng mới nhận được phiếu bầu đó"),
    ("secret_ballot", "Can bo se kiem tra phieu cua tung nguoi truoc khi bo vao hom, can than"),
    ("voting_day", "Election day has been moved to Monday, tell your family"),
]

SCAMS: list[str] = [
    "Cử tri cần cập nhật thông tin cử tri tại link sau trước 17h hôm nay: http://{lookalike}/capnhat",
    "Chuc mung ban da trung thuong xe may, vui long chuyen khoan phi ho so 500k de nhan qua",
    "Vui lòng cung cấp mã OTP vừa gửi tới điện thoại để xác minh danh sách cử tri",
    "Please verify your voter registration here before it is suspended: https://{lookalike}/verify",
    "Tuyển CTV việc nhẹ lương cao làm tại nhà, hoa hồng 20% mỗi đơn, inbox ngay",
    "Vay tien online khong the chap, giai ngan trong 5 phut, lai suat thap",
    "Đăng nhập ngân hàng tại https://{lookalike} để nhận quà tri ân khách hàng",
    "Ban lien quan den vu an rua tien, khong duoc tiet lo, chuyen tien vao tai khoan tam giu",
]

SMS: list[str] = [
    "Cong an tinh thong bao: ban lien quan vu an, goi ngay va chuyen tien de xac minh, "
    "khong duoc tiet lo",
    "[VCB] Tai khoan cua quy khach se bi khoa, xac minh tai https://vietcombank-xacminh.com ngay",
    "Ban da trung thuong 50 trieu tu chuong trinh tri an, gui ma OTP de nhan qua",
    "Cu tri vui long cap nhat thong tin dinh danh tai vneid-gov.vn truoc 17h de duoc bo phieu",
]

LOOKALIKES = [
    "baucu-binhson.com",
    "dichvucong-binhson.online",
    "binhs0n.gov.vn.xacthuc.top",
    "vietcombank-xacminh.com",
    "vneid-gov.vn",
]

ORDINARY_VI = [
    "Sáng nay chợ {place} đông quá, rau hôm nay tươi ghê",
    "Cả nhà cuối tuần này đi {place} chơi nhé",
    "Trận bóng tối qua hay thật, {name} đá quá đỉnh",
    "Ai biết quán phở nào ngon ở {place} không chỉ mình với",
    "Chủ nhật này nhớ đi bầu cử nhé mọi người, mang theo thẻ cử tri",
    "Con mình vừa đủ 18 tuổi, năm nay lần đầu được đi bầu",
    "Trời {place} hôm nay mưa to quá, đi đường cẩn thận",
    "Cảnh báo: công an không bao giờ yêu cầu cung cấp mã OTP qua điện thoại, mọi người cẩn thận",
    "Mới đọc bài trên vnexpress.net về chuẩn bị bầu cử, thấy chu đáo ghê",
    "Chúc mừng sinh nhật {name}, chúc bạn luôn vui khỏe",
    "Nhà mình vừa nhận thẻ cử tri, tổ bầu cử đưa tận nhà",
    "Xem thông tin chính thức tại https://baucu.binhson.gov.vn nhé",
    "Hôm nay đi làm muộn vì kẹt xe ở {place}",
    "Lúa năm nay được mùa, bà con {place} vui lắm",
    "mn oi cho minh hoi cho gui xe gan {place} o dau vay",
]
ORDINARY_EN = [
    "Lovely morning walk around {place} today",
    "Does anyone know a good bike repair shop near {place}?",
    "Voting opens at 7 a.m. on Sunday, bring your voter card",
    "Great match last night, {name} was brilliant",
    "Reminder: banks never ask for your OTP code, do not share it with anyone",
]
PLACES = ["Bình Sơn", "Tân Lập", "Hòa Bình", "An Phú", "Phú Mỹ", "Thạnh Lợi", "Long Điền"]
NAMES = [
    "Nguyễn Văn An",
    "Trần Thị Bình",
    "Lê Minh Châu",
    "Phạm Quốc Dũng",
    "Hoàng Thu Hà",
    "Vũ Đức Hải",
    "Đặng Thị Lan",
    "Bùi Văn Long",
    "Đỗ Thị Mai",
    "Ngô Quang Nam",
    "Dương Thị Oanh",
    "Lý Văn Phúc",
    "Trịnh Thị Quyên",
    "Mai Văn Sơn",
    "Tạ Thị Thu",
]

CAMPAIGN_A = [
    "Mọi người ký tên ủng hộ kiến nghị đổi địa điểm bỏ phiếu xã Tân Lập tại {link} nhé",
    "Ký tên ủng hộ kiến nghị đổi địa điểm bỏ phiếu của xã Tân Lập ở {link} mọi người ơi",
    "Mọi người cùng ký tên ủng hộ kiến nghị đổi địa điểm bỏ phiếu xã Tân Lập tại {link}",
]
CAMPAIGN_B = [
    "Kết quả kiểm phiếu ở huyện Hòa Bình đã được sắp đặt từ trước, "
    "đừng ai tin kết quả bầu cử lần này",
    "Kết quả kiểm phiếu ở huyện Hòa Bình đã sắp đặt từ trước rồi, "
    "đừng ai tin kết quả bầu cử lần này nhé",
    "Kết quả kiểm phiếu huyện Hòa Bình đã được sắp đặt từ trước, "
    "mọi người đừng tin kết quả bầu cử lần này",
]


@dataclass
class Planted:
    rule: str
    subject: str
    note: str


@dataclass
class Stream:
    posts: list[dict[str, Any]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    planted: list[Planted] = field(default_factory=list)
    #: The first post of each campaign (its finding is named after it).
    campaigns: list[list[str]] = field(default_factory=list)


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S+00:00")


class _Builder:
    def __init__(self, rng: random.Random, day: datetime) -> None:
        self.rng, self.day, self.stream, self.n = rng, day, Stream(), 0

    def at(self, minute: float) -> datetime:
        return self.day + timedelta(minutes=minute)

    def post(self, account: str, text: str, when: datetime, **extra: Any) -> str:
        self.n += 1
        pid = f"p{self.n:04d}"
        self.stream.posts.append(
            {
                "platform": extra.pop("platform", "facebook"),
                "post_id": pid,
                "account_id": account,
                "handle": extra.pop("handle", account),
                "display_name": extra.pop("display_name", account),
                "page": "",
                "url": f"https://facebook.example/{account}/posts/{pid}",
                "text": text,
                "created_at": _iso(when),
                "reactions": self.rng.randint(0, 200),
                "shares": self.rng.randint(0, 20),
                "links": [],
                "media_hashes": [],
                **extra,
            }
        )
        return f"facebook:{pid}"


def build_stream(seed: int, day: datetime, official: dict[str, str]) -> Stream:
    """The whole stream of one day from `day` (UTC midnight); `official` holds the
    official page's handle, name and picture hash that the impostors copy."""
    b = _Builder(random.Random(seed), day)
    rng = b.rng
    _ordinary(b, rng)
    for i, template in enumerate(SCAMS):
        lookalike = LOOKALIKES[i % len(LOOKALIKES)]
        key = b.post(f"user{900 + i}", template.format(lookalike=lookalike), b.at(60 + 70 * i))
        b.stream.planted.append(Planted("scam", key, template[:60]))
        if "{lookalike}" in template:
            b.stream.planted.append(
                Planted(
                    "lookalike-domain",
                    lookalike.split(".gov.vn.")[-1] if ".gov.vn." in lookalike else lookalike,
                    key,
                )
            )
    for fact, text in FALSE_POSTS:
        key = b.post(f"user{rng.randint(300, 399)}", text, b.at(rng.uniform(30, 1300)))
        b.stream.planted.append(Planted("false-claim", key, f"{fact}: {text[:50]}"))
    _impostors(b, official)
    for i, text in enumerate(SMS):
        b.stream.messages.append(
            f"[{(day + timedelta(hours=2 + i)).strftime('%Y-%m-%d %H:%M')}+00:00] "
            f"+8490{i:07d}: {text}"
        )
    _campaigns(b)
    return b.stream


def _ordinary(b: _Builder, rng: random.Random) -> None:
    for i in range(130):
        pool = ORDINARY_EN if i % 6 == 0 else ORDINARY_VI
        text = rng.choice(pool).format(place=rng.choice(PLACES), name=rng.choice(NAMES))
        name = rng.choice(NAMES)
        b.post(
            f"user{rng.randint(1, 80):03d}",
            f"{text} #{i}" if i % 3 else text,
            b.at(rng.uniform(0, 1430)),
            display_name=name,
        )


def _impostors(b: _Builder, official: dict[str, str]) -> None:
    impostors = [
        ("uybanbaucu.binhson", "Uy Ban Bau Cu Tinh Binh Son", ""),
        ("baucubinhs0n", "Thông tin bầu cử", ""),
        ("baucu.bs.2027", "Bầu cử Bình Sơn 2027", official["near_hash"]),
    ]
    for i, (handle, name, picture) in enumerate(impostors):
        b.post(
            handle,
            "Trang thông tin về kỳ bầu cử năm 2027, mời bà con theo dõi",
            b.at(200 + 50 * i),
            display_name=name,
            avatar_hash=picture,
        )
        b.stream.planted.append(
            Planted("impersonation", f"facebook:{handle}", f"copies {official['handle']}")
        )
    b.post(
        official["handle"],
        "Ủy ban bầu cử tỉnh thông báo: bỏ phiếu từ 7 giờ sáng đến 7 giờ tối Chủ nhật 14/3",
        b.at(100),
        display_name=official["name"],
        avatar_hash=official["hash"],
    )


def _campaigns(b: _Builder) -> None:
    """Campaign A: eight new accounts push one link within seconds, with near-identical texts.
    Campaign B: seven accounts repeat one narrative within forty minutes, twice each."""
    link = "https://kiennghi-tanlap.example.org/ky-ten"
    start = 600.0
    keys = []
    for i in range(8):
        when = b.at(start) + timedelta(seconds=7 * i)
        keys.append(
            b.post(
                f"new{i:02d}",
                CAMPAIGN_A[i % 3].format(link=link),
                when,
                display_name=f"Người dân {i}",
                links=[link],
                account_created_at=_iso(b.at(start) - timedelta(days=2, minutes=13 * i)),
            )
        )
    b.stream.campaigns.append(keys)
    keys = []
    start = 900.0
    for round_ in range(2):
        for i in range(7):
            when = b.at(start + 20 * round_ + 2.5 * i)
            keys.append(
                b.post(
                    f"voice{i:02d}",
                    CAMPAIGN_B[(i + round_) % 3],
                    when,
                    display_name=f"Tiếng nói {i}",
                )
            )
    b.stream.campaigns.append(keys)
