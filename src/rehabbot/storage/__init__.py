"""Storage: every patient, session and recorded sample of rehabbot, in one SQLite file.

Module map (one idea each):

* :mod:`~rehabbot.storage.store`: :class:`~rehabbot.storage.store.SessionStore`, the session
  store (patients, sessions with their parameters, summaries and events, and the samples recorded
  at every control tick, in SI units), found at ``$REHABBOT_STORE`` or in the user data folder
  unless a path is given; its public :meth:`~rehabbot.storage.store.SessionStore.transaction`
  is how the modules below run their own statements.
* :mod:`~rehabbot.storage.schema`: the tables, the schema versions and their migrations, and
  recognising a store file.
* :mod:`~rehabbot.storage.samples`: :class:`~rehabbot.storage.samples.Sample` (one tick, what
  the control loop pushes to its sinks), sample blocks and their blob layout.
* :mod:`~rehabbot.storage.summary`: :class:`~rehabbot.storage.summary.StoredSummary`, the typed
  session summary every reader uses.
* :mod:`~rehabbot.storage.recorder`: :class:`~rehabbot.storage.recorder.Recorder`, which takes
  one sample per tick from the control loop without touching the disk and commits them from its
  own thread at least every 50 ms, so that a killed process loses at most about the last 100 ms
  of a recording.
* :mod:`~rehabbot.storage.records`: :class:`~rehabbot.storage.records.PatientRecords`: patient
  profiles, fitting, research consent, clinical outcomes, the exports' bookkeeping and the audit
  log, with the per-store pseudonym key of research exports.
* :mod:`~rehabbot.storage.record_models`: the records' types, their validation and rows.
* :mod:`~rehabbot.storage.erasure`: erasing a patient (files, rows, every trace in the file).
* :mod:`~rehabbot.storage.files`: private folders and owner-only files, moved and deleted
  without following links.
* :mod:`~rehabbot.storage.truth`: simulation truth stored with a session (the simulated
  patient's muscle torques per tick), recorded by a sample sink beside the recorder.
* :mod:`~rehabbot.storage.patients_cli`: ``rehabbot patients``.

docs/storage.md describes the file, its schema and how to read it; docs/records.md the records
and the privacy model.
"""
