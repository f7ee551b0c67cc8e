"""Session report: one recorded session's gait metrics as a self-contained HTML or PDF file.

:func:`session_report` reads a session from the store, analyzes it with
:func:`~rehabbot.assessment.gait_analysis.analyze_samples` (treadmill speed and guidance from the
session's protocol parameters, leg length from the patient's height) and writes, by the suffix
of the output path:

* ``.html``: one file with no external resources (plots embedded as base64 PNG images);
* ``.pdf``: the same content on several pages (matplotlib's PDF backend).

The content: a header (session, patient code, protocol, date, status); the joint angle curves
per side, time-normalized to 0–100 % of the gait cycle, mean ± SD of the session's strides,
against the normative band (Schwartz et al. 2008, mean ± SD, the speed class the metrics chose);
the per-stride table; the spatiotemporal metrics with units; the symmetry indices; the GVS and
GPS; the engagement measures of a robot session (:mod:`~rehabbot.assessment.engagement`: the
patient display's feedback in effect, time in the target band per joint and stride part and per
feedback mode, the patient's share of the positive work, the biofeedback value of every stride
with its mode); the safety events and faults. docs/metrics.md ("Session report") describes it.

:func:`progress_report` writes, with the same writers, a patient's progress across sessions: one
table row per completed or faulted session in date order (with the feedback modes used, the time
in the target band and the patient's work share) and plots of GPS, cadence and hip/knee
ROM across sessions (docs/metrics.md, "Progress report").

:func:`report_command` is the ``rehabbot report`` command, ready to register with
``app.command("report")(report_command)``. Files are readable by their owner only (mode 0o600).

A report carries the patient code, so every written report is recorded in the store like an
export (:meth:`~rehabbot.storage.records.PatientRecords.record_export`, format ``report-html`` or
``report-pdf``, against each session it covers): erasing the patient deletes it, and the audit
log has an ``export`` entry naming the operator (``--operator``, default ``$REHABBOT_OPERATOR``
or the login name, as the ``patients`` commands do).
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.lines import Line2D

from rehabbot.assessment.alarm_text import plain_event
from rehabbot.assessment.biofeedback import PARTS
from rehabbot.assessment.engagement import Engagement, engagement, feedback_record
from rehabbot.assessment.gait_analysis import JOINT_KINDS, GaitAnalysis, Stat, analyze_samples
from rehabbot.assessment.kinematic_events import SIDE_SUFFIX, SIDES
from rehabbot.assessment.scores import NORMATIVE_CHANNELS, normative_mean_deg
from rehabbot.body.normative_gait import normative_curve
from rehabbot.errors import ReportError, StorageError
from rehabbot.export.base import private_file
from rehabbot.storage.cli import OperatorOption, default_operator
from rehabbot.storage.records import ExportedFile, PatientRecords, check_operator
from rehabbot.storage.store import SessionInfo, SessionStore, default_store_path
from rehabbot.storage.truth import MUSCLE_TORQUE, load_truth

#: Output suffixes and their format.
SUFFIXES = (".html", ".pdf")
#: Label of the normative band in plots and text.
NORMATIVE_LABEL = "normative band (Schwartz 2008, mean ± SD)"
#: Display name of each joint kind.
JOINT_TITLES = {"hip": "Hip flexion", "knee": "Knee flexion", "ankle": "Ankle dorsiflexion"}
#: Per-stride table: parameter key and column label with unit.
STRIDE_COLUMNS = (
    ("start_s", "start (s)"),
    ("stride_time_s", "stride time (s)"),
    ("step_time_s", "step time (s)"),
    ("cadence_steps_per_min", "cadence (steps/min)"),
    ("stance_pct", "stance (%)"),
    ("swing_pct", "swing (%)"),
    ("double_support_pct", "double support (%)"),
    *((f"{kind}_{p}", f"{kind} {label} (deg)") for kind in JOINT_KINDS
      for p, label in (("rom_deg", "ROM"), ("gvs_deg", "GVS"))),
)
#: Spatiotemporal and joint parameters of the per-side table: key and label with unit.
PARAMETER_ROWS = (
    ("stride_time_s", "stride time (s)"),
    ("step_time_s", "step time (s)"),
    ("cadence_steps_per_min", "cadence (steps/min)"),
    ("stance_pct", "stance (% stride)"),
    ("swing_pct", "swing (% stride)"),
    ("double_support_pct", "double support (% stride)"),
    *((f"{kind}_{p}", f"{kind} {label} (deg)") for kind in JOINT_KINDS
      for p, label in (("rom_deg", "ROM"), ("max_deg", "max"), ("min_deg", "min"))),
    *((f"{kind}_{p}_{part}_nm", f"{kind} {label} in {part} (N·m)") for kind in JOINT_KINDS
      for part in PARTS
      for p, label in (("biofeedback", "biofeedback"), ("assist", "mean |commanded torque|"))),
)

Table = tuple[str, list[str], list[list[str]]]
"""A report table: title, column headers, rows of cells."""
FloatVector = np.ndarray


@dataclass(frozen=True)
class ReportData:
    """What a report shows: the session's record, its analysis and its events.

    Attributes:
        info: the session's record.
        analysis: the gait metrics of its samples.
        speed_m_s: treadmill speed (m/s) from the protocol, if known.
        height_m: the patient's height (m), if known.
        events: the session's stored events: time (s), kind, joint, detail (JSON text).
        faults: the faults listed in the session's summary.
        summary: the session's stored summary (empty if it has none).
        engagement: the engagement measures, for a session with the robot's torques.
    """

    info: SessionInfo
    analysis: GaitAnalysis
    speed_m_s: float | None
    height_m: float | None
    events: list[tuple[float, str, str, str]]
    faults: list[str]
    summary: dict[str, Any] = field(default_factory=dict)
    engagement: Engagement | None = None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def stored_events(store_path: Path, session_id: int) -> list[tuple[float, str, str, str]]:
    """A session's stored events, by time, read through a read-only connection.

    Each row is (loop time (s), kind, joint or ``""``, detail as JSON text or ``""``): the safety
    events (``fault:*``, ``warning:*``, ``stop:*``, ...), the console's commands
    (``console:*``, with the operator) and the runner's own (``phase_started``, ...).

    Raises:
        StorageError: the store cannot be read.
    """
    try:
        db = sqlite3.connect(f"{Path(store_path).resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT t_s, kind, joint, detail FROM events WHERE session_id = ? "
                              "ORDER BY t_s, id", (session_id,)).fetchall()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise StorageError(f"cannot read the events of session {session_id} from {store_path}: "
                           f"{exc}") from None
    return [(float(t), str(kind), joint or "", detail or "") for t, kind, joint, detail in rows]


def load_report_data(store_path: Path, session_id: int) -> ReportData:
    """Read and analyze a session.

    Raises:
        StorageError: no store at ``store_path``, or no session ``session_id`` in it.
        ReportError: the session has no complete stride.
    """
    with SessionStore.open_existing(Path(store_path)) as store:
        info = store.get_session(session_id)
        samples = store.load_walking_samples(session_id)  # no assessment battery
        truth = load_truth(store, session_id, MUSCLE_TORQUE)  # a simulated session's
        parameters = store.session_parameters(session_id)
        summary = store.session_summary(session_id) or {}
        try:
            patient = store.get_patient(info.patient_code)
            height, mass = patient.height_m, patient.mass_kg
        except StorageError:
            height = mass = None
    protocol = parameters.get("protocol")
    protocol = protocol if isinstance(protocol, dict) else {}
    speed_kmh = _number(protocol.get("treadmill_speed_kmh"))
    speed = None if speed_kmh is None else speed_kmh / 3.6
    guidance = _number(parameters.get("guidance_pct", protocol.get("guidance_pct")))
    try:
        analysis = analyze_samples(
            samples, speed_m_s=speed, height_m=height, guidance_pct=guidance, mass_kg=mass,
            muscle_torque_nm=None if truth is None else truth.acting_from(samples.tick),
        ) if len(samples) else None
    except KeyError:
        analysis = None
    if analysis is None or analysis.step_count == 0:
        raise ReportError(f"session {session_id} has no complete stride in {info.duration_s:.2f} s "
                          f"of data (a stride needs two foot strikes of one side); record a "
                          f"longer walking session")
    faults = [str(f) for f in summary.get("faults") or []]
    events = stored_events(store_path, session_id)
    robot = any("_biofeedback_" in key for side in SIDES for key in analysis.strides[side])
    return ReportData(info, analysis, speed, height, events, faults, summary,
                      engagement(analysis, feedback_record(events)) if robot else None)


# -- content ----------------------------------------------------------------------------------


def display_date(iso: str) -> str:
    """A stored ISO-8601 UTC time as reports and the console show it (one format everywhere).

    >>> display_date("2026-12-07T11:22:40+00:00"), display_date("2026-12-07")
    ('2026-12-07 11:22 UTC', '2026-12-07')
    """
    day, _, time_of_day = iso.partition("T")
    if not time_of_day:
        return day
    zone = " UTC" if time_of_day.endswith(("+00:00", "Z")) else ""
    return f"{day} {time_of_day[:5]}{zone}"


def _fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def _mean_sd(stat: Stat | None) -> str:
    return "" if stat is None else f"{_fmt(stat.mean)} ± {_fmt(stat.sd)}"


def header_rows(data: ReportData) -> list[tuple[str, str]]:
    """The header: label and value."""
    info, result = data.info, data.analysis
    return [
        ("session", str(info.id)),
        ("patient code", info.patient_code),
        ("protocol", info.protocol_name),
        ("date", display_date(info.started_at)),
        ("status", info.status),
        ("robot", info.robot_name),
        ("duration (s)", _fmt(info.duration_s, 1)),
        ("treadmill speed (m/s)", _fmt(data.speed_m_s)),
        ("normative class", f"{result.speed_class} (from {result.speed_class_basis})"),
    ]


def stride_table(result: GaitAnalysis) -> Table:
    """One row per complete stride of each side."""
    columns = [(key, label) for key, label in STRIDE_COLUMNS
               if any(key in result.strides[side] for side in SIDES)]
    rows = []
    for side in SIDES:
        table = result.strides[side]
        for i in range(table["start_s"].size):
            rows.append([side, str(i + 1), *(
                _fmt(float(table[key][i])) if key in table else "" for key, _ in columns)])
    return "Strides", ["side", "stride", *(label for _, label in columns)], rows


def parameter_table(result: GaitAnalysis) -> Table:
    """Per-side mean ± SD and CV of each parameter, with the symmetry index."""
    rows = []
    for key, label in PARAMETER_ROWS:
        right, left = result.summary["right"].get(key), result.summary["left"].get(key)
        if right is None and left is None:
            continue
        cv = ["" if s is None or s.cv_pct is None else _fmt(s.cv_pct, 1) for s in (right, left)]
        rows.append([label, _mean_sd(right), cv[0], _mean_sd(left), cv[1],
                     _fmt(result.symmetry_pct.get(key, float("nan")), 1)
                     if key in result.symmetry_pct else ""])
    return ("Spatiotemporal and joint parameters (mean ± SD over strides; SI: symmetry index)",
            ["parameter", "right", "CV (%)", "left", "CV (%)", "SI (%)"], rows)


def session_table(data: ReportData) -> Table:
    """Session totals and the robot's assistance."""
    result = data.analysis
    rows = [["steps", str(result.step_count)],
            ["strides (right / left)", " / ".join(str(result.strides[side]["start_s"].size)
                                                  for side in SIDES)],
            ["walking time (s)", _fmt(result.walking_time_s)],
            ["cadence (steps/min)", _fmt(result.cadence_steps_per_min, 1)],
            ["distance (m)", _fmt(result.distance_m)]]
    guidance = result.assistance.get("guidance_pct")
    if guidance is not None:
        rows.append(["guidance (%)", _fmt(guidance, 0)])
    for name, torque in result.assistance.get("mean_abs_torque_nm", {}).items():
        rows.append([f"mean |commanded torque| {name} (N·m)", _fmt(torque)])
    for side, share in result.assistance.get("patient_work_share_swing_pct", {}).items():
        rows.append([f"patient's share of the positive work in swing, {side} (%)", _fmt(share, 1)])
    if "patient_work_share_source" in result.assistance:
        rows.append(["patient's work share from", result.assistance["patient_work_share_source"]])
    return "Session", ["metric", "value"], rows


