"""The simulator: a person in the exoskeleton on a treadmill, reached through the CAN path.

Anthropometry (:mod:`~rehabbot.sim.anthropometry`), the URDF (:mod:`~rehabbot.sim.body`), the
pybullet treadmill world (:mod:`~rehabbot.sim.world`), the patient model and profiles
(:mod:`~rehabbot.sim.patient`), emulated MIT and CiA 402 drives, and
:class:`~rehabbot.sim.simulator.SimulatedExoskeleton`, which binds them on virtual CAN buses.
"""
