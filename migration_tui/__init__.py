"""migration-tui: a terminal dashboard for live, zero-downtime migrations."""

__version__ = "0.1.0"