def score_table(result: GaitAnalysis) -> Table:
    """GVS per side and joint, GPS per side and overall (deg)."""
    profile = result.movement_analysis_profile
    kinds = [k for k in JOINT_KINDS if any(k in profile.get(s, {}) for s in SIDES)]
    rows = [[f"GVS {k} (deg)", *(_fmt(profile[s].get(k, float("nan"))) for s in SIDES)]
            for k in kinds]
    rows.append(["GPS (deg)", *(_fmt(profile[s]["gps"]) for s in SIDES)])
    rows.append(["overall GPS (deg)", _fmt(profile["overall"]["gps"]), ""])
    return "Gait Variable Scores and Gait Profile Score", ["score", *SIDES], rows


def _detail_text(detail: str) -> tuple[dict[str, Any], str]:
    """A stored event's detail (JSON text): its values, and them as ``key value`` text."""
    try:
        values = json.loads(detail) if detail else {}
    except json.JSONDecodeError:
        return {}, detail
    if not isinstance(values, dict):
        return {}, str(values)
    text = ", ".join(f"{k.replace('_', ' ')} {v:g}" if isinstance(v, float) else
                     f"{k.replace('_', ' ')} {v}" for k, v in values.items()
                     if v not in (None, ""))
    return values, text


def events_table(data: ReportData) -> Table:
    """The stored events in plain words (title, what happened and what to do, values in the
    report's units) beside the stored kind and values, and the summary's faults."""
    rows = []
    for t, kind, joint, detail in data.events:
        values, technical = _detail_text(detail)
        plain = plain_event(kind, joint or None, values)
        rows.append([_fmt(t, 3), plain.title, plain.line,
                     f"{kind}{f' ({joint})' if joint else ''}: {technical}".rstrip(": ")])
    rows += [["", "fault (summary)", "", fault] for fault in data.faults]
    return ("Safety events and faults",
            ["time (s)", "event", "what happened, what to do", "as recorded (SI units)"], rows)


