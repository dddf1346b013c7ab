"""`tickitz-scanner paths`, `--version` and `--verbose`, run in-process."""

from __future__ import annotations

import json
import logging
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner_app import __version__
from scanner_app.cli import cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def runner(monkeypatch, tmp_path):
    for name in ("TICKITZ_SCANNER_HOME", "TICKITZ_SCANNER_LOG_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("TICKITZ_NO_KEYRING", "1")
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield CliRunner()
    root.handlers[:] = handlers
    root.setLevel(level)


def test_version_is_the_package_version(runner):
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"tickitz-scanner, version {__version__}\n"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" in project["dynamic"]  # one source: scanner_app.__version__


def test_paths_names_the_platform_folders(runner, tmp_path):
    result = runner.invoke(cli, ["paths", "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found == {
        "data": str(tmp_path / "share" / "tickitz-scanner"),
        "settings": str(tmp_path / "config" / "tickitz-scanner" / "settings.json"),
        "logs": str(tmp_path / "state" / "tickitz-scanner" / "log"),
        "logFile": str(tmp_path / "state" / "tickitz-scanner" / "log" / "tickitz-scanner.log"),
        "upstreamKey": str(tmp_path / "share" / "tickitz-scanner" / "upstream.key"),
    }
    lines = runner.invoke(cli, ["paths"]).stdout.splitlines()
    assert lines[0] == f"data:        {tmp_path / 'share' / 'tickitz-scanner'}"
    assert [line.split(":")[0] for line in lines] == list(found)


def test_a_chosen_data_dir_keeps_its_logs_beside_it(runner, tmp_path):
    home = tmp_path / "gate2"
    found = json.loads(runner.invoke(cli, ["--data-dir", str(home), "paths", "--json"]).stdout)
    assert found["data"] == str(home) and found["logs"] == str(home / "logs")


def test_verbose_writes_the_log_file(runner, tmp_path):
    home = tmp_path / "node"
    result = runner.invoke(cli, ["--verbose", "--data-dir", str(home), "demo", "--terminal"])
    assert result.exit_code == 0, result.output
    log_file = home / "logs" / "tickitz-scanner.log"
    assert log_file.exists()
    logging.getLogger("scanner_app.cli").debug("after the demo")
    assert "DEBUG scanner_app.cli: after the demo" in log_file.read_text()
