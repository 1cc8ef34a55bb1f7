"""The information watch's pages: triage queue, campaign, impersonation, claims, advisories,
watchlist (login, unit scope, CSRF through the frame); the public site without login; in a real
browser, a post from the queue to an approved, published warning."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
from fastapi.testclient import TestClient

from tests.conftest import serve_in_thread
from tests.web_fixtures import PASSWORD, WebWorld, api_login, build_world
from vigil.deployment import Deployment
from vigil.detection import run_detectors
from vigil.infowatch.ingest.pipeline import ingest_paths
from vigil.store.users import create_user

CHROMIUM = Path("/usr/bin/chromium")

POSTS = [
    ("s1", "a1", "Cung cấp mã OTP để nhận quà tri ân ngay hôm nay", "2027-03-04T08:00:00+07:00"),
    ("o1", "a2", "Chiều nay đi đá bóng không?", "2027-03-04T08:10:00+07:00"),
] + [
    (
        f"c{i}",
        f"bot{i}",
        "Ký tên ủng hộ kiến nghị đổi địa điểm bỏ phiếu xã Tân Lập ngay hôm nay nhé",
        f"2027-03-04T09:00:{10 * i:02d}+07:00",
    )
    for i in range(5)
]


@pytest.fixture
def world(deployment: Deployment, tmp_path: Path) -> WebWorld:
    world = build_world(deployment)
    with deployment.store.session() as session:
        for name in ("analyst1", "analyst2"):
            create_user(
                session, deployment.units, name, PASSWORD, "analyst", "P01", name, lang="en"
            )
    path = tmp_path / "in" / "posts.jsonl"
    path.parent.mkdir()
    lines = [
        json.dumps(
            {
                "platform": "facebook",
                "post_id": p,
                "account_id": a,
                "handle": a,
                "display_name": a,
                "text": t,
                "created_at": at,
                "links": ["https://kiennghi.example.org/x"] if p.startswith("c") else [],
            },
            ensure_ascii=False,
        )
        for p, a, t, at in POSTS
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    ingest_paths(deployment, [path])
    assert run_detectors(deployment, {"infowatch"})[0].error is None
    return world


def _client(world: WebWorld, username: str) -> tuple[TestClient, str]:
    client = TestClient(world.app, follow_redirects=False)
    return client, api_login(client, username)


def test_pages_need_a_login_but_the_public_site_does_not(world: WebWorld) -> None:
    client = TestClient(world.app, follow_redirects=False)
    for path in ("/infowatch/posts", "/infowatch/campaigns", "/infowatch/advisories"):
        assert client.get(path).status_code == 303, path
    assert client.get("/public/../vigil.toml").status_code == 404


def test_queue_campaign_and_two_person_approval(world: WebWorld) -> None:
    author, token = _client(world, "analyst1")
    queue = author.get("/infowatch/posts").text
    assert 'data-subject="facebook:s1"' in queue and "facebook:o1" not in queue
    campaigns = author.get("/infowatch/campaigns").text
    (campaign,) = re.findall(r'href="/infowatch/campaigns/(\d+)"', campaigns)
    page = author.get(f"/infowatch/campaigns/{campaign}").text
    assert page.count("<circle") == 5 and "bot4" in page
    for path in ("/infowatch/impersonation", "/infowatch/claims", "/infowatch/watchlist"):
        assert author.get(path).status_code == 200, path
    (finding,) = re.findall(r'data-finding="(\d+)" data-subject="facebook:s1"', queue)
    form = {
        "kind": "warning",
        "title_vi": "Cảnh báo lừa đảo OTP",
        "title_en": "OTP scam warning",
        "body_vi": "Không cung cấp mã OTP.",
        "body_en": "Never give your OTP.",
        "finding_ids": finding,
    }
    assert author.post("/infowatch/advisories", data=form).status_code == 403  # no CSRF token
    created = author.post("/infowatch/advisories", data={**form, "csrf_token": token})
    assert created.status_code == 303
    advisory = created.headers["location"].rsplit("/", 1)[1]
    refused = author.post(f"/infowatch/advisories/{advisory}/approve", data={"csrf_token": token})
    assert refused.status_code == 403
    viewer, vtoken = _client(world, "viewer")
    assert (
        viewer.post(
            f"/infowatch/advisories/{advisory}/approve", data={"csrf_token": vtoken}
        ).status_code
        == 403
    )
    approver, atoken = _client(world, "analyst2")
    done = approver.post(f"/infowatch/advisories/{advisory}/approve", data={"csrf_token": atoken})
    assert done.status_code == 303
    public = TestClient(world.app)
    assert "Cảnh báo lừa đảo OTP" in public.get("/public/index.html").text
    feed = feedparser.parse(public.get("/public/feed.atom").text)
    assert [e.title for e in feed.entries] == ["Cảnh báo lừa đảo OTP / OTP scam warning"]
    assert public.get(f"/public/notices/{advisory}.pdf").content.startswith(b"%PDF")


@pytest.fixture
def server(world: WebWorld) -> Iterator[str]:
    with serve_in_thread(world.app) as url:
        yield url


@pytest.mark.browser
def test_browser_post_to_published_warning(server: str) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )

        def officer(name: str) -> object:
            pg = browser.new_context(base_url=server).new_page()
            pg.goto("/login")
            pg.fill("input[name=username]", name)
            pg.fill("input[name=password]", PASSWORD)
            pg.click("form[action='/login'] button[type=submit]")
            pg.wait_for_url(re.compile(r".*/$"))
            return pg

        author = officer("analyst1")
        author.goto("/infowatch/posts")  # type: ignore[attr-defined]
        author.click("tr[data-subject='facebook:s1'] [data-test=answer]")  # type: ignore[attr-defined]
        author.fill("input[name=title_vi]", "Cảnh báo lừa đảo OTP")  # type: ignore[attr-defined]
        author.fill("textarea[name=body_vi]", "Không cung cấp mã OTP cho bất kỳ ai.")  # type: ignore[attr-defined]
        author.fill("input[name=title_en]", "OTP scam warning")  # type: ignore[attr-defined]
        author.fill("textarea[name=body_en]", "Never give your OTP code to anyone.")  # type: ignore[attr-defined]
        author.click("[data-test=advisory-form] button[type=submit]")  # type: ignore[attr-defined]
        sync_api.expect(author.locator("[data-test=advisory-status]")).to_have_text("draft")  # type: ignore[attr-defined]
        url = author.url  # type: ignore[attr-defined]
        approver = officer("analyst2")
        approver.goto(url)  # type: ignore[attr-defined]
        approver.click("[data-test=approve]")  # type: ignore[attr-defined]
        sync_api.expect(approver.locator("[data-test=advisory-status]")).to_have_text("published")  # type: ignore[attr-defined]
        public = browser.new_context(base_url=server).new_page()
        public.goto("/public/index.html")
        sync_api.expect(public.locator("h2 a")).to_have_text("Cảnh báo lừa đảo OTP")
        public.click("h2 a")
        sync_api.expect(public.locator("article[lang=en] h2")).to_have_text("OTP scam warning")
        browser.close()
