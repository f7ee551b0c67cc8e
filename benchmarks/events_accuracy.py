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
import csv
import json
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from rehabbot.assessment.contact_events import foot_offs, foot_strikes
from rehabbot.assessment.event_accuracy import Matching, fit_bias_s, match_events
from rehabbot.assessment.kinematic_events import (
    EXOSKELETON,
    FIT_HALF_WIDTH_S,
    OVERGROUND,
    OVERGROUND_FOOT,
    SIDES,
    EventBias,
    corrected,
    raw_events,
)
from rehabbot.assessment.lab_analysis import analyze_recording
from rehabbot.assessment.labfiles import GaitRecording, read_gait_file
from rehabbot.hal.types import FloatArray

GAIT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "gait"
TRAIN = GAIT_DATA / "train"
EVENT_TYPES = ("foot_strike", "foot_off")
#: (seed, guidance %, patient profile) of the simulated sessions the exoskeleton bias is fitted
#: on, and scored on: the healthy patient at other guidance levels, and a hemiparetic one.
SIM_TRAIN = ((0, 100.0, "healthy"), (1, 70.0, "healthy"))
SIM_TEST = ((2, 85.0, "healthy"), (6, 60.0, "healthy"), (7, 85.0, "stroke_left"))
#: Simulated events before this time (s) belong to the start-up from standing and are not scored.
SIM_SETTLE_S = 2.0
#: Methods scored on the simulated exoskeleton (it has no ankle angle, so no ``foot``).
SIM_METHODS = ("reach", "drop")
#: Events in the last SIM_TAIL_S (s) of a session are not scored: an extremum of the reach there
#: cannot be told from the edge of the data (the detector never reports it, by design).
SIM_TAIL_S = 0.5

Truth = dict[str, dict[str, FloatArray]]
RawErrors = dict[str, Matching]


@dataclass(frozen=True)
class Trial:
    """A training trial: file name, leak group (source:subject), angles, truth, and per side
    the window (s) in which a detected event without a true one counts as false."""

    name: str
    group: str
    recording: GaitRecording
    truth: Truth
    windows: dict[str, tuple[float, float]]

    @property
    def source(self) -> str:
        """The repository the trial comes from (the leak group's prefix)."""
        return self.group.split(":")[0]


def raw_matchings(t_s: FloatArray, angles: dict[str, FloatArray], truth: Truth,
                  window_s: tuple[float, float] = (-np.inf, np.inf)) -> dict[str, RawErrors]:
    """Uncorrected (zero-bias) matchings per method and event type, both sides pooled."""
    result = {}
    for method in SIM_METHODS:
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


def _truth_of(record: dict[str, Any]) -> list[tuple[str, str, float]]:
    """(side, event type, time s) of a trial's ground truth: its labelled events, else the
    force-plate (or GRF) 20 N crossings."""
    sides, kinds = {"R": "right", "L": "left"}, {"FS": "foot_strike", "FO": "foot_off"}
    if record.get("labelled_events"):
        rows = [(e["side"], e["kind"], e["t"]) for e in record["labelled_events"]]
    elif record.get("fp_events_20N"):
        rows = [(e["side"], e["kind"], e["t"]) for e in record["fp_events_20N"]]
    else:
        rows = [tuple(e) for e in record.get("grf_events_20N", [])]
    return [(sides[s], kinds[k], float(t)) for s, k, t in rows if s in sides and k in kinds]


