"""rehabbot: a Python toolkit for rehabilitation exoskeletons.

The hardware abstraction layer (:mod:`rehabbot.hal`) drives joint motors over CAN, the simulator
(:mod:`rehabbot.sim`) answers on the same CAN path, and :mod:`rehabbot.protocols` runs therapy
sessions that :mod:`rehabbot.storage` records.
"""

__version__ = "0.1.0"
