"""The observatory's command line and typed settings."""

__version__ = "0.1.0"
