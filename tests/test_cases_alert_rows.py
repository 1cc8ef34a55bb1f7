"""Readable alert rows (issue 9, item 8): no absolute paths in the queue, the rule's title rather
than its id, and the ATT&CK tactic and the capability named in the reader's language."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.conftest import BEFORE
from tests.test_web_pages import form_login
from tests.web_fixtures import WebWorld, build_world
from vigil.cases.alert_row import alert_row, tactics_of, without_dirs
from vigil.core.finding import Finding
from vigil.core.severity import Severity
from vigil.deployment import Deployment
from vigil.store.findings import record_findings

YARA_PATH = "/srv/vigil/demo/files/D01/web/anh-dai-dien.php"
SIGMA_ID = "2fcda7e2-8c57-4904-86ac-37fc3157e09d"
YARA = Finding(
    "monitor",
    "yara:vigil_demo:Demo_Webshell_PHP_Eval_Request",
    Severity.HIGH,
    "C01",
    f"c01-pc01:{YARA_PATH}",
    f"YARA rule Demo_Webshell_PHP_Eval_Request matched c01-pc01:{YARA_PATH}",
    f"Luật YARA Demo_Webshell_PHP_Eval_Request khớp với tệp c01-pc01:{YARA_PATH}",
    evidence={
        "path": YARA_PATH,
        "host": "c01-pc01",
        "meta": {"description": "PHP that runs code taken straight from an HTTP request"},
    },
    observed_at=BEFORE - timedelta(minutes=30),
)
SIGMA = Finding(
    "monitor",
    SIGMA_ID,
    Severity.HIGH,
    "C01",
    "c01-pc02",
    "Sensitive File Dump Via Print.EXE",
    "Phát hiện Sigma: Sensitive File Dump Via Print.EXE",
    evidence={
        "attack": {"tactics": ["credential-access", "stealth"], "techniques": ["T1003.003"]},
        "tags": ["attack.credential-access", "attack.stealth", "attack.t1003.003"],
        "events": [{"Image": "C:\\Windows\\System32\\print.exe"}],
    },
    observed_at=BEFORE - timedelta(minutes=20),
)
LABELS = {"monitor": "Security monitoring"}


def test_paths_are_cut_to_the_file_name_and_urls_left_alone() -> None:
    assert without_dirs(f"matched c01-pc01:{YARA_PATH}") == "matched c01-pc01:anh-dai-dien.php"
    assert without_dirs(r"C:\Users\lan\AppData\Local\Temp\x.exe ran") == "x.exe ran"
    kept = "GET /tra-cuu?id=1 from https://example.com/a/b and example.com/x/y"
    assert without_dirs(kept) == kept


def test_a_row_in_each_language() -> None:
    yara_vi = alert_row(YARA, "vi", LABELS)
    assert (yara_vi.title, yara_vi.subject, yara_vi.capability, yara_vi.tactics) == (
        "Luật YARA Demo_Webshell_PHP_Eval_Request khớp với tệp c01-pc01:anh-dai-dien.php",
        "c01-pc01:anh-dai-dien.php",
        "Giám sát an ninh mạng",
        [],
    )
    assert yara_vi.rule_title == "PHP that runs code taken straight from an HTTP request"
    sigma_vi, sigma_en = alert_row(SIGMA, "vi", LABELS), alert_row(SIGMA, "en", LABELS)
    assert sigma_vi.title == "Phát hiện Sigma: Sensitive File Dump Via Print.EXE"  # English title
    assert sigma_vi.tactics == ["Đánh cắp thông tin xác thực", "Ẩn mình"]
    assert (sigma_en.title, sigma_en.capability, sigma_en.tactics) == (
        "Sensitive File Dump Via Print.EXE",
        "Security monitoring",
        ["Credential access", "Stealth"],
    )
    assert tactics_of({"tags": ["attack.execution", "attack.t1059", "cve.2021-1"]}) == ["execution"]


@pytest.fixture
def client(deployment: Deployment) -> Iterator[TestClient]:
    world: WebWorld = build_world(deployment)
    with deployment.store.session() as session:
        record_findings(session, [YARA, SIGMA])
    with TestClient(world.app, follow_redirects=False) as c:
        yield c


def test_the_queue_shows_readable_rows(client: TestClient) -> None:
    form_login(client, "duty")
    html = client.get("/alerts").text
    assert YARA_PATH not in html and "/srv/vigil" not in html
    assert SIGMA_ID not in html  # the id is on the alert's page, not in the row
    assert "Luật YARA Demo_Webshell_PHP_Eval_Request khớp với tệp c01-pc01:anh-dai-dien.php" in html
    assert html.count('data-test="tactic">Đánh cắp thông tin xác thực<') == 1
    # Three monitor alerts of the fixtures, the YARA hit and the Sigma alert.
    assert html.count('data-test="capability">Giám sát an ninh mạng<') == 5
    # Each row says which playbook escalating it would bring (from its rule, tactic, capability).
    suggested = re.findall(r'data-test="suggested">Kịch bản xử lý: ([^<]*)', html)
    assert suggested == [
        "Mã độc tống tiền trên máy chủ danh sách cử tri",  # shadow copies deleted (critical)
        "Chiếm quyền quản trị trang hoặc tài khoản chính thức",  # Sigma, credential access
        "Thay đổi giao diện hoặc tấn công từ chối dịch vụ cổng thông tin bầu cử",  # web shell
        "Mã độc, phần mềm gián điệp trên máy tính của cơ quan",  # malware dropper
        "Chiến dịch lừa đảo qua thư nhắm vào cán bộ phụ trách bầu cử",  # lookalike domain
        "Chiếm quyền quản trị trang hoặc tài khoản chính thức",  # failed logons
    ]
    # The path and the rule id are in the detail.
    yara_id = re.search(r'data-finding="(\d+)"[^>]*>(?:(?!</tr>).)*anh-dai-dien', html, re.S)
    sigma_id = re.search(r'data-finding="(\d+)"[^>]*>(?:(?!</tr>).)*Print\.EXE', html, re.S)
    assert yara_id and sigma_id
    assert YARA_PATH in client.get(f"/findings/{yara_id.group(1)}").text
    assert SIGMA_ID in client.get(f"/findings/{sigma_id.group(1)}").text


def test_report_lines_carry_no_paths(deployment: Deployment) -> None:
    from vigil.cases.reports.lines import alert_line
    from vigil.store.models import FindingRow

    with deployment.store.session() as session:
        record_findings(session, [YARA])
    with deployment.store.reader() as session:
        row = session.query(FindingRow).one()
        vi, en = (alert_line(row, deployment.units, lang) for lang in ("vi", "en"))
    assert vi.title == (
        "Luật YARA Demo_Webshell_PHP_Eval_Request khớp với tệp c01-pc01:anh-dai-dien.php"
    )
    assert en.title == "YARA rule Demo_Webshell_PHP_Eval_Request matched c01-pc01:anh-dai-dien.php"
