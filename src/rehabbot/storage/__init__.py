"""Storage: every patient, session and recorded sample of rehabbot, in one SQLite file.

:mod:`rehabbot.storage.store` holds :class:`~rehabbot.storage.store.SessionStore`, the session
store (patients, sessions with their parameters, summaries and events, and the samples recorded at
every control tick, in SI units), found at ``$REHABBOT_STORE`` or in the user data folder unless a
path is given. :mod:`rehabbot.storage.recorder` holds :class:`~rehabbot.storage.recorder.Recorder`,
which takes one sample per tick from the control loop without touching the disk and commits them
from its own thread at least every 50 ms, so that a killed process loses at most about the last
100 ms of a recording. :mod:`rehabbot.storage.records` holds
:class:`~rehabbot.storage.records.PatientRecords`: patient profiles, fitting, research consent,
clinical outcomes, erasure and the audit log, with the per-store pseudonym key of research
exports; :mod:`rehabbot.storage.files` creates private folders and moves and deletes export
files without following links; :mod:`rehabbot.storage.patients_cli` is ``rehabbot patients``.
docs/storage.md describes the file, its schema and how to read it; docs/records.md the records
and the privacy model.
"""
