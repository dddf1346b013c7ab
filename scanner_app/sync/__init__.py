"""Sync with an upstream node (a venue hub or central Tickitz): client, engine, key store."""

from scanner_app.sync.client import TickitzClient, api_base
from scanner_app.sync.clock import ClockOffset
from scanner_app.sync.config import SyncConfig, SyncSettingsDamaged, make_setup, parse_setup
from scanner_app.sync.credentials import KeyStore, KeyUnusable
from scanner_app.sync.door import OnlineCheckProvider, check_provider, door_for
from scanner_app.sync.engine import NotConfigured, SettingsDamaged, SyncEngine
from scanner_app.sync.rounds import RoundReport
from scanner_app.sync.state import ConnectionState, SyncStatus

__all__ = [
    "ClockOffset",
    "ConnectionState",
    "KeyStore",
    "KeyUnusable",
    "NotConfigured",
    "OnlineCheckProvider",
    "RoundReport",
    "SettingsDamaged",
    "SyncConfig",
    "SyncEngine",
    "SyncSettingsDamaged",
    "SyncStatus",
    "TickitzClient",
    "api_base",
    "check_provider",
    "door_for",
    "make_setup",
    "parse_setup",
]
