"""Accuracy of the kinematic gait events (hip and knee angles only) against ground truth.

Two data sets:

* **reference trials** (``../shared/data/gait/``, ground truth in its ``events.json``: force-plate
  20 N crossings for the OpenSim trial, the labelled events of the C3D trial). The overground bias
  is fitted leave-one-trial-out: each trial is scored with the bias fitted on the other one, so no
  trial is scored with a bias that saw it. The pooled fit over both trials is printed next to the
  shipped constant ``OVERGROUND``.
* **simulation**: 60 s sessions of the simulated exoskeleton, ground truth from the simulator's
  cleaned foot contact. The bias is fitted on two sessions of the healthy patient (seed 0 at 100 %
  guidance, seed 1 at 70 %) and scored on three others (healthy: seed 2 at 85 %, seed 6 at 60 %;
  left hemiparetic stroke: seed 7 at 85 %); the first 2 s of each session
  (the start-up stride from standing) and its last 0.5 s (where an event cannot be told from the
  edge of the data) are not scored.

Both detection methods (``kinematic_events.METHODS``: ``reach``, one leg's forward reach extrema;
``drop``, the swing foot coming down to the stance foot's level) are scored on both data sets, each
with its own fitted bias; the method each context ships with (``OVERGROUND.method``,
``EXOSKELETON.method``) is marked "shipped".

For each event type it prints the mean, SD and maximum of the absolute error (ms), the mean signed
error (ms, positive = detected late), the detection rate (%) and the number of false events.

Usage: ``python benchmarks/events_accuracy.py [--skip-sim] [--duration 60]``
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from rehabbot.assessment.contact_events import foot_offs, foot_strikes
from rehabbot.assessment.event_accuracy import Matching, fit_bias_s, match_events
from rehabbot.assessment.kinematic_events import (
    EXOSKELETON,
    METHODS,
    OVERGROUND,
    SIDES,
    EventBias,
    raw_events,
)
from rehabbot.assessment.labfiles import read_gait_file
from rehabbot.hal.types import FloatArray

GAIT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "gait"
TRIALS = {"opensim_subject01_walk": "opensim_subject01_walk_ik.mot", "ktk_walk": "ktk_walk.c3d"}
EVENT_TYPES = ("foot_strike", "foot_off")
#: (seed, guidance %, patient profile) of the simulated sessions the exoskeleton bias is fitted
#: on, and scored on: the healthy patient at other guidance levels, and a hemiparetic one.
SIM_TRAIN = ((0, 100.0, "healthy"), (1, 70.0, "healthy"))
SIM_TEST = ((2, 85.0, "healthy"), (6, 60.0, "healthy"), (7, 85.0, "stroke_left"))
#: Simulated events before this time (s) belong to the start-up from standing and are not scored.
SIM_SETTLE_S = 2.0
#: Events in the last SIM_TAIL_S (s) of a session are not scored: an extremum of the reach there
#: cannot be told from the edge of the data (the detector never reports it, by design).
SIM_TAIL_S = 0.5

Truth = dict[str, dict[str, FloatArray]]
RawErrors = dict[str, Matching]


def raw_matchings(t_s: FloatArray, angles: dict[str, FloatArray], truth: Truth,
                  window_s: tuple[float, float] = (-np.inf, np.inf)) -> dict[str, RawErrors]:
    """Uncorrected (zero-bias) matchings per method and event type, both sides pooled."""
    result = {}
    for method in METHODS:
        parts: dict[str, list[Matching]] = {ev: [] for ev in EVENT_TYPES}
        both = raw_events(t_s, angles, method)
        for side in SIDES:
            for ev, found in zip(EVENT_TYPES, both[side], strict=True):
                parts[ev].append(match_events(found, truth[side][ev], window_s=window_s))
        result[method] = {ev: Matching.combine(parts[ev]) for ev in EVENT_TYPES}
    return result


def method_title(method: str, shipped: EventBias) -> str:
    """The method's name, marked when it is the one the context ships with."""
    return f"method {method}" + (" (shipped)" if method == shipped.method else "")


def shifted(raw: Matching, bias_s: float) -> Matching:
    """The matching after adding ``bias_s`` (s) to every detected event."""
    return Matching(raw.errors_s + bias_s, raw.n_true, raw.n_false)


def accuracy_table(title: str, rows: dict[str, Matching]) -> Table:
    """A table of the accuracy figures of each event type."""
    table = Table(title=title, title_justify="left")
    for column in ("event", "found / true", "mean |err| (ms)", "SD (ms)", "max (ms)",
                   "mean err (ms)", "detected (%)", "false events"):
        table.add_column(column, justify="right")
    for ev, m in rows.items():
        s = m.summary_ms()
        table.add_row(ev.replace("_", " "), f"{m.errors_s.size} / {m.n_true}",
                      f"{s['mae_ms']:.1f}", f"{s['sd_ms']:.1f}", f"{s['max_ms']:.1f}",
                      f"{s['bias_ms']:+.1f}", f"{s['detection_pct']:.1f}",
                      str(int(s["false_events"])))
    return table