def engagement_table(found: Engagement) -> Table:
    """The feedback in effect, the time in the target band, the patient's work share."""
    rows = [[f"feedback from {t:.1f} s", settings.describe()] for t, settings in found.record]
    if not found.record:
        rows.append(["feedback", "none recorded (no patient display): off, band of the default"])
    for (kind, part), band in found.time_in_band.items():
        rows.append([f"time in the target band, {kind} in {part}",
                     f"{_fmt(band.pct, 1)} % ({_fmt(band.in_band_s, 1)} of "
                     f"{_fmt(band.total_s, 1)} s)"])
    for mode, band in found.by_mode.items():
        rows.append([f"time in the target band with feedback {mode} (all joints and parts)",
                     f"{_fmt(band.pct, 1)} % ({_fmt(band.in_band_s, 1)} of "
                     f"{_fmt(band.total_s, 1)} s)"])
    for side, share in found.work_share_pct.items():
        rows.append([f"patient's share of the positive work in swing, {side} (%)",
                     _fmt(share, 1)])
    if found.work_share_source:
        rows.append(["patient's work share from", found.work_share_source])
    return "Engagement (patient display)", ["measure", "value"], rows


def engagement_stride_table(found: Engagement) -> Table:
    """Per stride: its feedback mode and band, and each biofeedback value (N·m; * in the band)."""
    keys = [(kind, part) for kind in JOINT_KINDS for part in PARTS
            if any(f"{kind}_biofeedback_{part}_nm" in found.strides[s] for s in SIDES)]
    rows = []
    for side in SIDES:
        table = found.strides[side]
        for i, start in enumerate(table["start_s"]):
            cells = []
            for kind, part in keys:
                values = table.get(f"{kind}_biofeedback_{part}_nm")
                inside = table.get(f"{kind}_in_band_{part}")
                cells.append("" if values is None or inside is None else
                             _fmt(float(values[i]), 1) + (" *" if inside[i] else ""))
            rows.append([side, str(i + 1), _fmt(float(start)), table["mode"][i],
                         f"{table['band_low_nm'][i]:g} to {table['band_high_nm'][i]:g}", *cells])
    return ("Biofeedback per stride (N·m; * in the target band)",
            ["side", "stride", "start (s)", "feedback", "band (N·m)",
             *(f"{kind} {part}" for kind, part in keys)], rows)


def report_tables(data: ReportData) -> list[Table]:
    """Every table of the report, in order."""
    found = data.engagement
    engagement_tables = [] if found is None else [engagement_table(found),
                                                  engagement_stride_table(found)]
    return [parameter_table(data.analysis), session_table(data), *engagement_tables,
            score_table(data.analysis), stride_table(data.analysis), events_table(data)]


