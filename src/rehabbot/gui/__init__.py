"""The therapist console (PySide6 + pyqtgraph): patients, session setup, live session, reports.

The session runs in its own process (:mod:`rehabbot.session.session_process`); live data comes
through a shared-memory ring (:mod:`rehabbot.runtime.ring`), commands and replies through queues
(:mod:`rehabbot.session.session_link`). docs/console.md describes the screens, the keyboard map
and the isolation.
"""
