"""Issue 15's smaller items, each as a user meets it in the terminal."""

from __future__ import annotations

import socket


def test_serve_on_a_busy_port_says_so_in_words(cli):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = str(taken.getsockname()[1])
    try:
        result = cli.fail("serve", "--port", port)
    finally:
        taken.close()
    last = result.stderr.strip().splitlines()[-1]
    assert f"port {port} on 127.0.0.1 is already in use" in last
    assert "--port 0" in last
