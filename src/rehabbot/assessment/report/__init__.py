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

Modules, one idea each: :mod:`~rehabbot.assessment.report.loading` (reading and analyzing
sessions), :mod:`~rehabbot.assessment.report.tables` (the session report's tables, format-free),
:mod:`~rehabbot.assessment.report.progress` (the progress report's content),
:mod:`~rehabbot.assessment.report.figures` (the plots, matplotlib),
:mod:`~rehabbot.assessment.report.html_doc` and :mod:`~rehabbot.assessment.report.pdf_doc` (the
two writers; the PDF one lays pages out with matplotlib),
:mod:`~rehabbot.assessment.report.writing` (writing a file and recording it) and
:mod:`~rehabbot.assessment.report.cli` (``rehabbot report``). This package re-exports what the
rest of rehabbot uses.

A report carries the patient code, so every written report is recorded in the store like an
export (:meth:`~rehabbot.storage.records.PatientRecords.record_export`, format ``report-html`` or
``report-pdf``, against each session it covers): erasing the patient deletes it, and the audit
log has an ``export`` entry naming the operator (``--operator``, default ``$REHABBOT_OPERATOR``
or the login name, as the ``patients`` commands do).
"""

from rehabbot.assessment.report.cli import report_command
from rehabbot.assessment.report.loading import (
    ProgressData,
    ReportData,
    load_progress_data,
    load_report_data,
    stored_events,
)
from rehabbot.assessment.report.tables import display_date
from rehabbot.assessment.report.writing import (
    progress_report,
    record_report,
    render_html,
    session_report,
    write_pdf,
)

__all__ = ["ProgressData", "ReportData", "display_date", "load_progress_data", "load_report_data",
           "progress_report", "record_report", "render_html", "report_command", "session_report",
           "stored_events", "write_pdf"]
