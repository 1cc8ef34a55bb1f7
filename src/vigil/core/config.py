"""Settings (environment) and the province's vigil.toml (units, calendar, watchlist, facts)."""

from __future__ import annotations

import secrets
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from vigil.core.calendar import ElectionCalendar, Phase, PhasePolicy
from vigil.core.clock import to_utc
from vigil.core.errors import ConfigError, Location
from vigil.core.severity import Severity
from vigil.core.units import Unit, UnitKind, UnitTree

PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "vigil"}


class Settings(BaseSettings):
    """Deployment settings; every one can be set as VIGIL_<NAME> in the environment."""

    model_config = SettingsConfigDict(env_prefix="VIGIL_", extra="ignore")

    data: Path = Field(Path("vigil-data"), description="Data directory of the deployment.")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the operational store (default: SQLite in the data dir).",
    )
    secret_key: str | None = Field(
        None,
        description="Key that signs session cookies; read from <data>/secret.key when unset.",
    )
    demo: bool = Field(
        False, description="Demo mode: allows demo passwords and plain-HTTP cookies."
    )
    cookie_secure: bool = Field(True, description="Send the session cookie over HTTPS only.")
    session_hours: float = Field(
        12.0,
        description="Hours a login lasts at most, however active (also the cookie's max age).",
    )
    session_idle_minutes: float = Field(
        60.0, description="Minutes without a request after which a login ends."
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description=(
            "Addresses or networks (CIDR) of reverse proxies whose X-Forwarded-For names the "
            "client; none by default, so the header is ignored."
        ),
    )
    lang: str = Field("vi", description="Default interface language (vi or en).")
    engine: str = Field("duckdb", description="Lake engine: duckdb (default) or spark.")
    clock: datetime | None = Field(
        None,
        description="Fixed current time, for demos and tests (ISO 8601; no offset means UTC).",
    )

    @property
    def data_dir(self) -> Path:
        return self.data

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data / 'vigil.db').resolve()}"

    @property
    def config_path(self) -> Path:
        return self.data / "vigil.toml"

    def session_secret(self) -> str:
        """The cookie-signing key; refuses a placeholder outside demo mode."""
        key = self.secret_key
        if key is None:
            path = self.data / "secret.key"
            if not path.exists():
                raise ConfigError(
                    "no secret key: set VIGIL_SECRET_KEY or run 'vigil init'",
                    location=Location(str(path)),
                )
            key = path.read_text(encoding="utf-8").strip()
        if key.lower() in PLACEHOLDER_SECRETS and not self.demo:
            raise ConfigError("the secret key is a placeholder; set a random VIGIL_SECRET_KEY")
        return key


def write_secret(data_dir: Path) -> Path:
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48) + "\n", encoding="utf-8")
        path.chmod(0o600)
    return path


# --- vigil.toml -------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProvinceSection(_Model):
    code: str
    name_vi: str
    name_en: str


class UnitSection(_Model):
    code: str
    kind: UnitKind
    name_vi: str
    name_en: str
    parent: str | None = None


class PhaseSection(_Model):
    starts: datetime
    ends: datetime
    alert_threshold: str = "medium"
    response_hours: dict[str, float] = Field(default_factory=lambda: {"critical": 1.0, "high": 4.0})
    silence_minutes: int = 60


class CalendarSection(_Model):
    name: str
    voting_day: datetime
    phases: dict[Phase, PhaseSection]


class WatchlistSection(_Model):
    official_domains: list[str] = Field(default_factory=list)
    official_accounts: list[dict[str, str]] = Field(default_factory=list)


class FactSection(_Model):
    key: str
    text_vi: str
    text_en: str


class ProvinceConfig(_Model):
    province: ProvinceSection
    units: list[UnitSection]
    calendar: CalendarSection
    watchlist: WatchlistSection = Field(default_factory=WatchlistSection)
    facts: list[FactSection] = Field(default_factory=list)
    #: Capability-specific thresholds, e.g. [thresholds.registry] duplicate_match = 0.9
    thresholds: dict[str, dict[str, Any]] = Field(default_factory=dict)

    def unit_tree(self) -> UnitTree:
        root = Unit(
            self.province.code, UnitKind.PROVINCE, self.province.name_vi, self.province.name_en
        )
        return UnitTree(
            [
                root,
                *(
                    Unit(u.code, u.kind, u.name_vi, u.name_en, u.parent or root.code)
                    for u in self.units
                ),
            ]
        )

    def election_calendar(self) -> ElectionCalendar:
        policies = [
            PhasePolicy(
                phase=phase,
                starts=to_utc(section.starts),
                ends=to_utc(section.ends),
                alert_threshold=Severity.parse(section.alert_threshold),
                response_hours={Severity.parse(k): v for k, v in section.response_hours.items()},
                silence_minutes=section.silence_minutes,
            )
            for phase, section in self.calendar.phases.items()
        ]
        return ElectionCalendar(self.calendar.name, to_utc(self.calendar.voting_day), policies)


def load_province(path: Path) -> ProvinceConfig:
    if not path.exists():
        raise ConfigError(
            "no vigil.toml: run 'vigil init' or 'vigil demo'", location=Location(str(path))
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise ConfigError("vigil.toml is not UTF-8", location=Location(str(path))) from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(
            f"not valid TOML: {e}", location=Location(str(path), getattr(e, "lineno", None))
        ) from e
    try:
        config = ProvinceConfig.model_validate(raw)
    except PydanticValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{where}: {first['msg']}", location=Location(str(path))) from e
    config.unit_tree()
    config.election_calendar()
    return config
