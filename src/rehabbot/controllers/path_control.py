"""Path control: a virtual tunnel around the gait path in each leg's hip-knee angle space.

Duschau-Wicke et al. (2010) free the patient's timing: the robot guides the leg to the *path* of
the normative gait, the closed curve ``(q_hip(φ), q_knee(φ))``, not to a point moving along it on
a clock. The closest point of the path ``p*`` is searched only within a window of ``±window``
cycles around the phase of a phase source (the cadence clock by default): inside the window the
patient chooses the timing; a patient who lags behind the window is pulled along by its trailing
edge, one who runs ahead is held back, and the search cannot jump to another part of the loop.
Per leg, with ``d = q - p*``, ``r = |d|`` and ``n = d / r``:

    inside the tunnel (r <= w):   τ = 0
    outside (r > w):              τ = -k (r - w) n - b s (q̇·n) n,   s = min(1, (r - w) / r_b)

``w`` is the tunnel's half-width (rad), ``k`` and ``b`` the wall's stiffness and damping; the
damping fades in over the first ``r_b`` of the wall (:data:`DAMPING_RAMP_RAD`) so the torque does
not step at the wall. An optional supportive flow adds ``f t`` everywhere, ``t`` the path's unit
tangent in the direction of walking: a small push along the path that the patient can overrule.
The gait phase is that of the closest point (right leg).

**The window's edges are walls too.** A leg that falls behind the window's trailing edge (its
closest point is the edge's) is pulled forward along the path, ``τ += k · max(0, -d·t) · t``
(inside the tunnel as well: the patient's timing is free only within the window); one ahead of the
leading edge is held back alike. With a belt that drags a weak leg backward, this is what keeps
it walking (Duschau-Wicke et al. 2010's moving window).

**Toward a range-of-motion limit the tunnel closes in.** With ``c_j`` the closeness of joint
``j`` to its nearer limit of the patient's range (:class:`~rehabbot.controllers.rom_response.
RomResponse`, 0 outside the response band, 1 at the limit) and ``σ = min(1, Σ_j c_j max(0,
n_j s_j))`` the share of the leg's way out of the tunnel that heads toward such a limit
(``s_j`` = +1 for an upper limit, -1 for a lower one), the tunnel's half-width becomes
``w (1 - σ)`` and the wall's stiffness ``k (1 + WALL_GAIN · σ)`` (:data:`WALL_GAIN`): the leg
stays free along the path but is held on it where leaving it would reach a limit.

Reference: A. Duschau-Wicke, J. von Zitzewitz, A. Caprez, L. Lünenburger, R. Riener, "Path
control: a method for patient-cooperative robot-aided gait rehabilitation", IEEE Trans. Neural
Syst. Rehabil. Eng. 18(1), 38-48, 2010.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from rehabbot.controllers.base import ParamSpec, Setup
from rehabbot.controllers.compensation import Compensation
from rehabbot.controllers.gait_following import GaitFollower
from rehabbot.errors import ConfigurationError
from rehabbot.hal.types import FloatArray, JointCommand, JointState
from rehabbot.safety.range_margin import RangeMargin

if TYPE_CHECKING:
    from typing import Self

#: Depth into the wall (rad) over which the wall's damping fades in.
DAMPING_RAMP_RAD = 0.02
#: How much stiffer the wall is where the leg leaves the tunnel straight toward a limit it is at.
WALL_GAIN = 3.0


def tunnel_torque(
    offset: FloatArray, velocity: FloatArray, tangent: FloatArray, *, width: float,
    stiffness: float, damping: float, flow: float,
) -> FloatArray:
    """The tunnel's torque (N·m, hip and knee) on one leg (module docstring).

    Args:
        offset: ``q - p*``, the leg's angles minus the closest path point (rad).
        velocity: the leg's joint velocities (rad/s).
        tangent: the path's unit tangent at ``p*``, in the direction of walking.
        width: the tunnel's half-width ``w`` (rad).
        stiffness: the wall's stiffness ``k`` (N·m/rad).
        damping: the wall's damping ``b`` (N·m·s/rad).
        flow: the supportive flow ``f`` (N·m).

    >>> tunnel_torque(np.array([0.3, 0.0]), np.zeros(2), np.array([0.0, 1.0]),
    ...               width=0.1, stiffness=100.0, damping=0.0, flow=0.0).tolist()
    [-20.0, 0.0]
    """
    tau: FloatArray = flow * tangent
    r = math.hypot(float(offset[0]), float(offset[1]))
    depth = r - width
    if depth > 0.0:
        normal = offset / r
        inward = stiffness * depth + damping * min(1.0, depth / DAMPING_RAMP_RAD) * float(
            velocity @ normal)
        tau = tau - inward * normal
    return tau


class PathController(GaitFollower):
    """A tunnel around the normative hip-knee path of each leg.

    Args:
        joint_names: joints in array order; each side with both a hip and a knee is guided.
        tunnel_width_rad: half-width ``w`` of the tunnel (rad).
        wall_stiffness_nm_per_rad: wall stiffness ``k`` (N·m/rad).
        wall_damping_nms_per_rad: wall damping ``b`` (N·m·s/rad).
        flow_nm: supportive flow ``f`` along the path (N·m).
        window_cycles: half-width of the timing window around the phase source's phase (cycles).
        cadence_steps_per_min: cadence of the phase source (steps/min): the clock's, or the
            estimator's initial guess.
        phase_source: name of the phase source that moves the window.
        period_s: the control period (s).
        path_points: points of the tabulated path per cycle, 50..2000.
        compensation: feed-forward model compensation, or None.
        speed_class: the normative speed class of the path.
        range_margin: the margins to the patient's range of motion the tunnel closes in toward
            (None: no response).

    Raises:
        ConfigurationError: no side has both a hip and a knee.
    """

    param_specs: ClassVar[dict[str, ParamSpec]] = {
        "tunnel_width_rad": ParamSpec("rad", 0.0, 0.5, "distance from the path with no force",
                                      rate_per_s=0.1),
        "wall_stiffness_nm_per_rad": ParamSpec("N·m/rad", 0.0, 2000.0, "stiffness of the wall",
                                               rate_per_s=500.0),
        "wall_damping_nms_per_rad": ParamSpec("N·m·s/rad", 0.0, 100.0, "damping of the wall",
                                              rate_per_s=50.0),
        "flow_nm": ParamSpec("N·m", 0.0, 30.0, "supportive torque along the path",
                             rate_per_s=10.0),
        "window_cycles": ParamSpec("cycles", 0.01, 0.5, "timing freedom around the phase source",
                                   rate_per_s=0.05),
    }
    tunnel_width_rad: float
    wall_stiffness_nm_per_rad: float
    wall_damping_nms_per_rad: float
    flow_nm: float
    window_cycles: float

    @classmethod
    def build(cls, setup: Setup) -> Self:
        """The controller a protocol names (:meth:`Controller.build`), with its tunnel at the
        defaults (a protocol sets them in ``controller_params``)."""
        return cls(setup.joint_names, cadence_steps_per_min=setup.cadence_steps_per_min,
                   phase_source=setup.phase_source, period_s=setup.period_s,
                   compensation=setup.compensation, range_margin=setup.range_margin)

    def __init__(
        self,
        joint_names: tuple[str, ...],
        tunnel_width_rad: float = 0.1,
        wall_stiffness_nm_per_rad: float = 400.0,
        wall_damping_nms_per_rad: float = 10.0,
        flow_nm: float = 0.0,
        window_cycles: float = 0.1,
        *,
        cadence_steps_per_min: float = 90.0,
        phase_source: str = "cadence",
        period_s: float = 0.001,
        path_points: int = 200,
        compensation: Compensation | None = None,
        speed_class: str = "Free",
        range_margin: RangeMargin | None = None,
    ) -> None:
        super().__init__(joint_names, phase_source=phase_source,
                         cadence_steps_per_min=cadence_steps_per_min, period_s=period_s,
                         speed_class=speed_class, range_margin=range_margin)
        if not 50 <= path_points <= 2000:
            raise ConfigurationError(f"path_points = {path_points} is outside [50, 2000]")
        self.path_points = path_points
        self.cadence_steps_per_min = cadence_steps_per_min
        self.compensation = compensation
        self.set_params(
            tunnel_width_rad=tunnel_width_rad, wall_stiffness_nm_per_rad=wall_stiffness_nm_per_rad,
            wall_damping_nms_per_rad=wall_damping_nms_per_rad, flow_nm=flow_nm,
            window_cycles=window_cycles,
        )
        self.legs = [
            (joint_names.index(f"hip_flexion_{s}"), joint_names.index(f"knee_angle_{s}"))
            for s in ("r", "l")
            if f"hip_flexion_{s}" in joint_names and f"knee_angle_{s}" in joint_names
        ]
        if not self.legs:
            raise ConfigurationError(
                f"path control needs a hip and a knee on one side; the robot has "
                f"{', '.join(joint_names)}"
            )
        grid = np.arange(path_points) / path_points
        table = np.array([self.reference_at(p) for p in grid])
        #: The path of each leg, (points, 2) arrays of (hip, knee) angles (rad) against phase.
        self.paths_ = [table[:, [hip, knee]] for hip, knee in self.legs]
        #: Phase of the window's centre (cycles) and of each leg's closest path point.
        self.window_phase_ = 0.0
        self.leg_phases_ = [0.0] * len(self.legs)

    def reference_at(self, phase: float) -> FloatArray:
        """The path's point (rad, every joint) at right-leg ``phase`` (cycles)."""
        return self.reference_.evaluate(phase)[0]


    def closest_point(
        self, path: FloatArray, q: FloatArray, centre: float, window: float
    ) -> tuple[float, FloatArray, FloatArray]:
        """(phase in cycles, point, unit tangent) of the point of ``path`` closest to ``q`` within
        ``centre ± window`` cycles, refined onto the path's segments."""
        n = path.shape[0]
        candidates = np.arange(math.floor((centre - window) * n),
                               math.ceil((centre + window) * n) + 1) % n
        best = int(candidates[np.argmin(((path[candidates] - q) ** 2).sum(axis=1))])
        options = []
        for start in (best - 1, best):
            a, b = path[start % n], path[(start + 1) % n]
            segment = b - a
            s = float(np.clip((q - a) @ segment / (segment @ segment), 0.0, 1.0))
            point = a + s * segment
            options.append((float(((q - point) ** 2).sum()), ((start + s) / n) % 1.0, point,
                            segment))
        _, phase, point, segment = min(options, key=lambda option: option[0])
        return phase, point, segment / math.hypot(float(segment[0]), float(segment[1]))

    def update(self, state: JointState) -> JointCommand:
        """The tunnel torque (as feed-forward, ``kp = kd = 0``) at this tick."""
        self.advance_ramps(state.t_s)
        self.window_phase_ = self.phase_source_.update(state)
        window = self.ramped("window_cycles")
        stiffness = self.ramped("wall_stiffness_nm_per_rad")
        n = len(self.joint_names)
        tau = (self.compensation.torques(state.q, state.qd) if self.compensation is not None
               else np.zeros(n))
        closeness = self.rom_response_.update(state.q)
        toward = self.rom_response_.toward
        q_ref = state.q.copy()
        for k, ((hip, knee), path) in enumerate(zip(self.legs, self.paths_, strict=True)):
            joints = [hip, knee]
            q = state.q[joints]
            phase, point, tangent = self.closest_point(path, q, self.window_phase_, window)
            self.leg_phases_[k] = phase
            offset = q - point
            r = math.hypot(float(offset[0]), float(offset[1]))
            heading = 0.0 if r == 0.0 else float(
                (closeness[joints] * np.maximum(offset * toward[joints] / r, 0.0)).sum())
            sigma = min(1.0, heading)
            tau[joints] += tunnel_torque(
                offset, state.qd[joints], tangent,
                width=self.ramped("tunnel_width_rad") * (1.0 - sigma),
                stiffness=stiffness * (1.0 + WALL_GAIN * sigma),
                damping=self.ramped("wall_damping_nms_per_rad"),
                flow=self.ramped("flow_nm"),
            )
            along = float(offset @ tangent)  # > 0: ahead of the point, < 0: behind it
            from_centre = (phase - self.window_phase_ + 0.5) % 1.0 - 0.5
            edge = 1.5 / path.shape[0]  # the closest point is the edge's, within a path step
            if (along < 0.0 and from_centre <= edge - window) or (
                    along > 0.0 and from_centre >= window - edge):
                # the window's edge as a wall, as stiff as the tunnel's here
                tau[joints] -= stiffness * (1.0 + WALL_GAIN * sigma) * along * tangent
            q_ref[joints] = point
        self.phase_ = self.leg_phases_[0]
        zeros = np.zeros(n)
        return JointCommand(q_ref, zeros, zeros.copy(), zeros.copy(), tau)
