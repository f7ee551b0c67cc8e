"""The sweep specification: a TOML file validated by pydantic, and the points it expands to.

A sweep varies a base protocol's settings and the simulated patient, and runs one simulated
session per combination (a *point*). Example (``rehabbot/data/sweeps/aan_gains.toml``)::

    name = "aan_gains"
    base_protocol = "assist_as_needed"   # bundled protocol name or .toml file
    duration_s = 10                      # simulated seconds per point
    settle_s = 4                         # figures leave out the first seconds (default 4)
    search = "grid"                      # or "random" (then also samples = N, random_seed = S)
    profiles = ["healthy", "stroke_left"]
    seeds = [0]                          # simulation seeds; every setting runs with each

    [vary]                               # protocol settings: a list of values (grid or random
    guidance_pct = [40, 70, 100]         # choice) or a range {low, high[, log]} (random only)
    treadmill_speed_kmh = [2.0, 3.0]

    [vary.controller_params]             # the controller's own parameters (get_params names)
    error_gain_pct_per_rad = [40, 80]

Grid search runs the full cross product. Random search draws ``samples`` settings from a
generator seeded by ``random_seed`` (so the same spec gives the same points on every machine) and
runs each with every profile and seed, so profiles are compared on the same settings. Every
point's protocol is validated and its controller built before anything runs, so a bad value is
reported at once with the point it belongs to.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from rehabbot.configfile import describe_validation_error, load_toml_model, resolve_named_file
from rehabbot.controllers.factory import build_controller
from rehabbot.controllers.phase_sources import PHASE_SOURCES
from rehabbot.controllers.registry import CONTROLLERS
from rehabbot.errors import ConfigurationError
from rehabbot.hal.config import DEFAULT_ROBOT, RobotConfig, load_robot_config
from rehabbot.plugins import Registry
from rehabbot.protocols.schema import DEFAULT_PROTOCOL, Protocol, load_protocol
from rehabbot.session.runner import DEMO_PATIENT
from rehabbot.sim.patient_profiles import PROFILES
from rehabbot.sweeps.measure import SETTLE_S

#: Largest number of points one spec may expand to.
MAX_POINTS = 100_000


class Range(BaseModel):
    """A continuous range for random search: uniform in [low, high], or log-uniform if ``log``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    low: float
    high: float
    log: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if not self.low < self.high:
            raise ValueError(f"low {self.low:g} must be below high {self.high:g}")
        if self.log and self.low <= 0.0:
            raise ValueError(f"a log range needs low > 0 (got {self.low:g})")
        return self

    def draw(self, rng: np.random.Generator) -> float:
        """One value from the range, rounded to 6 significant digits (readable in tables)."""
        if self.log:
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        else:
            value = rng.uniform(self.low, self.high)
        return float(f"{value:.6g}")


def _values(given: Any) -> Any:
    """One message for the usual mistakes, before pydantic tries the list and the range."""
    if isinstance(given, list) and not given:
        raise ValueError("give at least one value")
    if not isinstance(given, list | dict | Range):
        raise ValueError("give a list of values, or a range {low = ..., high = ...}")
    return given


NumberValues = Annotated[list[float] | Range, BeforeValidator(_values)]


def _registered(registry: Registry[Any]) -> AfterValidator:
    """A validator that accepts a name of ``registry`` (its message lists the known ones)."""
    def check(name: str) -> str:
        try:
            return registry.check(name)
        except ConfigurationError as exc:
            raise ValueError(str(exc)) from None
    return AfterValidator(check)


#: A controller's name, from the registry (built-ins and entry points).
Controllers = Annotated[str, _registered(CONTROLLERS)]
#: A phase source's name, from the registry (built-ins and entry points).
PhaseSources = Annotated[str, _registered(PHASE_SOURCES)]


