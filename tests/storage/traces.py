"""Search a folder for traces of a person: in every file's bytes and in file and folder names."""

from __future__ import annotations

from pathlib import Path


def traces(folder: Path, needles: list[str]) -> dict[str, list[str]]:
    """The files and folders under ``folder`` whose bytes or name contain a needle, by needle
    (needles found nowhere are left out, so no trace at all is ``{}``)."""
    found: dict[str, list[str]] = {n: [] for n in needles}
    for path in folder.rglob("*"):
        data = path.read_bytes() if path.is_file() else b""
        for needle in needles:
            if needle.encode() in data or needle in path.name:
                found[needle].append(str(path.relative_to(folder)))
    return {n: files for n, files in found.items() if files}
