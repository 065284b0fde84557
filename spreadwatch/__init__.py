"""spreadwatch: follow a rumour as it spreads across platforms and languages."""

__version__ = "0.1.0"
