"""Runtime: the control loop, its clocks and timing statistics, real-time settings, thread and
process priorities, and the shared-memory ring that carries live samples out of the loop."""