def reference_trials(console: Console) -> None:
    """Leave-one-trial-out accuracy on the shared reference trials, for each method."""
    if not GAIT_DATA.is_dir():
        raise SystemExit(f"reference data not found at {GAIT_DATA} (shared/ beside the checkout)")
    truth_file = json.loads((GAIT_DATA / "events.json").read_text(encoding="utf-8"))
    raw: dict[str, dict[str, RawErrors]] = {}
    for trial, filename in TRIALS.items():
        recording = read_gait_file(GAIT_DATA / filename)
        truth = {side: {ev: np.asarray(truth_file[trial][side][ev], dtype=float)
                        for ev in EVENT_TYPES} for side in SIDES}
        raw[trial] = raw_matchings(recording.t_s, recording.angles_rad, truth)
    for method in METHODS:
        title = f"Reference trials, {method_title(method, OVERGROUND)}"
        if any(raw[t][method][ev].errors_s.size == 0 for t in TRIALS for ev in EVENT_TYPES):
            found = {ev: sum(raw[t][method][ev].errors_s.size for t in TRIALS)
                     for ev in EVENT_TYPES}
            console.print(f"{title}: a trial has no matched event of a type, no leave-one-trial-"
                          f"out fit (found: {found}; the method needs a level pelvis)")
            continue
        scored = {}
        for ev in EVENT_TYPES:
            parts = []
            for trial in TRIALS:
                others = Matching.combine(raw[o][method][ev] for o in TRIALS if o != trial)
                parts.append(shifted(raw[trial][method][ev], fit_bias_s(others)))
            scored[ev] = Matching.combine(parts)
        console.print(accuracy_table(f"{title} (leave-one-trial-out bias)", scored))
    shipped = OVERGROUND.method
    pooled = {ev: fit_bias_s(Matching.combine(raw[t][shipped][ev] for t in TRIALS))
              for ev in EVENT_TYPES}
    console.print(f"overground bias ({shipped}) fitted on both trials (s): foot strike "
                  f"{pooled['foot_strike']:+.4f}, foot off {pooled['foot_off']:+.4f} · shipped "
                  f"OVERGROUND: {OVERGROUND.foot_strike_s:+.4f}, {OVERGROUND.foot_off_s:+.4f}")


def simulated_raw(seed: int, guidance_pct: float, profile: str, duration_s: float, store: Path
                  ) -> tuple[str, dict[str, RawErrors]]:
    """Run a simulated session; its status and its uncorrected events matched with contact."""
    from rehabbot.hal.config import load_robot_config
    from rehabbot.protocols.schema import load_protocol
    from rehabbot.session.runner import SessionRequest, SessionRunner
    from rehabbot.storage.store import SessionStore

    request = SessionRequest(robot=load_robot_config(), protocol=load_protocol(),
                             store_path=store, duration_s=duration_s,
                             guidance_pct=guidance_pct, seed=seed, profile=profile)
    result = SessionRunner(request).run(lambda t: None)
    with SessionStore.open(store) as st:
        samples = st.load_samples(result.session_id)
    names = samples.joint_names
    angles = {name: samples.q[:, j] for j, name in enumerate(names)}
    finders: Sequence[Callable[[FloatArray, np.ndarray], FloatArray]] = (foot_strikes, foot_offs)
    truth = {side: {ev: find(samples.t_s, samples.contact[:, k])
                    for ev, find in zip(EVENT_TYPES, finders, strict=True)}
             for k, side in enumerate(SIDES)}
    window = (SIM_SETTLE_S, float(samples.t_s[-1]) - SIM_TAIL_S)
    return result.status, raw_matchings(samples.t_s, angles, truth, window_s=window)


def simulation(console: Console, duration_s: float) -> None:
    """Exoskeleton bias fitted on some simulated sessions, accuracy on others, for each method."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "events.sqlite"
        train = [simulated_raw(*session, duration_s, store) for session in SIM_TRAIN]
        test = [simulated_raw(*session, duration_s, store) for session in SIM_TEST]
    for method in METHODS:
        bias = {ev: fit_bias_s(Matching.combine(r[method][ev] for _, r in train))
                for ev in EVENT_TYPES}
        title = method_title(method, EXOSKELETON)
        console.print(f"exoskeleton bias, {title}, fitted on {SIM_TRAIN} (seed, guidance %, "
                      "profile) (s): "
                      f"foot strike {bias['foot_strike']:+.4f}, foot off {bias['foot_off']:+.4f}"
                      + (f" · shipped EXOSKELETON: {EXOSKELETON.foot_strike_s:+.4f}, "
                         f"{EXOSKELETON.foot_off_s:+.4f}" if method == EXOSKELETON.method else ""))
        for (seed, guidance, profile), (status, raw) in zip(SIM_TEST, test, strict=True):
            rows = {ev: shifted(raw[method][ev], bias[ev]) for ev in EVENT_TYPES}
            console.print(accuracy_table(f"Simulation, {title}, {profile}, seed {seed}, "
                                         f"guidance {guidance:g} % ({duration_s:g} s, {status})",
                                         rows))
        pooled = {ev: Matching.combine(shifted(r[method][ev], bias[ev]) for _, r in test)
                  for ev in EVENT_TYPES}
        console.print(accuracy_table(f"Simulation, {title}, test sessions pooled", pooled))


def main() -> None:
    """Print the accuracy tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-sim", action="store_true", help="reference trials only")
    parser.add_argument("--duration", type=float, default=60.0, help="simulated session (s)")
    args = parser.parse_args()
    console = Console(width=110)
    reference_trials(console)
    if not args.skip_sim:
        simulation(console, args.duration)


if __name__ == "__main__":
    main()
