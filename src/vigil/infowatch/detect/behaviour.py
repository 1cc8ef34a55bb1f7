"""`coordinated-campaign` and `narrative-spike`: behaviour across posts, never opinions.

Campaigns: accounts meet when they post near-identical texts within an hour (datasketch's
MinHash LSH over word shingles, computed in bulk by `nearcopies`), push the same link within
seconds, or were opened in one burst of new accounts. Pairs that meet often enough make a
co-activity graph (networkx); each connected group, split into communities when large, is one
campaign, named by its first post.
Spikes: posts per election topic per hour against the median of the hours before.
Settings in `data/behaviour.yaml`.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import yaml

from vigil.core.finding import Finding
from vigil.core.severity import Severity
from vigil.infowatch.detect.gate import PatternGate
from vigil.infowatch.detect.nearcopies import (
    Bands,
    seconds_since,
    shingle_lists,
    signatures,
)
from vigil.infowatch.detect.posts import post_key
from vigil.infowatch.text import fold

if TYPE_CHECKING:
    from vigil.infowatch.detect.context import WatchContext

RULES = Path(__file__).parents[1] / "data" / "behaviour.yaml"


@cache
def behaviour_rules() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return loaded


@dataclass
class Campaign:
    id: str
    accounts: list[str]
    posts: list[str]
    start: datetime
    end: datetime
    signals: dict[str, int]
    timeline: list[dict[str, Any]] = field(default_factory=list)
    edges: list[tuple[str, str, float]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "accounts": self.accounts,
            "posts": self.posts,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "signals": self.signals,
            "timeline": self.timeline,
            "edges": [list(e) for e in self.edges],
        }


def folded(row: dict[str, Any]) -> str:
    """The row's text folded, once per row (both behaviour detectors read it)."""
    found = row.get("_folded")
    if found is None:
        found = row["_folded"] = fold(row["text"])
    return str(found)


class _Edges:
    def __init__(self) -> None:
        self.weight: Counter[tuple[str, str]] = Counter()
        self.posts: dict[tuple[str, str], set[int]] = defaultdict(set)
        self.signals: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)

    def add(self, a: str, b: str, signal: str, posts: Iterable[int], weight: float = 1.0) -> None:
        if a == b:
            return
        key = (a, b) if a < b else (b, a)
        self.weight[key] += weight  # type: ignore[assignment]
        self.posts[key].update(posts)
        self.signals[key][signal] += 1


def _near_duplicates(rows: list[dict[str, Any]], cfg: dict[str, Any], edges: _Edges) -> None:
    """Pairs of near-identical texts (MinHash LSH, see `nearcopies`) from distinct accounts
    within the window, in the order datasketch's index would give them."""
    window = timedelta(minutes=cfg["window_minutes"])
    kept: list[int] = []
    texts: list[list[str]] = []
    for i, row in enumerate(rows):
        words = folded(row).split()
        if len(words) >= cfg["min_tokens"]:
            kept.append(i)
            texts.append(words)
    if not kept:
        return
    bands = Bands(
        signatures(shingle_lists(texts, cfg["shingle"]), cfg["num_perm"]),
        kept,
        cfg["lsh_threshold"],
    )
    times = seconds_since([rows[i]["created_at"] for i in kept])
    # Only posts with a later post in one of their buckets can pair; the others are not queried.
    for position in bands.later_mates(times, window.total_seconds() + 1.0).tolist():
        i = kept[position]
        for j in bands.query(position):
            if j <= i:
                continue
            a, b = rows[i], rows[j]
            if (
                a["account_id"] != b["account_id"]
                and abs(a["created_at"] - b["created_at"]) <= window
            ):
                edges.add(a["account_id"], b["account_id"], "near-duplicate", (i, j))


def _runs(items: list[tuple[datetime, int]], span: timedelta) -> Iterable[list[int]]:
    """Items (time-ordered) cut into runs whose members lie within `span` of the run's first."""
    run: list[tuple[datetime, int]] = []
    for item in items:
        if run and item[0] - run[0][0] > span:
            yield [i for _, i in run]
            run = []
        run.append(item)
    if run:
        yield [i for _, i in run]


