"""One deployment opened: its settings, province, operational store, lake and quarantine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from types import TracebackType

from vigil.core.access import Actor, system_actor
from vigil.core.calendar import ElectionCalendar, PhasePolicy
from vigil.core.clock import to_utc, utcnow
from vigil.core.config import ProvinceConfig, Settings, load_province
from vigil.core.errors import ConfigError, Location
from vigil.core.units import UnitTree
from vigil.lake.datasets import Lake
from vigil.lake.quarantine import Quarantine
from vigil.store.db import Store
from vigil.store.schema import migrate


def _scenario_clock(settings: Settings) -> datetime | None:
    """A demo data directory stands still at its scenario's time (written by `vigil demo`).

    So every command and the dashboard of a demo agree on "now" without an environment variable;
    a real deployment has no such file and runs on the real time.
    """
    path = settings.data / "demo" / "clock.txt"
    if not path.exists():
        return None
    try:
        return to_utc(datetime.fromisoformat(path.read_text(encoding="utf-8").strip()))
    except ValueError as e:
        raise ConfigError("demo clock is not an ISO 8601 time", location=Location(str(path))) from e


@dataclass
class Deployment:
    """An opened deployment; `with Deployment.open(settings) as dep:` closes its lake engine and
    database connections on the way out, whatever happens inside."""

    settings: Settings
    province: ProvinceConfig
    store: Store
    #: Fixed clock for tests and the deterministic demo; None means the real time.
    clock: datetime | None = None
    _lake: Lake | None = field(default=None, repr=False)

    @classmethod
    def open(
        cls, settings: Settings, *, upgrade: bool = True, clock: datetime | None = None
    ) -> Deployment:
        province = load_province(settings.config_path)
        store = Store(settings.db_url)
        if upgrade:
            migrate(store)
        if clock is None and settings.clock is not None:
            clock = to_utc(settings.clock)
        if clock is None:
            clock = _scenario_clock(settings)
        return cls(settings=settings, province=province, store=store, clock=clock)

    def now(self) -> datetime:
        return self.clock or utcnow()

    @cached_property
    def units(self) -> UnitTree:
        return self.province.unit_tree()

    @cached_property
    def calendar(self) -> ElectionCalendar:
        return self.province.election_calendar()

    def policy(self, when: datetime | None = None) -> PhasePolicy:
        return self.calendar.policy_at(when or self.now())

    @property
    def lake(self) -> Lake:
        if self._lake is None:
            self._lake = Lake(self.settings.data / "lake", self.settings.engine)
        return self._lake

    @cached_property
    def quarantine(self) -> Quarantine:
        return Quarantine(self.settings.data / "quarantine")

    def system(self, name: str = "system") -> Actor:
        return system_actor(frozenset(u.code for u in self.units), name)

    def close(self) -> None:
        if self._lake is not None:
            self._lake.close()
            self._lake = None
        self.store.dispose()

    def __enter__(self) -> Deployment:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