class Vary(BaseModel):
    """The protocol settings a sweep varies (units as in the protocol schema)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    controller: Annotated[list[Controllers], Field(min_length=1)] | None = None
    phase_source: Annotated[list[PhaseSources], Field(min_length=1)] | None = None
    guidance_pct: NumberValues | None = None
    treadmill_speed_kmh: NumberValues | None = None
    cadence_steps_per_min: NumberValues | None = None
    body_weight_support_pct: NumberValues | None = None
    controller_params: dict[str, NumberValues] = Field(default_factory=dict)

    def dimensions(self) -> dict[str, list[Any] | Range]:
        """``{setting: values or range}``, controller parameters as ``params.NAME``, in a fixed
        order (fields, then parameters by name)."""
        dims: dict[str, list[Any] | Range] = {
            name: value for name, value in self if name != "controller_params" and value is not None
        }
        for name in sorted(self.controller_params):
            dims[f"params.{name}"] = self.controller_params[name]
        return dims


class SweepSpec(BaseModel):
    """A sweep: what to vary, on which patients, for how long (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = ""
    robot: str = DEFAULT_ROBOT
    base_protocol: str = DEFAULT_PROTOCOL
    duration_s: float = Field(gt=0.0, le=600.0)
    settle_s: float = Field(SETTLE_S, ge=0.0)
    search: Literal["grid", "random"] = "grid"
    samples: int | None = Field(None, ge=1, le=MAX_POINTS)
    random_seed: int = Field(0, ge=0)
    profiles: Annotated[list[str], Field(min_length=1)] = ["healthy"]
    seeds: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1)] = [0]
    vary: Vary = Vary()

    @field_validator("profiles")
    @classmethod
    def _known_profiles(cls, profiles: list[str]) -> list[str]:
        unknown = [p for p in profiles if p not in PROFILES]
        if unknown:
            raise ValueError(f"unknown patient profile(s) {', '.join(map(repr, unknown))}; "
                             f"choose from {', '.join(sorted(PROFILES))}")
        return profiles

    @model_validator(mode="after")
    def _consistent(self) -> SweepSpec:
        ranges = [name for name, v in self.vary.dimensions().items() if isinstance(v, Range)]
        if self.search == "grid":
            if ranges:
                raise ValueError(f"grid search needs lists of values, but {', '.join(ranges)} "
                                 "is a range; give a list, or set search = \"random\"")
            if self.samples is not None:
                raise ValueError("samples is for random search; remove it or set "
                                 "search = \"random\"")
        elif self.samples is None:
            raise ValueError("random search needs samples = N (settings to draw)")
        if self.settle_s >= self.duration_s:
            raise ValueError(f"settle_s = {self.settle_s:g} s leaves nothing of duration_s = "
                             f"{self.duration_s:g} s to measure; make it shorter than duration_s")
        return self


@dataclass(frozen=True)
class SweepPoint:
    """One simulated session of a sweep.

    Attributes:
        index: position in the sweep (rows are written in this order).
        key: hash of everything that decides the result (robot, protocol, profile, seed,
            durations), the name of the point's store and how a rerun recognizes a finished point.
        settings: the values of the spec's varied settings (``params.NAME`` for controller
            parameters), for the results table.
        profile: the simulated patient's profile.
        seed: the simulation's seed.
        duration_s: simulated time (s).
        settle_s: time left out of the figures at the start (s).
        robot: the robot configuration.
        protocol: the point's protocol (the base protocol with the settings applied).
    """

    index: int
    key: str
    settings: dict[str, float | str]
    profile: str
    seed: int
    duration_s: float
    settle_s: float
    robot: RobotConfig
    protocol: Protocol


def load_sweep_spec(path: Path) -> SweepSpec:
    """Read and validate a sweep spec file.

    Raises:
        ConfigurationError: missing or invalid file (one message: file, field, what is allowed).
    """
    return load_toml_model(Path(path), SweepSpec)


def _settings(spec: SweepSpec) -> list[dict[str, float | str]]:
    """The combinations of the varied settings, in a fixed order."""
    dims = spec.vary.dimensions()
    if spec.search == "grid":
        lists = {name: v for name, v in dims.items() if isinstance(v, list)}
        return [dict(zip(lists, combo, strict=True))
                for combo in itertools.product(*lists.values())]
    rng = np.random.default_rng(spec.random_seed)
    drawn = []
    for _ in range(spec.samples or 0):
        setting: dict[str, float | str] = {}
        for name, values in dims.items():
            setting[name] = (values.draw(rng) if isinstance(values, Range)
                             else values[int(rng.integers(len(values)))])
        drawn.append(setting)
    return drawn