def _same_links(rows: list[dict[str, Any]], cfg: dict[str, Any], edges: _Edges) -> None:
    by_link: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    for i, row in enumerate(rows):
        for link in row["links"]:
            by_link[link].append((row["created_at"], i))
    span = timedelta(seconds=cfg["link_seconds"])
    for posts in by_link.values():
        if len(posts) < cfg["link_accounts"]:
            continue
        for run in _runs(posts, span):
            if len({rows[i]["account_id"] for i in run}) < cfg["link_accounts"]:
                continue
            for i, j in itertools.combinations(run, 2):
                edges.add(rows[i]["account_id"], rows[j]["account_id"], "same-link", (i, j))


def _new_account_bursts(rows: list[dict[str, Any]], cfg: dict[str, Any], edges: _Edges) -> None:
    first: dict[str, tuple[datetime, datetime, int]] = {}
    for i, row in enumerate(rows):
        created = row["account_created_at"]
        if created is not None and row["account_id"] not in first:
            first[row["account_id"]] = (created, row["created_at"], i)
    young = sorted(
        (created, i)
        for created, posted, i in first.values()
        if posted - created <= timedelta(days=cfg["new_account_days"])
    )
    for run in _runs(young, timedelta(hours=cfg["burst_hours"])):
        if len(run) >= cfg["burst_accounts"]:
            for i, j in itertools.combinations(run, 2):
                edges.add(rows[i]["account_id"], rows[j]["account_id"], "new-account-burst", (i, j))


def campaign_id(first_post: str) -> str:
    return "camp-" + hashlib.blake2b(first_post.encode(), digest_size=5).hexdigest()


def find_campaigns(rows: list[dict[str, Any]]) -> list[Campaign]:
    """Coordinated groups of accounts among `rows` (time-ordered posts)."""
    cfg = behaviour_rules()["campaign"]
    edges = _Edges()
    _near_duplicates(rows, cfg, edges)
    _same_links(rows, cfg, edges)
    _new_account_bursts(rows, cfg, edges)
    graph = nx.Graph()
    for (a, b), weight in edges.weight.items():
        if weight >= cfg["min_edge_weight"]:
            graph.add_edge(a, b, weight=weight)
    groups: list[set[str]] = []
    for component in nx.connected_components(graph):
        if len(component) < cfg["min_accounts"]:
            continue
        if len(component) > 3 * cfg["min_accounts"]:
            sub = graph.subgraph(component)
            parts = nx.community.louvain_communities(sub, weight="weight", seed=7, resolution=0.5)
            groups.extend(set(p) for p in parts if len(p) >= cfg["min_accounts"])
        else:
            groups.append(set(component))
    return sorted((_campaign(rows, edges, g) for g in groups), key=lambda c: c.start)


def _campaign(rows: list[dict[str, Any]], edges: _Edges, accounts: set[str]) -> Campaign:
    posts: set[int] = set()
    signals: Counter[str] = Counter()
    kept_edges = []
    for (a, b), weight in edges.weight.items():
        if a in accounts and b in accounts:
            posts.update(edges.posts[(a, b)])
            signals.update(edges.signals[(a, b)])
            kept_edges.append((a, b, float(weight)))
    ordered = sorted(posts, key=lambda i: (rows[i]["created_at"], post_key(rows[i])))
    keys = [post_key(rows[i]) for i in ordered]
    timeline = [
        {
            "at": rows[i]["created_at"].isoformat(),
            "account": rows[i]["account_id"],
            "post": post_key(rows[i]),
            "text": rows[i]["text"][:200],
        }
        for i in ordered
    ]
    return Campaign(
        campaign_id(keys[0]),
        sorted(accounts),
        keys,
        rows[ordered[0]]["created_at"],
        rows[ordered[-1]]["created_at"],
        dict(signals),
        timeline,
        sorted(kept_edges),
    )


@dataclass
class Spike:
    topic: str
    label_en: str
    label_vi: str
    start: datetime
    posts: int
    baseline: float
    examples: list[str]


