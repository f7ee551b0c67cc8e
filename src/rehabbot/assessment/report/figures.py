"""The report's figures, drawn with matplotlib (Agg, no display): a session's joint angle curves
against the normative band, and a patient's progress series across sessions. The HTML writer
embeds them as PNG images, the PDF writer puts each on a page of its own.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from rehabbot.assessment.gait_analysis import JOINT_KINDS
from rehabbot.assessment.kinematic_events import SIDE_SUFFIX, SIDES
from rehabbot.assessment.report.loading import ProgressData, ReportData
from rehabbot.assessment.report.pdf_doc import PAGE_IN
from rehabbot.assessment.report.progress import (
    MIN_SPAN,
    MINIMAL_CHANGE,
    incomplete,
    progress_series,
)
from rehabbot.assessment.report.tables import JOINT_TITLES, NORMATIVE_LABEL, display_date
from rehabbot.assessment.scores import NORMATIVE_CHANNELS, normative_mean_deg
from rehabbot.body.normative_gait import normative_curve


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


def progress_figures(progress: ProgressData) -> list[tuple[str, Figure]]:
    """GPS, cadence and hip/knee ROM (mean of the sides) across sessions.

    Faulted or aborted sessions are drawn as open red markers (not comparable as is); a
    minimal change, where known, is a grey band around the first complete session's value;
    each y axis spans at least :data:`MIN_SPAN`, so that noise stays flat.
    """
    x = np.arange(1, len(progress.sessions) + 1)
    labels = [f"{d.info.id}\n{display_date(d.info.started_at)[:10]}" for d in progress.sessions]
    marked = np.array([incomplete(d) for d in progress.sessions])
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
