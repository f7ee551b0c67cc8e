"""The simulator: a person in the exoskeleton on a treadmill, reached through the CAN path.

The URDF of the person in the orthosis (:mod:`~rehabbot.sim.urdf`, from the body model of
:mod:`rehabbot.body`), the pybullet treadmill world (:mod:`~rehabbot.sim.world`), the patient
model (:mod:`~rehabbot.sim.patient`) and profiles (:mod:`~rehabbot.sim.patient_profiles`),
emulated MIT and CiA 402 drives, and :class:`~rehabbot.sim.simulator.SimulatedExoskeleton`,
which binds them on virtual CAN buses.
"""
