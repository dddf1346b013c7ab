"""The demo's artefacts: QR PNGs a visitor can hold up to a camera, and its settings."""

from __future__ import annotations

from scanner_app.camera import decode_image_file
from scanner_app.core.demo_data import build_demo
from scanner_app.core.door import Door
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
        first = node.checkin.scan(decode_image_file(paths[0])[0], Door.of([settings.event_id]))
        assert first.success


def test_the_demo_reel_admits_someone_new_on_every_loop(tmp_path):
    # A looped video showed the same tickets each time: ALREADY IN only, after loop one.
    from scanner_app.gui.demo_reel import DemoReel, render_demo_reel  # noqa: PLC0415

    with Node.open(tmp_path / "node") as node:
        scenario = build_demo(node, tickets=30)
        size = (800, 450)  # the product's 1280x720 draws slower; the QR reads the same
        folder = render_demo_reel(scenario, tmp_path / "reel", size)
        reel = DemoReel(scenario, folder, fps=2, seconds_per_ticket=0.5, gap_seconds=0.5,
                        realtime=False, size=size)  # fmt: skip
        reel.open()
        try:
            per_loop = len(reel.images)
            for loop in range(3):
                shown = reel.payloads
                for index in (0, 1, 2, 8):  # the frames of admitted tickets really carry them
                    assert decode_image_file(reel.frame_of(index)) == [shown[index]]
                verdicts = [node.checkin.scan(p, Door.of([scenario.event_id])) for p in shown]
                admitted = [v.attendee_name for v in verdicts if v.success]
                assert len(admitted) == 3, (loop, [v.reason for v in verdicts])
                assert [v.reason for v in verdicts][2] == "already_checked_in"  # the sample
                for _ in range(per_loop + 1):  # play the loop through: the next one starts
                    reel.read()
        finally:
            reel.close()
