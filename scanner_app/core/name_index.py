"""Attendee search over sealed names: the names are opened once into memory (at the first
search, then only what a pull changed), never written back to the database in the clear.

Every word of a ticket (name, ticket id, booking id; split on anything not a letter or
digit, accents and case folded as the old full-text index did) is kept in a sorted
vocabulary; the tickets of each word sit in one flat array in vocabulary order, so the
tickets of a prefix are one slice (stdlib arrays and sets: core imports no numpy, DESIGN.md
§2). The query word with the fewest tickets drives; the others filter it. Tickets changed
since the last build are checked one by one until there are enough of them to build again.

A build (100,000 tickets: seconds) runs outside the lock searches take, and a search never
waits for one that another thread (the start-up warm-up, the sync after a pull) is doing:
it answers from what is built, so the node worker that also scans is never held up.
"""

from __future__ import annotations

import bisect
import heapq
import re
import threading
import unicodedata
from array import array
from functools import lru_cache

from scanner_app.core.db import Database
from scanner_app.core.names import GENERATION, NameCipher

RANKED_MATCHES = 1000  # more hits than this come in manifest order, unranked
REBUILD_AFTER = 500  # changed tickets checked one by one before the index is built again
MAX_QUERY_WORDS = 8
_WORD = re.compile(r"[^\W_]+")
_TOP = chr(0x10FFFF)


