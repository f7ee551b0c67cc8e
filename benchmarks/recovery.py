"""Recovery after a stop: how long a session walks after an accepted reset before it faults again.

Usage::

    python benchmarks/recovery.py [--profile stroke_left] [--seeds 0 1 2] [--after 10]
        [--release 1.0]

A lockstep in-process session (``sim_exo``, the standard protocol) is stopped with E-STOP at
4 s of walking; E-STOP is released ``--release`` seconds later (default 1 s); then the
therapist's path is followed, as the
console does it: hold-to-run recovery (F7) held while a reset (F3) is asked every 0.1 s until the
supervisor accepts it. The script prints, per seed, when the reset was accepted, the belt speed
then, and how long the session walked after it without a new fault (up to ``--after`` seconds;
"no fault" when it walked that long). Everything runs on the loop's thread from the live sample
sink, at tick boundaries, so a seed gives the same figures on every machine.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from rehabbot.hal.config import load_robot_config
from rehabbot.protocols.schema import load_protocol
from rehabbot.session.runner import SessionRequest, SessionRunner
from rehabbot.storage.samples import Sample

ESTOP_AT_S = 4.0
RELEASE_AFTER_S = 1.0
RESET_EVERY_S = 0.1


class Therapist:
    """Presses E-STOP, releases it, holds F7 and presses F3 until the reset is accepted; then
    watches for the next fault (a live sample sink: runs on the loop's thread)."""

    def __init__(self, runner: SessionRunner, after_s: float,
                 release_after_s: float = RELEASE_AFTER_S) -> None:
        self.runner = runner
        self.release_after_s = release_after_s
        self.after_s = after_s
        self.accepted_at: float | None = None
        self.refault_at: float | None = None
        self.refault = ""
        self.resets = 0
        self._next_reset = 0.0

    def push(self, sample: Sample) -> None:
        t_s = sample.t_s
        loop = self.runner.loop
        if loop is None or self.runner.assessing:
            return
        supervisor = loop.supervisor
        if self.accepted_at is None:
            if t_s >= ESTOP_AT_S and not supervisor.faults_ and self.resets == 0:
                supervisor.estop(True)
            elif t_s >= ESTOP_AT_S + self.release_after_s and supervisor.faults_:
                supervisor.estop(False)
                supervisor.recover(True)
                if t_s >= self._next_reset:
                    self._next_reset = t_s + RESET_EVERY_S
                    self.resets += 1
                    loop.request_reset()
            elif self.resets and not supervisor.faults_ and supervisor.reaction_ is None:
                self.accepted_at = t_s
                supervisor.recover(False)
        elif self.refault_at is None and supervisor.faults_:
            self.refault_at = t_s
            self.refault = supervisor.faults_[0].describe()
            self.runner.request_stop()
        elif self.refault_at is None and t_s >= self.accepted_at + self.after_s:
            self.runner.request_stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="stroke_left")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--release", type=float, default=RELEASE_AFTER_S,
                        help="seconds from the E-STOP press to its release and the first reset")
    parser.add_argument("--after", type=float, default=10.0,
                        help="seconds of walking after the reset that count as recovered")
    args = parser.parse_args()
    print(f"profile {args.profile}: E-STOP at {ESTOP_AT_S:g} s, released "
          f"{args.release:g} s later, F7 held + F3 every {RESET_EVERY_S:g} s")
    print("seed  resets  accepted at (s)  walked after reset (s)")
    with tempfile.TemporaryDirectory() as folder:
        for seed in args.seeds:
            request = SessionRequest(robot=load_robot_config(), protocol=load_protocol(),
                                     store_path=Path(folder) / "store.sqlite",
                                     duration_s=ESTOP_AT_S + 60.0, seed=seed,
                                     profile=args.profile)
            runner = SessionRunner(request)
            therapist = Therapist(runner, args.after, args.release)
            runner.request.live = therapist
            runner.run()
            if therapist.accepted_at is None:
                print(f"{seed:4d}  {therapist.resets:6d}  never")
                continue
            if therapist.refault_at is None:
                walked = f">= {args.after:g}, no fault"
            else:
                walked = (f"{therapist.refault_at - therapist.accepted_at:.3f}, "
                          f"then {therapist.refault}")
            print(f"{seed:4d}  {therapist.resets:6d}  {therapist.accepted_at:15.3f}  {walked}")


if __name__ == "__main__":
    main()
