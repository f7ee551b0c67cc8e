"""The therapy-protocol schema: a TOML file validated by pydantic.

A protocol is a sequence of phases (``[[phases]]``): warm-up, training, assessment, cool-down.
A walking phase (every kind but ``assessment``) says how the robot trains: the controller, how
long (``duration_s``) or how many steps (``steps``), the treadmill speed and cadence, body-weight
support and guidance, the controller's full-guidance stiffness and damping per joint kind, the
patient's range of motion, and for each parameter a therapist may change while it runs the bounds
they may move it within (``adjustable``). An assessment phase names a robot-based assessment
(:mod:`rehabbot.assessment.robot.registry`), done with the treadmill stopped and the patient
lifted.

The top-level training fields are the defaults of every phase; a phase states only what differs.
A file without ``[[phases]]`` is one training phase of ``duration_s`` (the format of the first
protocol files). Progression rules (``[[progression]]``, :mod:`rehabbot.protocols.progression`)
change the adjustable parameters from one session to the next. Units are in the field names;
percentages are 0-100.

The controller and the phase source are names of their registries
(:data:`~rehabbot.controllers.registry.CONTROLLERS`,
:data:`~rehabbot.controllers.phase_sources.PHASE_SOURCES`), so a controller another
distribution registers is a valid ``controller`` here. Every parameter is checked against a
:class:`~rehabbot.controllers.base.ParamSpec` (:meth:`~rehabbot.controllers.base.ParamSpec.check`):
a controller's parameters against its own ``param_specs``, the session's (guidance, treadmill
speed, body-weight support, cadence) against :data:`SESSION_PARAMETERS`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, cast

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails

from rehabbot.body.range_of_motion import JointRanges
from rehabbot.configfile import bundled_file, load_toml_model, resolve_named_file
from rehabbot.controllers.assessment_specs import ASSESSMENT_SPECS as ROBOT_ASSESSMENTS
from rehabbot.controllers.base import GUIDANCE, Controller, ParamSpec
from rehabbot.controllers.impedance import FLOOR_PARAMS
from rehabbot.controllers.phase_sources import PHASE_SOURCES
from rehabbot.controllers.registry import CONTROLLERS
from rehabbot.errors import ConfigurationError
from rehabbot.protocols.progression import ProgressionRule

DEFAULT_PROTOCOL = "standard_gait"

#: The parameters of a phase a therapist may change while it runs, besides the controller's
#: own (its ``param_specs``): unit and absolute range (inclusive).
SESSION_PARAMETERS: dict[str, ParamSpec] = {
    "guidance_pct": GUIDANCE,
    "treadmill_speed_kmh": ParamSpec("km/h", 0.0, 5.0, "treadmill speed"),
    "body_weight_support_pct": ParamSpec("%", 0.0, 100.0, "body-weight support"),
    "cadence_steps_per_min": ParamSpec("steps/min", 20.0, 160.0, "cadence"),
}
#: The longest phase (s).
MAX_PHASE_S = 7200.0
#: The most steps a phase may ask for.
MAX_STEPS = 20_000
#: A step-target phase without ``max_duration_s`` ends at latest after this many times the time
#: its steps take at its cadence.
STEP_TIME_LIMIT_FACTOR = 2.0

PhaseKind = Literal["warm_up", "training", "assessment", "cool_down"]
WALKING_KINDS: tuple[PhaseKind, ...] = ("warm_up", "training", "cool_down")
#: A controller's name (a name of :data:`~rehabbot.controllers.registry.CONTROLLERS`).
ControllerName = str


def controller_class(name: str) -> type[Controller]:
    """The controller class registered as ``name``, for a validator.

    Raises:
        ValueError: unknown name (the message lists the known ones), or a plug-in that cannot be
            loaded.
    """
    try:
        return CONTROLLERS.load(name)
    except ConfigurationError as exc:
        raise ValueError(str(exc)) from None


def has_guidance(name: object) -> bool:
    """Whether the controller ``name`` has a guidance level (False for an unknown name: its
    validator says what is wrong with it)."""
    try:
        return isinstance(name, str) and CONTROLLERS.load(name).guidance_param is not None
    except ConfigurationError:
        return False


def check(spec: ParamSpec, name: str, value: float) -> float:
    """``value`` if ``spec`` allows it (:meth:`ParamSpec.check`), for a validator.

    Raises:
        ValueError: it does not (the message names ``name``, the unit and the range).
    """
    try:
        return spec.check(name, value)
    except ConfigurationError as exc:
        raise ValueError(str(exc)) from None


class JointGains(BaseModel):
    """A value per joint kind (hip_flexion, knee_angle, ankle_angle)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hip_flexion: float = Field(ge=0.0, le=5000.0)
    knee_angle: float = Field(ge=0.0, le=5000.0)
    ankle_angle: float = Field(0.0, ge=0.0, le=5000.0)

    def for_joint(self, joint_name: str) -> float:
        """The value of the joint kind of ``joint_name`` (e.g. ``knee_angle_r`` → knee_angle)."""
        kind = joint_name.rsplit("_", 1)[0]
        value: float = getattr(self, kind, 0.0)
        return value


