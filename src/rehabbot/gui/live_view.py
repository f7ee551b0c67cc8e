"""The live plots and figures of a running session (pyqtgraph).

* one plot per joint: the angle (deg) against the joint's gait phase (% of its leg's cycle), the
  current stride bold and the previous one thin, the reference (dashed) and the normative band
  (Schwartz 2008 mean ± SD, hip as thigh angle to the vertical as the reference uses it; joints
  other than hip and knee have no band);
* the joint torques (N·m) of the last :data:`TORQUE_WINDOW_S` seconds (time before now);
* the gait phase, the step counter and the walking time (the count of
  :class:`~rehabbot.assessment.summary.GaitCounts`, as the summary and the report give it,
  a few seconds behind the treadmill: :mod:`rehabbot.gui.live_stats`);
* biofeedback bars per joint for stance and swing (:mod:`rehabbot.gui.live_stats`).

:meth:`LiveView.show_rows` takes the rows read from the ring since the last frame; the console
calls it from a timer (:data:`FRAME_MS`). The large-value mode (:meth:`LiveView.set_large`)
hides the plots and shows steps, walking time and the phase in figures readable from two metres.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsItem, QGridLayout, QProgressBar, QVBoxLayout, QWidget

from rehabbot.assessment.biofeedback import PARTS
from rehabbot.body.gait_cycle import leg_phase_offset
from rehabbot.body.normative_gait import normative_curve
from rehabbot.gui.history import History
from rehabbot.gui.labels import bold_label
from rehabbot.gui.live_stats import LiveStats
from rehabbot.runtime.ring import FloatArray, LiveBlock

#: Timer period of the live view (ms): about 33 frames per second, so that timer jitter still
#: leaves at least 30.
FRAME_MS = 30
#: Seconds of torque shown.
TORQUE_WINDOW_S = 5.0
#: Seconds of history kept for the angle plots (covers two strides down to 45 steps/min).
HISTORY_S = 6.0
#: Plot every n-th tick (1 kHz data drawn at 250 Hz).
DECIMATE = 4
#: Torque axis range shown (±N·m).
TORQUE_RANGE_NM = 100.0
#: Room above and below a joint's normative band on its angle axis (deg).
ANGLE_MARGIN_DEG = 15.0
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def normative_band_deg(joint_name: str, speed_class: str = "Free") -> tuple[FloatArray, FloatArray,
                                                                          FloatArray] | None:
    """Gait cycle (%), lower and upper edge (deg) of the normative band of a joint, or None.

    >>> x, low, high = normative_band_deg("knee_angle_r")
    >>> len(x), bool((high > low).all())
    (51, True)
    """
    kind = joint_name.rsplit("_", 1)[0]
    if kind == "hip_flexion":
        mean, sd = normative_curve(speed_class, "hip_flexion_deg")
        mean = mean - normative_curve(speed_class, "pelvis_tilt_deg")[0]
    elif kind == "knee_angle":
        mean, sd = normative_curve(speed_class, "knee_flexion_deg")
    else:
        return None
    x = np.linspace(0.0, 100.0, len(mean))
    return x, mean - sd, mean + sd


def _steady(plot: pg.PlotItem) -> None:
    """Fixed axes, drawn once and then blitted from a cache: redrawing tick labels every frame
    costs most of a frame in software rendering."""
    plot.disableAutoRange()
    plot.setMouseEnabled(x=False, y=False)
    for name in ("left", "bottom"):
        plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


def _short_name(joint_name: str) -> str:
    """``hip_flexion_r`` → ``hip r``."""
    kind, side = joint_name.rsplit("_", 1)
    return f"{kind.split('_')[0]} {side}"


class LiveView(QWidget):
    """Plots and figures of the live session.

    Args:
        joint_names: joints in ring column order.
        period_s: the control period (s).
    """

    def __init__(self, joint_names: tuple[str, ...], period_s: float,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.joint_names = joint_names
        self.period_s = period_s
        self.stats = LiveStats(joint_names)
        self.history = History(len(joint_names), round(HISTORY_S / period_s))
        self.frames = 0
        self.large_mode = False
        self._offsets = np.array([leg_phase_offset(n) for n in joint_names])
        pg.setConfigOptions(antialias=False)
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground("w")
        self.plots.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the controls
        self._angle_now: list[pg.PlotDataItem] = []
        self._angle_before: list[pg.PlotDataItem] = []
        self._angle_ref: list[pg.PlotDataItem] = []
        columns = 2
        for i, name in enumerate(joint_names):
            plot = self.plots.addPlot(row=i // columns, col=i % columns, title=f"{name} (deg)")
            plot.setXRange(0, 100, padding=0)
            plot.setLabel("bottom", "gait cycle", units="%")
            plot.showGrid(x=True, y=True, alpha=0.3)
            band = normative_band_deg(name)
            if band is not None:
                x, low, high = band
                lower = plot.plot(x, low, pen=pg.mkPen("#bbbbbb"))
                upper = plot.plot(x, high, pen=pg.mkPen("#bbbbbb"))
                plot.addItem(pg.FillBetweenItem(lower, upper, brush=pg.mkBrush(180, 180, 180, 90)))
                plot.setYRange(float(low.min()) - ANGLE_MARGIN_DEG,
                               float(high.max()) + ANGLE_MARGIN_DEG, padding=0)
            _steady(plot)
            self._angle_ref.append(plot.plot(pen=pg.mkPen("#555555", style=Qt.PenStyle.DashLine)))
            self._angle_before.append(plot.plot(pen=pg.mkPen("#9ecae1", width=1)))
            self._angle_now.append(plot.plot(pen=pg.mkPen(_COLOURS[0], width=3)))
        row = (len(joint_names) + columns - 1) // columns
        torque = self.plots.addPlot(row=row, col=0, title="torque (N·m)")
        torque.addLegend(offset=(-5, 5), colCount=2, labelTextSize="7pt")
        torque.setLabel("bottom", "time before now (s)")
        torque.showGrid(x=True, y=True, alpha=0.3)
        torque.setXRange(-TORQUE_WINDOW_S, 0.0, padding=0)
        torque.setYRange(-TORQUE_RANGE_NM, TORQUE_RANGE_NM, padding=0)
        _steady(torque)
        self._torque = [torque.plot(pen=pg.mkPen(_COLOURS[i % len(_COLOURS)], width=2), name=n)
                        for i, n in enumerate(joint_names)]
        feedback = self.plots.addPlot(row=row, col=1, title="biofeedback (N·m; + patient leads)")
        self._bar_x = np.arange(len(joint_names) * len(PARTS), dtype=float)
        self._bars = pg.BarGraphItem(x=self._bar_x, height=np.zeros_like(self._bar_x), width=0.8,
                                     brushes=[_COLOURS[2], _COLOURS[4]] * len(joint_names))
        feedback.addItem(self._bars)
        ticks = [(float(2 * j + p), f"{_short_name(n)}\n{PARTS[p]}")
                 for j, n in enumerate(joint_names) for p in range(len(PARTS))]
        bottom = feedback.getAxis("bottom")
        bottom.setTicks([ticks])
        bottom.setHeight(2 * self.fontMetrics().lineSpacing() + 12)  # two-line labels, whole
        feedback.setYRange(-20, 20)
        _steady(feedback)
        self.phase_bar = QProgressBar()
        self.phase_bar.setRange(0, 100)
        self.phase_bar.setFormat("gait phase (right) %p %")
        self.steps_label = bold_label("steps 0 (strides R 0 / L 0)", 18, centered=True)
        self.time_label = bold_label("walking 0:00", 18, centered=True)
        self.large_steps = bold_label("0", 96, centered=True)
        self.large_time = bold_label("0:00", 96, centered=True)
        self.large_phase = bold_label("", 40, centered=True)
        self.large = QWidget()
        grid = QGridLayout(self.large)
        grid.addWidget(bold_label("STEPS", 28, centered=True), 0, 0)
        grid.addWidget(bold_label("WALKING TIME", 28, centered=True), 0, 1)
        grid.addWidget(self.large_steps, 1, 0)
        grid.addWidget(self.large_time, 1, 1)
        grid.addWidget(self.large_phase, 2, 0, 1, 2)
        self.large.hide()
        figures = QGridLayout()
        figures.addWidget(self.steps_label, 0, 0)
        figures.addWidget(self.time_label, 0, 1)
        figures.addWidget(self.phase_bar, 1, 0, 1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(figures)
        layout.addWidget(self.plots, 1)
        layout.addWidget(self.large, 1)

    def set_large(self, on: bool) -> None:
        """Large-value mode: figures readable from two metres instead of the plots."""
        self.large_mode = on
        self.plots.setVisible(not on)
        self.large.setVisible(on)

    def reset(self) -> None:
        """Forget the session shown (a new one starts)."""
        self.stats = LiveStats(self.joint_names)
        self.history.clear()

    def show_rows(self, block: LiveBlock) -> None:
        """Take the rows since the last frame and redraw."""
        self.stats.update(block)
        self.history.extend(block)
        self.frames += 1
        self._show_figures()
        if self.large_mode:
            return
        self._draw_plots()

    def finish(self) -> None:
        """The session has ended: count its last strides (the figures then equal the summary's)."""
        self.stats.finish()
        self._show_figures()

    def _show_figures(self) -> None:
        stats = self.stats
        counts = stats.counts
        minutes, seconds = divmod(round(stats.walking_s), 60)
        walking = f"{minutes}:{seconds:02d}"
        self.steps_label.setText(f"steps {counts.step_count} (strides R {counts.strides_right} "
                                 f"/ L {counts.strides_left})")
        self.time_label.setText(f"walking {walking}")
        self.large_steps.setText(str(counts.step_count))
        self.large_time.setText(walking)
        if math.isfinite(stats.phase):
            self.phase_bar.setValue(int(100 * (stats.phase % 1.0)))
            self.large_phase.setText(f"gait phase {100 * (stats.phase % 1.0):.0f} %")

    def _draw_plots(self) -> None:
        view = self.history.view()
        if len(view) < 2:
            return
        rows = LiveBlock(view.rows[::DECIMATE], view.n_joints, 0)
        t = rows.column("t_s")
        q = np.degrees(rows.joints("q"))
        q_ref = np.degrees(rows.joints("q_ref"))
        tau = rows.joints("tau")
        recent = t >= t[-1] - TORQUE_WINDOW_S
        for j, curve in enumerate(self._torque):
            curve.setData(t[recent] - t[-1], tau[recent, j])
        phase = (rows.column("phase")[:, None] + self._offsets[None, :]) % 1.0
        for j in range(len(self.joint_names)):
            p = phase[:, j]
            wraps = np.flatnonzero(np.diff(p) < -0.5) + 1
            start = wraps[-1] if len(wraps) else 0
            before = wraps[-2] if len(wraps) > 1 else 0
            self._angle_now[j].setData(100 * p[start:], q[start:, j])
            self._angle_ref[j].setData(100 * p[start:], q_ref[start:, j])
            self._angle_before[j].setData(100 * p[before:start], q[before:start, j])
        feedback = np.column_stack([self.stats.biofeedback_nm[part] for part in PARTS]).ravel()
        self._bars.setOpts(height=np.nan_to_num(feedback))
