"""System identification for engineers: excitation signals and a joint-parameter estimator.

**Excitation.** :class:`ChirpExcitation` (a sine sweeping linearly from ``f0_hz`` to ``f1_hz`` in
``sweep_s``, faded in and out over the first and last 10 % of each sweep so it starts and ends at
zero, then repeated) and :class:`StepExcitation` (a square wave of period ``step_period_s``) drive
one joint, as a torque (``mode="torque"``: ``tau_ff = A s(t)``, no impedance) or as a position
around the starting angle (``mode="position"``: ``q_ref = q0 + A s(t)`` with a stiffness and a
damping). The other joints hold their starting angles. ``scale_pct`` turns the excitation up and
down while it runs, ramped.

**Estimation.** :func:`estimate_joint_parameters` fits ``τ = J q̈ + b q̇ + F_c sign(q̇)`` to a
recording of one joint by least squares, in integral form so that no noisy acceleration is
needed: over every window ``[t_a, t_b]`` of the recording,

    ∫ τ dt = J (q̇_b - q̇_a) + b (q_b - q_a) + F_c ∫ sign(q̇) dt

(trapezoidal integrals; the windows overlap, one starting at every sample).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

from rehabbot.controllers.base import Controller, ParamSpec
from rehabbot.errors import ConfigurationError
from rehabbot.hal.types import FloatArray, JointCommand, JointState

#: Share of each chirp sweep faded in at its start and out at its end.
CHIRP_FADE = 0.1


class Excitation(Controller, ABC):
    """Excites one joint with a unit signal ``s(t)`` scaled by an amplitude; holds the others.

    Args:
        joint_names: joints in array order.
        joint: the joint to excite.
        mode: ``"torque"`` (amplitude in N·m) or ``"position"`` (amplitude in rad).
        amplitude: peak torque (N·m) or angle (rad) at ``scale_pct = 100``.
        stiffness_nm_per_rad: stiffness of the position mode and of the other joints' hold.
        damping_nms_per_rad: damping of the position mode and of the other joints' hold.
        **signal: the signal's parameters (those of a subclass's ``param_specs``); the others
            keep :attr:`signal_defaults`.

    Raises:
        ConfigurationError: unknown joint or mode, or a negative amplitude or gain.
    """

    param_specs: ClassVar[dict[str, ParamSpec]] = {
        "scale_pct": ParamSpec("%", 0.0, 100.0, "share of the amplitude", rate_per_s=50.0),
    }
    #: The signal's parameters and their default values.
    signal_defaults: ClassVar[dict[str, float]] = {}
    scale_pct: float

    def __init__(
        self,
        joint_names: tuple[str, ...],
        joint: str,
        mode: Literal["torque", "position"],
        amplitude: float,
        stiffness_nm_per_rad: float = 200.0,
        damping_nms_per_rad: float = 5.0,
        **signal: float,
    ) -> None:
        super().__init__()
        if joint not in joint_names:
            raise ConfigurationError(f"no joint {joint!r}; joints: {', '.join(joint_names)}")
        if mode not in ("torque", "position"):
            raise ConfigurationError(f"mode must be 'torque' or 'position', got {mode!r}")
        if min(amplitude, stiffness_nm_per_rad, damping_nms_per_rad) < 0.0:
            raise ConfigurationError("amplitude, stiffness and damping must be >= 0")
        self.joint_names = joint_names
        self.joint = joint
        self.mode = mode
        self.amplitude = amplitude
        self.stiffness_nm_per_rad = stiffness_nm_per_rad
        self.damping_nms_per_rad = damping_nms_per_rad
        self.set_params(scale_pct=100.0, **self.signal_defaults | signal)
        self._index = joint_names.index(joint)
        self._start_t_s: float | None = None
        self._hold = np.zeros(len(joint_names))

    def reset(self, state: JointState) -> None:
        """Start a run: the signal starts at ``state.t_s``, every joint holds its angle there."""
        super().reset(state)
        self._start_t_s = state.t_s
        self._hold = state.q.copy()

    @abstractmethod
    def signal(self, t_s: float) -> tuple[float, float]:
        """The unit signal ``s`` and its time derivative (1/s) at ``t_s`` into the excitation."""

    def update(self, state: JointState) -> JointCommand:
        """The excitation command at this tick."""
        if self._start_t_s is None:
            self.reset(state)
        assert self._start_t_s is not None
        self.advance_ramps(state.t_s)
        s, ds = self.signal(state.t_s - self._start_t_s)
        gain = self.amplitude * self.ramped("scale_pct") / 100.0
        n, i = len(self.joint_names), self._index
        q_ref, qd_ref = self._hold.copy(), np.zeros(n)
        kp = np.full(n, self.stiffness_nm_per_rad)
        kd = np.full(n, self.damping_nms_per_rad)
        tau_ff = np.zeros(n)
        if self.mode == "torque":
            kp[i] = kd[i] = 0.0
            tau_ff[i] = gain * s
        else:
            q_ref[i] += gain * s
            qd_ref[i] = gain * ds
        return JointCommand(q_ref, qd_ref, kp, kd, tau_ff)


class ChirpExcitation(Excitation):
    """A linear sine sweep, faded in and out, repeated (module docstring).

    Args:
        joint_names: joints in array order.
        joint: the joint to excite.
        mode: ``"torque"`` or ``"position"``.
        amplitude: peak torque (N·m) or angle (rad).
        **signal: ``f0_hz`` start frequency (Hz, default 0.5), ``f1_hz`` end frequency (Hz, 5),
            ``sweep_s`` duration of one sweep (s, 20); and the hold of :class:`Excitation`.

    >>> chirp = ChirpExcitation(("knee_angle_r",), "knee_angle_r", "torque", 5.0, sweep_s=10.0)
    >>> chirp.signal(0.0)[0], abs(chirp.signal(10.0 - 1e-9)[0]) < 1e-6
    (0.0, True)
    """

    param_specs: ClassVar[dict[str, ParamSpec]] = {
        "f0_hz": ParamSpec("Hz", 0.01, 50.0, "start frequency of a sweep"),
        "f1_hz": ParamSpec("Hz", 0.01, 50.0, "end frequency of a sweep"),
        "sweep_s": ParamSpec("s", 0.5, 600.0, "duration of a sweep"),
        **Excitation.param_specs,
    }
    signal_defaults: ClassVar[dict[str, float]] = {"f0_hz": 0.5, "f1_hz": 5.0, "sweep_s": 20.0}
    f0_hz: float
    f1_hz: float
    sweep_s: float

    def signal(self, t_s: float) -> tuple[float, float]:
        """The faded sweep and its derivative (1/s) at ``t_s`` into the excitation."""
        period = self.sweep_s
        tau = t_s % period
        slope = (self.f1_hz - self.f0_hz) / period
        angle = 2.0 * math.pi * (self.f0_hz * tau + 0.5 * slope * tau * tau)
        rate = 2.0 * math.pi * (self.f0_hz + slope * tau)
        fade_s = CHIRP_FADE * period
        edge = min(tau, period - tau)
        if edge < fade_s:
            x = 0.5 * math.pi * edge / fade_s
            window = math.sin(x) ** 2
            d_window = math.sin(2.0 * x) * 0.5 * math.pi / fade_s * (1.0 if tau < fade_s else -1.0)
        else:
            window, d_window = 1.0, 0.0
        return window * math.sin(angle), d_window * math.sin(angle) + window * rate * math.cos(
            angle)


class StepExcitation(Excitation):
    """A square wave: ``+1`` for the first half of each period, ``-1`` for the second.

    Args:
        joint_names: joints in array order.
        joint: the joint to excite.
        mode: ``"torque"`` or ``"position"``.
        amplitude: step height (N·m or rad).
        **signal: ``step_period_s`` period of the square wave (s, default 2); and the hold of
            :class:`Excitation`.

    >>> steps = StepExcitation(("hip_flexion_r",), "hip_flexion_r", "position", 0.1)
    >>> [steps.signal(t)[0] for t in (0.0, 0.9, 1.0, 2.5)]
    [1.0, 1.0, -1.0, 1.0]
    """

    param_specs: ClassVar[dict[str, ParamSpec]] = {
        "step_period_s": ParamSpec("s", 0.1, 600.0, "period of the square wave"),
        **Excitation.param_specs,
    }
    signal_defaults: ClassVar[dict[str, float]] = {"step_period_s": 2.0}
    step_period_s: float

    def signal(self, t_s: float) -> tuple[float, float]:
        """``±1`` at ``t_s`` into the excitation; its derivative is 0 between the steps."""
        return (1.0 if (t_s % self.step_period_s) < 0.5 * self.step_period_s else -1.0), 0.0


@dataclass(frozen=True)
class JointParameters:
    """A joint's rigid-body and friction parameters as seen from its drive.

    Attributes:
        inertia_kgm2: inertia ``J`` (kg·m²).
        damping_nms_per_rad: viscous damping ``b`` (N·m·s/rad).
        coulomb_nm: Coulomb friction ``F_c`` (N·m).
    """

    inertia_kgm2: float
    damping_nms_per_rad: float
    coulomb_nm: float


def _cumulative_integral(t_s: FloatArray, y: FloatArray) -> FloatArray:
    """Trapezoidal running integral of ``y`` over ``t_s``, 0 at the first sample."""
    result: FloatArray = np.concatenate(([0.0], np.cumsum(0.5 * (y[1:] + y[:-1]) * np.diff(t_s))))
    return result


def estimate_joint_parameters(
    t_s: FloatArray, q: FloatArray, qd: FloatArray, tau: FloatArray, window_s: float = 0.05
) -> JointParameters:
    """Least-squares ``J``, ``b``, ``F_c`` of one joint from a recording (module docstring).

    Args:
        t_s: sample times (s), increasing.
        q: joint angles (rad).
        qd: joint velocities (rad/s).
        tau: torques applied to the joint (N·m), motor and anything else known.
        window_s: length of the integration windows (s).

    Raises:
        ConfigurationError: arrays of different lengths, or a recording shorter than a few
            windows.
    """
    t, q, qd, tau = (np.asarray(a, dtype=float) for a in (t_s, q, qd, tau))
    if not t.shape == q.shape == qd.shape == tau.shape:
        raise ConfigurationError("t_s, q, qd and tau must have the same length")
    lag = int(np.searchsorted(t - t[0], window_s))
    if lag < 2 or t.size < 4 * lag:
        raise ConfigurationError(
            f"a recording of {t.size} samples is too short for {window_s:g} s windows"
        )
    tau_integral = _cumulative_integral(t, tau)
    sign_integral = _cumulative_integral(t, np.sign(qd))
    design = np.column_stack([
        qd[lag:] - qd[:-lag],
        q[lag:] - q[:-lag],
        sign_integral[lag:] - sign_integral[:-lag],
    ])
    target = tau_integral[lag:] - tau_integral[:-lag]
    (inertia, damping, coulomb), *_ = np.linalg.lstsq(design, target, rcond=None)
    return JointParameters(float(inertia), float(damping), float(coulomb))
