"""The simulated patient: the person's own joint torques on top of what the robot does.

Per joint ``tau = ability * m * (k_a * (q_int(φ) - q) + b_a * (qd_int(φ) - qd)) - k * (q - q_rest)
- b * qd + tau_reflex``. The first term is the person's voluntary walking, modelled after the
equilibrium-point hypothesis of motor control (Feldman 1986): muscles act as a spring-damper
pulling each joint toward the person's intended angle ``q_int(φ)``, here the healthy walking
pattern (Schwartz 2008 normative hip and knee angles, as the robot's reference) at the patient's
own gait phase ``φ``. ``m`` is the body mass, ``k_a``, ``b_a`` the active stiffness and damping per
kg of a healthy person (:data:`ACTIVE_STIFFNESS`, :data:`ACTIVE_DAMPING`), and ``ability`` the share
of it the patient produces (1 = healthy, 0 = none). The next two terms are the joint's passive
stiffness and damping (muscles and soft tissue), which every patient has, plus exponential end
stops at the limits of the passive range of motion (:meth:`PatientModel.passive_torques`; a
profile may narrow the range: a contracture), exactly zero inside the walking range. What a
patient can do (ability, spasticity, contractures, fatigue, ...) is their
:class:`~rehabbot.sim.patient_profiles.ImpairmentProfile`; :mod:`rehabbot.sim.patient_profiles`
names the simulated patients.

For the robot-based assessments the patient can do a :class:`PatientTask` instead of walking:
relax, or push one joint as hard as they can toward flexion or extension, up to the largest
voluntary torque (:data:`MAX_VOLUNTARY_TORQUE_NM_PER_KG` x ability x mass, fading near the
passive limit): held by the robot an isometric maximal effort, free an active reach.
:meth:`PatientModel.passive_limit_rad`, :meth:`PatientModel.active_limit_rad` and
:meth:`PatientModel.max_voluntary_torque` give the true answers of those tests.

``tau_reflex`` is spasticity, a velocity-dependent stretch reflex (Lance 1980): when a spastic
joint's velocity, as the spinal cord saw it one reflex delay ago, exceeds a threshold, the
stretched muscles resist with ``-gain * sign(v) * (|v| - threshold)``
(:class:`~rehabbot.sim.patient_profiles.StretchReflex` holds the threshold, the gain and the
delay).

The patient keeps a rhythm of their own: a stride lasts the protocol's stride time with a little
stride-to-stride variability drawn from a seeded generator, so runs are reproducible. Like a person
walking in a gait robot, the patient entrains to it through the ground: a foot strike of the right
foot late in a stride starts the patient's next stride (phase 0 is the right foot strike, as in the
normative data). Without foot strikes (a foot dragging, a fault) the rhythm runs on by itself.
The patient also feels where their legs are in the gait cycle (:class:`LegPhasePerception`, from
hips and knees) and, when that is more than :data:`PHASE_DEADBAND` of a stride away from their
intent, speeds up or slows down their rhythm toward it: moved by a robot, they fall in with it;
walking alone, the small lag of their own legs goes unnoticed.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from rehabbot.body.arrays import FloatArray
from rehabbot.body.gait_cycle import MIN_SWING_S, leg_phase_offset
from rehabbot.body.joints import DIRECTION_SIGN, Direction
from rehabbot.body.normative_gait import GaitReference
from rehabbot.errors import ConfigurationError
from rehabbot.sim.patient_profiles import ImpairmentProfile

#: Default passive joint stiffness (N·m/rad) and damping (N·m·s/rad) by joint kind.
PASSIVE_STIFFNESS = {"hip_flexion": 5.0, "knee_angle": 3.0, "ankle_angle": 2.0}
PASSIVE_DAMPING = {"hip_flexion": 1.0, "knee_angle": 0.5, "ankle_angle": 0.3}
REST_ANGLE_RAD = {"hip_flexion": 0.1, "knee_angle": 0.2, "ankle_angle": 0.0}
#: End stops: the moment (N·m) each resists with at its limit, how far inside the limit it
#: starts (rad) and its exponential rate (1/rad, 0.1/deg as in Riener & Edrich 1999's knee).
END_STOP_TORQUE_NM = 10.0
END_STOP_WIDTH_RAD = math.radians(4.0)
END_STOP_RATE_PER_RAD = math.degrees(0.1)
#: Maximum voluntary isometric torque of a healthy adult (N·m per kg of body mass) by joint kind:
#: (extension, flexion). Knee: mid-range adult values of Šarabon et al. 2021's meta-analysis;
#: hip: rounded from Harbo et al. 2012 (Biodex, adults of both sexes).
MAX_VOLUNTARY_TORQUE_NM_PER_KG = {"hip_flexion": (2.2, 1.6), "knee_angle": (2.8, 1.3)}
#: Active insufficiency: the maximum voluntary torque toward a passive limit fades linearly to
#: zero over this distance (rad) before the limit, so that active ROM stays inside passive ROM.
ACTIVE_FADE_RAD = math.radians(30.0)
#: Speed (rad/s) at which a reaching patient's intended angle moves (see :class:`PatientTask`).
REACH_SPEED_RAD_S = 1.0
#: A foot strike starts the patient's next stride only past this phase of the present one.
ENTRAIN_AFTER_PHASE = 0.5
#: A touch with the right knee bent more than this (rad) is the toe of a leg still in swing
#: scuffing the belt (a drop foot, a stiff knee), not a foot strike: a leg lands with the knee
#: nearly straight (about 5 deg normally; 30 deg is well above any landing of the profiles).
MAX_STRIKE_KNEE_RAD = math.radians(30.0)
#: How strongly the patient's rhythm follows where their legs are (1/s per stride of phase error):
#: a person walking in a gait robot feels the legs being moved and falls in with them.
PHASE_COUPLING_PER_S = 3.0
#: Phase differences (in strides) between the legs and the intent below this go unnoticed.
PHASE_DEADBAND = 0.03
#: Half-width (in strides) of the window around the intended phase searched for the legs' phase.
PERCEPTION_WINDOW = 0.25
#: How often (s) the patient compares where their legs are with their intent.
PERCEPTION_PERIOD_S = 0.01
#: Active (voluntary) stiffness (N·m/rad per kg of body mass) and damping (N·m·s/rad per kg) of a
#: healthy person's hips and knees while walking: the least that lets the healthy patient walk
#: alone on the treadmill (transparent mode, 3 km/h, 30 % body-weight support) with its trailing
#: leg lifted before the hip's extension limit (two thirds of these values do not). Because the
#: patient falls in with the robot's rhythm (:data:`PHASE_COUPLING_PER_S`), it does not fight a
#: clock-driven reference at full guidance either.
ACTIVE_STIFFNESS = {"hip_flexion": 7.5, "knee_angle": 4.5}
ACTIVE_DAMPING = {"hip_flexion": 0.6, "knee_angle": 0.3}
#: Plantarflexion moment (N·m) of a drop foot in its leg's swing: against the foot lifter's
#: 30 N·m/rad it lowers the toes by about 4 deg (10 deg of dorsiflexion become about 6).
DROP_FOOT_TORQUE_NM = 2.0
#: Swing of a leg, in that leg's own phase (strides): where a drop foot acts.
SWING_PHASES = (0.6, 1.0)
#: Stance of a leg (strides, its own phase): where a hyperextending knee pushes back.
STANCE_PHASES = (0.05, 0.55)
def _window(phase: FloatArray, span: tuple[float, float]) -> FloatArray:
    """A smooth bump over ``span`` of a stride: ``sin²`` rising from 0 at its start to 1 in its
    middle and back to 0 at its end; 0 outside.

    >>> _window(np.array([0.0, 0.3, 0.6]), (0.1, 0.5)).round(3).tolist()
    [0.0, 1.0, 0.0]
    """
    start, end = span
    inside = (phase - start) / (end - start)
    bump: FloatArray = np.where((inside > 0.0) & (inside < 1.0),  # np.clip, without its wrapper
                                np.sin(np.pi * np.minimum(np.maximum(inside, 0.0), 1.0)) ** 2, 0.0)
    return bump


class _DelayLine:
    """The value of a sampled signal ``delay_s`` ago; 0 until that much history exists.

    Samples arrive in time order (any spacing); each push is amortized O(1).

    >>> line = _DelayLine(0.05)
    >>> [line.push(t * 0.01, float(t)) for t in range(8)]
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0]
    """

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self._samples: deque[tuple[float, float]] = deque()

    def push(self, t_s: float, value: float) -> float:
        """Add ``value`` sampled at ``t_s``; return the last sample at or before ``t_s - delay``."""
        samples = self._samples
        samples.append((t_s, value))
        due = t_s - self.delay_s + 1e-9
        while len(samples) > 1 and samples[1][0] <= due:
            samples.popleft()
        t0, v0 = samples[0]
        return v0 if t0 <= due else 0.0


class LegPhasePerception:
    """Where in the gait cycle the legs are, as the patient feels it from their hips and knees.

    The phase whose normative hip and knee angles (both sides; the left half a stride from the
    right) are nearest the present ones, searched within :data:`PERCEPTION_WINDOW` of a guess.
    Both hips together trace a closed loop over a stride, so the nearest point is unambiguous.

    >>> names = ("hip_flexion_r", "knee_angle_r", "hip_flexion_l", "knee_angle_l")
    >>> perception = LegPhasePerception(names)
    >>> q, _ = GaitReference(names).evaluate(0.3)
    >>> round(perception.phase(q, 0.2), 3)
    0.3
    """

    def __init__(self, joint_names: tuple[str, ...], samples: int = 1000) -> None:
        self._joints = np.array([n.startswith(("hip", "knee")) for n in joint_names])
        reference = GaitReference(joint_names)
        self._grid = np.arange(samples) / samples
        self._curve = np.array([reference.evaluate(p)[0][self._joints] for p in self._grid])
        self._half = round(PERCEPTION_WINDOW * samples)

    def phase(self, q: FloatArray, guess: float) -> float:
        """The legs' phase (0..1) nearest ``guess`` for joint angles ``q`` (rad, all joints)."""
        n = self._grid.size
        centre = round(guess * n)
        rows = np.arange(centre - self._half, centre + self._half + 1) % n
        distance = ((self._curve[rows] - q[self._joints]) ** 2).sum(axis=1)
        return float(self._grid[rows[int(np.argmin(distance))]])


