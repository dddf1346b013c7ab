"""Shared CLI plumbing: the node for --data-dir, JSON on stdout, errors on stderr."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import platformdirs

from scanner_app.core.errors import TickitzError
from scanner_app.core.node import Node

HOME_ENV = "TICKITZ_SCANNER_HOME"
F = TypeVar("F", bound=Callable[..., Any])


def default_data_dir() -> Path:
    return Path(os.environ.get(HOME_ENV) or platformdirs.user_data_dir("tickitz-scanner"))


def data_dir(ctx: click.Context) -> Path:
    root = ctx.find_root()
    chosen = root.params.get("data_dir") if root.params else None
    return Path(chosen) if chosen else default_data_dir()


def open_keyed(path: Path) -> Node:
    """A node whose secrets are sealed with its OS keyring entry (or the 0600 file)."""
    from scanner_app.sync.restkey import rest_key_source  # noqa: PLC0415

    return Node.open(path, rest_key_for=lambda device: rest_key_source(path, device))


def open_node(ctx: click.Context) -> Node:
    """The node of --data-dir, closed when the command ends."""
    obj = ctx.ensure_object(dict)
    if "node" not in obj:
        node = open_keyed(data_dir(ctx))
        obj["node"] = node
        ctx.find_root().call_on_close(node.close)
    return obj["node"]


def emit(data: Any) -> None:
    """Machine output: one JSON document per line on stdout."""
    click.echo(json.dumps(data, ensure_ascii=False))


def say(message: str) -> None:
    """Human messages go to stderr so stdout stays parseable."""
    click.echo(message, err=True)


def fail(message: str, code: int = 2) -> None:
    say(f"Error: {message}")
    sys.exit(code)


def handles_errors(func: F) -> F:
    """Turn domain errors and unreadable files into a clear message and a non-zero exit."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except TickitzError as exc:
            field = f" (field: {exc.field})" if exc.field else ""
            fail(f"{exc.message}{field}", 1 if exc.status >= 500 else 2)
        except (OSError, UnicodeDecodeError) as exc:
            fail(str(exc))
        except json.JSONDecodeError as exc:
            fail(f"not valid JSON: {exc}")

    return wrapper  # type: ignore[return-value]


def read_json_file(path: str) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