def curve_figures(data: ReportData) -> list[tuple[str, Figure]]:
    """Per side, a figure of its joints' mean ± SD curves against the normative band."""
    result = data.analysis
    cycle = np.linspace(0.0, 100.0, 101)
    norm_cycle = np.linspace(0.0, 100.0, 51)
    figures = []
    for side in SIDES:
        kinds = list(result.curves_deg[side])
        if not kinds:
            continue
        n_strides = int(result.strides[side]["start_s"].size)
        fig = Figure(figsize=(8.0, 2.6 * len(kinds)), layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(len(kinds), 1, squeeze=False)[:, 0]
        for ax, kind in zip(axes, kinds, strict=True):
            mean, sd = result.curves_deg[side][kind]
            norm_mean = normative_mean_deg(kind, result.speed_class, "vertical")
            norm_sd = normative_curve(result.speed_class, NORMATIVE_CHANNELS[kind])[1]
            ax.fill_between(norm_cycle, norm_mean - norm_sd, norm_mean + norm_sd, color="0.8",
                            label=f"{NORMATIVE_LABEL}, {result.speed_class}")
            ax.plot(norm_cycle, norm_mean, color="0.5", lw=1.0)
            if np.all(np.isfinite(sd)):
                ax.fill_between(cycle, mean - sd, mean + sd, color="tab:blue", alpha=0.3)
            ax.plot(cycle, mean, color="tab:blue", lw=1.5,
                    label=f"session mean ± SD ({n_strides} strides)")
            ax.set_title(f"{JOINT_TITLES[kind]} {side} ({JOINT_KINDS[kind]}{SIDE_SUFFIX[side]})")
            ax.set_xlim(0.0, 100.0)
            ax.set_ylabel("angle (deg)")
            ax.grid(alpha=0.3)
        axes[-1].set_xlabel("gait cycle (%)")
        axes[0].legend(loc="best", fontsize="small")
        joints = ", ".join(f"{JOINT_KINDS[k]}{SIDE_SUFFIX[side]}" for k in kinds)
        figures.append((f"Joint angles, {side} side ({joints}) against the {NORMATIVE_LABEL}, "
                        f"speed class {result.speed_class}", fig))
    return figures


# -- writers ----------------------------------------------------------------------------------

_CSS = """body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;
margin:0.5em 0 1.5em}th,td{border:1px solid #bbb;padding:2px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}img{max-width:100%}"""


def _html_table(table: Table, row_class: str = "") -> str:
    title, headers, rows = table
    e = html.escape
    cls = f' class="{row_class}"' if row_class else ""
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join(f"<tr{cls}>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>\n"
                   for row in rows)
    if not rows:
        body = f'<tr><td colspan="{len(headers)}">none</td></tr>\n'
    return f"<h2>{e(title)}</h2>\n<table><tr>{head}</tr>\n{body}</table>\n"


def _html_document(title: str, header: Sequence[tuple[str, str]], plots_title: str,
                   figures: Sequence[tuple[str, Figure]], tables: Sequence[Table],
                   row_classes: dict[str, str]) -> str:
    """One HTML document: header, plots embedded as base64 PNG images, then the tables."""
    e = html.escape
    parts = [f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
             f"<title>{e(title)}</title><style>{_CSS}</style></head><body>\n"
             f"<h1>{e(title)}</h1>\n<table>"]
    parts += [f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in header]
    parts.append(f"</table>\n<h2>{e(plots_title)}</h2>\n")
    for caption, fig in figures:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
        encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
        parts.append(f'<figure><img alt="{e(caption)}" src="data:image/png;base64,{encoded}">'
                     f"<figcaption>{e(caption)}</figcaption></figure>\n")
    for table in tables:
        parts.append(_html_table(table, row_classes.get(table[0], "")))
    parts.append("</body></html>\n")
    return "".join(parts)


def render_html(data: ReportData) -> str:
    """The report as one HTML document with its plots embedded as base64 PNG images."""
    return _html_document(f"Session {data.info.id} report", header_rows(data),
                          "Joint angles over the gait cycle", curve_figures(data),
                          report_tables(data), {"Strides": "stride"})


#: PDF page: A4 portrait (in), margins (in), body font size (pt) and line height (pt).
PAGE_IN = (8.27, 11.69)
MARGIN_IN = 0.6
FONT_PT = 7.5
LINE_PT = 1.3 * FONT_PT
#: Space between table columns (pt).
GAP_PT = 6.0


class _Widths:
    """Text widths (pt) in the report's font, from per-character widths measured once (summing
    them ignores kerning, which only makes texts a little narrower than measured)."""

    def __init__(self, size_pt: float, weight: str = "normal") -> None:
        fig = Figure(figsize=PAGE_IN)
        self._renderer = FigureCanvasAgg(fig).get_renderer()  # type: ignore[no-untyped-call]
        self._font = FontProperties(size=size_pt, weight=weight)
        self._scale = 72.0 / fig.dpi
        self._chars: dict[str, float] = {}
        heights = []
        for n in (2, 12):  # measured as drawn: the pitch is what a text's lines are apart
            text = fig.text(0, 1, "\n".join(["lp"] * n), fontproperties=self._font,
                            linespacing=1.0)
            heights.append(text.get_window_extent(self._renderer).height * self._scale)
            text.remove()
        self.line_pitch_pt = (heights[1] - heights[0]) / 10
        """The distance (pt) matplotlib puts between lines at ``linespacing`` 1."""

    def __call__(self, text: str) -> float:
        """Width of ``text`` (pt)."""
        total = 0.0
        for char in text:
            width = self._chars.get(char)
            if width is None:
                width = self._renderer.get_text_width_height_descent(
                    char if char != " " else "i", self._font, ismath=False)[0] * self._scale
                self._chars[char] = width
            total += width
        return total

    def wrap(self, text: str, width_pt: float) -> list[str]:
        """``text`` broken into lines no wider than ``width_pt`` (at spaces; a word longer than
        the width is cut)."""
        lines: list[str] = []
        for paragraph in text.split("\n") or [""]:
            line = ""
            for word in paragraph.split(" "):
                candidate = f"{line} {word}" if line else word
                if self(candidate) <= width_pt:
                    line = candidate
                    continue
                if line:
                    lines.append(line)
                while self(word) > width_pt and len(word) > 1:
                    cut = max(1, next((i for i in range(len(word), 0, -1)
                                       if self(word[:i]) <= width_pt), 1))
                    lines.append(word[:cut])
                    word = word[cut:]
                line = word
            lines.append(line)
        return lines


def column_widths(cells: Sequence[Sequence[str]], available_pt: float,
                  width: Callable[[str], float]) -> list[float] | None:
    """Widths (pt) of a table's columns so that it fits ``available_pt``, or None if even its
    narrowest layout (every cell broken at spaces) does not fit.

    Each column gets at least its longest word; what is left is shared in proportion to how
    much wider each column's longest cell is.
    """
    n = max(len(row) for row in cells)
    natural = [max((width(r[i]) for r in cells if i < len(r)), default=0.0) for i in range(n)]
    narrow = [max((width(w) for r in cells if i < len(r) for w in r[i].split(" ")), default=0.0)
              for i in range(n)]
    room = available_pt - GAP_PT * (n - 1)
    if sum(narrow) > room:
        return None
    if sum(natural) <= room:
        return natural
    extra = [b - a for a, b in zip(narrow, natural, strict=True)]
    share = (room - sum(narrow)) / sum(extra)
    return [a + e * share for a, e in zip(narrow, extra, strict=True)]


def split_columns(headers: Sequence[str], rows: Sequence[Sequence[str]], keys: int,
                  available_pt: float, width: Callable[[str], float]
                  ) -> list[tuple[list[int], list[float]]]:
    """Column groups of a table too wide for the page, each repeating the first ``keys``
    columns: (column indices, widths in pt)."""
    cells = [list(headers), *map(list, rows)]
    groups: list[tuple[list[int], list[float]]] = []
    rest = list(range(keys, len(headers)))
    while rest:
        take = len(rest)
        while take > 1:
            columns = [*range(keys), *rest[:take]]
            widths = column_widths([[r[i] for i in columns] for r in cells], available_pt, width)
            if widths is not None:
                break
            take -= 1
        columns = [*range(keys), *rest[:take]]
        widths = column_widths([[r[i] for i in columns] for r in cells], available_pt, width)
        groups.append((columns, widths or [available_pt / len(columns)] * len(columns)))
        rest = rest[take:]
    return groups


class PdfDocument:
    """A PDF laid out as a document: A4 pages, a title, text, tables that fit the page width
    (cells wrapped; a table too wide even then split into column groups that repeat its key
    columns) and continue on the next page with their header, and figures, each on a page.

    Args:
        title: the document's title (on each page, with the page number).
    """

    def __init__(self, title: str) -> None:
        self.title = title
        self.pages: list[Figure] = []
        self.width = _Widths(FONT_PT)
        self.bold = _Widths(FONT_PT, "bold")
        self._width_pt = (PAGE_IN[0] - 2 * MARGIN_IN) * 72.0
        self._y = 0.0  # pt from the top of the current page
        self._new_page()

    def _new_page(self) -> None:
        fig = Figure(figsize=PAGE_IN)
        FigureCanvasAgg(fig)
        self.pages.append(fig)
        fig.text(MARGIN_IN / PAGE_IN[0], 1 - 0.35 / PAGE_IN[1],
                 f"{self.title} · page {len(self.pages)}", fontsize=FONT_PT, color="0.4",
                 va="top")
        self._y = MARGIN_IN * 72.0

    def _room_pt(self) -> float:
        return (PAGE_IN[1] - MARGIN_IN) * 72.0 - self._y

    def _put(self, x_pt: float, lines: Sequence[str], size: float = FONT_PT,
             weight: str = "normal", y_pt: float | None = None) -> None:
        """Lines of text at ``x_pt`` from the left margin and ``y_pt`` (default: the cursor)
        from the top, :data:`LINE_PT` apart (body size)."""
        fig = self.pages[-1]
        fig.text(MARGIN_IN / PAGE_IN[0] + x_pt / (PAGE_IN[0] * 72.0),
                 1 - (self._y if y_pt is None else y_pt) / (PAGE_IN[1] * 72.0),
                 "\n".join(lines), fontsize=size, weight=weight, va="top", ha="left",
                 linespacing=LINE_PT / self.width.line_pitch_pt)

    def heading(self, text: str, size: float = 11.0) -> None:
        """A heading (on a new page if fewer than five lines are left on this one)."""
        lines = _Widths(size, "bold").wrap(text, self._width_pt)
        if self._room_pt() < 5 * LINE_PT + size * len(lines):
            self._new_page()
        self._y += 0.6 * size
        self._put(0.0, lines, size, "bold")
        self._y += 1.6 * size * len(lines)

    def pairs(self, rows: Sequence[tuple[str, str]]) -> None:
        """Label and value lines (the header)."""
        self.table(("", ["", ""], [list(r) for r in rows]), header=False)

    def table(self, table: Table, keys: int = 1, header: bool = True) -> None:
        """A table: its title, then its rows, continued on following pages as needed."""
        title, headers, rows = table
        body = [list(r) for r in rows] or [["none", *[""] * (len(headers) - 1)]]
        for part, (columns, widths) in enumerate(split_columns(
                headers, body, keys, self._width_pt, self.bold)):
            if title:
                self.heading(title + (f" (columns, part {part + 1})" if part else ""))
            x = np.concatenate(([0.0], np.cumsum(np.add(widths, GAP_PT))))[:-1]
            wrapped_header = [self.bold.wrap(headers[i], w) for i, w in zip(columns, widths,
                                                                           strict=True)]
            if header:
                self._header(x, wrapped_header)
            # one text per column and page (thousands of cell texts make a slow PDF): the
            # rows' cells padded with empty lines to the row's height keep the columns aligned
            page: list[list[str]] = [[] for _ in columns]
            top = self._y
            for row in body:
                cells = [self.width.wrap(row[i], w) for i, w in zip(columns, widths, strict=True)]
                lines = max(len(c) for c in cells)
                if lines * LINE_PT > self._room_pt():
                    self._columns(x, page, top)
                    self._new_page()
                    if header:
                        self._header(x, wrapped_header)
                    page, top = [[] for _ in columns], self._y
                for column, cell in zip(page, cells, strict=True):
                    column += cell + [""] * (lines - len(cell))
                self._y += lines * LINE_PT
            self._columns(x, page, top)
            self._y += LINE_PT

    def _columns(self, x: FloatVector, columns: list[list[str]], top_pt: float) -> None:
        """Draw the columns' lines from ``top_pt`` down."""
        for left, lines in zip(x, columns, strict=True):
            if any(lines):
                self._put(float(left), lines, y_pt=top_pt)

    def _header(self, x: FloatVector, cells: list[list[str]]) -> None:
        height = max(len(c) for c in cells) * LINE_PT
        if height + 2 * LINE_PT > self._room_pt():
            self._new_page()
        for left, lines in zip(x, cells, strict=True):
            self._put(float(left), lines, weight="bold")
        self._y += height
        fig = self.pages[-1]
        y = 1 - (self._y + 1.0) / (PAGE_IN[1] * 72.0)
        x0 = MARGIN_IN / PAGE_IN[0]
        fig.add_artist(Line2D([x0, 1 - x0], [y, y], color="0.5", lw=0.5))
        self._y += 3.0

    def figure(self, caption: str, fig: Figure) -> None:
        """A figure on an A4 page of its own (laid out again for the page), with its caption."""
        fig.set_size_inches(*PAGE_IN)
        engine = fig.get_layout_engine()
        if isinstance(engine, ConstrainedLayoutEngine):  # page margins around the plots
            engine.set(w_pad=MARGIN_IN, h_pad=MARGIN_IN / 2)
        fig.suptitle("\n".join(self.width.wrap(caption, self._width_pt)), fontsize=FONT_PT)
        self.pages.append(fig)

    def save(self, out_path: Path) -> None:
        """Write the pages as one PDF."""
        with PdfPages(out_path, metadata={"Title": self.title}) as pdf:
            for page in self.pages:
                pdf.savefig(page)


def pdf_document(title: str, header: Sequence[tuple[str, str]],
                 figures: Sequence[tuple[str, Figure]], tables: Sequence[Table],
                 keys: Mapping[str, int] | None = None) -> PdfDocument:
    """The report laid out: title and header, the tables, then the figures (a page each).
    ``keys``: per table title, how many leading columns identify a row (repeated when a wide
    table is split; default 1)."""
    doc = PdfDocument(title)
    doc.heading(title, 14.0)
    doc.pairs(header)
    for table in tables:
        doc.table(table, (keys or {}).get(table[0], 1))
    for caption, fig in figures:
        doc.figure(caption, fig)
    return doc


def _write_pdf_document(out_path: Path, title: str, header: Sequence[tuple[str, str]],
                        figures: Sequence[tuple[str, Figure]], tables: Sequence[Table]) -> None:
    """A PDF: header, tables (as many pages as they need), then the figures."""
    pdf_document(title, header, figures, tables, {"Strides": 2}).save(out_path)


def write_pdf(data: ReportData, out_path: Path) -> None:
    """The report as a PDF: header and curves, then the tables (as many pages as they need)."""
    _write_pdf_document(out_path, f"Session {data.info.id} report", header_rows(data),
                        curve_figures(data), report_tables(data))


def _checked_output(out_path: Path) -> Path:
    """``out_path`` with ``~`` expanded.

    Raises:
        ReportError: its suffix is not .html or .pdf.
    """
    out = Path(out_path).expanduser()
    if out.suffix.lower() not in SUFFIXES:
        raise ReportError(f"unsupported report file type {out.suffix or '(none)'!r} of {out}; "
                          f"give a path ending in .html or .pdf")
    return out


def _write_report(out: Path, html_text: Callable[[], str], pdf_writer: Callable[[Path], None],
                  record: tuple[Path, Sequence[int], str, str]) -> Path:
    """Write ``out`` (mode 0o600) as HTML or PDF by its suffix, record it; return it.

    ``record`` is (store, ids of the sessions the report covers, report kind, operator): the file
    is recorded in the store's exports, and its audit log, as format ``report-html`` or
    ``report-pdf`` (:func:`record_report`). If it cannot be recorded it is deleted again, so that
    no report exists that erasing the patient would miss.
    """
    with private_file(out) as path:
        if out.suffix.lower() == ".html":
            path.write_text(html_text(), encoding="utf-8")
        else:
            pdf_writer(path)
    try:
        record_report(*record, path=out)
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return out


def record_report(store_path: Path, session_ids: Sequence[int], kind: str, operator: str, *,
                  path: Path) -> None:
    """Record a written report in the store: an exports row per covered session, an audit entry.

    Args:
        store_path: the session store the report was made from.
        session_ids: the sessions whose data the report shows (all of one patient).
        kind: ``"session"`` or ``"progress"`` (kept in the audit entry).
        operator: who wrote the report.
        path: the report file; its folder is the export root (erasure removes the file only).

    Raises:
        ConfigurationError: empty operator.
        StorageError: the store cannot be written or a session does not exist.
    """
    file = Path(path).resolve()
    fmt = "report-" + file.suffix.lower().removeprefix(".")
    with SessionStore.open(Path(store_path)) as store:
        PatientRecords(store).record_export(
            fmt, [ExportedFile(sid, file, file.parent) for sid in session_ids],
            operator=operator, detail={"report": kind})


def session_report(store_path: Path, session_id: int, out_path: Path, *,
                   operator: str | None = None) -> Path:
    """Write the report of a session to ``out_path`` (.html or .pdf, mode 0o600); return it.

    The file is recorded in the store as a ``report-html``/``report-pdf`` export of the session
    by ``operator`` (default :func:`~rehabbot.storage.cli.default_operator`).

    Raises:
        ConfigurationError: empty operator.
        ReportError: unsupported suffix, or a session without a complete stride.
        StorageError: no such store or session.
        ExportError: the file cannot be written.
    """
    out = _checked_output(out_path)
    who = check_operator(default_operator() if operator is None else operator)
    data = load_report_data(Path(store_path), session_id)
    return _write_report(out, lambda: render_html(data), lambda path: write_pdf(data, path),
                         (Path(store_path), [session_id], "session", who))


# -- progress across sessions -----------------------------------------------------------------

#: Session statuses the progress report includes.
PROGRESS_STATUSES = ("completed", "faulted")


@dataclass(frozen=True)
class ProgressData:
    """A patient's sessions for the progress report.

    Attributes:
        patient_code: the patient's code.
        sessions: the analyzed sessions, in date order.
        without_strides: ids of included sessions that have no complete stride (not analyzed).
    """

    patient_code: str
    sessions: list[ReportData]
    without_strides: list[int]


def load_progress_data(store_path: Path, patient_code: str) -> ProgressData:
    """Read and analyze every completed or faulted session of a patient, in date order.

    Raises:
        StorageError: no store at ``store_path``, or no such patient in it.
        ReportError: the patient has no completed or faulted session with a complete stride.
    """
    with SessionStore.open_existing(Path(store_path)) as store:
        patient = store.get_patient(patient_code)
        infos = [i for i in store.list_sessions(patient.id) if i.status in PROGRESS_STATUSES]
    infos.sort(key=lambda i: (i.started_at, i.id))
    sessions, without = [], []
    for info in infos:
        try:
            sessions.append(load_report_data(Path(store_path), info.id))
        except ReportError:
            without.append(info.id)
    if not sessions:
        raise ReportError(f"patient {patient_code!r} has no completed or faulted session with a "
                          f"complete stride ({len(infos)} such sessions in {store_path})")
    return ProgressData(patient_code, sessions, without)


def _side_mean(result: GaitAnalysis, key: str) -> float | None:
    """Mean of a parameter over the sides that have it."""
    means = [result.summary[s][key].mean for s in SIDES if key in result.summary[s]]
    return float(np.mean(means)) if means else None


def _joint_columns(progress: ProgressData) -> tuple[list[tuple[str, str]], list[str]]:
    """ROM columns (joint kind, side) and stored RMS tracking-error columns (joint names)."""
    rom = [(kind, side) for kind in JOINT_KINDS for side in SIDES
           if any(f"{kind}_rom_deg" in d.analysis.summary[side] for d in progress.sessions)]
    rms: list[str] = []
    for data in progress.sessions:
        for joint in data.summary.get("joints") or []:
            if isinstance(joint, dict) and joint.get("name") not in rms \
                    and _number(joint.get("rms_error_deg")) is not None:
                rms.append(str(joint["name"]))
    return rom, rms


def progress_table(progress: ProgressData) -> Table:
    """One row per analyzed session, in date order."""
    rom_columns, rms_columns = _joint_columns(progress)
    headers = ["date", "session", "status", "protocol", "duration (s)", "guidance (%)",
               "cadence (steps/min)", "stride time (s)",
               *(f"{JOINT_KINDS[kind]}{SIDE_SUFFIX[side]} ROM (deg)"
                 for kind, side in rom_columns),
               *(f"{name} RMS error (deg)" for name in rms_columns),
               "GPS (deg)", "stride time SI (%)", "feedback modes", "time in target band (%)",
               "patient's work share in swing (%)"]
    rows = []
    for data in progress.sessions:
        info, result = data.info, data.analysis
        rms = {str(j.get("name")): _number(j.get("rms_error_deg"))
               for j in data.summary.get("joints") or [] if isinstance(j, dict)}
        rom = []
        for kind, side in rom_columns:
            stat = result.summary[side].get(f"{kind}_rom_deg")
            rom.append(_fmt(None if stat is None else stat.mean, 1))
        status = f"{info.status} (not comparable)" if _incomplete(data) else info.status
        rows.append([display_date(info.started_at), str(info.id), status, info.protocol_name,
                     _fmt(info.duration_s, 1),
                     _fmt(_number(result.assistance.get("guidance_pct")), 0),
                     _fmt(result.cadence_steps_per_min, 1),
                     _fmt(_side_mean(result, "stride_time_s")), *rom,
                     *(_fmt(rms.get(name)) for name in rms_columns),
                     _fmt(result.movement_analysis_profile["overall"]["gps"]),
                     _fmt(result.symmetry_pct.get("stride_time_s"), 1), *_engagement_cells(data)])
    return "Sessions (completed or faulted, in date order)", headers, rows


def _engagement_cells(data: ReportData) -> list[str]:
    """Feedback modes in effect, time in band (%), mean work share over the sides (%)."""
    found = data.engagement
    if found is None:
        return ["", "", ""]
    shares = [v for v in found.work_share_pct.values() if math.isfinite(v)]
    return [", ".join(found.by_mode) or "off", _fmt(found.overall.pct, 1),
            _fmt(float(np.mean(shares)) if shares else None, 1)]


def progress_header(progress: ProgressData) -> list[tuple[str, str]]:
    """The header: label and value."""
    first, last = progress.sessions[0].info, progress.sessions[-1].info
    return [("patient code", progress.patient_code),
            ("sessions", str(len(progress.sessions))),
            ("from", display_date(first.started_at)), ("to", display_date(last.started_at)),
            ("not analyzed (no complete stride)",
             ", ".join(map(str, progress.without_strides)) or "none")]


#: Smallest change worth attention, per progress series, where the literature gives one:
#: (value in the series' unit, what it is and its source). Series without one show their changes
#: unjudged. The GPS value is a minimal clinically important difference, which is at least the
#: minimal detectable change.
MINIMAL_CHANGE: dict[str, tuple[float, str]] = {
    "gps": (1.6, "MCID of the GPS, Baker et al. 2012, Gait Posture 35:612"),
}
#: Smallest span (in the series' unit) of a progress plot's y axis: small changes stay small
#: instead of being autoscaled into steep slopes.
MIN_SPAN = {"gps": 6.0, "cadence": 30.0, "hip_rom": 20.0, "knee_rom": 20.0}


def _incomplete(data: ReportData) -> bool:
    """A session that did not end as planned (faulted or aborted): not comparable as is."""
    return data.info.status != "completed"


def progress_series(progress: ProgressData) -> list[tuple[str, str, list[float]]]:
    """The plotted series: key, label with unit, value per session (NaN where unknown)."""
    runs = progress.sessions

    def values(get: Callable[[ReportData], float | None]) -> list[float]:
        return [math.nan if (v := get(d)) is None else float(v) for d in runs]

    return [
        ("gps", "GPS (deg)",
         values(lambda d: d.analysis.movement_analysis_profile["overall"]["gps"])),
        ("cadence", "cadence (steps/min)", values(lambda d: d.analysis.cadence_steps_per_min)),
        ("hip_rom", "hip ROM (deg, mean of sides)",
         values(lambda d: _side_mean(d.analysis, "hip_rom_deg"))),
        ("knee_rom", "knee ROM (deg, mean of sides)",
         values(lambda d: _side_mean(d.analysis, "knee_rom_deg"))),
    ]


def change_table(progress: ProgressData) -> Table:
    """Each series' change from the first to the last complete session, judged against the
    minimal change where one is known."""
    complete = [i for i, d in enumerate(progress.sessions) if not _incomplete(d)]
    rows = []
    for key, label, values in progress_series(progress):
        known = [i for i in complete if math.isfinite(values[i])]
        if len(known) < 2:
            rows.append([label, "", "", "", "fewer than two complete sessions"])
            continue
        first, last = values[known[0]], values[known[-1]]
        change = last - first
        minimal = MINIMAL_CHANGE.get(key)
        if minimal is None:
            verdict = "no published minimal change: not judged"
        else:
            verdict = ("beyond" if abs(change) >= minimal[0] else "within") + \
                f" ±{minimal[0]:g} ({minimal[1]})"
        rows.append([label, _fmt(first, 1), _fmt(last, 1), f"{change:+.1f}", verdict])
    return ("Change from the first to the last complete session",
            ["measure", "first", "last", "change", "against the minimal change"], rows)


def progress_figures(progress: ProgressData) -> list[tuple[str, Figure]]:
    """GPS, cadence and hip/knee ROM (mean of the sides) across sessions.

    Faulted or aborted sessions are drawn as open red markers (not comparable as is); a
    minimal change, where known, is a grey band around the first complete session's value;
    each y axis spans at least :data:`MIN_SPAN`, so that noise stays flat.
    """
    x = np.arange(1, len(progress.sessions) + 1)
    labels = [f"{d.info.id}\n{display_date(d.info.started_at)[:10]}" for d in progress.sessions]
    marked = np.array([_incomplete(d) for d in progress.sessions])
    series = progress_series(progress)
    fig = Figure(figsize=(PAGE_IN[0], 2.2 * len(series)), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(series), 1, squeeze=False, sharex=True)[:, 0]
    for ax, (key, label, values) in zip(axes, series, strict=True):
        y = np.array(values, dtype=float)
        ax.plot(x[~marked], y[~marked], marker="o", color="tab:blue", label="completed")
        if marked.any():
            ax.plot(x[marked], y[marked], marker="o", ls="none", mfc="none", mec="tab:red",
                    ms=9, label="faulted or aborted (not comparable)")
        finite = y[np.isfinite(y)]
        if finite.size:
            middle, span = (finite.max() + finite.min()) / 2, max(np.ptp(finite) * 1.2,
                                                                  MIN_SPAN[key])
            ax.set_ylim(middle - span / 2, middle + span / 2)
        minimal = MINIMAL_CHANGE.get(key)
        first = next((v for v, m in zip(y, marked, strict=True) if not m and math.isfinite(v)),
                     None)
        if minimal is not None and first is not None:
            ax.axhspan(first - minimal[0], first + minimal[0], color="0.85",
                       label=f"first session ± minimal change ({minimal[0]:g})")
        ax.set_ylabel(label, fontsize="small")
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize="x-small")
    axes[-1].set_xticks(x, labels, fontsize="small")
    axes[-1].set_xlabel("session (id, date)")
    return [(f"GPS, cadence and hip/knee ROM across the sessions of {progress.patient_code}; "
             "open red markers: faulted or aborted sessions; grey band: the first complete "
             "session ± the minimal change where one is published", fig)]


