"""`doctor`: the full check of a node's database, and rebuilding its indexes."""

from __future__ import annotations

import time

import click

from scanner_app.cli.base import data_dir, emit, fail, handles_errors, say
from scanner_app.core.db import Database
from scanner_app.core.integrity import full_check
from scanner_app.core.node import DB_FILENAME, refuse_lost_database
from scanner_app.core.storage import REBUILD_ADVICE, REINDEX_ADVICE, DatabaseDamaged


@click.command("doctor")
@click.option(
    "--reindex",
    "rebuild",
    is_flag=True,
    help="Rebuild every index from its table (the fix when only indexes are damaged).",
)
@click.pass_context
@handles_errors
def doctor(ctx: click.Context, rebuild: bool) -> None:
    """Check the whole database (PRAGMA integrity_check); exit 1 when it is damaged.

    Scanning refuses a damaged database (a start check runs every time a node opens);
    this names the damage and, with --reindex, repairs damaged indexes.
    """
    folder = data_dir(ctx)
    path = folder / DB_FILENAME
    if not path.exists():
        fail(f"{path}: no database here (nothing to check)")
    refuse_lost_database(folder, path)
    db = Database(path, check=False)  # the start check would refuse the file we must look at
    try:
        started = time.perf_counter()
        problems = full_check(db.read())
        reindexed = False
        if rebuild:
            reindexed = True
            try:
                db.rebuild_indexes()
                problems = full_check(db.read())
            except DatabaseDamaged as exc:  # a table REINDEX must read is damaged
                problems = exc.problems
        seconds = time.perf_counter() - started
    finally:
        db.close()
    emit({"database": str(path), "ok": not problems, "problems": problems,
          "reindexed": reindexed, "seconds": round(seconds, 3)})  # fmt: skip
    if problems:
        advice = (
            f"the tables themselves are damaged: {REBUILD_ADVICE}"
            if reindexed
            else (f"scanning refuses it. {REINDEX_ADVICE}")
        )
        fail(f"{path} is damaged ({len(problems)} problems, listed above): {advice}", 1)
    say(f"{path}: " + ("indexes rebuilt; " if reindexed else "") + "the database is sound")
