"""Bad input at the command line: one line on stderr and exit status 2, never a traceback nor a
message larger than the terminal; user text in tables is shown as typed, never parsed as markup.

Issue 15, items 17 (markup in user text), 18 (RecursionError, ENAMETOOLONG, OverflowError) and
19 (a huge input echoed in full).
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

from rehabbot.cli import main
from rehabbot.configfile import bundled_file
from rehabbot.storage.record_models import PatientProfile
from rehabbot.storage.records import PatientRecords
from rehabbot.storage.store import SessionStore
from tests.conftest import simulate

HUGE_ID = "99999999999999999999"
#: Longest error line accepted (characters).
MAX_MESSAGE_CHARS = 4000


def rehabbot(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
             *args: str) -> tuple[int, str, str]:
    """Run the ``rehabbot`` entry point in this process: (exit status, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["rehabbot", *args])
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as ended:
        main()
    out, err = capsys.readouterr()
    code = ended.value.code
    return (code if isinstance(code, int) else 0), out, err


def assert_one_line_error(result: tuple[int, str, str], *expected: str) -> None:
    code, _, err = result
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1, err[:500]
    assert len(err) < MAX_MESSAGE_CHARS
    assert "Traceback" not in err
    for text in expected:
        assert text in err, err[:500]


@pytest.fixture(scope="module")
def marked_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with a session of a patient whose name and diagnosis hold markup characters."""
    store = tmp_path_factory.mktemp("markup") / "s.sqlite"
    simulate(store, duration_s=0.2, patient_code="P-MARK")
    with SessionStore.open(store) as st:
        records = PatientRecords(st)
        records.update_profile("P-MARK", {"display_name": "Anna [/] Smith",
                                          "diagnosis": "CVA [left hemisphere]",
                                          "birth_date": date(1960, 1, 2)}, operator="[/]")
        records.add_patient(PatientProfile(code="P-2", display_name="[bold]Bo[/bold]"),
                            operator="[red]x")
    return store


@pytest.mark.parametrize(("args", "shown"), [
    (("patients", "list"), ["Anna [/] Smith", "[bold]Bo[/bold]"]),
    (("patients", "show", "P-MARK"), ["Anna [/] Smith", "CVA [left hemisphere]"]),
    (("patients", "audit"), ["[/]", "[red]x"]),
])
def test_user_text_with_markup_is_shown_as_typed(
    marked_store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...], shown: list[str],
) -> None:
    code, out, err = rehabbot(monkeypatch, capsys, *args, "--store", str(marked_store))
    assert code == 0, err
    for text in shown:
        assert text in out, out


def test_sessions_list_and_show_show_user_text_as_typed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    store = tmp_path / "s.sqlite"
    with SessionStore.open(store) as st:
        patient = st.ensure_patient("P-[b]1")
        session = st.create_session(patient, "gait [/]", "robot", 0.001, ["knee_angle_r"], {})
        st.finish_session(session, "aborted", {"error": "bad [/] thing"})
    code, out, err = rehabbot(monkeypatch, capsys, "sessions", "list", "--store", str(store))
    assert code == 0, err
    assert "P-[b]1" in out and "gait [/]" in out
    code, out, err = rehabbot(monkeypatch, capsys, "sessions", "show", str(session), "--store",
                              str(store))
    assert code == 0, err
    assert "gait [/]" in out and "bad [/] thing" in out


def test_can_check_shows_a_channel_with_markup_as_typed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    robot = tmp_path / "robot.toml"
    robot.write_text(bundled_file("robots", "sim_exo.toml").read_text()
                     .replace('channel = "rehabbot-sim-right"', 'channel = "sim[/]"'))
    code, out, err = rehabbot(monkeypatch, capsys, "can", "check", str(robot))
    # the checklist is printed in full, the right leg's bus under the channel as written
    assert code == 0 and err == "", err
    assert "start-up checklist" in out and "virtual:sim[/]" in out and "pass" in out.lower()


DEEP_TOML = "a = " + "[" * 500 + "]" * 500 + "\n"
LONG_NAME = "x" * 5000


@pytest.mark.parametrize("args", [
    ("protocols", "validate", "{deep}"),
    ("session", "run", "--protocol", "{deep}"),
    ("session", "run", "--robot", "{deep}"),
    ("can", "check", "{deep}"),
])
def test_deeply_nested_toml_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text(DEEP_TOML)
    result = rehabbot(monkeypatch, capsys,
                      *(a.format(deep=deep) for a in args), "--store", str(tmp_path / "s.sqlite")
                      ) if args[0] == "session" else rehabbot(
        monkeypatch, capsys, *(a.format(deep=deep) for a in args))
    assert_one_line_error(result, str(deep), "nested too deep")
    assert not (tmp_path / "s.sqlite").exists()


@pytest.mark.parametrize("args", [
    ("protocols", "validate", f"{LONG_NAME}.toml"),
    ("session", "run", "--protocol", LONG_NAME),
    ("session", "run", "--protocol", f"{LONG_NAME}.toml"),
    ("analyze", f"{LONG_NAME}.c3d"),
])
def test_a_path_too_long_for_the_file_system_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(rehabbot(monkeypatch, capsys, *args), "File name too long")


@pytest.mark.parametrize("args", [
    ("sessions", "show", HUGE_ID), ("export", HUGE_ID, "--format", "csv", "--out", "{out}"),
    ("replay", HUGE_ID),
])
def test_a_session_id_beyond_sqlite_integers_is_one_line(
    marked_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
) -> None:
    result = rehabbot(monkeypatch, capsys, *(a.format(out=tmp_path / "out") for a in args),
                      "--store", str(marked_store))
    assert_one_line_error(result, f"no session {HUGE_ID}")
    assert not (tmp_path / "out").exists()


def test_a_huge_protocol_gets_a_short_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    # 100,000 phases of about 60 bytes: 6 MB; each phase's name is wrong, and the list too long
    path = tmp_path / "huge.toml"
    head = bundled_file("protocols", "standard_gait.toml").read_text().split("[[phases]]")[0]
    phase = '[[phases]]\nname = ""\nkind = "training"\nduration_s = 60\n\n'
    path.write_text(head + phase * 100_000)
    assert path.stat().st_size > 5_000_000
    result = rehabbot(monkeypatch, capsys, "protocols", "validate", str(path))
    assert_one_line_error(result, str(path), "phases")
    assert len(result[2]) < 4_000
