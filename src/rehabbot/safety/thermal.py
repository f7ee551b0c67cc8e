"""Motor ratings and a first-order thermal model of each joint's motor winding.

The winding heats with its copper losses and cools towards its reference temperature::

    I = tau_joint / (kt * gear_ratio)        (A; kt at the actuator's output shaft)
    P = I**2 * R                             (W)
    tau_th * d(rise)/dt = P * R_th - rise    (rise above the reference, K)
    T_winding = max(T_ambient, T_drive) + rise

``T_drive`` is the temperature the drive reports, used as the reference when it is the higher.
The model is discretized exactly for a torque held over each control period, so its response to
a torque step is the closed form ``rise(t) = P * R_th * (1 - exp(-t / tau_th))`` at every tick.

Default ratings (:data:`MOTOR_RATINGS`): torque constants are the manufacturers' rotor torque
constants times the actuator's internal gear ratio; continuous torques are the manufacturers'
rated torques; the winding resistances are nominal. CubeMars/T-Motor publish no thermal data, so
each thermal resistance is derived from the rule "the rated continuous torque heats the winding
by ``rated_rise_k`` at steady state" (with the defaults, 25 °C ambient + 65 K = the 90 °C warning
level), and the time constants are estimates by motor size. Measure your actuators (hold a torque,
fit the exponential) and pass :class:`MotorRating` values of your own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rehabbot.errors import ConfigurationError

if TYPE_CHECKING:
    from rehabbot.hal.config import RobotConfig


@dataclass(frozen=True)
class MotorRating:
    """Electrical, thermal and continuous-torque rating of one actuator model (output shaft).

    Attributes:
        name: the model's name, e.g. ``"AK10-9"``.
        torque_constant_nm_per_a: output-shaft torque per ampere (N·m/A).
        winding_resistance_ohm: resistance the current heats (Ω).
        thermal_resistance_k_per_w: winding-to-ambient thermal resistance (K/W).
        time_constant_s: thermal time constant (s).
        continuous_torque_nm: rated continuous (RMS) torque at the output shaft (N·m).
        warn_c: winding temperature of the warning (°C).
        fault_c: winding temperature of the fault (°C).

    >>> m = MotorRating.from_rated_rise("X", 1.0, 0.1, continuous_torque_nm=10.0,
    ...                                 time_constant_s=60.0, rated_rise_k=50.0)
    >>> round(m.thermal_resistance_k_per_w, 6)  # 10 N·m = 10 A -> 10 W -> 50 K
    5.0
    """

    name: str
    torque_constant_nm_per_a: float
    winding_resistance_ohm: float
    thermal_resistance_k_per_w: float
    time_constant_s: float
    continuous_torque_nm: float
    warn_c: float = 90.0
    fault_c: float = 110.0

    def __post_init__(self) -> None:
        for name in ("torque_constant_nm_per_a", "winding_resistance_ohm",
                     "thermal_resistance_k_per_w", "time_constant_s", "continuous_torque_nm"):
            if not getattr(self, name) > 0:
                raise ValueError(f"MotorRating {self.name}: {name} must be positive")
        if not self.warn_c < self.fault_c:
            raise ValueError(f"MotorRating {self.name}: warn_c must be below fault_c")

    @classmethod
    def from_rated_rise(
        cls,
        name: str,
        torque_constant_nm_per_a: float,
        winding_resistance_ohm: float,
        *,
        continuous_torque_nm: float,
        time_constant_s: float,
        rated_rise_k: float = 65.0,
    ) -> MotorRating:
        """A rating whose thermal resistance makes the continuous torque heat the winding by
        ``rated_rise_k`` (K) at steady state."""
        current_a = continuous_torque_nm / torque_constant_nm_per_a
        return cls(
            name, torque_constant_nm_per_a, winding_resistance_ohm,
            rated_rise_k / (current_a**2 * winding_resistance_ohm), time_constant_s,
            continuous_torque_nm,
        )


#: Default ratings per motor model (see the module's docstring for where the numbers come from).
MOTOR_RATINGS: dict[str, MotorRating] = {
    name: MotorRating.from_rated_rise(
        name, kt, resistance, continuous_torque_nm=torque, time_constant_s=time_constant)
    for name, kt, resistance, torque, time_constant in (
        # model, rotor kt × internal gear (N·m/A), R (Ω), rated torque (N·m), τ_th (s)
        ("AK80-9", 0.091 * 9, 0.17, 9.0, 120.0),
        ("AK70-10", 0.095 * 10, 0.13, 8.3, 120.0),
        ("AK60-6", 0.068 * 6, 0.28, 3.0, 90.0),
        ("AK10-9", 0.16 * 9, 0.09, 18.0, 180.0),
        ("AK80-6", 0.091 * 6, 0.17, 6.0, 120.0),
        ("AK80-64", 0.119 * 80, 0.17, 48.0, 180.0),
        # the example CiA 402 parameter sets of rehabbot.hal.drives.cia402 (example values too)
        ("EPOS-G50", 0.0255 * 50, 0.6, 15.0, 120.0),
        ("ELMO-G100", 0.05 * 100, 0.5, 25.0, 180.0),
        ("COPLEY-G30", 0.07 * 30, 0.8, 10.0, 120.0),
    )
}


def motor_rating(name: str) -> MotorRating:
    """The default rating of motor model ``name``.

    Raises:
        ConfigurationError: no default for that model; the message lists the known ones.
    """
    try:
        return MOTOR_RATINGS[name]
    except KeyError:
        known = ", ".join(sorted(MOTOR_RATINGS))
        raise ConfigurationError(
            f"no thermal rating for motor model {name!r} (known: {known}); add one to "
            "rehabbot.safety.thermal.MOTOR_RATINGS (a drive plug-in may do so when imported) or "
            "pass the supervisor Actuator values with a MotorRating of your own"
        ) from None


@dataclass(frozen=True)
class Actuator:
    """A joint's motor behind its external transmission.

    Attributes:
        motor: the motor's rating.
        gear_ratio: motor turns per joint turn (the robot configuration's ``gear_ratio``).
    """

    motor: MotorRating
    gear_ratio: float = 1.0

    @property
    def continuous_torque_nm(self) -> float:
        """The continuous torque rating at the joint (N·m)."""
        return self.motor.continuous_torque_nm * self.gear_ratio

    @classmethod
    def all_from_config(cls, config: RobotConfig) -> tuple[Actuator, ...]:
        """Every joint's actuator, with the default rating of its motor model.

        Raises:
            ConfigurationError: a motor model has no default rating.
        """
        return tuple(cls(motor_rating(j.motor), j.gear_ratio) for j in config.joints)


class ThermalModel:
    """The first-order winding temperature of every joint's motor, updated once per tick.

    Args:
        actuators: one per joint, in joint order.
        period_s: the control period (s), the model's time step.
        ambient_c: ambient temperature (°C).
    """

    def __init__(self, actuators: Sequence[Actuator], period_s: float, ambient_c: float) -> None:
        motors = [a.motor for a in actuators]
        kt_joint = np.array([m.torque_constant_nm_per_a * a.gear_ratio
                             for m, a in zip(motors, actuators, strict=True)])
        resistance = np.array([m.winding_resistance_ohm for m in motors])
        r_th = np.array([m.thermal_resistance_k_per_w for m in motors])
        decay = np.exp(-period_s / np.array([m.time_constant_s for m in motors]))
        self.decay = decay.tolist()
        # rise gained in one period per (N·m)² of joint torque: R * R_th * (1 - decay) / kt²
        self._gain = (resistance * r_th * (1.0 - decay) / kt_joint**2).tolist()
        self.ambient_c = ambient_c
        self.warn_c = [m.warn_c for m in motors]
        self.fault_c = [m.fault_c for m in motors]
        self.rise_k_ = [0.0] * len(motors)
        self.temperature_c_ = [ambient_c] * len(motors)

    def update(
        self, torque_nm: Sequence[float], drive_temperature_c: Sequence[float]
    ) -> list[float]:
        """Advance one period at joint torques ``torque_nm`` (N·m); return the winding
        temperatures (°C, the model's own list, updated in place; Python floats over the
        joints: for a few joints cheaper than numpy calls)."""
        rise, temperature, ambient = self.rise_k_, self.temperature_c_, self.ambient_c
        for i, torque in enumerate(torque_nm):
            rise[i] = rise[i] * self.decay[i] + torque * torque * self._gain[i]
            drive = drive_temperature_c[i]
            # the higher of the drive's reading and the ambient; NaN (no reading): ambient
            temperature[i] = (drive if drive > ambient else ambient) + rise[i]
        return temperature
