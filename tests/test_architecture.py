"""The import contract (docs/architecture.md) holds, and the core imports no extra.

Each contract of ``[tool.importlinter]`` in pyproject.toml runs as its own test through
import-linter's ``lint-imports``, whose report names every offending import (file and line); a
planted violation shows that the contract has teeth. The lean core is checked at run time: a
fresh interpreter imports every module of the core packages and the command line without loading
a package of an extra, and the command line names the extra a command is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

import rehabbot
from rehabbot.cli import EXTRA_MODULES
from tests.conftest import simulate

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
CONTRACTS: list[dict[str, Any]] = PYPROJECT["tool"]["importlinter"]["contracts"]
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")
#: The packages the robot's computer runs (DESIGN.md), and the modules at the bottom.
CORE = ("body", "hal", "safety", "runtime", "controllers", "storage", "session", "protocols",
        "errors", "configfile", "plugins")
#: Every top-level package an extra brings (cli.EXTRA_MODULES: one table for the messages).
EXTRA_PACKAGES = sorted({name for names in EXTRA_MODULES.values() for name in names})
#: The package each single-home extra belongs to, by forbidden contract.
HOMES = {"qt": "gui", "dask": "sweeps", "physics": "sim", "research-files": "export"}


def lint(contract: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run one contract; its exit status and report."""
    run = subprocess.run(
        [LINT_IMPORTS, "pyproject.toml", "--no-cache", "--no-logo", "--contract", contract],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
    return run.returncode, run.stdout + run.stderr


def layer_packages() -> set[str]:
    """Every package the layers contract places."""
    (layers,) = (c for c in CONTRACTS if c["type"] == "layers")
    return {name.strip() for layer in layers["layers"]
            for name in layer.replace("|", ":").split(":")}


@pytest.mark.parametrize("contract", [c["id"] for c in CONTRACTS])
def test_the_import_contract_holds(contract: str) -> None:
    status, report = lint(contract)
    assert status == 0, f"import contract {contract!r} broken:\n{report}"


def test_the_contract_ignores_no_import_and_places_every_package() -> None:
    assert all("ignore_imports" not in c for c in CONTRACTS)
    (layers,) = (c for c in CONTRACTS if c["type"] == "layers")
    assert layers["exhaustive"] is True and layers["containers"] == ["rehabbot"]
    present = {path.stem for path in Path(rehabbot.__file__).parent.iterdir()
               if (path.suffix == ".py" and path.stem != "__init__")
               or (path / "__init__.py").is_file()}
    assert present <= layer_packages()


def test_each_extra_is_forbidden_to_every_package_but_its_own() -> None:
    forbidden = {c["id"]: c for c in CONTRACTS if c["type"] == "forbidden"}
    assert set(forbidden) == set(HOMES)
    everyone = {f"rehabbot.{name}" for name in layer_packages() - {"__main__"}}
    for contract, home in HOMES.items():
        assert set(forbidden[contract]["source_modules"]) == everyone - {f"rehabbot.{home}"}
    guarded = {m for c in CONTRACTS for m in c.get("forbidden_modules", [])
               + c.get("protected_modules", [])}
    assert guarded == set(EXTRA_PACKAGES)


def test_a_planted_upward_import_and_extra_fail_the_contract_by_name(tmp_path: Path) -> None:
    tree = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "rehabbot", tree / "rehabbot",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tree / "rehabbot" / "hal" / "upward.py").write_text(
        "import rehabbot.gui.app\n", encoding="utf-8")
    (tree / "rehabbot" / "safety" / "extras.py").write_text(
        "import ezc3d\nimport PySide6\n", encoding="utf-8")
    env = os.environ | {"PYTHONPATH": str(tree)}

    status, report = lint("layers", tmp_path, env)
    assert status == 1 and "rehabbot.hal.upward -> rehabbot.gui.app (l.1)" in report, report
    status, report = lint("qt", tmp_path, env)  # a forbidden contract
    assert status == 1 and "rehabbot.safety.extras -> PySide6 (l.2)" in report, report
    status, report = lint("c3d", tmp_path, env)  # a protected one
    assert status == 1 and "rehabbot.safety.extras -> ezc3d (l.1)" in report, report


def imported_extras(code: str) -> list[str]:
    """The extras' packages a fresh interpreter holds after running ``code``."""
    probe = (f"{code}\nimport json, sys\nprint(json.dumps(sorted("
             f"{{m.partition('.')[0] for m in sys.modules}} & set({EXTRA_PACKAGES!r}))))")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=300, check=True)
    names: list[str] = json.loads(run.stdout.strip().splitlines()[-1])
    return names


def test_the_core_packages_and_the_command_line_import_no_extra() -> None:
    code = (
        "import importlib, pkgutil, rehabbot, rehabbot.cli\n"
        f"for name in {CORE!r}:\n"
        "    module = importlib.import_module('rehabbot.' + name)\n"
        "    for info in pkgutil.walk_packages(getattr(module, '__path__', []), name + '.'):\n"
        "        importlib.import_module('rehabbot.' + info.name)\n"
    )
    assert imported_extras(code) == []


#: Runs the command line with every extra's package unimportable, as on the lean install.
WITHOUT_EXTRAS = f"""
import sys
class Missing:
    def find_spec(self, name, path=None, target=None):
        if name.partition('.')[0] in {EXTRA_PACKAGES!r}:
            raise ModuleNotFoundError(f'No module named {{name!r}}', name=name)
sys.meta_path.insert(0, Missing())
sys.argv[0] = 'rehabbot'
from rehabbot.cli import main
main()
"""


def without_extras(*args: str, store: Path,
                   cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``rehabbot ARGS`` without the extras installed."""
    env = os.environ | {"REHABBOT_STORE": str(store), "QT_QPA_PLATFORM": "offscreen",
                        "REHABBOT_OPERATOR": "tester"}
    return subprocess.run([sys.executable, "-c", WITHOUT_EXTRAS, *args], capture_output=True,
                          text=True, timeout=300, env=env, cwd=cwd, check=False)


def test_the_help_lists_every_command_without_the_extras(tmp_path: Path) -> None:
    run = without_extras("--help", store=tmp_path / "s.sqlite")
    assert run.returncode == 0, run.stderr
    for command in ("session", "console", "sweep", "analyze-batch", "export", "report"):
        assert f" {command} " in run.stdout


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding one simulated session (id 1) of the demo patient."""
    store = tmp_path_factory.mktemp("recorded") / "s.sqlite"
    assert simulate(store, 1.0) == 1
    return store


@pytest.mark.parametrize(("args", "words", "extra"), [
    (("console",), "console", "gui"),
    (("sweep", "spec.toml"), "sweep", "scale"),
    (("export", "1", "--format", "c3d", "--include-without-consent", "--out", "."), "export",
     "export"),
    (("patients", "copy", "DEMO-001", "--out", "."), "patients copy", "export"),
    (("session", "run", "--duration", "1"), "session run", "sim"),
])
def test_a_command_without_its_extra_says_which_to_install(
        args: tuple[str, ...], words: str, extra: str, recorded: Path, tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    shutil.copy(recorded, store)
    run = without_extras(*args, store=store, cwd=tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stderr.strip().splitlines()[-1] == (
        f"error: rehabbot {words} needs the {extra} extra: pip install 'rehabbot[{extra}]'")


def test_the_extras_of_the_messages_are_those_of_the_package() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert set(EXTRA_MODULES) == set(extras) - {"all", "test"}
    assert {"sim", "gui", "export", "scale"} <= {
        name for requirement in extras["all"] for name in
        requirement.partition("[")[2].rstrip("]").split(",")}