def progress_report(store_path: Path, patient_code: str, out_path: Path, *,
                    operator: str | None = None) -> Path:
    """Write a patient's progress report to ``out_path`` (.html or .pdf, mode 0o600); return it.

    The file is recorded in the store as a ``report-html``/``report-pdf`` export of every
    session it covers, by ``operator`` (default :func:`~rehabbot.storage.cli.default_operator`).

    Raises:
        ConfigurationError: empty operator.
        ReportError: unsupported suffix, or no completed or faulted session with a stride.
        StorageError: no such store or patient.
        ExportError: the file cannot be written.
    """
    out = _checked_output(out_path)
    who = check_operator(default_operator() if operator is None else operator)
    progress = load_progress_data(Path(store_path), patient_code)
    covered = [d.info.id for d in progress.sessions] + progress.without_strides
    title = f"Progress report of {patient_code}"
    header, figures = progress_header(progress), progress_figures(progress)
    tables = [progress_table(progress), change_table(progress)]
    return _write_report(
        out,
        lambda: _html_document(title, header, "Progress across sessions", figures, tables,
                               {tables[0][0]: "session"}),
        lambda path: _write_pdf_document(path, title, header, figures, tables),
        (Path(store_path), covered, "progress", who))


def report_command(
    out: Annotated[Path, typer.Option("--out", "-o",
                                      help="report file to write: .html or .pdf")],
    session: Annotated[
        int | None, typer.Argument(help="id of the session (`rehabbot sessions list`)")
    ] = None,
    patient: Annotated[
        str | None,
        typer.Option("--patient", help="patient code: progress report across their sessions"),
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option("--store",
                     help="session store file \\[default: $REHABBOT_STORE or user data dir]"),
    ] = None,
    operator: OperatorOption = None,
) -> None:
    """Write a session report, or with --patient a progress report across sessions.

    The report is recorded in the store (erasing the patient deletes it) and in its audit log.

    Raises:
        ConfigurationError: empty operator.
        ReportError: neither or both of SESSION and --patient, unsupported suffix, or nothing
            with a complete stride to report.
        StorageError: no such store, session or patient.
        ExportError: the file cannot be written.
    """
    if (session is None) == (patient is None):
        raise ReportError("give exactly one of a SESSION id (session report) and --patient CODE "
                          "(progress report)")
    store_path = store if store is not None else default_store_path()
    path = (session_report(store_path, session, out, operator=operator) if session is not None
            else progress_report(store_path, str(patient), out, operator=operator))
    typer.echo(str(path))


__all__ = ["ProgressData", "ReportData", "load_progress_data", "load_report_data",
           "progress_report", "record_report", "render_html", "report_command", "session_report",
           "stored_events", "write_pdf"]
