"""Tickitz Scanner: offline-capable door scanner and venue hub for Tickitz events."""

__version__ = "0.1.0"
