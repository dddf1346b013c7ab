"""Pure parts of sync: the clock estimate, setup text, key store, addresses, rate limits."""

from __future__ import annotations

import dataclasses
import os
import stat
from datetime import UTC, datetime, timedelta

import keyring
import pytest
from keyring.backend import KeyringBackend

from scanner_app.core.errors import ValidationError
from scanner_app.sync.client import RateLimit, api_base, retry_after_s
from scanner_app.sync.clock import ClockOffset
from scanner_app.sync.config import make_setup, parse_setup
from scanner_app.sync.credentials import KeyStore

T0 = datetime(2026, 7, 15, 19, 0, 0, tzinfo=UTC)


def _answer(clock: ClockOffset, true_offset_s: float, at: datetime, rtt_ms: float = 4) -> None:
    """The server's Date for a request sent at local `at`, truncated to the second."""
    received = at + timedelta(milliseconds=rtt_ms)
    server = at + timedelta(milliseconds=rtt_ms / 2) + timedelta(seconds=true_offset_s)
    clock.observe(server.replace(microsecond=0), at, received)


def test_clock_agreeing_clocks_give_exactly_zero():
    clock = ClockOffset()
    for i in range(10):
        _answer(clock, 0.0, T0 + timedelta(milliseconds=337 * i))
    assert clock.offset_ms() == 0.0
    assert not clock.large


def test_clock_a_cached_date_up_to_a_second_old_is_not_taken_for_a_skew():
    clock = ClockOffset()
    for i in range(10):  # uvicorn refreshes Date once a second: it lags by up to ~1 s
        at = T0 + timedelta(milliseconds=990 + 1000 * i)
        clock.observe((at - timedelta(milliseconds=990)).replace(microsecond=0), at, at)
    assert clock.offset_ms() == 0.0


@pytest.mark.parametrize("true_offset", [-90.0, -4.0, 3.4, 61.25])
def test_clock_converges_on_a_skew_within_the_date_resolution(true_offset):
    clock = ClockOffset()
    for i in range(20):
        _answer(clock, true_offset, T0 + timedelta(milliseconds=173 * i))
    assert abs(clock.offset_ms() - true_offset * 1000) < 1000
    assert clock.large


def test_clock_follows_a_stepped_clock():
    clock = ClockOffset()
    for i in range(5):
        _answer(clock, 0.0, T0 + timedelta(seconds=i))
    for i in range(5):
        _answer(clock, 30.0, T0 + timedelta(seconds=10 + i, milliseconds=111 * i))
    assert abs(clock.offset_ms() - 30_000) < 1300


def test_clock_ignores_a_local_clock_that_went_backwards():
    clock = ClockOffset(initial_ms=1234)
    clock.observe(T0, T0, T0 - timedelta(seconds=1))
    assert clock.offset_ms() == 1234 and not clock.learned


def test_setup_text_round_trips_and_bad_text_is_refused():
    fp = "ab" * 32
    text = make_setup("https://192.168.1.5:8000", "tk_enrol_x", "evt_1", "North door", fp, 99)
    setup = parse_setup(text)
    assert (setup.url, setup.enrol, setup.event_id, setup.gate, setup.fp, setup.exp) == (
        "https://192.168.1.5:8000",
        "tk_enrol_x",
        "evt_1",
        "North door",
        fp,
        99,
    )
    unpinned = make_setup("https://192.168.1.5:8000", "tk_enrol_x", "evt_1", "North door")
    for bad in (
        "hello",
        "tickitz-setup:!!!",
        "tickitz-setup:e30",
        make_setup("", "k", None, None),
        unpinned,  # https without the fingerprint to pin
        make_setup("https://h:1", "k", None, None, "not hex"),
    ):
        with pytest.raises(ValidationError):
            parse_setup(bad)