class PatientModel:
    """Torques of the patient's own joints, evaluated once per simulator step."""

    def __init__(
        self,
        joint_names: tuple[str, ...],
        profile: ImpairmentProfile,
        body_mass_kg: float,
        cadence_steps_per_min: float,
        seed: int,
    ) -> None:
        """Patient torques for the simulator joints ``joint_names`` (all of them, in order).

        Args:
            joint_names: the simulator's joints.
            profile: the patient's abilities.
            body_mass_kg: body mass (kg).
            cadence_steps_per_min: the patient's own cadence (steps/min).
            seed: seed of the stride-to-stride variability.

        Raises:
            ConfigurationError: a spastic joint of the profile is not among ``joint_names``.
        """
        kinds = [name.rsplit("_", 1)[0] for name in joint_names]
        self._intent = GaitReference(joint_names)
        ability = np.array([profile.ability_of(n) * body_mass_kg for n in joint_names])
        self._active_stiffness = ability * [ACTIVE_STIFFNESS.get(k, 0.0) for k in kinds]
        self._active_damping = ability * [ACTIVE_DAMPING.get(k, 0.0) for k in kinds]
        self._stiffness = np.array([PASSIVE_STIFFNESS.get(k, 0.0) for k in kinds])
        self._damping = np.array([PASSIVE_DAMPING.get(k, 0.0) for k in kinds])
        self._rest = np.array([REST_ANGLE_RAD.get(k, 0.0) for k in kinds])
        limits = [profile.passive_rom_of(n) or (-math.inf, math.inf) for n in joint_names]
        self._rom_extension = np.array([low for low, _ in limits])
        self._rom_flexion = np.array([high for _, high in limits])
        strength = [MAX_VOLUNTARY_TORQUE_NM_PER_KG.get(k, (0.0, 0.0)) for k in kinds]
        self._max_extension = ability * [extension for extension, _ in strength]
        self._max_flexion = ability * [flexion for _, flexion in strength]
        self.joint_names = joint_names
        #: The assessment task in progress (:meth:`set_task`), ``None`` while walking.
        self.task_: PatientTask | None = None
        self._task_start = (0.0, 0.0)
        for reflex in profile.spasticity:
            if reflex.joint not in joint_names:
                raise ConfigurationError(
                    f"patient profile {profile.name!r}: spastic joint {reflex.joint!r} is not "
                    f"simulated (joints: {', '.join(joint_names)})"
                )
        self._reflexes = [
            (joint_names.index(r.joint), r, _DelayLine(r.delay_s)) for r in profile.spasticity
        ]
        # per joint: the leg's phase offset (left half a stride behind), drop-foot torque and
        # intended stance hyperextension
        self._leg_offset = np.array([leg_phase_offset(n) for n in joint_names])
        self._drop_foot = np.array([DROP_FOOT_TORQUE_NM if n in profile.drop_foot else 0.0
                                    for n in joint_names])
        self._hyperextension = np.array([profile.knee_hyperextension_rad.get(n, 0.0)
                                         for n in joint_names])
        self.profile = profile
        self.mean_stride_s = 120.0 / cadence_steps_per_min
        self._rng = np.random.default_rng(seed)
        self._stride_start_s = 0.0
        self._stride_s = self._draw_stride()
        self._right_contact = True
        self._swing_since_s = 0.0
        self._perception = LegPhasePerception(joint_names)
        self._knee_r = (joint_names.index("knee_angle_r") if "knee_angle_r" in joint_names
                        else None)
        self._felt_at_s: float | None = None
        self.phase_ = 0.0
        #: The reflex torques (N·m) of the last :meth:`torques` call, per joint.
        self.reflex_torques_ = np.zeros(len(joint_names))

    def _draw_stride(self) -> float:
        jitter = self._rng.normal(0.0, self.profile.stride_variability)
        return self.mean_stride_s * float(np.clip(1.0 + jitter, 0.7, 1.3))

    def _advance_rhythm(self, t_s: float, right_contact: bool, q: FloatArray) -> None:
        """Update the patient's own gait phase, entrained by right foot strikes and pulled
        toward where the legs are (:data:`PHASE_COUPLING_PER_S`)."""
        if self._felt_at_s is None:
            self._felt_at_s = t_s
        elif t_s - self._felt_at_s >= PERCEPTION_PERIOD_S:
            dt, self._felt_at_s = t_s - self._felt_at_s, t_s
            lag = (self._perception.phase(q, self.phase_) - self.phase_ + 0.5) % 1.0 - 0.5
            felt = math.copysign(max(abs(lag) - PHASE_DEADBAND, 0.0), lag)
            self._stride_start_s = min(
                self._stride_start_s - PHASE_COUPLING_PER_S * felt * dt * self._stride_s, t_s)
        if right_contact and not self._right_contact:
            swing_s = t_s - self._swing_since_s
            elapsed = (t_s - self._stride_start_s) / self._stride_s
            landing = self._knee_r is None or q[self._knee_r] <= MAX_STRIKE_KNEE_RAD
            if swing_s >= MIN_SWING_S and elapsed >= ENTRAIN_AFTER_PHASE and landing:
                self._stride_start_s = t_s
                self._stride_s = self._draw_stride()
        elif self._right_contact and not right_contact:
            self._swing_since_s = t_s
        self._right_contact = right_contact
        while t_s - self._stride_start_s >= self._stride_s:
            self._stride_start_s += self._stride_s
            self._stride_s = self._draw_stride()
        self.phase_ = (t_s - self._stride_start_s) / self._stride_s

    def torques(
        self, t_s: float, q: FloatArray, qd: FloatArray, right_contact: bool
    ) -> FloatArray:
        """The patient's joint torques (N·m) at time ``t_s``, joint state ``q``, ``qd``.

        ``right_contact`` (does the right foot touch the ground) entrains the rhythm: a foot
        strike after at least :data:`~rehabbot.body.gait_cycle.MIN_SWING_S` of swing, late in the
        stride, with the knee nearly straight (:data:`MAX_STRIKE_KNEE_RAD`; a toe scuffing the
        belt in swing is none), starts the next stride. Call it once per simulator step, in time
        order (the reflexes keep a history).
        """
        self._advance_rhythm(t_s, right_contact, q)
        q_int, dq_int = self._intent.evaluate(self.phase_)
        leg_phase = (self.phase_ - self._leg_offset) % 1.0
        q_int -= self._hyperextension * _window(leg_phase, STANCE_PHASES)
        strength = 1.0 - self.profile.fatigue_pct / 100.0 * -math.expm1(
            -t_s / self.profile.fatigue_time_constant_s)
        active = strength * (self._active_stiffness * (q_int - q) + self._active_damping * (
            dq_int / self._stride_s - qd))
        tau: FloatArray = active + self.passive_torques(q, qd) + self._reflex(t_s, qd)
        tau -= self._drop_foot * _window(leg_phase, SWING_PHASES)
        return tau

    def passive_torques(self, q: FloatArray, qd: FloatArray) -> FloatArray:
        """The joints' passive torques (N·m) at angles ``q`` (rad), velocities ``qd`` (rad/s).

        Linear stiffness and damping about the rest angles plus the end stops of the passive
        range of motion: from :data:`END_STOP_WIDTH_RAD` inside a limit on, a moment
        ``T (exp(r x) - 1) / (exp(r w) - 1)`` pushes back, ``x`` the depth into the stop, ``w``
        its width, ``r`` :data:`END_STOP_RATE_PER_RAD` and ``T`` :data:`END_STOP_TORQUE_NM`, the
        moment at the limit (after Amankwah et al. 2004's exponential terms, but exactly zero
        inside the range). ``q`` and ``qd`` may have leading dimensions (rows of joint arrays).
        """
        rate = END_STOP_RATE_PER_RAD
        into_flexion = np.maximum(q - (self._rom_flexion - END_STOP_WIDTH_RAD), 0.0)
        into_extension = np.maximum(self._rom_extension + END_STOP_WIDTH_RAD - q, 0.0)
        end_stops = (END_STOP_TORQUE_NM / math.expm1(rate * END_STOP_WIDTH_RAD)) * (
            np.expm1(rate * into_extension) - np.expm1(rate * into_flexion))
        tau: FloatArray = -self._stiffness * (q - self._rest) - self._damping * qd + end_stops
        return tau

    def _reflex(self, t_s: float, qd: FloatArray) -> FloatArray:
        """Push ``qd`` into the reflex delay lines; the stretch-reflex torques (N·m) now."""
        for index, reflex, line in self._reflexes:
            v = line.push(t_s, float(qd[index]))
            excess = max(abs(v) - reflex.threshold_rad_s, 0.0)
            self.reflex_torques_[index] = -math.copysign(reflex.gain_nms_per_rad * excess, v)
        return self.reflex_torques_

    def max_voluntary_torques(self, q: FloatArray) -> tuple[FloatArray, FloatArray]:
        """The largest voluntary (flexion, extension) torques (N·m, both >= 0) at angles ``q``.

        ``ability x body mass x`` :data:`MAX_VOLUNTARY_TORQUE_NM_PER_KG`, fading linearly to zero
        over the last :data:`ACTIVE_FADE_RAD` before the passive limit it moves toward.
        """
        flexion = self._max_flexion * np.clip((self._rom_flexion - q) / ACTIVE_FADE_RAD, 0.0, 1.0)
        extension = self._max_extension * np.clip(
            (q - self._rom_extension) / ACTIVE_FADE_RAD, 0.0, 1.0)
        return flexion, extension

    def set_task(self, task: PatientTask | None, t_s: float, q: FloatArray) -> None:
        """Give the patient ``task`` from time ``t_s`` (s) on, the joints then at ``q`` (rad);
        ``None`` ends it. :meth:`task_torques` then gives the patient's torques.

        Raises:
            ConfigurationError: the task's joint is not simulated.
        """
        start_q = q[self._index(task.joint)] if task is not None and task.joint else 0.0
        self.task_ = task
        self._task_start = (t_s, float(start_q))

    def task_torques(self, t_s: float, q: FloatArray, qd: FloatArray) -> FloatArray:
        """The patient's torques (N·m) doing :attr:`task_` (see :class:`PatientTask`).

        Every joint has its passive torques and stretch reflexes; the task's joint, if any, adds
        the voluntary torque. Call it once per simulator step, in time order.

        Raises:
            ConfigurationError: no task was given (:meth:`set_task`).
        """
        task = self.task_
        if task is None:
            raise ConfigurationError("the simulated patient has no task: call set_task first")
        tau: FloatArray = self.passive_torques(q, qd) + self._reflex(t_s, qd)
        if task.joint is not None:
            i = self._index(task.joint)
            start_s, start_q = self._task_start
            reach = REACH_SPEED_RAD_S * (t_s - start_s)
            intended = start_q + DIRECTION_SIGN[task.direction] * reach
            flexion, extension = self.max_voluntary_torques(q)
            spring = self._active_stiffness[i] * (intended - q[i])
            tau[i] += min(max(spring, -extension[i]), flexion[i]) - self._active_damping[i] * qd[i]
        return tau

    def max_voluntary_torque(self, joint: str, direction: Direction, q_rad: float) -> float:
        """True answer of an isometric test: the largest voluntary torque (N·m, >= 0) of
        ``joint`` in ``direction`` held at ``q_rad`` (rad)."""
        i = self._index(joint)
        q = self._rest.copy()
        q[i] = q_rad
        flexion, extension = self.max_voluntary_torques(q)
        return float((flexion if direction == "flexion" else extension)[i])

    def passive_limit_rad(self, joint: str, direction: Direction, torque_nm: float) -> float:
        """True answer of a passive ROM test: the angle (rad) of ``joint`` at which its passive
        torque resists a slow motion in ``direction`` with ``torque_nm`` (N·m).

        Raises:
            ConfigurationError: ``torque_nm`` is not positive, or ``joint`` has no end stops.
        """
        if not (math.isfinite(torque_nm) and torque_nm > 0.0):
            raise ConfigurationError(f"passive limit: torque_nm = {torque_nm} must be > 0")
        angles, resistance, _ = self._sweep(joint, direction)
        return float(np.interp(torque_nm, resistance, angles))

    def active_limit_rad(self, joint: str, direction: Direction) -> float:
        """True answer of an active ROM test with the leg's weight compensated: the angle (rad)
        at which the largest voluntary torque of ``joint`` in ``direction`` equals its passive
        resistance.

        Raises:
            ConfigurationError: ``joint`` has no end stops.
        """
        angles, resistance, voluntary = self._sweep(joint, direction)
        return float(np.interp(0.0, resistance - voluntary, angles))

    def _sweep(self, joint: str, direction: Direction) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Angles (rad) of ``joint`` from its rest angle to 30 deg past its passive limit in
        ``direction`` (other joints at rest), the passive resistance against that motion (N·m)
        and the largest voluntary torque in that direction (N·m) at each."""
        i = self._index(joint)
        flexing = direction == "flexion"
        limit = float((self._rom_flexion if flexing else self._rom_extension)[i])
        if not math.isfinite(limit):
            raise ConfigurationError(f"joint {joint!r} has no passive range of motion")
        sign = DIRECTION_SIGN[direction]
        angles = np.linspace(self._rest[i], limit + sign * math.radians(30.0), 20001)
        q = np.tile(self._rest, (angles.size, 1))
        q[:, i] = angles
        resistance = -sign * self.passive_torques(q, np.zeros_like(q))[:, i]
        flexion, extension = self.max_voluntary_torques(q)
        return angles, resistance, (flexion if flexing else extension)[:, i]

    def _index(self, joint: str) -> int:
        if joint not in self.joint_names:
            raise ConfigurationError(
                f"joint {joint!r} is not simulated (joints: {', '.join(self.joint_names)})")
        return self.joint_names.index(joint)




@dataclass(frozen=True)
class PatientTask:
    """What the patient is asked to do in a robot-based assessment, instead of walking.

    ``joint`` ``None``: relax (only passive torques and stretch reflexes act). Otherwise the
    patient pushes ``joint`` as hard as they can in ``direction``, the other joints relaxed. As
    in walking (equilibrium-point control), the voluntary torque is the active stiffness pulling
    toward an intended angle, ``K (q_int - q) - B q̇``; here ``q_int`` leaves the joint's angle at
    the task's start at :data:`REACH_SPEED_RAD_S` in ``direction`` and never stops, and the spring
    term is bounded by the largest voluntary torques at the present angle
    (:meth:`PatientModel.max_voluntary_torques`). Held by the robot this is a maximal isometric
    contraction; with the robot transparent, an active reach that ends where the largest
    voluntary torque equals the passive resistance.

    Attributes:
        joint: the joint to move (a simulator joint name), or ``None`` to relax.
        direction: ``"flexion"`` or ``"extension"``.

    >>> PatientTask("knee_angle_l", "extension").direction
    'extension'
    """

    joint: str | None = None
    direction: Direction = "flexion"

    def __post_init__(self) -> None:
        if self.direction not in DIRECTION_SIGN:
            raise ConfigurationError(
                f"patient task: direction {self.direction!r} is not 'flexion' or 'extension'")


#: The relaxed patient of a passive test.
RELAX = PatientTask()
