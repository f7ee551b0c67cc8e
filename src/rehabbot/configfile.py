"""Loading TOML configuration files into pydantic models, with one clear message on error.

Robot configurations and therapy protocols are data (see DESIGN.md): this module is the single place
that turns a file into a validated model, so every bad file is reported the same way: the file, the
field and what is allowed, never a traceback.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from rehabbot.errors import ConfigurationError, echo, shorten

ModelT = TypeVar("ModelT", bound=BaseModel)
#: How many bad fields one message lists at most (the rest are counted).
MAX_LISTED_PROBLEMS = 10
#: Longest rule message kept per field, and longest name of the source (characters); the
#: rules' own texts are shorter, but a validator may quote what it was given.
MAX_RULE_CHARS = 1000


def describe_validation_error(source: str, error: ValidationError) -> str:
    """Format a pydantic validation error as one message naming the source and every bad field.

    >>> from pydantic import BaseModel, Field
    >>> class M(BaseModel):
    ...     x: int = Field(ge=0)
    >>> try:
    ...     M(x=-1)
    ... except ValidationError as e:
    ...     print(describe_validation_error("m.toml", e))
    m.toml: invalid field 'x' = -1: Input should be greater than or equal to 0
    """
    problems = []
    errors = error.errors()
    for item in errors[:MAX_LISTED_PROBLEMS]:
        field = shorten(".".join(str(part) for part in item["loc"]) or "(top level)")
        given = item.get("input")
        shown = "" if isinstance(given, dict) or item["type"] == "missing" else f" = {echo(given)}"
        problems.append(f"invalid field '{field}'{shown}: {shorten(item['msg'], MAX_RULE_CHARS)}")
    if len(errors) > MAX_LISTED_PROBLEMS:
        problems.append(f"and {len(errors) - MAX_LISTED_PROBLEMS} more invalid field(s)")
    return f"{shorten(source, MAX_RULE_CHARS)}: " + "; ".join(problems)


def load_toml_model(path: Path, model: type[ModelT]) -> ModelT:
    """Read the TOML file at ``path`` and validate it as ``model``.

    Raises:
        ConfigurationError: the file is missing, is not valid TOML, or does not validate; the
            message names the file (shortened), the field and the allowed values.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"{shorten(str(path))}: cannot read the file "
                                 f"({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise ConfigurationError(
            f"{shorten(str(path))}: not a text file (byte {exc.start} is not UTF-8); give a TOML "
            "file"
        ) from None
    return parse_toml_model(text, model, source=str(path))


def parse_toml_model(text: str, model: type[ModelT], *, source: str) -> ModelT:
    """Validate TOML ``text`` as ``model``; ``source`` names it in error messages.

    Raises:
        ConfigurationError: not TOML, nested too deep for the parser (a RecursionError), empty,
            or not a valid ``model``; one message, whose echoes of values are shortened.
    """
    where = shorten(source, MAX_RULE_CHARS)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{where}: not valid TOML: {shorten(str(exc))}") from None
    except RecursionError:
        raise ConfigurationError(f"{where}: arrays or tables nested too deep to read; no "
                                 "configuration needs more than a few levels") from None
    if not data:
        raise ConfigurationError(f"{where}: the file is empty (no TOML keys); see the bundled "
                                 "files for the fields it needs")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigurationError(describe_validation_error(source, exc)) from None
    except RecursionError:
        raise ConfigurationError(f"{where}: values nested too deep to check; no configuration "
                                 "needs more than a few levels") from None


def bundled_file(kind: str, name: str) -> Path:
    """Path of a bundled data file, e.g. ``bundled_file("robots", "sim_exo.toml")``."""
    return Path(str(resources.files("rehabbot") / "data" / kind / name))


def resolve_named_file(kind: str, name_or_path: str) -> Path:
    """A path given by the user, or the name of a bundled TOML file of ``kind`` (without suffix).

    Raises:
        ConfigurationError: neither a file nor a bundled name; the message lists the bundled names.
    """
    candidate = Path(name_or_path)
    try:
        if candidate.suffix == ".toml" or candidate.exists():
            return candidate
    except OSError as exc:  # a name too long for the file system, say
        raise ConfigurationError(f"{shorten(name_or_path)}: {exc.strerror or exc}; give a "
                                 f"shorter path or a bundled {kind[:-1]} name") from None
    bundled = bundled_file(kind, f"{name_or_path}.toml")
    if bundled.is_file():
        return bundled
    names = sorted(p.stem for p in bundled.parent.glob("*.toml"))
    raise ConfigurationError(
        f"no {kind[:-1]} named {echo(name_or_path)}: give a .toml file or one of {', '.join(names)}"
    )
