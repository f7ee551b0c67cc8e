"""Erasing a patient: every file their exports left, every row, every trace in the store file.

Runs in one write transaction of the store (so that no export can record or move a file
meanwhile), deletes files without following links nor leaving their export folder
(:mod:`rehabbot.storage.files`), keeps who did what and when in the audit log without the
details, and compacts the file afterwards. docs/records.md ("Erasure") describes it.
"""

from __future__ import annotations

from pathlib import Path

from rehabbot.errors import StorageError
from rehabbot.storage.files import (
    relative_parts,
    remove_empty_folders,
    remove_tree_beneath,
    unlink_beneath,
)
from rehabbot.storage.record_models import (
    ErasureReport,
    check_operator,
    patient_row,
    write_audit,
)
from rehabbot.storage.store import SessionStore


def erase_patient(store: SessionStore, code: str, *, operator: str) -> ErasureReport:
    """Erase a patient: export files, then every row, then every trace in the file.

    In one write transaction (so that no export can record or move a file meanwhile):
    deletes the export files recorded for the patient (not those that other patients'
    exports share), the staging folders of their exports that never completed, and the
    folders this leaves empty below each export folder (the export folder itself if an
    export created it), never following a link nor leaving the export folder; then the
    sessions with their parameters, events and samples, the outcomes, consent, fitting,
    export records and the patient row; empties the details of the patient's audit entries
    (keeping who, when and the action) and removes the export folder that entries of
    earlier versions kept from the exports that name the patient; and logs
    ``patient.erase`` (patient row id, session ids and counts only). Finally
    :meth:`SessionStore.compact` rewrites the file so that no deleted byte remains in it or in its
    write-ahead log.

    Raises:
        ConfigurationError: empty operator.
        StorageError: no such patient, a file that cannot be deleted (nothing is erased
            from the store then), or another connection kept the write-ahead log from being
            emptied (the rows are gone; run ``rehabbot patients compact`` when it has closed).
    """
    who = check_operator(operator)
    deleted: list[Path] = []
    missing: list[Path] = []
    kept: list[Path] = []
    refused: list[Path] = []
    with store.transaction(f"erasing patient {code!r}", write=True) as db:
        patient_id = int(patient_row(db, code, store.path)[0])
        sessions = tuple(int(r[0]) for r in db.execute(
            "SELECT id FROM sessions WHERE patient_id = ? ORDER BY id", (patient_id,)))
        mine = db.execute("SELECT DISTINCT path, root FROM exports WHERE patient_id = ?",
                          (patient_id,)).fetchall()
        shared = {r[0] for r in db.execute(
            "SELECT DISTINCT path FROM exports WHERE patient_id != ?", (patient_id,))}
        staged = db.execute("SELECT staging, root FROM export_intents WHERE patient_id = ?",
                            (patient_id,)).fetchall()
        created = {r[0] for r in db.execute("SELECT path FROM export_folders")}
        emptied: list[Path] = []
        for path_text, root_text in mine:
            path, root = Path(path_text), Path(root_text)
            if path_text in shared:
                kept.append(path)
                continue
            try:
                (deleted if unlink_beneath(path, root) else missing).append(path)
            except StorageError:
                refused.append(path)
                continue
            emptied += remove_empty_folders(path.parent, root,
                                            remove_root=root_text in created)
        for staging_text, root_text in staged:
            staging, root = Path(staging_text), Path(root_text)
            try:
                relative_parts(staging, root)
                deleted += sorted(p for p in staging.rglob("*") if not p.is_dir())
                remove_tree_beneath(staging, root)
            except StorageError:
                refused.append(staging)
                continue
            emptied += remove_empty_folders(root, root, remove_root=root_text in created)
        db.executemany("DELETE FROM export_folders WHERE path = ?",
                       [(str(f),) for f in emptied])
        for table in ("exports", "export_intents", "outcomes", "consents", "fittings"):
            db.execute(f"DELETE FROM {table} WHERE patient_id = ?", (patient_id,))
        db.execute("DELETE FROM sessions WHERE patient_id = ?", (patient_id,))
        db.execute("DELETE FROM patients WHERE id = ?", (patient_id,))
        db.execute("UPDATE audit_log SET detail = '{}' WHERE patient_id = ?", (patient_id,))
        db.execute("UPDATE audit_log SET detail = json_remove(detail, '$.out_dir') "
                   "WHERE action = 'export' AND EXISTS (SELECT 1 FROM json_each(detail, "
                   "'$.patients') WHERE value = ?)", (patient_id,))
        write_audit(db, who, "patient.erase", patient_id,
                    {"sessions": list(sessions), "files_deleted": len(deleted),
                     "files_missing": len(missing), "files_kept": len(kept),
                     "files_refused": len(refused)})
    store.compact()
    return ErasureReport(patient_id, sessions, tuple(deleted), tuple(missing), tuple(kept),
                         tuple(refused))
