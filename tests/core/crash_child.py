"""Child process of the crash test: scan payloads forever-ish, print each verdict after
scan() returns. Killed with SIGKILL by the parent at random moments.

usage: crash_child.py DATA_DIR EVENT_ID PAYLOAD_FILE START
"""

from __future__ import annotations

import json
import sys

from scanner_app.core.door import Door
from scanner_app.core.node import Node


def main() -> None:
    data_dir, event_id, payload_file, start = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    with open(payload_file, encoding="utf-8") as handle:
        payloads = handle.read().split()
    first = int(start) % len(payloads)
    node = Node.open(data_dir)
    print("ready", flush=True)
    for payload in payloads[first:] + payloads[:first]:
        result = node.checkin.scan(payload, Door.of(event_ids=[event_id], gate="crash-gate"))
        line = {"id": result.checkin_id, "success": result.success, "ticketId": result.ticket_id}
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
