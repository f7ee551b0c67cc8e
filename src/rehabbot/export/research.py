"""Research export: which sessions may leave the store, under which name, and the record of it.

Every export goes through :func:`export_sessions` (the CLI and the console call it):

* **Pseudonymized by default**: exporters get the patient's keyed pseudonym
  (:meth:`~rehabbot.storage.records.PatientRecords.pseudonym`, HMAC-SHA256 with the store's own
  key) as ``SessionData.subject``; no format writes the patient code, name or birth date.
* **Consent**: only sessions of patients who consented to research use are exported; the others
  are skipped (and listed in :attr:`ExportResult.skipped`) unless ``include_without_consent`` is
  given, which the audit log records with the operator and the patients concerned.
* **Record**: every file written is remembered in the store's ``exports`` table (so that erasing
  a patient deletes it) and every export is an ``export`` entry of the audit log (format,
  session and patient row ids, consent override; never the folder, whose name may identify).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rehabbot.errors import ExportError
from rehabbot.export.base import prepare_folder, read_session
from rehabbot.export.registry import exporter_class
from rehabbot.storage.files import relative_parts
from rehabbot.storage.record_models import ExportedFile, check_operator
from rehabbot.storage.records import PatientRecords
from rehabbot.storage.store import SessionStore


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_sessions` did.

    Attributes:
        files: every file written, in session order, each once (a BIDS dataset's
            ``dataset_description.json`` is written for every session).
        sessions: the sessions exported.
        skipped: sessions left out for lack of research consent → their patient's code (for the
            operator's eyes; it is not written anywhere).
        without_consent: sessions exported although their patient did not consent (only with
            ``include_without_consent``).
        running: sessions left out because they are still running (status ``running``: their
            recording is incomplete).
    """

    files: list[Path]
    sessions: list[int]
    skipped: dict[int, str] = field(default_factory=dict)
    without_consent: list[int] = field(default_factory=list)
    running: list[int] = field(default_factory=list)


def select_sessions(store_path: Path, session_ids: Sequence[int] = (), *,
                    patient: str | None = None, every: bool = False) -> list[int]:
    """The ids of the sessions a batch export names, ascending and without repeats.

    Args:
        store_path: the session store.
        session_ids: sessions named one by one.
        patient: a patient code: all of that patient's sessions.
        every: all sessions of the store.

    Raises:
        ExportError: nothing was named.
        StorageError: no store, no such session or patient.
    """
    if not session_ids and patient is None and not every:
        raise ExportError("name the sessions to export: session ids, --patient CODE or --all")
    with SessionStore.open_existing(store_path) as store:
        chosen = {store.get_session(i).id for i in session_ids}
        if patient is not None:
            chosen |= {s.id for s in store.list_sessions(store.get_patient(patient).id)}
        if every:
            chosen |= {s.id for s in store.list_sessions()}
    if not chosen:
        whose = f" of patient {patient!r}" if patient else ""
        raise ExportError(f"no sessions{whose} in the store; there is nothing to export")
    return sorted(chosen)


def export_sessions(store_path: Path, session_ids: Sequence[int], fmt: str, out_dir: Path, *,
                    operator: str, include_without_consent: bool = False) -> ExportResult:
    """Export sessions in the format ``fmt`` into one folder, pseudonymized and recorded.

    Each session is recorded as under way before a byte is written
    (:meth:`~rehabbot.storage.records.PatientRecords.begin_export`), written into a private
    staging folder, then moved into ``out_dir`` and recorded in one transaction
    (:meth:`~rehabbot.storage.records.PatientRecords.finish_export`); a failure deletes what it
    staged. So an erasure running at the same time deletes every file or none is written, and a
    killed export leaves only staged files that erasure finds.

    Args:
        store_path: the session store.
        session_ids: the sessions (see :func:`select_sessions`).
        fmt: a format name of :func:`~rehabbot.export.registry.available_exporters`.
        out_dir: the folder to write into (created if needed, mode 0o700).
        operator: who exports (kept in the audit log).
        include_without_consent: export sessions of patients without research consent too;
            the audit log records it.

    Raises:
        ConfigurationError: unknown format, or an empty operator.
        ExportError: every session lacks consent or is still running (the message says how to
            proceed), or the folder or a file cannot be written.
        StorageError: no store or no such session, or the patient was erased meanwhile.
    """
    who = check_operator(operator)
    exporter = exporter_class(fmt)()
    with SessionStore.open_existing(store_path) as store:
        records = PatientRecords(store)
        infos = {sid: store.get_session(sid) for sid in session_ids}
        owners = {sid: info.patient_code for sid, info in infos.items()}
        running = [sid for sid, info in infos.items() if info.status == "running"]
        consenting = _consenting_codes(store, records, set(owners.values()))
        lacking = {sid: code for sid, code in owners.items() if code not in consenting}
        chosen = [sid for sid in owners if sid not in running
                  and (include_without_consent or sid not in lacking)]
        if not chosen and running:
            raise ExportError(
                f"session(s) {', '.join(map(str, running))} are still running (or their program "
                "ended without closing them), so their recordings are incomplete; export them "
                "when they have ended")
        if not chosen:
            codes = ", ".join(sorted(set(lacking.values())))
            raise ExportError(
                f"patient {codes} did not consent to research use, so session(s) "
                f"{', '.join(map(str, lacking))} may not be exported; record consent "
                "(`rehabbot patients consent CODE --yes --date YYYY-MM-DD`) or, where the law "
                "allows, pass --include-without-consent (kept in the audit log)")
        out, created = prepare_folder(out_dir)
        written: list[ExportedFile] = []
        try:
            for sid in chosen:
                intent = records.begin_export(fmt, out, root_created=created, session_id=sid)
                try:
                    staged = exporter.write(read_session(store, sid), intent.staging)
                    for path in staged:
                        relative_parts(Path(path), intent.staging)  # written where it was told
                    written += records.finish_export(intent, fmt)
                except BaseException:
                    records.abandon_export(intent)
                    raise
        finally:
            if written:  # even a failed export's completed sessions are logged
                records.audit_export(fmt, written, operator=who, detail={
                    "include_without_consent": include_without_consent,
                    "sessions_without_consent": [s for s in chosen if s in lacking],
                    "sessions_skipped": [s for s in owners if s not in chosen],
                })
    return ExportResult(
        files=list(dict.fromkeys(f.path for f in written)), sessions=chosen,
        skipped={sid: code for sid, code in lacking.items() if sid not in chosen
                 and sid not in running},
        without_consent=[sid for sid in chosen if sid in lacking], running=running,
    )


def export_session(store_path: Path, session_id: int, fmt: str, out_dir: Path, *,
                   operator: str, include_without_consent: bool = False) -> list[Path]:
    """Export one session (see :func:`export_sessions`); return the files written.

    Raises:
        ConfigurationError: unknown format, or an empty operator.
        ExportError: the patient did not consent (and no override), or a file cannot be written.
        StorageError: no store or no such session.
    """
    return export_sessions(store_path, [session_id], fmt, out_dir, operator=operator,
                           include_without_consent=include_without_consent).files


def _consenting_codes(store: SessionStore, records: PatientRecords, codes: set[str]) -> set[str]:
    """Those of the patient ``codes`` who consented to research use."""
    ids = {store.get_patient(code).id: code for code in codes}
    return {ids[i] for i in records.consenting(set(ids))}
