"""Controllers: what the robot does each tick, from the state read to the command written.

Modes (each a :class:`~rehabbot.controllers.base.Controller` with bounded, live parameters):

- :mod:`~rehabbot.controllers.transparent`: zero impedance plus gravity and friction compensation;
- :mod:`~rehabbot.controllers.impedance`: guidance along the normative gait at a set level;
- :mod:`~rehabbot.controllers.assist_as_needed`: guidance learned from the tracking error;
- :mod:`~rehabbot.controllers.path_control`: a tunnel around the gait path (timing left free);
- :mod:`~rehabbot.controllers.sysid`: chirp and step excitation, joint-parameter estimation.

Their building blocks: the gait reference (:mod:`~rehabbot.body.normative_gait`), the gait-phase
sources (:mod:`~rehabbot.controllers.gait_phase`, :mod:`~rehabbot.controllers.adaptive_oscillator`,
:mod:`~rehabbot.controllers.phase_portrait`, :mod:`~rehabbot.controllers.phase_sources`) and the
model compensation (:mod:`~rehabbot.controllers.compensation`). docs/controllers.md explains each
law, its parameters and how the modes compare on simulated patients.
"""
