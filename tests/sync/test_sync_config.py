"""SyncConfig: the sync part of the node's NodeConfig."""

from __future__ import annotations

from scanner_app.core.node import Node
from scanner_app.core.node_config import NodeConfig
from scanner_app.sync.config import SyncConfig


def test_the_sync_part_is_saved_without_touching_the_rest(tmp_path):
    node = Node.open(tmp_path / "gate")
    NodeConfig(gate="north", decoder="zxing", direction="out").save(node)
    SyncConfig(url="http://hub:8765", event_ids=("evt_a",), gate="north", strict=True).save(node)
    config = NodeConfig.load(node)
    assert (config.decoder, config.direction, config.strict) == ("zxing", "out", True)
    assert config.upstream_url == "http://hub:8765/v1"
    SyncConfig.clear(node)
    assert NodeConfig.load(node).standalone and NodeConfig.load(node).decoder == "zxing"
    assert SyncConfig.load(node) is None
    node.close()
