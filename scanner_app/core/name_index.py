"""Attendee search over sealed names: the names are opened once into memory (at the first
search, then only what a pull changed), never written back to the database in the clear.

Every word of a ticket (name, ticket id, booking id; split on anything not a letter or
digit, accents and case folded as the old full-text index did) is kept in a sorted
vocabulary with the tickets holding it, so a prefix is a bisect plus its tickets. The
query word with the fewest tickets drives; the others are checked per candidate.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import re
import threading
import unicodedata
from collections.abc import Iterator

from scanner_app.core.db import Database
from scanner_app.core.names import GENERATION, NameCipher

RANKED_MATCHES = 1000  # more hits than this come in manifest order, unranked
REBUILD_AFTER = 2000  # tickets changed since the last build that are checked one by one
MAX_QUERY_WORDS = 8
_WORD = re.compile(r"[^\W_]+")
_TOP = chr(0x10FFFF)


def fold(text: str) -> str:
    """Case and accents away: "JOSÉ" and "jose" are one word (remove_diacritics 2)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(*texts: str | None) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for text in texts:
        if text:
            found.update(dict.fromkeys(_WORD.findall(fold(text))))
    return tuple(found)


class NameIndex:
    """Prefix search over every ticket's words; follows the tickets table by its seq."""

    def __init__(self, db: Database, names: NameCipher) -> None:
        self.db = db
        self.names = names
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._rows: dict[int, tuple[str, tuple[str, ...]]] = {}  # rowid -> (event, words)
        self._vocab: list[str] = []
        self._postings: list[list[int]] = []
        self._cum: list[int] = [0]
        self._recent: set[int] = set()
        self._seq = -1
        self._generation: str | None = None

    def __len__(self) -> int:
        return len(self._rows)

    def refresh(self) -> None:
        """Take in what changed since the last look (another process may have written)."""
        conn = self.db.read()
        seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM tickets").fetchone()[0]
        row = conn.execute("SELECT value FROM node_settings WHERE key = ?", (GENERATION,))
        generation = (row.fetchone() or [None])[0]
        with self._lock:
            full = self._seq < 0 or generation != self._generation or seq < self._seq
            if not full and seq == self._seq:
                return
            if full:
                self._reset()
            changed = conn.execute(
                "SELECT rowid, id, event_id, booking_id, attendee_name FROM tickets"
                " WHERE seq > ? ORDER BY rowid",
                (self._seq,),
            ).fetchall()
            for r in changed:
                name = self.names.open(r["attendee_name"], r["id"])
                self._rows[r["rowid"]] = (r["event_id"], words(name, r["id"], r["booking_id"]))
            if full or len(self._recent) + len(changed) > REBUILD_AFTER:
                self._build()
            else:
                self._recent.update(r["rowid"] for r in changed)
            self._seq, self._generation = seq, generation

    def _build(self) -> None:
        postings: dict[str, list[int]] = {}
        for rowid in sorted(self._rows):
            for word in self._rows[rowid][1]:
                postings.setdefault(word, []).append(rowid)
        self._vocab = sorted(postings)
        self._postings = [postings[w] for w in self._vocab]
        self._cum = [0, *itertools.accumulate(len(p) for p in self._postings)]
        self._recent = set()

    def search(self, query: str, event_id: str | None = None, limit: int = 20) -> list[int]:
        """Rowids of the tickets where every query word starts a word, best first."""
        wanted = words(query)[:MAX_QUERY_WORDS]
        if not wanted:
            return []
        self.refresh()
        with self._lock:
            spans = [self._span(w) for w in wanted]
            lo, hi = min(spans, key=lambda s: self._cum[s[1]] - self._cum[s[0]])
            found: list[int] = []
            seen: set[int] = set()
            for rowid in itertools.chain(self._candidates(lo, hi), sorted(self._recent)):
                if rowid in seen:
                    continue
                seen.add(rowid)
                if self._matches(rowid, wanted, event_id):
                    found.append(rowid)
                    if len(found) > RANKED_MATCHES:
                        break
            if len(found) > RANKED_MATCHES:  # broad: manifest order (as the FTS budget did)
                return sorted(found)[:limit]
            found.sort(key=lambda r: self._rank(r, wanted))
            return found[:limit]

    def _span(self, prefix: str) -> tuple[int, int]:
        lo = bisect.bisect_left(self._vocab, prefix)
        return lo, bisect.bisect_left(self._vocab, prefix + _TOP, lo)

    def _candidates(self, lo: int, hi: int) -> Iterator[int]:
        if hi - lo == 1:
            return iter(self._postings[lo])
        return heapq.merge(*self._postings[lo:hi])

    def _matches(self, rowid: int, wanted: tuple[str, ...], event_id: str | None) -> bool:
        entry = self._rows.get(rowid)
        if entry is None or (event_id and entry[0] != event_id):
            return False
        have = entry[1]
        return all(any(h.startswith(w) for h in have) for w in wanted)

    def _rank(self, rowid: int, wanted: tuple[str, ...]) -> tuple[int, int, int]:
        have = self._rows[rowid][1]
        return (-sum(w in have for w in wanted), len(have), rowid)