def test_api_base_accepts_hub_addresses_with_or_without_v1():
    assert api_base("http://127.0.0.1:8000") == "http://127.0.0.1:8000/v1"
    assert api_base("http://127.0.0.1:8000/v1/") == "http://127.0.0.1:8000/v1"
    assert api_base("hub.local:8000") == "http://hub.local:8000/v1"
    with pytest.raises(ValueError):
        api_base("ftp://x")
    for typo in (
        "not a url",
        "http://hub:80x",
        "http://:8000",
        "http://hub .local",
        "http://[::zz]",
    ):
        with pytest.raises(ValueError, match="not an http"):
            api_base(typo)
    assert api_base("http://[::1]:8000") == "http://[::1]:8000/v1"
    for host in ("a" * 64 + ".local", "hub..local"):  # DNS labels are 1-63 characters
        with pytest.raises(ValueError, match="not a valid host name"):
            api_base(f"http://{host}:8000")


def test_retry_after_as_seconds_or_date_and_rate_limit_wait():
    assert retry_after_s("3", T0) == 3.0
    assert retry_after_s("Wed, 15 Jul 2026 19:00:05 GMT", T0) == 5.0
    assert retry_after_s(None, T0) is None
    spent = RateLimit(limit=60, remaining=0, reset_at=1000.0)
    assert spent.wait_s(990.0) == 1.0  # one request's worth of a 60/min window
    assert spent.wait_s(999.5) == 0.5
    assert RateLimit(limit=60, remaining=3, reset_at=1000.0).wait_s(990.0) == 0.0


def test_key_store_file_is_0600_and_env_wins(tmp_path, monkeypatch):
    store = KeyStore(tmp_path, "dev_a")
    assert store.get() == (None, "none")
    assert store.set("tk_secret_1") == "file"
    mode = stat.S_IMODE(os.stat(store.path).st_mode)
    assert mode == 0o600
    assert store.get() == ("tk_secret_1", "file")
    monkeypatch.setenv("TICKITZ_API_KEY", "tk_from_env")
    assert store.get() == ("tk_from_env", "env")
    monkeypatch.delenv("TICKITZ_API_KEY")
    store.delete()
    assert not store.path.exists() and store.get() == (None, "none")
    with pytest.raises(ValueError):
        store.set("two words")


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.items.get((service, username))

    def set_password(self, service, username, password):
        self.items[(service, username)] = password

    def delete_password(self, service, username):
        self.items.pop((service, username), None)


def test_key_store_prefers_a_real_keyring_one_entry_per_node(tmp_path, monkeypatch):
    monkeypatch.delenv("TICKITZ_NO_KEYRING", raising=False)
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        a, b = KeyStore(tmp_path / "a", "dev_a"), KeyStore(tmp_path / "b", "dev_b")
        assert a.set("tk_a") == "keyring" and b.set("tk_b") == "keyring"
        assert a.get() == ("tk_a", "keyring") and b.get() == ("tk_b", "keyring")
        assert not a.path.exists()  # nothing on disk when the keyring holds it
        assert "tk_a" in backend.items.values()
    finally:
        keyring.set_keyring(previous)


def test_the_status_snapshot_feeds_the_gui_status_bar_as_is():
    from scanner_app.gui.status_model import StatusSnapshot
    from scanner_app.sync.state import ConnectionState, SyncStatus

    status = SyncStatus(
        upstream="http://hub/v1",
        state=ConnectionState.PROBLEM,
        reason="upstream error 500",
        syncing=False,
        pending=7,
        last_push_at=100.0,
        last_pull_at=160.0,
        revocation_age_s=3.0,
        clock_offset_ms=0.0,
        clock_skew_large=False,
        first_sync=None,
    )
    snapshot = StatusSnapshot().with_sync(status)
    # One state, spelled once: the engine's PROBLEM is the bar's "Sync problem".
    assert (snapshot.connection, snapshot.pending_uploads, snapshot.last_sync_at) == (
        ConnectionState.PROBLEM,
        7,
        160.0,
    )
    assert snapshot.sync_detail == "upstream error 500"
    syncing = dataclasses.replace(status, first_sync={"eventId": "evt_1", "done": 1})
    assert StatusSnapshot().with_sync(syncing).shown_connection is ConnectionState.SYNCING
    assert status.to_dict()["state"] == "problem"  # the CLI/JSON edge: plain strings