def find_spikes(rows: list[dict[str, Any]]) -> list[Spike]:
    cfg = behaviour_rules()["spike"]
    topics = [(t, re.compile(t["regex"])) for t in behaviour_rules()["topics"]]
    gate = PatternGate([t["regex"] for t in behaviour_rules()["topics"]])
    bucket = timedelta(minutes=cfg["bucket_minutes"])
    counts: dict[str, Counter[datetime]] = defaultdict(Counter)
    examples: dict[tuple[str, datetime], list[str]] = defaultdict(list)
    origin = datetime(2000, 1, 1)
    for row in rows:
        text = folded(row)
        at = origin + ((row["created_at"] - origin) // bucket) * bucket
        for k in gate.candidates(text):  # in order; the other topics cannot match
            topic, regex = topics[k]
            if regex.search(text):
                counts[topic["id"]][at] += 1
                if len(examples[(topic["id"], at)]) < 10:
                    examples[(topic["id"], at)].append(post_key(row))
    spikes = []
    for topic, _ in topics:
        series = counts[topic["id"]]
        for at, n in sorted(series.items()):
            before = [series.get(at - bucket * k, 0) for k in range(1, cfg["baseline_buckets"] + 1)]
            base = statistics.median(before)
            if n >= cfg["min_posts"] and n >= cfg["factor"] * (base + 1):
                spikes.append(
                    Spike(
                        topic["id"],
                        topic["label_en"],
                        topic["label_vi"],
                        at,
                        n,
                        base,
                        examples[(topic["id"], at)],
                    )
                )
    return spikes


def recent_rows(deployment: Any, paths: dict[str, Path]) -> list[dict[str, Any]]:
    from vigil.infowatch.detect.posts import read_batches, unique_posts

    rows = unique_posts(read_batches(paths.values()))
    if not rows:
        return rows
    since = rows[-1]["created_at"] - timedelta(days=behaviour_rules()["campaign"]["lookback_days"])
    return [r for r in rows if r["created_at"] >= since]


def campaign_finding(ctx: WatchContext, campaign: Campaign) -> Finding:
    """One finding per campaign: its accounts, posts and timeline as the evidence."""
    signals = ", ".join(f"{k} {v}" for k, v in sorted(campaign.signals.items()))
    return Finding(
        capability="infowatch",
        rule="coordinated-campaign",
        severity=Severity.HIGH,
        unit=ctx.root_unit,
        subject=campaign.id,
        title=f"Coordinated campaign {campaign.id}: {len(campaign.accounts)} accounts, "
        f"{len(campaign.posts)} posts ({signals})",
        title_vi=f"Chiến dịch phối hợp {campaign.id}: {len(campaign.accounts)} tài khoản, "
        f"{len(campaign.posts)} bài ({signals})",
        evidence={
            **campaign.as_dict(),
            "timeline": campaign.timeline[:200],
            "edges": [list(e) for e in campaign.edges[:500]],
            "response": "Report the accounts to the platforms as coordinated inauthentic "
            "behaviour; answer the narrative with the official facts.",
        },
        observed_at=campaign.end,
    )


def spike_finding(ctx: WatchContext, spike: Spike) -> Finding:
    return Finding(
        capability="infowatch",
        rule="narrative-spike",
        severity=Severity.LOW,
        unit=ctx.root_unit,
        subject=f"{spike.topic}@{spike.start.strftime('%Y%m%dT%H%M')}",
        title=f"Burst of posts on {spike.label_en}: {spike.posts} in an hour "
        f"(usual {spike.baseline:g})",
        title_vi=f"Bùng nổ bài viết về {spike.label_vi}: {spike.posts} bài trong một giờ "
        f"(thường {spike.baseline:g})",
        evidence={
            "topic": spike.topic,
            "start": spike.start.isoformat(),
            "posts": spike.posts,
            "baseline": spike.baseline,
            "examples": spike.examples,
            "response": "Check the posts of the burst; answer with an advisory if they spread a "
            "false claim.",
        },
        observed_at=spike.start,
    )


def behaviour_findings(deployment: Any, ctx: WatchContext, paths: dict[str, Path]) -> list[Finding]:
    rows = recent_rows(deployment, paths)
    return [campaign_finding(ctx, c) for c in find_campaigns(rows)] + [
        spike_finding(ctx, s) for s in find_spikes(rows)
    ]
