"""Runtime: the control loop, its clocks and its timing statistics."""
