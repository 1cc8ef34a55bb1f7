"""The one schema every post export is read into, and the checks a record must pass.

An export record (JSON lines or CSV) has the fields `platform, post_id, account_id, handle,
display_name, page, url, text, created_at, reactions, shares, links, media_hashes`; optional
`account_created_at` (when the account was opened) and `avatar_hash` (perceptual hash of the
profile picture, hex). A reported message has `sender`, `text`, `received_at` (or
`created_at`) and optionally `channel` (sms, zalo...). Text is cleaned (NFC, mojibake repaired),
links are taken from the `links` field and from the text, normalised.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from vigil.core.clock import parse_local_time
from vigil.core.errors import ValidationError
from vigil.infowatch.links import extract_links, parse_link
from vigil.infowatch.text import clean

DATASET = "infowatch_posts"

FIELDS = (
    "platform",
    "post_id",
    "account_id",
    "handle",
    "display_name",
    "page",
    "url",
    "text",
    "created_at",
    "reactions",
    "shares",
    "links",
    "media_hashes",
)
OPTIONAL = ("account_created_at", "avatar_hash")
MAX_TEXT = 20_000

SCHEMA = pa.schema(
    [
        ("platform", pa.string()),
        ("post_id", pa.string()),
        ("kind", pa.string()),  # post | news | report
        ("account_id", pa.string()),
        ("handle", pa.string()),
        ("display_name", pa.string()),
        ("page", pa.string()),
        ("url", pa.string()),
        ("text", pa.string()),
        ("created_at", pa.timestamp("us")),
        ("reactions", pa.int64()),
        ("shares", pa.int64()),
        ("links", pa.list_(pa.string())),
        ("domains", pa.list_(pa.string())),
        ("hosts", pa.list_(pa.string())),
        ("media_hashes", pa.list_(pa.string())),
        ("account_created_at", pa.timestamp("us")),
        ("avatar_hash", pa.string()),
        ("lang", pa.string()),
        ("source", pa.string()),
        ("line", pa.int64()),
    ]
)


class RecordError(ValueError):
    """A record that cannot be taken in; the message is the reason kept in quarantine."""


def parse_time(value: Any, name: str) -> datetime:
    """An export's time: ISO 8601 (local province time when it has no offset) or epoch seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value), UTC).replace(tzinfo=None)
        except (OverflowError, OSError, ValueError) as e:
            raise RecordError(f"{name}: not a time: {value!r}") from e
    if not isinstance(value, str) or not value.strip():
        raise RecordError(f"{name}: missing")
    text = value.strip().replace("Z", "+00:00") if value.strip().endswith("Z") else value
    try:
        return parse_local_time(text, name)
    except ValidationError as e:
        raise RecordError(e.message) from e


def _text(record: dict[str, Any], name: str, limit: int = 500) -> str:
    value = record.get(name)
    if value is None:
        return ""
    if isinstance(value, dict | list):
        raise RecordError(f"{name}: expected text, got {type(value).__name__}")
    return clean(str(value))[:limit]


def _count(record: dict[str, Any], name: str) -> int:
    value = record.get(name)
    if value in (None, ""):
        return 0
    try:
        number = int(str(value).strip())
    except ValueError as e:
        raise RecordError(f"{name}: not a whole number: {value!r}") from e
    if number < 0:
        raise RecordError(f"{name}: negative: {number}")
    return number


def _list(record: dict[str, Any], name: str) -> list[str]:
    value = record.get(name)
    if value in (None, ""):
        return []
    if isinstance(value, str):  # CSV: space, comma or | separated; or a JSON array
        if value.strip().startswith("["):
            try:
                value = json.loads(value)
            except ValueError as e:
                raise RecordError(f"{name}: not a JSON list") from e
        else:
            return [v for v in value.replace("|", " ").replace(",", " ").split() if v]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RecordError(f"{name}: expected a list of texts")
    return [clean(v) for v in value if v.strip()]


def message_id(sender: str, at: datetime, text: str) -> str:
    raw = "\x1f".join((sender, at.isoformat(), text)).encode("utf-8")
    return "msg-" + hashlib.blake2b(raw, digest_size=8).hexdigest()


def to_row(record: dict[str, Any], kind: str = "post") -> dict[str, Any]:
    """A row of `infowatch_posts` from one export record or reported message."""
    if not isinstance(record, dict):
        raise RecordError(f"expected an object, got {type(record).__name__}")
    text = _text(record, "text", MAX_TEXT)
    if "sender" in record and "post_id" not in record:
        kind = "report"
        sender = _text(record, "sender", 100)
        if not sender:
            raise RecordError("sender: missing")
        created = parse_time(record.get("received_at", record.get("created_at")), "received_at")
        record = {
            "platform": record.get("channel") or "sms",
            "post_id": message_id(sender, created, text),
            "account_id": sender,
            "handle": sender,
            "text": text,
        }
    else:
        created = parse_time(record.get("created_at"), "created_at")
    post_id = _text(record, "post_id", 200)
    platform = _text(record, "platform", 40).lower()
    if not post_id:
        raise RecordError("post_id: missing")
    if not platform:
        raise RecordError("platform: missing")
    if not text.strip():
        raise RecordError("text: empty")
    links = [link for value in _list(record, "links") if (link := parse_link(value))]
    links += extract_links(text)
    by_url = {link.url: link for link in links}
    account_created = record.get("account_created_at")
    return {
        "platform": platform,
        "post_id": post_id,
        "kind": kind,
        "account_id": _text(record, "account_id", 200) or _text(record, "handle", 200),
        "handle": _text(record, "handle", 200).lstrip("@").lower(),
        "display_name": _text(record, "display_name", 300),
        "page": _text(record, "page", 300),
        "url": _text(record, "url", 2000),
        "text": text,
        "created_at": created,
        "reactions": _count(record, "reactions"),
        "shares": _count(record, "shares"),
        "links": list(by_url),
        "domains": sorted({link.domain for link in by_url.values()}),
        "hosts": sorted({link.host for link in by_url.values()}),
        "media_hashes": _list(record, "media_hashes"),
        "account_created_at": parse_time(account_created, "account_created_at")
        if account_created not in (None, "")
        else None,
        "avatar_hash": _text(record, "avatar_hash", 64).lower(),
        "lang": "",
    }
