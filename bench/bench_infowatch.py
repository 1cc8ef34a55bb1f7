"""Information watch benchmarks.

python bench/bench_infowatch.py quality      # P/R of each detector on the demo's ground truth;
                                             # lookalikes on permutations of the watchlist and
                                             # on ordinary Vietnamese domains
python bench/bench_infowatch.py claims       # MAP@5 of claim matching on the self-built set
                                             # (bench/data), beside a plain BM25 baseline
python bench/bench_infowatch.py throughput --posts 100000   # every detector, posts/s, peak RSS
python bench/bench_infowatch.py ingest --posts 100000       # reading, normalising, language
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
DATA = Path(__file__).parent / "data"


def _demo() -> tuple[object, list[object]]:
    from vigil.core.config import write_secret
    from vigil.demo.build import demo_settings
    from vigil.demo.province import write_clock, write_province
    from vigil.deployment import Deployment
    from vigil.infowatch.demo.build import build_demo
    from vigil.plugins import DemoContext
    from vigil.store.units import sync_units

    data = Path(tempfile.mkdtemp(prefix="vigil-bench-iw-")) / "data"
    data.mkdir()
    write_province(data)
    write_secret(data)
    write_clock(data)
    dep = Deployment.open(demo_settings(data))
    with dep.store.session() as session:
        sync_units(session, dep.units)
    ctx = DemoContext(deployment=dep, seed=2027, persons=0)
    build_demo(ctx)
    return dep, ctx.truth


def quality() -> None:
    from vigil.detection import run_detectors
    from vigil.infowatch.detect.lookalike import LookalikeMatcher
    from vigil.infowatch.detect.permutations import permutations
    from vigil.infowatch.watchlist import reference_entries
    from vigil.store.models import FindingRow

    dep, truth = _demo()
    started = time.perf_counter()
    run_detectors(dep, {"infowatch"})  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    planted = {(t.rule, t.subject) for t in truth}  # type: ignore[attr-defined]
    with dep.store.reader() as session:  # type: ignore[attr-defined]
        found = {(f.rule, f.subject) for f in session.query(FindingRow)}
    posts = sum(
        1 for _ in (dep.settings.data / "demo" / "infowatch" / "inbox" / "posts.jsonl").open()
    )  # type: ignore[attr-defined]
    print(f"demo: {posts} posts + 5 news + 4 SMS, detectors in {seconds:.2f} s")
    print(f"{'detector':<22}{'planted':>8}{'found':>7}{'false':>7}{'P':>7}{'R':>7}")
    for rule in sorted({r for r, _ in planted | found}):
        p = {s for r, s in planted if r == rule}
        f = {s for r, s in found if r == rule}
        tp = len(p & f)
        prec = tp / len(f) if f else 1.0
        rec = tp / len(p) if p else 1.0
        print(f"{rule:<22}{len(p):>8}{tp:>7}{len(f - p):>7}{prec:>7.3f}{rec:>7.3f}")
    official = [e.value for e in reference_entries()] + list(
        dep.province.watchlist.official_domains
    )  # type: ignore[attr-defined]
    matcher = LookalikeMatcher(official, {e.value: e.aliases for e in reference_entries()})
    started = time.perf_counter()
    generated = {p for d in official for p in permutations(d) if not matcher.is_official(p)}
    caught = sum(matcher.check(p) is not None for p in generated)
    by = Counter(v.technique for p in generated if (v := matcher.check(p)))
    print(
        f"lookalikes: {caught:,}/{len(generated):,} permutations of {len(official)} "
        f"official domains caught "
        f"in {time.perf_counter() - started:.2f} s; by technique {dict(by.most_common())}"
    )
    legit = (ROOT / "tests" / "data" / "infowatch" / "legit_domains.txt").read_text().split()
    flagged = [d for d in legit if matcher.check(d)]
    print(f"ordinary Vietnamese domains flagged: {len(flagged)}/{len(legit)} {flagged}")


def _tokens_plain(text: str) -> list[str]:
    return [t for t in "".join(c if c.isalnum() else " " for c in text.lower()).split()]


def _bm25_baseline(facts: list[dict[str, object]]) -> object:
    """Plain BM25 (k1 1.2, b 0.75) over lower-cased words with their diacritics, no folding, no
    n-grams: the lexical baseline."""
    docs = [(f["id"], _tokens_plain(str(t))) for f in facts for t in [f["text"], *f["claims"]]]  # type: ignore[list-item]
    n = len(docs)
    avg = sum(len(d) for _, d in docs) / n
    df = Counter(t for _, d in docs for t in set(d))
    idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}

    def rank(query: str) -> list[str]:
        q = set(_tokens_plain(query))
        best: dict[str, float] = defaultdict(float)
        for fid, d in docs:
            tf = Counter(d)
            s = sum(
                idf[t] * tf[t] * 2.2 / (tf[t] + 1.2 * (0.25 + 0.75 * len(d) / avg))
                for t in q
                if t in tf
            )
            best[str(fid)] = max(best[str(fid)], s)
        return [f for f, s in sorted(best.items(), key=lambda kv: -kv[1]) if s > 0][:5]

    return rank


def _map5(ranked: list[list[str]], answers: list[str]) -> float:
    total = 0.0
    for r, a in zip(ranked, answers, strict=True):
        total += next((1.0 / (i + 1) for i, f in enumerate(r[:5]) if f == a), 0.0)
    return total / len(answers)


def claims() -> None:
    from vigil.infowatch.detect.claims import ClaimMatcher

    facts = [
        json.loads(line) for line in (DATA / "infowatch_claims_facts.jsonl").open(encoding="utf-8")
    ]
    queries = [
        json.loads(line)
        for line in (DATA / "infowatch_claims_queries.jsonl").open(encoding="utf-8")
    ]
    matcher = ClaimMatcher((f["id"], f["text"], f["claims"]) for f in facts)
    answers = [q["fact"] for q in queries]
    started = time.perf_counter()
    ours = [[f for f, _ in matcher.match(q["text"], 5)] for q in queries]
    seconds = time.perf_counter() - started
    baseline = _bm25_baseline(facts)
    theirs = [baseline(q["text"]) for q in queries]  # type: ignore[operator]
    english = [i for i, q in enumerate(queries) if q["id"] in ENGLISH]
    print(
        f"{len(facts)} facts ({sum(len(f['claims']) for f in facts)} claims), "
        f"{len(queries)} queries"
    )
    print(
        f"MAP@5 folded words+bigrams BM25 + char 4-gram TF-IDF: {_map5(ours, answers):.3f} "
        f"({len(queries) / seconds:,.0f} queries/s)"
    )
    print(f"MAP@5 plain BM25 baseline:                           {_map5(theirs, answers):.3f}")
    sub = [i for i in range(len(queries)) if i not in english]
    print(
        f"  without the {len(english)} English queries (cross-lingual): ours "
        f"{_map5([ours[i] for i in sub], [answers[i] for i in sub]):.3f}, baseline "
        f"{_map5([theirs[i] for i in sub], [answers[i] for i in sub]):.3f}"
    )
    misses = [q["id"] for q, r in zip(queries, ours, strict=True) if r[:1] != [q["fact"]]]
    print(f"  queries whose first answer is wrong: {misses}")


#: The queries written in English while every claim is in Vietnamese (cross-lingual).
ENGLISH = {"q03", "q08", "q11", "q18", "q21", "q30", "q52", "q55", "q56"}

SENTENCE = (
    "hom nay troi dep qua di cho mua rau ca thit ban be cafe sang chieu toi bong da phim "
    "hoc thi cong viec nha cua gia dinh con cai du lich bien nui pho banh mi tra sua"
)
WORDS = SENTENCE.split(" ")


def _synthetic(n: int, seed: int) -> list[dict[str, object]]:
    from vigil.infowatch.demo.stream import FALSE_POSTS, SCAMS

    rng = random.Random(seed)
    start = datetime(2027, 3, 4)
    rows = []
    for i in range(n):
        at = start + timedelta(seconds=86400 * i / n)
        roll = rng.random()
        if roll < 0.002:
            text = rng.choice(SCAMS).format(lookalike="vietcombank-xacminh.com")
        elif roll < 0.004:
            text = rng.choice(FALSE_POSTS)[1]
        else:
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 30)))
        account = f"u{rng.randint(0, n // 5)}"
        rows.append(
            {
                "platform": "facebook",
                "post_id": f"p{i}",
                "kind": "post",
                "account_id": account,
                "handle": account,
                "display_name": account,
                "text": text,
                "created_at": at,
                "links": [],
                "account_created_at": None,
                "avatar_hash": "",
                "lang": "vi",
            }
        )
    return rows


def throughput(posts: int) -> None:
    from vigil.infowatch.demo.stream import CLAIMS
    from vigil.infowatch.detect.behaviour import find_campaigns, find_spikes
    from vigil.infowatch.detect.claims import ClaimMatcher
    from vigil.infowatch.detect.content import ContentChecker
    from vigil.infowatch.detect.context import lookalike_matcher
    from vigil.infowatch.detect.impersonation import Account, ImpersonationMatcher, Official
    from vigil.infowatch.watchlist import reference_entries

    rows = _synthetic(posts, 7)
    checker = ContentChecker(
        lookalike_matcher(list(reference_entries())),
        ClaimMatcher((k, k, v) for k, v in CLAIMS.items()),
    )
    imp = ImpersonationMatcher(
        [Official("facebook", "baucubinhson", "Ủy ban bầu cử tỉnh Bình Sơn", "", "D06")]
    )
    stages: dict[str, tuple[float, float]] = {}

    def timed(name: str, run: Callable[[], Any]) -> Any:
        """Run one stage; keep its wall-clock and CPU seconds (the machine may be shared: CPU
        seconds are what the stage itself costs)."""
        wall, cpu = time.perf_counter(), time.process_time()
        out = run()
        stages[name] = (time.perf_counter() - wall, time.process_time() - cpu)
        return out

    flagged = timed(
        "content (scam, lookalike links, false claims)",
        lambda: sum(checker.check(str(r["text"]), []).flagged for r in rows),
    )
    accounts = {r["account_id"]: r for r in rows}
    impostors = timed(
        "impersonation",
        lambda: sum(
            imp.check(Account("facebook", str(a), str(a), str(r["display_name"]), "")) is not None
            for a, r in accounts.items()
        ),
    )
    campaigns = timed("coordinated-campaign", lambda: find_campaigns(rows))
    spikes = timed("narrative-spike", lambda: find_spikes(rows))
    total = sum(w for w, _ in stages.values())
    cpu = sum(c for _, c in stages.values())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{posts:,} posts: {total:.1f} s through every detector ({posts / total:,.0f} posts/s), "
        f"{cpu:.1f} s of CPU ({posts / cpu:,.0f} posts/s), peak RSS {peak:,.0f} MB, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    for name, (wall, cpu) in stages.items():
        print(f"  {name:<48}{wall:7.1f} s  {posts / wall:>10,.0f} posts/s  {cpu:7.1f} s CPU")
    print(
        f"  flagged {flagged:,} posts, {impostors} impostors, {len(campaigns)} campaigns, "
        f"{len(spikes)} spikes"
    )


def ingest(posts: int) -> None:
    """Reading a platform export of `posts` synthetic posts (parsing, Vietnamese normalisation,
    links) and detecting their language (lingua), without the lake: CPU and wall seconds."""
    from vigil.infowatch.ingest.pipeline import rows_table
    from vigil.infowatch.ingest.sources import read_file

    path = Path(tempfile.mkdtemp(prefix="vigil-bench-iw-")) / "posts.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for r in _synthetic(posts, 7):
            fields = {k: r[k] for k in ("platform", "post_id", "account_id", "handle", "text")}
            fields |= {"display_name": r["display_name"], "created_at": r["created_at"]}
            out.write(json.dumps(fields | {"links": []}, default=str, ensure_ascii=False) + "\n")
    wall, cpu = time.perf_counter(), time.process_time()
    _, rows, bad = read_file(path)
    read = (time.perf_counter() - wall, time.process_time() - cpu)
    wall, cpu = time.perf_counter(), time.process_time()
    table = rows_table([row for _, row in rows])
    lang = (time.perf_counter() - wall, time.process_time() - cpu)
    print(
        f"{posts:,} posts ({len(bad)} quarantined), load average {os.getloadavg()[0]:.1f}: "
        f"read and normalised in {read[0]:.1f} s ({read[1]:.1f} s CPU), language of "
        f"{table.num_rows:,} detected in {lang[0]:.1f} s ({lang[1]:.1f} s CPU)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=["quality", "claims", "throughput", "ingest"])
    parser.add_argument("--posts", type=int, default=100_000)
    args = parser.parse_args()
    if args.what == "quality":
        quality()
    elif args.what == "claims":
        claims()
    elif args.what == "ingest":
        ingest(args.posts)
    else:
        throughput(args.posts)


if __name__ == "__main__":
    main()
