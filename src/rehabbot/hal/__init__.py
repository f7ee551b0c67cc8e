"""The hardware abstraction layer: the robot the control loop reads and writes.

:class:`~rehabbot.hal.robot.Robot` (lifecycle, ``read``/``write``) and its CAN implementation
:class:`~rehabbot.hal.robot.CanRobot`; the joint state and command types
(:mod:`~rehabbot.hal.types`); robot configuration files (:mod:`~rehabbot.hal.config`); drive
protocols and their plug-in registry (:mod:`rehabbot.hal.drives`); the bus budget and start-up
checklist (:mod:`~rehabbot.hal.budget`, :mod:`~rehabbot.hal.startup_check`); traffic logging and
fault injection.
"""
