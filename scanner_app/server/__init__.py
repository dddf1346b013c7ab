"""The embedded HTTP server: the venue hub's /v1 API and the organiser dashboard."""

from __future__ import annotations

from scanner_app.server.app import create_app
from scanner_app.server.hub import Hub, HubConfig
from scanner_app.server.runner import DEFAULT_HOST, DEFAULT_PORT, HubServer

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "Hub", "HubConfig", "HubServer", "create_app"]