class TrainingSettings(BaseModel):
    """How the robot trains: what a protocol sets for all its phases and a phase may override.

    ``adjustable`` maps a parameter name (a key of :data:`SESSION_PARAMETERS` or a parameter of
    the controller) to the ``[lowest, highest]`` a therapist may set it to while the phase runs;
    the bounds lie inside the parameter's absolute range and contain the phase's value.

    ``guidance_floor_pct`` (controllers with a guidance level) is the lowest guidance (%) per joint
    kind (``hip_flexion``, ``knee_angle``) or joint (``hip_flexion_l``, ...; a joint's own entry
    wins): e.g. ``{ hip_flexion_l = 40 }`` for a paretic left hip. Each joint's floor is the
    controller parameter ``floor_<joint>_pct``, which ``adjustable`` may bound for live changes.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    controller: ControllerName = "impedance"
    phase_source: str = "cadence"
    controller_params: dict[str, float] = Field(default_factory=dict)
    cadence_steps_per_min: float
    treadmill_speed_kmh: float
    body_weight_support_pct: float
    guidance_pct: float
    stiffness_nm_per_rad: JointGains
    damping_nms_per_rad: JointGains
    range_of_motion_deg: JointRanges = JointRanges()
    soft_zone_deg: float = Field(3.0, gt=0.0, le=20.0)
    guidance_floor_pct: dict[str, float] = Field(default_factory=dict)
    adjustable: dict[str, tuple[float, float]] = Field(default_factory=dict)

    @field_validator("controller")
    @classmethod
    def _registered_controller(cls, name: str) -> str:
        controller_class(name)
        return name

    @field_validator("phase_source")
    @classmethod
    def _registered_phase_source(cls, name: str) -> str:
        try:
            return PHASE_SOURCES.check(name)
        except ConfigurationError as exc:
            raise ValueError(str(exc)) from None

    @field_validator(*SESSION_PARAMETERS)
    @classmethod
    def _session_parameter_in_range(cls, value: float, info: ValidationInfo) -> float:
        name = str(info.field_name)
        return check(SESSION_PARAMETERS[name], name, value)

    @property
    def param_specs(self) -> dict[str, ParamSpec]:
        """The specs of every parameter of this phase: the session's and the controller's."""
        return SESSION_PARAMETERS | controller_class(self.controller).param_specs

    def guidance_floors(self) -> dict[str, float]:
        """``{floor parameter: %}`` for every joint that can have a floor (0 where none is set)."""
        floors = self.guidance_floor_pct
        return {param: floors.get(joint, floors.get(joint.rsplit("_", 1)[0], 0.0))
                for joint, param in FLOOR_PARAMS.items()}

    @property
    def treadmill_speed_mps(self) -> float:
        """Treadmill speed (m/s)."""
        return self.treadmill_speed_kmh / 3.6

    def value_of(self, name: str) -> float | None:
        """The setting of adjustable parameter ``name``: a session parameter, else the
        controller parameter given in ``controller_params`` (None: left at its default)."""
        if name in SESSION_PARAMETERS:
            value: float = getattr(self, name)
            return value
        if name in FLOOR_PARAMS.values():
            return self.guidance_floors()[name]
        return self.controller_params.get(name)

    def absolute_range(self, name: str) -> ParamSpec:
        """The spec (unit, absolute range) of adjustable parameter ``name``.

        Raises:
            ValueError: no such parameter for this phase's controller (message lists the known).
        """
        specs = self.param_specs
        if name not in specs:
            raise ValueError(f"{name!r} is not a parameter of the {self.controller} controller; "
                             f"known: {', '.join(sorted(specs))}")
        return specs[name]

    @model_validator(mode="after")
    def _floors_valid(self) -> TrainingSettings:
        kinds = {joint.rsplit("_", 1)[0]: param for joint, param in FLOOR_PARAMS.items()}
        specs = controller_class(self.controller).param_specs
        for key, value in self.guidance_floor_pct.items():
            where = f"guidance_floor_pct.{key}"
            param = FLOOR_PARAMS.get(key, kinds.get(key))
            if param is None:
                raise ValueError(f"{where}: not a joint kind ({', '.join(sorted(kinds))}) or "
                                 f"joint ({', '.join(FLOOR_PARAMS)})")
            if param in specs:
                check(specs[param], where, value)
            elif value != 0.0:
                raise ValueError(f"{where}: the {self.controller} controller has no guidance "
                                 "to put a floor under")
        return self

    @model_validator(mode="after")
    def _controller_params_known(self) -> TrainingSettings:
        for name, value in self.controller_params.items():
            where = f"controller_params.{name}"
            if name in SESSION_PARAMETERS:
                raise ValueError(f"{where}: set {name} as a field of the phase or protocol, not "
                                 "as a controller parameter")
            if name in FLOOR_PARAMS.values():
                raise ValueError(f"{where}: set guidance floors in the guidance_floor_pct table")
            check(self.absolute_range(name), where, value)
        return self

    @model_validator(mode="after")
    def _adjustable_bounds(self) -> TrainingSettings:
        for name, (low, high) in self.adjustable.items():
            spec = self.absolute_range(name)
            where = f"adjustable.{name}"
            if not low <= high:
                raise ValueError(f"{where}: the lowest {low:g} must not be above the highest "
                                 f"{high:g}")
            unit, lowest, highest = spec.unit, spec.low, spec.high
            if not lowest <= low <= high <= highest:
                raise ValueError(f"{where} = [{low:g}, {high:g}] {unit} must lie inside "
                                 f"[{lowest:g}, {highest:g}] {unit}")
            if name == "guidance_pct" and not has_guidance(self.controller):
                raise ValueError(f"{where}: the {self.controller} controller has no guidance "
                                 "level to adjust")
            value = self.value_of(name)
            if value is None:
                raise ValueError(f"{where}: give {name} a value in controller_params so its "
                                 "bounds can be checked against it")
            if not low <= value <= high:
                raise ValueError(f"{name} = {value:g} {unit} is outside its adjustable bounds "
                                 f"[{low:g}, {high:g}] {unit}")
        return self


class Phase(TrainingSettings):
    """One phase of a protocol: its kind and how it ends, with its training settings.

    A walking phase ends after ``duration_s`` or when ``steps`` steps (foot strikes, either foot)
    are counted; a step-target phase ends at latest after ``max_duration_s`` (default: twice the
    time its steps take at its cadence). An assessment phase runs ``assessment`` (a name of the
    robot-assessment registry) with ``assessment_params`` on the ``assessment_joints``.
    """

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: PhaseKind
    duration_s: float | None = Field(None, gt=0.0, le=MAX_PHASE_S)
    steps: int | None = Field(None, ge=1, le=MAX_STEPS)
    max_duration_s: float | None = Field(None, gt=0.0, le=MAX_PHASE_S)
    assessment: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]*$")
    assessment_params: dict[str, float] = Field(default_factory=dict)
    assessment_joints: tuple[str, ...] = ()

    @property
    def walking(self) -> bool:
        """Whether the phase walks on the treadmill (every kind but ``assessment``)."""
        return self.kind != "assessment"

    @property
    def expected_duration_s(self) -> float:
        """How long the phase is planned to take (s): its duration, or its steps at its cadence
        (0 for an assessment, which takes as long as its procedure)."""
        if self.duration_s is not None:
            return self.duration_s
        if self.steps is not None:
            return 60.0 * self.steps / self.cadence_steps_per_min
        return 0.0

    @property
    def time_limit_s(self) -> float:
        """The latest the phase ends (s)."""
        if self.duration_s is not None:
            return self.duration_s
        if self.max_duration_s is not None:
            return self.max_duration_s
        return min(STEP_TIME_LIMIT_FACTOR * self.expected_duration_s, MAX_PHASE_S)

    def _check_assessment(self, name: str) -> None:
        """The assessment exists, and takes these joints and parameters (within bounds)."""
        where = f"phase {self.name!r}"
        assessment = ROBOT_ASSESSMENTS.get(name)
        if assessment is None:
            raise ValueError(f"{where}: unknown assessment {name!r}; known: "
                             f"{', '.join(sorted(ROBOT_ASSESSMENTS))}")
        for joint in self.assessment_joints:
            if joint not in assessment.allowed_joints:
                raise ValueError(f"{where}: {name} cannot assess {joint!r}; it takes "
                                 f"{', '.join(assessment.allowed_joints)}")
        for key, value in self.assessment_params.items():
            param = assessment.params.get(key)
            if param is None:
                raise ValueError(f"{where}: {name} has no parameter {key!r}; its parameters: "
                                 f"{', '.join(assessment.params) or 'none'}")
            if not param.low <= value <= param.high:
                raise ValueError(f"{where}: assessment_params.{key} = {value:g} {param.unit} is "
                                 f"outside [{param.low:g}, {param.high:g}] {param.unit}")

    @model_validator(mode="after")
    def _how_it_ends(self) -> Phase:
        if self.kind == "assessment":
            if self.assessment is None:
                raise ValueError(f"phase {self.name!r}: an assessment phase needs "
                                 "assessment = \"NAME\" (a robot-based assessment)")
            if self.duration_s is not None or self.steps is not None:
                raise ValueError(f"phase {self.name!r}: an assessment phase takes as long as its "
                                 "assessment; give neither duration_s nor steps")
            self._check_assessment(self.assessment)
            return self
        if self.assessment is not None:
            raise ValueError(f"phase {self.name!r}: only a kind = \"assessment\" phase may name "
                             "an assessment")
        if (self.duration_s is None) == (self.steps is None):
            raise ValueError(f"phase {self.name!r}: give either duration_s (s) or steps (a step "
                             "target), not both and not neither")
        if self.max_duration_s is not None and self.steps is None:
            raise ValueError(f"phase {self.name!r}: max_duration_s limits a step-target phase; "
                             "a timed phase ends at its duration_s")
        return self


#: The training fields a phase takes from the protocol's top level unless it sets them.
INHERITED = tuple(name for name in TrainingSettings.model_fields)


def _with_defaults(data: Any) -> Any:
    """Fill every phase's missing training settings from the protocol's top level; a file
    without phases is one training phase of its ``duration_s``.

    A phase's ``adjustable`` table adds to the top level's. A phase with another controller
    keeps neither the top level's controller parameters nor their bounds (nor the guidance
    bounds, if its controller has no guidance level).
    """
    if not isinstance(data, dict):
        return data
    data = dict(data)
    if "phases" not in data:
        data["phases"] = [{"name": "training", "kind": "training",
                           **({"duration_s": data.pop("duration_s")} if "duration_s" in data
                              else {})}]
    elif "duration_s" in data:
        raise ValueError("duration_s belongs in each [[phases]] table when a protocol has phases")
    phases = data["phases"]
    if not isinstance(phases, list):
        return data
    top_controller = data.get("controller", "impedance")
    filled = []
    for phase in phases:
        if not isinstance(phase, dict):
            filled.append(phase)
            continue
        controller = phase.get("controller", top_controller)
        same = controller == top_controller
        merged = {name: data[name] for name in INHERITED if name in data}
        top_bounds = data.get("adjustable", {})
        if not same:
            merged.pop("controller_params", None)
            if not has_guidance(controller):
                merged.pop("guidance_floor_pct", None)
        own_bounds = phase.get("adjustable", {})
        merged.update(phase)
        if isinstance(top_bounds, dict) and isinstance(own_bounds, dict):
            merged["adjustable"] = {
                k: v for k, v in top_bounds.items()
                if same or (k in SESSION_PARAMETERS
                            and (k != "guidance_pct" or has_guidance(controller)))
            } | own_bounds
        filled.append(merged)
    data["phases"] = filled
    return data


class Protocol(TrainingSettings):
    """A therapy protocol: its phases in order, and progression rules between sessions.

    The top-level training fields are the defaults of the phases (and what a caller that knows
    no phases reads, e.g. ``protocol.treadmill_speed_mps``).
    """

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    description: str = ""
    phases: tuple[Phase, ...] = Field(min_length=1, max_length=50)
    progression: tuple[ProgressionRule, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _phases_from_defaults(cls, data: Any) -> Any:
        return _with_defaults(data)

    @model_validator(mode="wrap")
    @classmethod
    def _each_missing_field_once(cls, data: Any, handler: ModelWrapValidatorHandler[Protocol]
                                 ) -> Protocol:
        """A bad top-level field is reported once, not again for every phase that inherits it;
        an error several phases share is reported once, at ``phases.*`` (every phase) or
        ``phases.0,2`` (those phases)."""
        try:
            return handler(data)
        except ValidationError as exc:
            errors = exc.errors()
            top = {(e["loc"], e["type"], e["msg"]) for e in errors if e["loc"][:1] != ("phases",)}
            kept = [e for e in errors if not (
                e["loc"][:1] == ("phases",) and (
                    (e["loc"][2:], e["type"], e["msg"]) in top
                    or (len(e["loc"]) == 1 and e["type"] == "too_short")))]
            shared: dict[tuple[object, ...], list[int]] = {}
            for e in kept:
                if e["loc"][:1] == ("phases",) and len(e["loc"]) > 1:
                    shared.setdefault((e["loc"][2:], e["type"], e["msg"]), []).append(
                        int(e["loc"][1]))
            phases = data.get("phases") if isinstance(data, dict) else None
            count = len(phases) if isinstance(phases, list) else 0
            once = []
            for e in kept:
                where = shared.get((e["loc"][2:], e["type"], e["msg"]), [])
                if len(where) > 1:
                    if int(e["loc"][1]) != where[0]:
                        continue
                    which = "*" if len(where) == count else ",".join(map(str, where))
                    e = {**e, "loc": ("phases", which, *e["loc"][2:])}
                once.append(e)
            raise ValidationError.from_exception_data(
                exc.title, cast(list[InitErrorDetails], once)) from None

    @model_validator(mode="after")
    def _phase_order(self) -> Protocol:
        names = [phase.name for phase in self.phases]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"two phases are named {name!r}; phase names must be unique")
        walking = [i for i, phase in enumerate(self.phases) if phase.walking]
        if not walking:
            raise ValueError("a protocol needs at least one walking phase (warm_up, training or "
                             "cool_down)")
        for i, phase in enumerate(self.phases):
            if not phase.walking and walking[0] < i < walking[-1]:
                raise ValueError(
                    f"assessment phase {phase.name!r} lies between walking phases; assessments "
                    "are done with the treadmill stopped and the patient lifted: put them "
                    "before the first or after the last walking phase")
        first = self.phases[walking[0]]
        for i in walking:
            phase = self.phases[i]
            if (phase.range_of_motion_deg, phase.soft_zone_deg) != (
                    first.range_of_motion_deg, first.soft_zone_deg):
                raise ValueError(
                    f"phase {phase.name!r}: range_of_motion_deg and soft_zone_deg must be the "
                    f"same in every walking phase (they are the session's safety limits); "
                    f"set them once at the top of the file")
        for k, rule in enumerate(self.progression):
            rule.check_targets(self.phases, f"progression.{k}")
        return self

    @property
    def walking_phases(self) -> tuple[Phase, ...]:
        """The walking phases in order (they run in one control loop)."""
        return tuple(phase for phase in self.phases if phase.walking)

    @property
    def training_phase(self) -> Phase:
        """The first training phase (the first walking phase if none is of kind training)."""
        walking = self.walking_phases
        return next((phase for phase in walking if phase.kind == "training"), walking[0])

    @property
    def planned_duration_s(self) -> float:
        """Walking time the phases are planned to take (s); step targets at their cadence."""
        return sum(phase.expected_duration_s for phase in self.walking_phases)


def bundled_protocols() -> list[str]:
    """Names of the bundled protocols, sorted."""
    return sorted(path.stem for path in bundled_file("protocols", "").glob("*.toml"))


def load_protocol(name_or_path: str | Path = DEFAULT_PROTOCOL) -> Protocol:
    """Load a protocol file, or a bundled protocol by name (e.g. ``"standard_gait"``).

    Raises:
        ConfigurationError: missing or invalid file (one message: file, field, allowed values).
    """
    return load_toml_model(resolve_named_file("protocols", str(name_or_path)), Protocol)
