"""NodeConfig: one node's scanning and syncing settings, in its own database."""

from __future__ import annotations

import logging

import pytest

from scanner_app.core.errors import ValidationError
from scanner_app.core.node_config import DEFAULT_GATE, NodeConfig


def test_defaults_on_a_new_node(node):
    config = NodeConfig.load(node)
    assert config == NodeConfig()
    assert config.standalone and config.gate_name == DEFAULT_GATE
    assert not NodeConfig.saved(node)


def test_round_trip_in_one_transaction(node, tmp_path):
    config = NodeConfig(
        upstream_url="http://hub:8765/v1",
        event_ids=["evt_a", "evt_b"],
        gate="north",
        direction="out",
        allowed_tiers=("VIP",),
        interval_s=0.5,
        strict=True,
        decoder="zxing",
        camera="rtsp://cam/1",
        camera_width=640,
        camera_height=480,
        kiosk=True,
        kiosk_pin_hash="scrypt$x",
    )
    config.save(node)
    assert NodeConfig.load(node) == config
    assert config.event_ids == ("evt_a", "evt_b")  # a list given is kept as a tuple
    assert NodeConfig.saved(node)
    assert "kiosk_pin_hash" not in config.to_dict() and config.to_dict()["kiosk_pin_set"]


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("sync.interval_s", "abc", "interval_s"),
        ("sync.event_ids", "{bad json", "event_ids"),
        ("sync.strict", "yes", "strict"),
        ("node.decoder", "magic", "decoder"),
        ("node.camera_width", "-5", "camera_width"),
        ("node.direction", "sideways", "direction"),
    ],
)
def test_an_unreadable_value_is_the_default_and_a_warning(node, caplog, key, value, field):
    NodeConfig(gate="north").save(node)
    node.set_setting(key, value)
    with caplog.at_level(logging.WARNING):
        config = NodeConfig.load(node)
    assert getattr(config, field) == getattr(NodeConfig(), field)
    assert config.gate == "north"  # the rest is kept
    assert any(key in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "changes",
    [
        {"direction": "up"},
        {"decoder": "magic"},
        {"interval_s": 0},
        {"interval_s": float("nan")},
        {"camera_width": 2},
        {"upstream_url": "http://a b"},
        {"event_ids": ("",)},
        {"gate": "a\nb"},
    ],
)
def test_bad_values_are_refused_with_the_field_named(changes):
    with pytest.raises(ValidationError) as caught:
        NodeConfig(**changes)
    assert caught.value.field == next(iter(changes))