def training_trials() -> list[Trial]:
    """The shared training trials with their truth, leak group and scoring windows.

    True events outside the recorded angles cannot be detected and are left out. A side's
    false events are counted only between its first and last true event: outside the labelled
    span an undetected event is unknown, not absent (the data's README).
    """
    if not (TRAIN / "index.tsv").is_file():
        raise SystemExit(f"training data not found at {TRAIN} (shared/ beside the checkout)")
    trials = []
    with (TRAIN / "index.tsv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            name = row["file"].split(" ")[0]
            record = json.loads((TRAIN / "events" / f"{name}.json").read_text(encoding="utf-8"))
            recording = read_gait_file(TRAIN / name)
            first, last = float(recording.t_s[0]), float(recording.t_s[-1])
            rows = _truth_of(record)
            truth = {side: {ev: np.array(sorted(t for s, k, t in rows if s == side and k == ev
                                                and first <= t <= last))
                            for ev in EVENT_TYPES} for side in SIDES}
            windows = {}
            for side in SIDES:
                times = [t for s, _, t in rows if s == side]
                windows[side] = (min(times), max(times)) if times else (np.inf, -np.inf)
            trials.append(Trial(name, row["leak_group"], recording, truth, windows))
    return trials


#: Candidate half-widths (s) of the parabola that places an extremum, chosen by LOSO.
HALF_WIDTHS_S = (0.04, 0.06, 0.08)
Raw = dict[str, tuple[FloatArray, FloatArray]]


def all_raw(trials: list[Trial], method: str) -> dict[float, list[Raw]]:
    """Uncorrected events of every trial for each candidate half-width."""
    return {h: [raw_events(tr.recording.t_s, tr.recording.angles_rad, method, h)
                for tr in trials] for h in HALF_WIDTHS_S}


def fit(raws: dict[float, list[Raw]], trials: list[Trial], keep: list[bool], method: str
        ) -> tuple[float, EventBias]:
    """The half-width and bias that fit the kept trials best: for each half-width the bias
    zeroing the mean error, then the half-width with the smallest mean |error| (FS and FO)."""
    best: tuple[float, float, EventBias] | None = None
    for h, per_trial in raws.items():
        chosen = [r for r, k in zip(per_trial, keep, strict=True) if k]
        fitted = [tr for tr, k in zip(trials, keep, strict=True) if k]
        bias = fitted_bias(chosen, fitted, method)
        errors = np.concatenate([
            np.abs(match_events(events, tr.truth[side][ev]).errors_s)
            for r, tr in zip(chosen, fitted, strict=True) for side in SIDES
            for ev, events in zip(EVENT_TYPES, (r[side][0] + bias.foot_strike_s,
                                                r[side][1] + bias.foot_off_s), strict=True)])
        if best is None or errors.mean() < best[0]:
            best = (float(errors.mean()), h, bias)
    assert best is not None
    return best[1], best[2]


def loso(trials: list[Trial], method: str, raws: dict[float, list[Raw]]
         ) -> tuple[dict[str, dict[str, Matching]], dict[str, dict[str, Matching]], list[float]]:
    """Leave-one-subject-out scores of ``method``: for each leak group, the half-width and the
    bias fitted on all other groups are applied to its trials. Returns the matchings per
    source and per subject, and the half-width chosen for each group."""
    by_source: dict[str, dict[str, list[Matching]]] = {}
    by_subject: dict[str, dict[str, list[Matching]]] = {}
    chosen = []
    for group in sorted({tr.group for tr in trials}):
        h, bias = fit(raws, trials, [tr.group != group for tr in trials], method)
        chosen.append(h)
        for raw, tr in zip(raws[h], trials, strict=True):
            if tr.group != group:
                continue
            for side in SIDES:
                events = corrected(tr.recording.t_s, raw[side], bias)
                for ev, found in zip(EVENT_TYPES, (events.foot_strike_s, events.foot_off_s),
                                     strict=True):
                    m = match_events(found, tr.truth[side][ev], window_s=tr.windows[side])
                    by_source.setdefault(tr.source, {}).setdefault(ev, []).append(m)
                    by_subject.setdefault(tr.group, {}).setdefault(ev, []).append(m)
    return _combined(by_source), _combined(by_subject), chosen


def _combined(table: dict[str, dict[str, list[Matching]]]) -> dict[str, dict[str, Matching]]:
    """Each list of matchings pooled into one."""
    return {key: {ev: Matching.combine(ms) for ev, ms in rows.items()}
            for key, rows in table.items()}


def fitted_bias(raws: list[Raw], trials: list[Trial], method: str) -> EventBias:
    """The bias (s) that zeroes the mean error of ``raws`` against the trials' truth."""
    fit = {}
    for j, ev in enumerate(EVENT_TYPES):
        fit[ev] = fit_bias_s(Matching.combine(
            match_events(raw[side][j], tr.truth[side][ev])
            for raw, tr in zip(raws, trials, strict=True) for side in SIDES))
    return EventBias(fit["foot_strike"], fit["foot_off"], method)


def refused(trials: list[Trial]) -> list[str]:
    """Trials that ``rehabbot analyze`` would refuse (no event at all from walking data)."""
    names = []
    for tr in trials:
        analysis = analyze_recording(tr.recording)
        if analysis.refusal is not None:
            names.append(tr.name)
    return names


def training_accuracy(console: Console) -> None:
    """LOSO accuracy on the shared training trials per method, source and subject, the
    all-subject fit next to the shipped constants, and the trials ``analyze`` refuses."""
    trials = training_trials()
    for method, shipped in (("reach", OVERGROUND), ("foot", OVERGROUND_FOOT)):
        raws = all_raw(trials, method)
        per_source, per_subject, widths = loso(trials, method, raws)
        pooled = {ev: Matching.combine(v[ev] for v in per_source.values())
                  for ev in EVENT_TYPES}
        console.print(accuracy_table(f"Training trials, method {method}, leave-one-subject-out "
                                     f"({len(trials)} trials, {len(per_subject)} subjects), "
                                     "all sources", pooled))
        for source, rows in sorted(per_source.items()):
            console.print(accuracy_table(f"  method {method}, source {source}", rows))
        subject_table = Table(title=f"method {method}, per subject (mean |err| ms, found/true)",
                              title_justify="left")
        for column in ("subject", "foot strike", "foot off", "false"):
            subject_table.add_column(column, justify="right")
        for group, rows in sorted(per_subject.items()):
            cells = [f"{r.summary_ms()['mae_ms']:.1f} ({r.errors_s.size}/{r.n_true})"
                     for r in (rows["foot_strike"], rows["foot_off"])]
            subject_table.add_row(group, *cells, str(sum(r.n_false for r in rows.values())))
        console.print(subject_table)
        counts = {h: widths.count(h) for h in HALF_WIDTHS_S}
        h, bias = fit(raws, trials, [True] * len(trials), method)
        console.print(f"{method}: half-width chosen per left-out subject {counts} (s: times); "
                      f"fitted on all {len(per_subject)} subjects: half-width {h} s (shipped "
                      f"{FIT_HALF_WIDTH_S}), bias (s) foot strike {bias.foot_strike_s:+.4f}, foot "
                      f"off {bias.foot_off_s:+.4f} · shipped: {shipped.foot_strike_s:+.4f}, "
                      f"{shipped.foot_off_s:+.4f}")
    names = refused(trials)
    console.print(f"trials refused by analyze: {len(names)} of {len(trials)}"
                  + (f" ({', '.join(names)})" if names else ""))


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
    for method in SIM_METHODS:
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
    training_accuracy(console)
    if not args.skip_sim:
        simulation(console, args.duration)


if __name__ == "__main__":
    main()
