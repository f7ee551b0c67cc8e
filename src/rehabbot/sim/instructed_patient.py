"""The simulated patient who does what a robot assessment asks, and walks otherwise.

A real patient hears the therapist ("relax", "push as hard as you can toward flexion"); the
simulated one gets the same instruction as a :class:`~rehabbot.sim.patient.PatientTask`
through :meth:`InstructedPatient.instruct` (from the in-process plant, or from the emulated
robot's side channel). The task takes effect at the next simulation step, with that step's time
and joint angles as its start; ``None`` ends it and the patient walks again.

A person doing a task is never perfectly still: muscle force fluctuates (force steadiness: a
coefficient of variation of a few percent of a held contraction, Enoka et al. 2003), and a
relaxed person breathes and sways in the harness. During a task every joint gets a fluctuating
torque, low-pass filtered Gaussian noise (an Ornstein-Uhlenbeck process with time constant
:data:`FLUCTUATION_TIME_S`) with a standard deviation of :data:`FLUCTUATION_NM` plus
:data:`FLUCTUATION_SHARE` of the joint's task torque, drawn from the patient's seed. A robot that
holds a joint therefore reads it move by an encoder count or so, as on a real robot, where the
frozen-sensor monitor tells a held joint from a dead encoder.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

from rehabbot.hal.types import FloatArray
from rehabbot.sim.patient import PatientModel, PatientTask
from rehabbot.sim.simulator import SimulatedExoskeleton, SimulationSettings

#: Standard deviation of a relaxed joint's fluctuating torque (N·m).
FLUCTUATION_NM = 0.2
#: Share of a joint's task torque added to that standard deviation.
FLUCTUATION_SHARE = 0.02
#: Time constant of the fluctuation (s).
FLUCTUATION_TIME_S = 0.05


class InstructedPatient(PatientModel):
    """The simulator's own patient, ``person``, taking instructions (module docstring).

    A view of that person, not a second model: reading an attribute reads the person's, walking
    is the person's own :meth:`~PatientModel.torques` (so whatever wraps it, e.g. a benchmark
    recording the patient's torques, still sees every walking step), and a task or the belt's
    state is set on the person. Only :meth:`torques`, :meth:`instruct` and :meth:`feel_belt` are
    the view's own.

    >>> from rehabbot.sim.patient import RELAX
    >>> from rehabbot.sim.patient_profiles import PROFILES
    >>> import numpy as np
    >>> person = PatientModel(("knee_angle_r",), PROFILES["healthy"], 75.0, 90.0, 0)
    >>> patient = InstructedPatient(person, seed=0)
    >>> patient.instruct(RELAX)
    >>> q = np.array([0.3]); qd = np.zeros(1)
    >>> tau = patient.torques(0.0, q, qd, True)
    >>> bool(abs(tau[0] - person.passive_torques(q, qd)[0]) < 1.0), person.task_ is RELAX
    (True, True)
    """

    _NOTHING: tuple[()] = ()

    def __init__(self, person: PatientModel, seed: int) -> None:
        """A view of ``person`` whose fluctuation is drawn from ``seed`` (the model's own
        initialisation is not run: its state is the person's)."""
        self.person = person
        self._fluctuation_rng = np.random.default_rng([seed, 1])
        self._fluctuation = np.zeros(len(person.joint_names))
        self._fluctuation_t_s: float | None = None
        self._lock = threading.Lock()
        self._pending: tuple[PatientTask | None] | tuple[()] = self._NOTHING

    def __getattr__(self, name: str) -> Any:
        """The person's attribute ``name`` (called only for names the view has not)."""
        if name == "person":  # not yet set (e.g. while copying): no recursion
            raise AttributeError(name)
        return getattr(self.person, name)

    def feel_belt(self, moving: bool, stops_in_s: float = 0.0) -> None:
        """The person feels the belt start or stop (:meth:`PatientModel.feel_belt`)."""
        self.person.feel_belt(moving, stops_in_s)

    def instruct(self, task: PatientTask | None) -> None:
        """Do ``task`` from the next step on (``None``: walk again); from any thread."""
        with self._lock:
            self._pending = (task,)

    def torques(
        self, t_s: float, q: FloatArray, qd: FloatArray, right_contact: bool
    ) -> FloatArray:
        """The person's task torques while a task is given (:meth:`PatientModel.task_torques`,
        with the fluctuation), else their walking torques (:meth:`PatientModel.torques`)."""
        person = self.person
        if self._pending:
            with self._lock:
                pending, self._pending = self._pending, self._NOTHING
            if pending:
                person.set_task(pending[0], t_s, q)
        if person.task_ is None:
            self._fluctuation_t_s = None
            return person.torques(t_s, q, qd, right_contact)
        tau = person.task_torques(t_s, q, qd)
        return tau + self._fluctuate(t_s) * (FLUCTUATION_NM + FLUCTUATION_SHARE * np.abs(tau))

    def _fluctuate(self, t_s: float) -> FloatArray:
        """Advance the unit-variance fluctuation to ``t_s`` (s); its values per joint."""
        dt = 0.0 if self._fluctuation_t_s is None else max(t_s - self._fluctuation_t_s, 0.0)
        self._fluctuation_t_s = t_s
        keep = math.exp(-dt / FLUCTUATION_TIME_S)
        self._fluctuation *= keep
        self._fluctuation += math.sqrt(1.0 - keep * keep) * self._fluctuation_rng.standard_normal(
            self._fluctuation.size)
        return self._fluctuation


def instructed(sim: SimulatedExoskeleton, settings: SimulationSettings) -> InstructedPatient:
    """Let the patient of ``sim`` (built with ``settings``) take instructions: the same person,
    so that walking is unchanged."""
    patient = InstructedPatient(sim.patient, settings.seed)
    sim.patient = patient
    return patient
