"""Builds the information watch's part of the demo: the province's own official page (with its
profile picture) on the watchlist, the fact sheet with the claims seen, a day's stream of posts,
a news feed and reported SMS, ingested through the real ingest; the planted problems as ground
truth. The detectors run later with every other room's (`vigil demo` runs `vigil detect`)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image, ImageDraw

from vigil.infowatch.demo.stream import CLAIMS, LOOKALIKES, build_stream
from vigil.infowatch.detect.behaviour import behaviour_rules, campaign_id
from vigil.infowatch.facts import import_facts
from vigil.infowatch.ingest.pipeline import ingest_paths
from vigil.infowatch.ingest.schema import to_row
from vigil.infowatch.pictures import picture_hash
from vigil.infowatch.watchlist import WatchKind, add_watched
from vigil.plugins import DemoContext

CAPABILITY = "infowatch"
RFC822 = "%a, %d %b %Y %H:%M:%S +0000"
OFFICIAL_HANDLE = "baucubinhson"
OFFICIAL_NAME = "Ủy ban bầu cử tỉnh Bình Sơn"

NEWS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Báo Bình Sơn</title><link>https://baobinhson.example.vn/</link>
<description>Tin tức tỉnh</description>
{items}
</channel></rss>
"""
HEADLINES = [
    "Tỉnh Bình Sơn hoàn tất niêm yết danh sách cử tri",
    "Các tổ bầu cử sẵn sàng cho ngày bỏ phiếu 14/3",
    "Công an tỉnh cảnh báo thủ đoạn lừa đảo giả danh cơ quan bầu cử",
    "Nông dân Tân Lập thu hoạch lúa đông xuân",
    "Khai mạc giải bóng đá thanh niên tỉnh",
]


def draw_logo(path: Path, shift: int = 0) -> Path:
    """The official page's picture; with `shift`, the impostor's near copy (recoloured, moved)."""
    image = Image.new("RGB", (128, 128), (200 - shift, 30, 40))
    pen = ImageDraw.Draw(image)
    pen.ellipse((20 + shift // 10, 20, 108, 108), fill=(250, 210, 40))
    pen.polygon(
        [
            (64, 30),
            (74, 60),
            (104, 60),
            (80, 78),
            (90, 106),
            (64, 88),
            (38, 106),
            (48, 78),
            (24, 60),
            (54, 60),
        ],
        fill=(200 - shift, 30, 40),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def write_inputs(
    folder: Path, ctx: DemoContext, day: datetime, official: dict[str, str]
) -> tuple[Path, list[str], list[list[str]], list[tuple[str, str, str]]]:
    stream = build_stream(ctx.seed, day, official)
    folder.mkdir(parents=True, exist_ok=True)
    posts = folder / "posts.jsonl"
    posts.write_text(
        "\n".join(json.dumps(p, ensure_ascii=False) for p in stream.posts) + "\n", encoding="utf-8"
    )
    (folder / "reported.sms").write_text("\n".join(stream.messages) + "\n", encoding="utf-8")
    items = "\n".join(
        f"<item><title>{h}</title><link>https://baobinhson.example.vn/tin/{i}</link>"
        f"<guid>https://baobinhson.example.vn/tin/{i}</guid>"
        f"<pubDate>{(day + timedelta(hours=1 + 3 * i)).strftime(RFC822)}</pubDate>"
        f"<description>{h}.</description></item>"
        for i, h in enumerate(HEADLINES)
    )
    (folder / "news.rss").write_text(NEWS.format(items=items), encoding="utf-8")
    planted = [(p.rule, p.subject, p.note) for p in stream.planted]
    seen_domains = {s for r, s, _ in planted if r == "lookalike-domain"}
    for line in stream.messages:
        sender, text = line.split("] ", 1)[1].split(": ", 1)
        row = to_row(
            {
                "sender": sender,
                "received_at": line[1:].split("]", 1)[0],
                "text": text,
                "channel": "sms",
            }
        )
        planted.append(("scam", f"sms:{row['post_id']}", text[:60]))
        for domain in LOOKALIKES:
            if domain in text and domain not in seen_domains:
                seen_domains.add(domain)
                planted.append(("lookalike-domain", domain, f"in SMS from {sender}"))
    return folder, [p["post_id"] for p in stream.posts], stream.campaigns, planted


def facts_file(ctx: DemoContext, folder: Path) -> Path:
    path = folder / "facts.jsonl"
    lines = [
        json.dumps(
            {
                "id": f.key,
                "text": f"{f.text_vi} {f.text_en}",
                "claims": CLAIMS.get(f.key, []),
                "lang": "vi",
            },
            ensure_ascii=False,
        )
        for f in ctx.deployment.province.facts
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def build_demo(ctx: DemoContext) -> None:
    dep = ctx.deployment
    folder = dep.settings.data / "demo" / "infowatch"
    actor = dep.system("demo")
    official_hash = picture_hash(draw_logo(folder / "pictures" / "official.png"))
    near_hash = picture_hash(draw_logo(folder / "pictures" / "impostor.png", shift=12))
    official = {
        "handle": OFFICIAL_HANDLE,
        "name": OFFICIAL_NAME,
        "hash": official_hash,
        "near_hash": near_hash,
    }
    now = dep.now()
    day = datetime(now.year, now.month, now.day) - timedelta(days=1)
    with dep.store.session() as session:
        add_watched(
            session,
            actor,
            WatchKind.PAGE,
            OFFICIAL_HANDLE,
            "D06",
            platform="facebook",
            name=OFFICIAL_NAME,
            image_hash=official_hash,
            source="province",
        )
        add_watched(session, actor, WatchKind.DOMAIN, "binhson.gov.vn", "P46", source="province")
        import_facts(session, actor, facts_file(ctx, folder))
    inputs, _ids, campaigns, planted = write_inputs(folder / "inbox", ctx, day, official)
    ingest_paths(dep, [inputs])
    root = dep.units.root.code
    for rule, subject, note in planted:
        ctx.plant(CAPABILITY, rule, subject, root, note)
    for keys in campaigns:
        ctx.plant(
            CAPABILITY, "coordinated-campaign", campaign_id(keys[0]), root, f"{len(keys)} posts"
        )
    bucket = behaviour_rules()["spike"]["bucket_minutes"]
    spike_at = day + timedelta(minutes=900 - 900 % bucket)
    ctx.plant(
        CAPABILITY,
        "narrative-spike",
        f"results@{spike_at.strftime('%Y%m%dT%H%M')}",
        root,
        "campaign B's burst on results",
    )
