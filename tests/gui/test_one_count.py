"""One count of steps and strides: the live view, the stored summary, `sessions show`, the
report, the CSV export and the after-session screen agree for one simulated session."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pytestqt.qtbot import QtBot
from typer.testing import CliRunner

from rehabbot.assessment.report import load_report_data, session_report
from rehabbot.assessment.summary import GaitCounts
from rehabbot.cli import app
from rehabbot.export.base import load_session
from rehabbot.export.csv import CsvExporter
from rehabbot.gui.after_screen import AfterScreen
from rehabbot.gui.live_view import LiveView
from rehabbot.runtime.ring import LiveBlock
from rehabbot.storage.samples import SessionSamples
from rehabbot.storage.store import SessionStore
from tests.conftest import simulate

#: Rows per live block: one frame of the console at 1 kHz.
FRAME_ROWS = 30


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A 20 s simulated session."""
    store = tmp_path_factory.mktemp("count") / "sessions.sqlite"
    return store, simulate(store, duration_s=20.0)


def ring_blocks(samples: SessionSamples) -> Iterator[LiveBlock]:
    """The samples as the console reads them off the ring, a frame at a time."""
    rows = np.column_stack((samples.tick, samples.t_s, samples.phase,
                            samples.contact.astype(float), samples.q, samples.qd, samples.tau,
                            samples.tau_cmd, samples.q_ref))
    for start in range(0, len(rows), FRAME_ROWS):
        yield LiveBlock(rows[start:start + FRAME_ROWS], samples.q.shape[1], 0)


def test_live_view_summary_sessions_show_report_csv_and_after_screen_count_the_same(
        qtbot: QtBot, session: tuple[Path, int], tmp_path: Path) -> None:
    store, session_id = session
    with SessionStore.open(store) as st:
        samples = st.load_samples(session_id)
        summary = st.session_summary(session_id)
    assert summary is not None and summary.step_count is not None
    assert summary.strides_right is not None and summary.strides_left is not None
    assert summary.walking_time_s is not None and summary.cadence_steps_per_min is not None
    assert summary.duration_s is not None
    stored = GaitCounts(summary.step_count, summary.strides_right, summary.strides_left,
                        summary.walking_time_s, summary.cadence_steps_per_min)
    assert stored.strides_right >= 10 and stored.strides_left >= 10
    # walking time counts time walking: less than the recording, more than the strides' sum / 2
    assert 0.8 * summary.duration_s < stored.walking_time_s < summary.duration_s

    view = LiveView(samples.joint_names, 0.001)
    qtbot.addWidget(view)
    for block in ring_blocks(samples):
        view.show_rows(block)
    trailing = view.stats.counts.step_count
    view.finish()  # the session ended: its last strides are counted
    assert trailing <= view.stats.counts.step_count
    assert view.stats.counts.step_count == stored.step_count
    assert view.stats.counts.strides_right == stored.strides_right
    assert view.stats.counts.strides_left == stored.strides_left
    assert view.stats.counts.walking_time_s == pytest.approx(stored.walking_time_s, abs=1e-9)
    assert view.stats.counts.cadence_steps_per_min == pytest.approx(
        stored.cadence_steps_per_min, rel=1e-9)
    assert view.steps_label.text() == (f"steps {stored.step_count} (strides R "
                                       f"{stored.strides_right} / L {stored.strides_left})")

    shown = CliRunner().invoke(app, ["sessions", "show", str(session_id), "--store", str(store)],
                               env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert re.search(rf"\bsteps[\s│]+{stored.step_count}\b", shown.output)
    assert re.search(rf"strides \(right / left\)[\s│]+{stored.strides_right} / "
                     rf"{stored.strides_left}\b", shown.output)

    analysis = load_report_data(store, session_id).analysis
    assert analysis.step_count == stored.step_count
    assert [analysis.strides[s]["start_s"].size for s in ("right", "left")] == [
        stored.strides_right, stored.strides_left]
    assert analysis.cadence_steps_per_min == pytest.approx(stored.cadence_steps_per_min)
    html = session_report(store, session_id, tmp_path / "r.html", operator="t").read_text(
        encoding="utf-8")
    assert f"<td>steps</td><td>{stored.step_count}</td>" in html

    files = CsvExporter().write(load_session(store, session_id), tmp_path)
    strides_csv = next(f for f in files if f.name.endswith("_strides.csv"))
    with strides_csv.open(encoding="utf-8") as f:
        sides = [row["side"] for row in csv.DictReader(f)]
    assert sides.count("right") == stored.strides_right
    assert sides.count("left") == stored.strides_left

    after = AfterScreen(store, "t")
    qtbot.addWidget(after)
    after.show_session(session_id)
    cells = {after.summary.item(r, 0).text(): after.summary.item(r, 1).text()
             for r in range(after.summary.rowCount())}
    assert cells["steps"] == str(stored.step_count)
    assert cells["strides (right / left)"] == f"{stored.strides_right} / {stored.strides_left}"
    # the simulator's contacts are shown only as a labelled cross-check
    assert "contact strides (simulator cross-check)" in cells
