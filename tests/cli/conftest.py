"""CLI fixtures: the real `tickitz-scanner` command run in-process by click's CliRunner over a
data directory in tmp_path (subprocess tests spawn the real executable themselves)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner_app.cli import cli as cli_group
from scanner_app.core.node import DB_FILENAME


class Cli:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.runner = CliRunner()

    def run(self, *args: str, input: str | None = None, ok: bool = True, home: Path | None = None):
        """Run one command; `ok` asserts exit 0 and nothing on stderr but messages."""
        argv = ["--data-dir", str(home or self.home), *args]
        result = self.runner.invoke(cli_group, argv, input=input, catch_exceptions=True)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception  # a traceback is never a clear error message
        if ok:
            assert result.exit_code == 0, (args, result.stdout, result.stderr)
        return result

    def fail(self, *args: str, input: str | None = None, home: Path | None = None):
        """Run a command that must be refused: non-zero exit, `Error: ...` on stderr."""
        result = self.run(*args, input=input, ok=False, home=home)
        assert result.exit_code != 0, (args, result.stdout)
        assert result.stderr.strip().splitlines()[-1].startswith("Error: "), result.stderr
        assert "Traceback" not in result.stderr
        return result

    def json(self, *args: str, **kwargs):
        return json.loads(self.run(*args, **kwargs).stdout)

    def lines(self, *args: str, **kwargs):
        return [json.loads(line) for line in self.run(*args, **kwargs).stdout.splitlines()]


@pytest.fixture
def cli(tmp_path):
    return Cli(tmp_path / "home")


@pytest.fixture
def published(cli):
    """A published event created through the CLI (VIP: 2 seats, GA: 100)."""
    event = cli.json(
        "event", "create", "--title", "CLI Night", "--tier", "VIP:14999:2", "--tier", "GA:0:100"
    )
    return cli.json("event", "publish", event["id"])


def dump(home: Path) -> list[str]:
    path = home / DB_FILENAME
    if not path.exists():
        return []
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


@pytest.fixture
def snapshot():
    """snapshot(home) -> every row of that node's database, for "changes nothing" checks."""
    return dump
