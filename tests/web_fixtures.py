"""Officers and findings the web tests share: one deployment of the test province with alerts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import BEFORE
from vigil.core.finding import Finding
from vigil.core.severity import Severity
from vigil.deployment import Deployment
from vigil.store.findings import record_findings
from vigil.store.users import create_user
from vigil.web.app import create_app

PASSWORD = "correct-horse-battery"

#: username, role, unit, full name (with diacritics: they must survive every layer).
OFFICERS = [
    ("admin", "admin", "P01", "Quản trị viên"),
    ("duty", "duty_officer", "P01", "Trần Văn Trực"),
    ("viewer", "viewer", "P01", "Lê Thị Xem"),
    ("c01", "duty_officer", "C01", "Nguyễn Văn Một"),
    ("c02", "duty_officer", "C02", "Phạm Thị Hai"),
]

#: key -> Finding; severities chosen around the 'before' phase threshold (medium).
FINDINGS = {
    "c01_high": Finding(
        "monitor",
        "win-malware-dropper",
        Severity.HIGH,
        "C01",
        "PC-HOAAN-01",
        "Malware dropper on a commune PC",
        "Mã độc trên máy tính của xã",
        evidence={"host": "PC-HOAAN-01", "note": "<script>alert('x')</script>"},
        observed_at=BEFORE - timedelta(hours=2),
    ),
    "c01_medium": Finding(
        "monitor",
        "win-bruteforce",
        Severity.MEDIUM,
        "C01",
        "admin@PC-HOAAN-02",
        "Repeated failed logons",
        "Đăng nhập sai nhiều lần",
        observed_at=BEFORE - timedelta(hours=5),
    ),
    "c01pol_critical": Finding(
        "monitor",
        "ransomware-shadow-copy-delete",
        Severity.CRITICAL,
        "C01-POL",
        "PC-CAX-01",
        "Shadow copies deleted",
        "Bản sao bóng bị xoá",
        observed_at=BEFORE - timedelta(hours=1),
    ),
    "c02_high": Finding(
        "infowatch",
        "phishing-lookalike-domain",
        Severity.HIGH,
        "C02",
        "bau-cu-phuloc.vn",
        "Lookalike domain of the commune portal",
        "Tên miền giả mạo cổng thông tin xã",
        observed_at=BEFORE - timedelta(days=1),
    ),
    "d01_low": Finding(
        "inspect",
        "backup-age",
        Severity.LOW,
        "D01",
        "srv-backup",
        "Backup older than policy",
        "Bản sao lưu quá hạn",
        observed_at=BEFORE - timedelta(days=2),
    ),
}


@dataclass
class WebWorld:
    deployment: Deployment
    app: FastAPI
    ids: dict[str, int]

    def client(self) -> TestClient:
        return TestClient(self.app)


def build_world(deployment: Deployment) -> WebWorld:
    with deployment.store.session() as session:
        for username, role, unit, full_name in OFFICERS:
            create_user(
                session, deployment.units, username, PASSWORD, role, unit, full_name, lang="vi"
            )
        result = record_findings(session, FINDINGS.values())
    ids = {key: result.ids[f.fingerprint] for key, f in FINDINGS.items()}
    app = create_app(deployment.settings, deployment)
    return WebWorld(deployment, app, ids)


def api_login(client: TestClient, username: str) -> str:
    """Log in over the API; returns the CSRF token for writes."""
    response = client.post("/api/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    token = response.json()["csrf_token"]
    assert isinstance(token, str)
    return token
