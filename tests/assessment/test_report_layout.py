"""Reports a clinic files: PDF pages laid out as a document (every text inside the page, wide
tables split, rows continued with their header, events as a plain table), and a progress view
that marks sessions that did not complete and judges changes only against a published minimal
change (first two PDF pages saved to ``artifacts/``)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from rehabbot.assessment.report import load_progress_data, load_report_data
from rehabbot.assessment.report.figures import curve_figures, progress_figures
from rehabbot.assessment.report.pdf_doc import MARGIN_IN, PAGE_IN, pdf_document
from rehabbot.assessment.report.progress import MIN_SPAN, change_table, progress_table
from rehabbot.assessment.report.tables import header_rows, report_tables
from rehabbot.storage.store import SessionStore
from tests.artifacts import artifacts_dir
from tests.conftest import simulate


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A 10 s session with a fault and a refused reset among its events."""
    path = tmp_path_factory.mktemp("layout") / "sessions.sqlite"
    session_id = simulate(path, duration_s=10.0)
    with SessionStore.open(path) as st:
        st.add_event(session_id, 6.5, "fault:position_limit", "hip_flexion_r",
                     {"value": -0.520555, "limit": -0.52, "category": 0, "priority": "high"})
        st.add_event(session_id, 7.0, "reset:refused", None, {"category": 0})
    return path, session_id


def texts_outside_the_margins(page: Figure) -> list[str]:
    """Texts of a table page that reach beyond its margins (measured as drawn)."""
    renderer = FigureCanvasAgg(page).get_renderer()  # type: ignore[no-untyped-call]
    page.draw(renderer)
    dpi = page.dpi
    left, right = MARGIN_IN * dpi - 1, (PAGE_IN[0] - MARGIN_IN) * dpi + 1
    bottom = 0.3 * dpi  # the footer room below the bottom margin
    outside = []
    for text in page.texts:
        box = text.get_window_extent(renderer)
        if text.get_text() and (box.x0 < left or box.x1 > right or box.y0 < bottom):
            outside.append(text.get_text()[:60])
    return outside


def test_the_session_pdf_keeps_every_table_inside_the_page(store: tuple[Path, int]) -> None:
    path, session_id = store
    data = load_report_data(path, session_id)
    doc = pdf_document("Session report", header_rows(data), curve_figures(data),
                       report_tables(data), {"Strides": 2})
    table_pages = [p for p in doc.pages if not p.axes]
    assert len(table_pages) >= 2
    for number, page in enumerate(table_pages, 1):
        assert texts_outside_the_margins(page) == [], number
        assert page.get_size_inches().tolist() == list(PAGE_IN)
        # a table's columns are drawn from one top, row for row: equal line counts
        tops: dict[float, set[int]] = {}
        for text in page.texts:
            if text.get_fontweight() == "normal" and "\n" in text.get_text():
                tops.setdefault(round(text.get_position()[1], 6), set()).add(
                    text.get_text().count("\n"))
        assert tops and all(len(counts) == 1 for counts in tops.values()), tops
    for number, page in enumerate(doc.pages[:2], 1):
        page.savefig(artifacts_dir() / f"report_page{number}.png", dpi=100)
    shown = " ".join(" ".join(t.get_text() for p in table_pages for t in p.texts).split())
    # every stride column is printed, the strides table's last columns included
    for heading in ("knee GVS", "hip ROM", "double support"):
        assert heading in shown
    # events as a table in plain words, the recorded values beside them
    assert "Right hip beyond the robot's limit" in shown
    assert "Reset refused: a cause is still present" in shown
    assert '{"value"' not in shown
    figure_pages = [p for p in doc.pages if p.axes]
    assert figure_pages and all(p.get_size_inches().tolist() == list(PAGE_IN)
                                for p in figure_pages)


def test_a_table_too_wide_for_the_page_is_split_and_continued_with_its_header() -> None:
    headers = ["side", "stride", *(f"a long column heading number {i} (unit)" for i in range(18))]
    rows = [["right", str(i), *(f"{i * 1.2345:.4f}" for _ in range(18))] for i in range(150)]
    doc = pdf_document("Wide", [("what", "a wide table")], [], [("Wide", headers, rows)],
                       {"Wide": 2})
    assert len(doc.pages) >= 4  # column groups, each over more than one page
    for page in doc.pages:
        assert texts_outside_the_margins(page) == []
    shown = [t.get_text() for p in doc.pages for t in p.texts]
    assert any("part 2" in s for s in shown)
    assert sum(s == "stride" for s in shown) >= 4  # the key column repeated with the header


@pytest.fixture(scope="module")
def progress_store(store: tuple[Path, int], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three sessions of the demo patient, the second marked faulted."""
    path = tmp_path_factory.mktemp("progress") / "sessions.sqlite"
    shutil.copy(store[0], path)
    second = simulate(path, duration_s=6.0, guidance_pct=80.0)
    simulate(path, duration_s=6.0, guidance_pct=60.0)
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE sessions SET status = 'faulted' WHERE id = ?", (second,))
    db.close()
    return path


def test_the_progress_view_marks_a_faulted_session_and_judges_only_known_changes(
        progress_store: Path) -> None:
    progress = load_progress_data(progress_store, "DEMO-001")
    assert [d.info.status for d in progress.sessions] == ["completed", "faulted", "completed"]
    _, headers, rows = progress_table(progress)
    status = headers.index("status")
    assert [r[status] for r in rows] == ["completed", "faulted (not comparable)", "completed"]
    _, _, changes = change_table(progress)
    verdicts = {row[0]: row[4] for row in changes}
    assert "Baker et al. 2012" in verdicts["GPS (deg)"]
    assert verdicts["GPS (deg)"].startswith(("within ±1.6", "beyond ±1.6"))
    assert verdicts["cadence (steps/min)"] == "no published minimal change: not judged"
    (_, fig), = progress_figures(progress)
    for ax, key in zip(fig.axes, ("gps", "cadence", "hip_rom", "knee_rom"), strict=True):
        low, high = ax.get_ylim()
        assert high - low >= MIN_SPAN[key] - 1e-9  # small changes stay small
        assert any("faulted" in t.get_text() for t in ax.get_legend().get_texts())
    fig.savefig(artifacts_dir() / "progress_view.png", dpi=80)