def fold(word: str) -> str:
    """Case and accents away: "JOSÉ" and "jose" are one word (remove_diacritics 2)."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@lru_cache(maxsize=65536)  # first and last names repeat: fold each once
def _folded(raw: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(fold(raw)))


def words(*texts: str | None) -> tuple[str, ...]:
    found: list[str] = []
    for text in texts:
        if not text:
            continue
        if text.isascii():  # ids, and many names: no accents to fold
            found += _WORD.findall(text.lower())
            continue
        for raw in _WORD.findall(unicodedata.normalize("NFC", text)):  # a mark splits nothing
            found += _folded(raw)
    return tuple(dict.fromkeys(found))


class _Built:
    """One build of the index; replaced whole, never changed (searches read it unlocked)."""

    def __init__(self, rows: dict[int, tuple[str, tuple[str, ...]]]) -> None:
        postings: dict[str, list[int]] = {}  # word -> its tickets in manifest order
        events: dict[str, int] = {}
        top = max(rows, default=0)
        event_of = array("i", [-1]) * (top + 1)
        for rowid in sorted(rows):
            event, have = rows[rowid]
            event_of[rowid] = events.setdefault(event, len(events))
            for word in have:
                postings.setdefault(word, []).append(rowid)
        self.vocab = sorted(postings)
        self.flat = array("q")  # every word's tickets, words in vocabulary order
        self.starts = array("q", [0])
        for word in self.vocab:
            self.flat.extend(postings[word])
            self.starts.append(len(self.flat))
        self.events = list(events)
        self.event_of = event_of  # rowid -> number of its event (-1: none)

    def matches(self, wanted: tuple[str, ...], event_id: str | None) -> set[int]:
        """Rowids whose built words match every query word."""
        slices = []
        for word in wanted:
            lo = bisect.bisect_left(self.vocab, word)
            hi = bisect.bisect_left(self.vocab, word + _TOP, lo)
            slices.append(self.flat[self.starts[lo] : self.starts[hi]])
        slices.sort(key=len)
        found = set(slices[0])
        for other in slices[1:]:
            if not found:
                break
            found = found.intersection(other)  # walks `other` in C, builds no second set
        if event_id and found and self.events != [event_id]:  # a gate holds one event
            code = self.events.index(event_id) if event_id in self.events else -2
            event_of = self.event_of
            found = {r for r in found if event_of[r] == code}
        return found


class NameIndex:
    """Prefix search over every ticket's words; follows the tickets table by its seq."""

    def __init__(self, db: Database, names: NameCipher) -> None:
        self.db = db
        self.names = names
        self._lock = threading.Lock()  # guards the state below (held only briefly)
        self._refreshing = threading.Lock()  # one refresh at a time
        self._rows: dict[int, tuple[str, tuple[str, ...]]] = {}  # rowid -> (event, words)
        self._built = _Built({})
        self._recent: frozenset[int] = frozenset()  # changed since the build: checked one by one
        self._seq = -1
        self._generation: str | None = None

    def __len__(self) -> int:
        return len(self._rows)

    def warm(self) -> threading.Thread:
        """Open the names and build in the background (app start), so no search waits."""
        thread = threading.Thread(target=self.refresh, name="tickitz-names", daemon=True)
        thread.start()
        return thread

    def follow(self) -> None:
        """After a pull (the sync thread): take the changes in now, if the index is in use,
        so the next search does not build. A CLI run that never searched builds nothing."""
        if self._seq >= 0:
            self.refresh()

    def refresh(self, *, wait: bool = True) -> None:
        """Take in what changed since the last look (another process may have written).
        ``wait=False``: return at once if another thread is refreshing."""
        if not self._refreshing.acquire(blocking=wait):
            return
        try:
            self._refresh()
        finally:
            self._refreshing.release()

    def _refresh(self) -> None:
        conn = self.db.read()
        seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM tickets").fetchone()[0]
        row = conn.execute("SELECT value FROM node_settings WHERE key = ?", (GENERATION,))
        generation = (row.fetchone() or [None])[0]
        full = self._seq < 0 or generation != self._generation or seq < self._seq
        if not full and seq == self._seq:
            return
        cursor = conn.cursor()
        cursor.row_factory = None  # plain tuples: 100,000 of them at the first search
        changed = cursor.execute(
            "SELECT rowid, event_id, id, booking_id, attendee_name FROM tickets"
            " WHERE seq > ? ORDER BY rowid",
            (-1 if full else self._seq,),
        ).fetchall()
        opened = self.names.open_many([(r[4], r[2]) for r in changed])
        fresh = {
            rowid: (event, words(name, ticket, booking))
            for (rowid, event, ticket, booking, _), name in zip(changed, opened, strict=True)
        }
        if full or len(self._recent) + len(fresh) > REBUILD_AFTER:
            rows = fresh if full else {**self._rows, **fresh}
            built = _Built(rows)  # the slow part, outside the searches' lock
            with self._lock:
                self._rows, self._built, self._recent = rows, built, frozenset()
        else:
            with self._lock:
                self._rows.update(fresh)
                self._recent = self._recent | fresh.keys()
        self._seq, self._generation = seq, generation

    def search(self, query: str, event_id: str | None = None, limit: int = 20) -> list[int]:
        """Rowids of the tickets where every query word starts a word, best first."""
        wanted = words(query)[:MAX_QUERY_WORDS]
        if not wanted:
            return []
        self.refresh(wait=self._seq < 0)  # the very first search builds; later ones never wait
        with self._lock:
            built, recent = self._built, self._recent
            found = built.matches(wanted, event_id)
            if recent:
                found -= recent  # their built words are old
                found.update(r for r in recent if self._matches(r, wanted, event_id))
            if len(found) > RANKED_MATCHES:  # broad: manifest order (as the FTS budget did)
                return heapq.nsmallest(limit, found)
            ranked = sorted(found, key=lambda r: self._rank(r, wanted))
            return ranked[:limit]

    def _matches(self, rowid: int, wanted: tuple[str, ...], event_id: str | None) -> bool:
        entry = self._rows.get(rowid)
        if entry is None or (event_id and entry[0] != event_id):
            return False
        have = entry[1]
        return all(any(h.startswith(w) for h in have) for w in wanted)

    def _rank(self, rowid: int, wanted: tuple[str, ...]) -> tuple[int, int, int]:
        have = self._rows[rowid][1]
        return (-sum(w in have for w in wanted), len(have), rowid)
