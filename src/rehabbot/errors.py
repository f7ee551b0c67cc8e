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
