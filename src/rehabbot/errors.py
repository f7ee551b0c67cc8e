"""The error hierarchy: every error rehabbot raises on purpose is a :class:`RehabbotError`.

Safety faults are *not* exceptions: the supervisor reports them as values so that the control loop
never unwinds through a fault (see :mod:`rehabbot.safety`).
"""


class RehabbotError(Exception):
    """Base class of every error rehabbot raises on purpose; its message is meant for the user."""


class ConfigurationError(RehabbotError):
    """A configuration or protocol file, or a parameter, is invalid."""


class CommunicationError(RehabbotError):
    """The CAN bus or a drive could not be reached or answered with something unusable."""


class SafetyError(RehabbotError):
    """An operation was refused because it would violate a safety rule."""


class StorageError(RehabbotError):
    """The session store could not be opened, read or written."""


class ExportError(RehabbotError):
    """A recording could not be exported."""


class ReportError(RehabbotError):
    """A session report could not be made (unsupported file type, too few strides, ...)."""


#: Longest echo of a user's value in a message (characters): a 6 MB input must not give a 6 MB
#: error line.
MAX_ECHO_CHARS = 120
#: Longest message the command line prints (characters), whatever the error gathered.
MAX_MESSAGE_CHARS = 4000


def shorten(text: str, limit: int = MAX_ECHO_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was.

    >>> shorten("abc", 10)
    'abc'
    >>> shorten("x" * 50, 30)
    'xxxxxxxxxxxxx… (50 characters)'
    """
    if len(text) <= limit:
        return text
    tail = f"… ({len(text)} characters)"
    return text[:max(limit - len(tail), 0)] + tail


def echo(value: object, limit: int = MAX_ECHO_CHARS) -> str:
    """``repr(value)``, shortened to ``limit`` characters (:func:`shorten`), for a message.

    Very long numbers are not converted at all (Python refuses ints over 4300 digits).

    >>> echo("Anna")
    "'Anna'"
    """
    if isinstance(value, int) and value.bit_length() > 4 * limit:
        return f"<a number of {value.bit_length()} bits>"
    return shorten(repr(value), limit)
