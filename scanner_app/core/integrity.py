"""Is a node's database sound enough to decide at the door?

`door_check` runs at every start. SQLite's `PRAGMA quick_check` is not enough: it checks
each b-tree's structure but not that an index holds the same rows as its table, so an index
page reverted to an older version (a lost write) passes it while the duplicate lookup stops
seeing the admissions on that page - and the door admits those tickets again. It also
costs ~0.6 s on a node with 100,000 tickets and as many check-ins. `door_check` instead
walks every b-tree once (a damaged page raises) and compares each index with its table
(entries and the sum of their rowids), inside one read transaction so a writer in another
process cannot make them differ; about 0.3-0.4 s at that size (bench/bench_integrity.py).
`full_check` (`tickitz-scanner doctor`) is `PRAGMA integrity_check`: everything, ~2.5 s.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

FULL_CHECK_LIMIT = 100  # problems listed by integrity_check before it stops
# The index the duplicate check reads (ledger.ticket_state): its rowids are summed too.
SUMMED_INDEXES = frozenset({"checkins_ticket"})


@dataclass(frozen=True)
class _Index:
    name: str
    where: str  # "" or the partial index's condition


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tables(conn: sqlite3.Connection) -> dict[str, tuple[bool, list[_Index]]]:
    """Ordinary tables -> (has a rowid, its indexes). Virtual tables have no b-tree."""
    rows = conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE type IN ('table', 'index')"
        " ORDER BY type DESC, name"
    ).fetchall()
    tables: dict[str, tuple[bool, list[_Index]]] = {}
    for kind, name, table, sql in rows:
        text = (sql or "").upper()
        if kind == "table":
            if not text.startswith("CREATE VIRTUAL") and name != "sqlite_sequence":
                tables[name] = ("WITHOUT ROWID" not in text, [])
        elif table in tables:
            where = ""
            if " WHERE " in text:  # a partial index holds only the rows of its condition
                where = (sql or "")[text.rindex(" WHERE ") + 7 :]
            tables[table][1].append(_Index(name, where))
    return tables


def door_check(conn: sqlite3.Connection) -> list[str]:
    """Problems found (empty when sound). Raises sqlite3.DatabaseError on unreadable pages."""
    problems: list[str] = []
    owns_transaction = not conn.in_transaction
    if owns_transaction:
        conn.execute("BEGIN")  # one snapshot: another process's commit cannot split the counts
    try:
        for table, (rowid, indexes) in _tables(conn).items():
            problems.extend(_check_table(conn, table, rowid, indexes))
    finally:
        if owns_transaction:
            conn.execute("COMMIT")
    return problems


def _check_table(
    conn: sqlite3.Connection, table: str, rowid: bool, indexes: list[_Index]
) -> list[str]:
    # Counting walks every page of a b-tree without decoding a row (~3 ms per 100,000
    # entries), so a damaged page raises and an index that lost (or gained) entries differs
    # from its table. Summing rowids, ten times dearer, also catches an entry swapped for
    # another; it is kept for the index the door's duplicate check reads.
    summed = rowid and any(i.name in SUMMED_INDEXES for i in indexes)
    conditions = sorted({i.where for i in indexes if i.where})
    parts = ["count(*)", "total(rowid)" if summed else "0"]
    parts += [f"count(*) FILTER (WHERE {w})" for w in conditions]  # one pass for all
    row = conn.execute(f"SELECT {', '.join(parts)} FROM {_quote(table)} NOT INDEXED").fetchone()
    problems = []
    for index in indexes:
        if index.where:
            want: tuple = (row[2 + conditions.index(index.where)],)
            sql = f"SELECT count(*) FROM {_quote(table)} INDEXED BY {_quote(index.name)}"
            sql += f" WHERE {index.where}"
        elif index.name in SUMMED_INDEXES and summed:
            want = (row[0], row[1])
            sql = f"SELECT count(*), total(rowid) FROM {_quote(table)}"
            sql += f" INDEXED BY {_quote(index.name)}"
        else:
            want = (row[0],)
            sql = f"SELECT count(*) FROM {_quote(table)} INDEXED BY {_quote(index.name)}"
        found = tuple(conn.execute(sql).fetchone())
        if found != want:
            problems.append(
                f"index {index.name} disagrees with table {table}:"
                f" {found[0]} entries, the table has {want[0]}"
                + (" (the same number, other rows)" if found[0] == want[0] else "")
            )
    return problems


def full_check(conn: sqlite3.Connection) -> list[str]:
    """`PRAGMA integrity_check`: every page, row, index entry and constraint."""
    try:
        rows = conn.execute(f"PRAGMA integrity_check({FULL_CHECK_LIMIT})").fetchall()
    except sqlite3.DatabaseError as exc:  # damage the check itself cannot walk past
        return [str(exc)]
    found = [row[0] for row in rows]
    return [] if found == ["ok"] else found


def reindex(conn: sqlite3.Connection) -> None:
    """Rebuild every index from its table (in one transaction); the tables stay as they are.
    Full-text indexes too (REINDEX leaves them): attendee search reads them."""
    searchable = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL%'"
            " AND sql LIKE '%USING fts5%'"
        )
    ]
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("REINDEX")
        for name in searchable:
            conn.execute(f"INSERT INTO {_quote(name)} ({_quote(name)}) VALUES ('rebuild')")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
