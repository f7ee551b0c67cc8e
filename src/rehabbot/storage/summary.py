"""The stored session summary: :class:`StoredSummary`, what a finished session keeps beside its
samples and what every reader (console, CLI, report, progression, replay, exports) reads.

The store keeps a summary as one JSON text (column ``sessions.summary``), written by
:meth:`SessionStore.finish_session <rehabbot.storage.store.SessionStore.finish_session>` and
parsed by :meth:`SessionStore.session_summary
<rehabbot.storage.store.SessionStore.session_summary>` into this type: the readers get named,
typed fields instead of string keys. Every field has a default, so summaries stored by older
versions (without the kinematic step count, the walking ticks, the robot assessments, ...)
still load, and keys this version does not name are kept as they were (``extra="allow"``):
:meth:`StoredSummary.as_dict` gives back exactly what was stored. No schema migration is needed:
the JSON text is unchanged; the type reads every version of it.

A session that ended by an error before it ran stores only ``error``
(:attr:`StoredSummary.ran` is then False).

Units: s, deg (the per-joint figures: an edge of the system, as the reports show them), N·m,
steps/min, µs (timing statistics).

Example:

>>> s = StoredSummary.model_validate({"duration_s": 12.0, "step_count": 16,
...                                   "joints": [{"name": "knee_angle_r", "rom_deg": 55.0,
...                                               "rms_error_deg": 1.5, "peak_torque_nm": 20.0}],
...                                   "walking_ticks": [200, 12200], "from_the_future": 1})
>>> s.ran, s.step_count, s.joints[0].rom_deg, s.walking_ticks
(True, 16, 55.0, (200, 12200))
>>> s.as_dict()["from_the_future"]
1
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Stored(BaseModel):
    """A part of a stored summary: keys it does not name are kept, nothing is changed."""

    model_config = ConfigDict(extra="allow", frozen=True)


class JointFigures(_Stored):
    """One joint's figures in a summary.

    Attributes:
        name: joint name, e.g. ``knee_angle_r``.
        rom_deg: range of motion (deg): mean over complete strides (the whole record's range
            without one).
        rms_error_deg: RMS tracking error (deg).
        peak_torque_nm: peak |torque| (N·m).
    """

    name: str
    rom_deg: float = float("nan")
    rms_error_deg: float = float("nan")
    peak_torque_nm: float = float("nan")


class PhaseFigures(_Stored):
    """One protocol phase as it ran in the walking loop.

    Attributes:
        index: its place among the protocol's phases (0-based).
        name: phase name.
        kind: phase kind (``warm_up``, ``training``, ...).
        start_tick: the walking loop's tick it started on.
        start_t_s: loop time it started at (s).
        start_steps: steps counted before it.
        end_tick: the first tick after it (None: the session ended inside it).
        ended_by: ``duration``, ``steps``, ``time_limit`` or ``stop``.
        steps: steps the phase counter counted in it.
        summary: the phase's own gait summary (the gait fields of :class:`StoredSummary`),
            if stored.
    """

    index: int = 0
    name: str
    kind: str = ""
    start_tick: int = 0
    start_t_s: float = 0.0
    start_steps: int = 0
    end_tick: int | None = None
    ended_by: str = "stop"
    steps: int = 0
    summary: dict[str, Any] | None = None


class StoredSummary(_Stored):
    """A finished session's summary as the store keeps it (see the module docstring).

    Attributes:
        error: what ended the session before it ran (the only key then), else None.
        duration_s: recorded time of the walking (s).
        step_count: steps from the kinematic gait events; None in a summary stored before
            that count (older versions counted contact strides only).
        strides_right: complete strides of the right side.
        strides_left: complete strides of the left side.
        walking_time_s: time covered by complete strides (s).
        cadence_steps_per_min: mean cadence over complete strides (steps/min; NaN without one).
        contact_strides_right: strides from the simulator's foot contact (cross-check only).
        contact_strides_left: the same, left.
        joints: per-joint figures.
        plant: the plant the session ran on (``in_process``, ``emulated``, ``hardware``).
        contact_source: where foot contact came from.
        ramp_in: the torque was ramped in at the start (replay repeats it).
        fade_out: the torque was faded out at the end (replay repeats it).
        loop_compute: the loop's compute time per tick (µs statistics: ``p50_us``, ``p99_us``,
            ``max_us``, ...).
        loop_timing: lateness, command age (µs statistics), skipped ticks, collections
            (:meth:`~rehabbot.runtime.loop.LoopReport.timing`).
        reply_latency_us: command-to-reply latency per joint (µs statistics).
        dropped_samples: samples the recorder dropped (its ring was full).
        faults: the latched faults, one line each.
        controlled_stop: why a person stopped the session (None: not stopped).
        recording_error: what stopped the recorder's writer (None: everything stored).
        steps: steps the session's step counter counted.
        phases: the protocol phases that ran.
        param_changes: live parameter changes as ``[tick, {name: value}]`` (walking ticks).
        assessments: the robot assessments' results by phase name.
        walking_ticks: the walking loop's ticks ``[first, end)`` in the recording (the robot
            assessments' are the others); None in summaries stored before assessments ran in
            the session's recording (then every tick is walking).
        progression: the progression rules' changes applied to this session, one line each.
    """

    error: str | None = None
    duration_s: float | None = None
    step_count: int | None = None
    strides_right: int | None = None
    strides_left: int | None = None
    walking_time_s: float | None = None
    cadence_steps_per_min: float | None = None
    contact_strides_right: int | None = None
    contact_strides_left: int | None = None
    joints: tuple[JointFigures, ...] = ()
    plant: str | None = None
    contact_source: str | None = None
    ramp_in: bool = False
    fade_out: bool = False
    loop_compute: dict[str, Any] | None = None
    loop_timing: dict[str, Any] | None = None
    reply_latency_us: dict[str, dict[str, Any]] = Field(default_factory=dict)
    dropped_samples: int = 0
    faults: tuple[str, ...] = ()
    controlled_stop: str | None = None
    recording_error: str | None = None
    steps: int | None = None
    phases: tuple[PhaseFigures, ...] = ()
    param_changes: tuple[tuple[int, dict[str, float]], ...] = ()
    assessments: dict[str, dict[str, Any]] = Field(default_factory=dict)
    walking_ticks: tuple[int, int] | None = None
    progression: tuple[str, ...] = ()

    @classmethod
    def of(cls, summary: StoredSummary | Mapping[str, Any]) -> StoredSummary:
        """``summary`` as this type (a mapping is parsed; the type is returned as it is).

        Raises:
            pydantic.ValidationError: a field of the wrong type.
        """
        return summary if isinstance(summary, cls) else cls.model_validate(dict(summary))

    @property
    def ran(self) -> bool:
        """The session ran (its summary has figures, not only an ``error``)."""
        return self.duration_s is not None

    def as_dict(self) -> dict[str, Any]:
        """What was stored, as plain values (lists and dicts; NaN kept as ``nan``): the keys
        that were given, no defaults added."""
        return self.model_dump(exclude_unset=True)