def _protocol(base: dict[str, Any], setting: dict[str, float | str]) -> Protocol:
    """The protocol file's data ``base`` with ``setting`` applied: at the top level, and removed
    from the phases that set it themselves so that every phase runs with the swept value; a
    changed controller drops the file's controller parameters."""
    params = {k.removeprefix("params."): v for k, v in setting.items() if k.startswith("params.")}
    fields = {k: v for k, v in setting.items() if not k.startswith("params.")}
    new_controller = fields.get("controller", base.get("controller")) != base.get("controller")
    data = copy.deepcopy(base)
    data.update(fields)
    phases: list[dict[str, Any]] = data.get("phases", [])
    for table in (data, *phases):
        if table is not data:
            for name in fields:
                table.pop(name, None)
        if new_controller:
            table.pop("controller_params", None)
        if params and (table is data or "controller_params" in table):
            table["controller_params"] = table.get("controller_params", {}) | params
    return Protocol.model_validate(data)


def point_key(robot: RobotConfig, protocol: Protocol, **rest: float | str) -> str:
    """Hash (16 hex digits) of everything that decides a point's result: the robot, the
    protocol and ``rest`` (profile, seed, durations)."""
    blob = json.dumps({"robot": robot.model_dump(mode="json"),
                       "protocol": protocol.model_dump(mode="json"), **rest}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _beside(name: str, folder: Path | None) -> str | Path:
    """A relative ``.toml`` path in a spec is relative to the spec's folder; names stay names."""
    path = Path(name)
    if folder is not None and path.suffix == ".toml" and not path.is_absolute():
        return folder / path
    return name


def expand(spec: SweepSpec, source: Path | None = None) -> list[SweepPoint]:
    """The points of ``spec`` (read from the file ``source``, if any): settings × profiles ×
    seeds, each validated.

    Raises:
        ConfigurationError: the robot or base protocol cannot be loaded, the spec expands to too
            many points, or a point's protocol or controller parameters are invalid (the message
            names ``source``, the point and the problem).
    """
    folder = None if source is None else source.parent
    robot = load_robot_config(_beside(spec.robot, folder))
    base_path = resolve_named_file("protocols", str(_beside(spec.base_protocol, folder)))
    load_protocol(base_path)  # a bad base protocol is reported as such
    base = tomllib.loads(base_path.read_text(encoding="utf-8"))
    name = "sweep spec" if source is None else str(source)
    settings = _settings(spec)
    total = len(settings) * len(spec.profiles) * len(spec.seeds)
    if total > MAX_POINTS:
        raise ConfigurationError(f"{name}: {total} points is more than {MAX_POINTS}; vary "
                                 "fewer settings or give fewer values")
    points: list[SweepPoint] = []
    for setting in settings:
        described = ", ".join(f"{k} = {v}" for k, v in setting.items()) or "base protocol"
        try:
            protocol = _protocol(base, setting)
            build_controller(protocol, robot.joint_names, guidance_pct=protocol.guidance_pct,
                             period_s=robot.period_s, height_m=DEMO_PATIENT.height_m,
                             mass_kg=DEMO_PATIENT.mass_kg)
        except ConfigurationError as exc:
            raise ConfigurationError(f"{name}: point ({described}): {exc}") from None
        except ValidationError as exc:
            raise ConfigurationError(describe_validation_error(
                f"{name}: point ({described}) makes an invalid protocol", exc)) from None
        for profile, seed in itertools.product(spec.profiles, spec.seeds):
            points.append(SweepPoint(
                index=len(points),
                key=point_key(robot, protocol, profile=profile, seed=seed,
                              duration_s=spec.duration_s, settle_s=spec.settle_s),
                settings=setting, profile=profile, seed=seed, duration_s=spec.duration_s,
                settle_s=spec.settle_s,
                robot=robot, protocol=protocol,
            ))
    return points
