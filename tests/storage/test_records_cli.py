"""The ``rehabbot patients`` commands over a real store."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from rehabbot.errors import ConfigurationError, StorageError
from rehabbot.storage.patients_cli import patients_app

Run = Callable[..., Result]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("REHABBOT_OPERATOR", "nurse-a")
    store = str(tmp_path / "store.sqlite")

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(patients_app, [*args, "--store", store])
    return invoke


def test_add_edit_consent_outcome_show_audit_erase(run: Run) -> None:
    result = run("add", "P-010", "--name", "Mia Example", "--birth-date", "1970-05-01",
                 "--sex", "female", "--height", "1.64", "--affected-side", "right")
    assert result.exit_code == 0, result.output
    result = run("edit", "P-010", "--mass", "58", "--thigh-length", "0.41", "--shank-length",
                 "0.39", "--thigh-cuff", "0.2", "--shank-cuff", "0.15", "--rom", "knee=0:65",
                 "--operator", "pt-b")
    assert result.exit_code == 0, result.output
    assert run("consent", "P-010", "--yes", "--date", "2026-10-01").exit_code == 0
    assert run("outcome", "P-010", "mas", "1+", "--date", "2026-10-02",
               "--protocol", "right knee flexors").exit_code == 0
    assert run("outcome", "P-010", "10mwt", "0.48", "--date", "2026-10-02").exit_code == 0

    shown = json.loads(run("show", "P-010", "--json").output)
    assert shown["profile"]["mass_kg"] == 58.0 and shown["profile"]["birth_date"] == "1970-05-01"
    assert shown["fitting"]["rom_deg"] == {"knee": {"min_deg": 0.0, "max_deg": 65.0}}
    assert shown["consent"] == {"research_use": True, "consent_date": "2026-10-01"}
    assert [(o["test"], o["value"], o["unit"]) for o in shown["outcomes"]] == [
        ("mas", "1+", "{score}"), ("10mwt", "0.48", "m/s")]
    assert len(shown["pseudonym"]) == 16

    log = json.loads(run("audit", "--patient", "P-010", "--json").output)
    assert [(e["operator"], e["action"]) for e in log] == [
        ("nurse-a", "patient.add"), ("pt-b", "patient.edit"), ("pt-b", "fitting.set"),
        ("nurse-a", "consent.set"), ("nurse-a", "outcome.add"), ("nurse-a", "outcome.add")]
    assert "Mia" not in json.dumps(log)

    refused = run("erase", "P-010")
    assert isinstance(refused.exception, ConfigurationError)
    assert "add --yes to confirm" in str(refused.exception)
    result = run("erase", "P-010", "--yes")
    assert result.exit_code == 0, result.output
    assert isinstance(run("show", "P-010").exception, StorageError)
    assert "patient.erase" in run("audit").output
    # the erased patient's entries keep who, when and what kind; their details are emptied
    after = json.loads(run("audit", "--json").output)
    assert [(e["operator"], e["action"], e["patient_id"]) for e in after[:len(log)]] == [
        (e["operator"], e["action"], e["patient_id"]) for e in log]
    assert [e["detail"] for e in after[:len(log)]] == [{}] * len(log)
    assert after[-1]["action"] == "patient.erase" and after[-1]["detail"]["sessions"] == []


def test_bad_values_are_refused_with_one_message(run: Run) -> None:
    result = run("add", "P 1", "--height", "4")
    assert isinstance(result.exception, ConfigurationError)
    message = str(result.exception)
    assert message.startswith("patient 'P 1': code: String should match pattern")
    assert "height_m: Input should be less than or equal to 2.5 (got 4.0)" in message
    assert run("add", "P-1").exit_code == 0
    for args, expected in [
        (("edit", "P-1", "--thigh-length", "0.4"), "fitting of 'P-1': shank_length_m: Field "
                                                    "required"),
        (("edit", "P-1", "--rom", "knee"), "--rom 'knee' is not KIND=MIN:MAX"),
        (("consent", "P-1", "--yes", "--date", "1.10.2026"), "consent date '1.10.2026' is not a "
                                                             "date; write it YYYY-MM-DD"),
        (("outcome", "P-1", "berg", "57"), "Berg Balance Scale value: 57 is not a whole number"),
    ]:
        result = run(*args)
        assert isinstance(result.exception, ConfigurationError), args
        assert str(result.exception).startswith(expected), str(result.exception)


def test_the_main_command_prints_one_line_errors(tmp_path: Path) -> None:
    store = str(tmp_path / "store.sqlite")
    add = subprocess.run([sys.executable, "-m", "rehabbot", "patients", "add", "P-2", "--store",
                          store, "--operator", "x"], capture_output=True, text=True, timeout=120)
    assert add.returncode == 0, add.stderr
    bad = subprocess.run([sys.executable, "-m", "rehabbot", "patients", "outcome", "P-2", "fac",
                          "7", "--store", store], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert bad.stderr == ("error: Functional Ambulation Category value: 7 is not a whole number "
                          "0 to 5\n")


@pytest.mark.parametrize("args", [
    ("list",), ("show", "P-1"), ("audit",), ("audit", "--patient", "P-1"), ("compact",),
    ("edit", "P-1", "--mass", "60"), ("consent", "P-1", "--yes"),
    ("outcome", "P-1", "fac", "3"), ("erase", "P-1", "--yes"),
])
def test_only_add_creates_a_store_the_others_say_there_is_none(
    run: Run, tmp_path: Path, args: tuple[str, ...],
) -> None:
    result = run(*args)
    assert isinstance(result.exception, StorageError), result.output
    assert str(result.exception) == (f"no session store at {tmp_path / 'store.sqlite'}; record a "
                                     "session first or pass --store")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_store_is_one_line_with_status_2(tmp_path: Path) -> None:
    store = tmp_path / "nonexist.sqlite"
    for command in (["audit"], ["show", "P-1"]):
        ended = subprocess.run([sys.executable, "-m", "rehabbot", "patients", *command,
                                "--store", str(store)], capture_output=True, text=True,
                               timeout=120)
        assert ended.returncode == 2
        assert ended.stderr == (f"error: no session store at {store}; record a session first "
                                "or pass --store\n")
        assert ended.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_the_audit_table_names_patients_by_code_and_marks_the_erased(run: Run) -> None:
    assert run("add", "P-020", "--name", "Ann Example").exit_code == 0
    assert run("add", "P-021", "--name", "Bo Example").exit_code == 0
    assert run("erase", "P-020", "--yes").exit_code == 0
    table = run("audit").output
    rows = [line for line in table.splitlines() if "patient.add" in line]
    assert len(rows) == 2
    assert "P-021" in rows[1] and "erased (id " in rows[0]
    assert "P-020" not in table  # the erased patient's code is gone from the log
