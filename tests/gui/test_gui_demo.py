"""The demo's artefacts: QR PNGs a visitor can hold up to a camera, and its settings."""

from __future__ import annotations

from scanner_app.camera import decode_image_file
from scanner_app.core.demo_data import build_demo
from scanner_app.core.node import Node
from scanner_app.gui.demo import demo_settings, write_qr_pngs


def test_qr_pngs_decode_back_to_the_tickets(tmp_path):
    with Node.open(tmp_path / "node") as node:
        scenario = build_demo(node, tickets=12)
        paths = write_qr_pngs(scenario, tmp_path / "qr", extra_tickets=2)
        assert len(paths) == len(scenario.samples) + 2
        for path, sample in zip(paths, scenario.samples, strict=False):
            assert decode_image_file(path) == [sample.payload], path.name
        settings = demo_settings(scenario)
        first = node.checkin.scan(decode_image_file(paths[0])[0], event_ids=[settings.event_id])
        assert first.success
