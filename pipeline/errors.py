"""Domain exceptions; the CLI turns them into one clear line and a non-zero exit."""


class ObservatoryError(Exception):
    """Base of every error a user can cause; the CLI prints it without a traceback."""

    exit_code = 1


class InputError(ObservatoryError):
    """Raised by importers and parsers when a user's file or argument is malformed."""

    exit_code = 2


class SchemaError(ObservatoryError):
    """Raised by the store when the database file is newer than this code or unreadable."""


class SourceError(ObservatoryError):
    """Raised by crawlers when a source answers with an error instead of documents."""


class StoreBusyError(ObservatoryError):
    """Raised when another process holds the DuckDB write lock for longer than we wait."""
