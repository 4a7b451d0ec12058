"""Everything SQLite-specific in one place: pragmas, the FTS5 index and its triggers, MATCH syntax.

A later PostgreSQL backend replaces this module (tsvector + GIN), not the models or queries.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import peewee as pw

PRAGMAS: dict[str, object] = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": "normal",  # safe with WAL; a power cut loses at most the last transaction
    "busy_timeout": 5000,
    "cache_size": -16000,  # 16 MB
    # Checkpoint the WAL into the file every ~40 MB rather than SQLite's 4 MB: an index page
    # changed by many small commits (sync commits every page) is then copied once, not once
    # per 4 MB. Storing 40,000 mentions page by page: 3,357/s -> 4,236/s (bench/RESULTS.md).
    "wal_autocheckpoint": 10000,
    "temp_store": "memory",
}

# The author's name lives on person; the index keeps a copy so one MATCH covers both.
_AUTHOR_OF_NEW = (
    "(SELECT coalesce(p.display_name, '') || ' ' || coalesce(p.handle, '') "
    "FROM person p WHERE p.id = new.author_id)"
)

FTS_DDL: list[str] = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS mention_fts USING fts5("
    "text, author, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')",
    f"""CREATE TRIGGER IF NOT EXISTS mention_fts_insert AFTER INSERT ON mention BEGIN
        INSERT INTO mention_fts(rowid, text, author) VALUES (new.id, new.text, {_AUTHOR_OF_NEW});
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS mention_fts_update AFTER UPDATE OF text, author_id ON mention
    BEGIN
        DELETE FROM mention_fts WHERE rowid = old.id;
        INSERT INTO mention_fts(rowid, text, author) VALUES (new.id, new.text, {_AUTHOR_OF_NEW});
    END""",
    """CREATE TRIGGER IF NOT EXISTS mention_fts_delete AFTER DELETE ON mention BEGIN
        DELETE FROM mention_fts WHERE rowid = old.id;
    END""",
    """CREATE TRIGGER IF NOT EXISTS person_fts_rename AFTER UPDATE OF display_name, handle ON person
    BEGIN
        UPDATE mention_fts
           SET author = coalesce(new.display_name, '') || ' ' || coalesce(new.handle, '')
         WHERE rowid IN (SELECT id FROM mention WHERE author_id = new.id);
    END""",
]

# People's names in their own index (schema 6): a name typed in the search box ("Okafor") finds
# the person's cases through 60,000 names instead of walking every one of their mentions. The
# text indexed and the tokenizer are those of ``mention_fts.author``, so "every word matches a
# person's name" means the same in both indexes.
_NAME_OF_NEW = "coalesce(new.display_name, '') || ' ' || coalesce(new.handle, '')"
PERSON_FTS_DDL: list[str] = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS person_fts USING fts5("
    "name, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')",
    f"""CREATE TRIGGER IF NOT EXISTS person_fts_insert AFTER INSERT ON person BEGIN
        INSERT INTO person_fts(rowid, name) VALUES (new.id, {_NAME_OF_NEW});
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS person_fts_update
    AFTER UPDATE OF display_name, handle ON person BEGIN
        DELETE FROM person_fts WHERE rowid = old.id;
        INSERT INTO person_fts(rowid, name) VALUES (new.id, {_NAME_OF_NEW});
    END""",
    """CREATE TRIGGER IF NOT EXISTS person_fts_delete AFTER DELETE ON person BEGIN
        DELETE FROM person_fts WHERE rowid = old.id;
    END""",
]
PERSON_FTS_REBUILD = (
    "INSERT INTO person_fts(rowid, name) "
    "SELECT id, coalesce(display_name, '') || ' ' || coalesce(handle, '') FROM person"
)

FTS_REBUILD = (
    "INSERT INTO mention_fts(rowid, text, author) "
    "SELECT m.id, m.text, coalesce(p.display_name, '') || ' ' || coalesce(p.handle, '') "
    "FROM mention m JOIN person p ON p.id = m.author_id"
)

_TERM = re.compile(r"[\w@#'’.-]+", re.UNICODE)


def _words(query: str) -> list[str]:
    """The words of what a person typed (NFC like the stored text, ``clean_text``, so a pasted
    ``e`` + combining accent finds ``é`` rather than splitting the word)."""
    words = (raw.strip("@#'’.-") for raw in _TERM.findall(unicodedata.normalize("NFC", query)))
    return [word for word in words if word]


def _prefix(word: str) -> str:
    return '"' + word.replace('"', '""') + '"*'


def match_expression(query: str) -> str | None:
    """Turn what a person typed into a safe FTS5 query: every word must appear, as a prefix.

    Quoting each term means FTS5 operators and stray quotes in the input are plain text, so
    no input can make the query fail.
    """
    words = _words(query)
    return " AND ".join(_prefix(word) for word in words) if words else None


@dataclass(frozen=True, slots=True)
class Search:
    """What one search asks of the two indexes: ``people`` (every word in a person's name or
    handle, ``person_fts``) and ``mentions`` (``mention_fts``), for the matches the people do
    not already account for.

    A mention whose author column holds every word is by one of those people, so it is found
    with them. With one word (or one phrase such as ``rosa@social``) that leaves the text
    column: "Okafor" then reads the few mentions that say "Okafor", not the 24,000 written by
    people called Okafor. With several words a match may take some from the name and some
    from the text, so the mention index is asked for them as they are.
    """

    words: tuple[str, ...]

    @property
    def people(self) -> str:
        return " AND ".join(_prefix(word) for word in self.words)

    @property
    def mentions(self) -> str:
        return self._mentions(self.people)

    def _mentions(self, expression: str) -> str:
        return "{text}: (" + expression + ")" if len(self.words) == 1 else expression

    def mentions_read_lazily(self, db: pw.Database, *, people_found: bool) -> str:
        """What to read newest first from the mention index, as cheaply as FTS5 reads it.

        Without people found, no author column holds every word, so the text need not be
        singled out. Each long prefix is then written as the words it stands for, when they
        are few: ``"river"*`` as ``("river" OR "riverbank" OR "rivers" …)``. FTS5 answers a
        prefix beyond its prefix index (2 and 3 letters) by merging the lists of every word
        with that prefix into one, all of it, before the first row: 430,000 entries for
        "river", 24-36 ms, even when the newest hundred are all a search wants. An OR of
        words is merged as it is read (the newest 2,000 "river cleanup" matches: 24 ms as
        prefixes, 6 ms as words; bench/RESULTS.md). Only plain ASCII words are rewritten:
        their indexed form is their lower case; any other keeps its prefix.

        With people found and one word the prefix stays: FTS5 drops the author column's
        entries while merging, far quicker than row by row ("Okafor": 0.4 ms against 4.7).
        """
        if people_found and len(self.words) == 1:
            return self.mentions
        parts = []
        for word in self.words:
            found = None
            if len(word) > 3 and word.isascii() and word.isalnum():
                found = indexed_words(db, word.lower(), most=_MOST_WORDS)
            if found:
                words = " OR ".join('"' + w.replace('"', '""') + '"' for w in found)
                parts.append("(" + words + ")")
            else:
                parts.append(_prefix(word))
        return " AND ".join(parts)


_MOST_WORDS = 16  # a prefix standing for more words than this is left to FTS5


def parse_search(query: str) -> Search | None:
    """``query`` as a search, or None when it holds no word (only punctuation, emoji...)."""
    words = _words(query)
    return Search(tuple(words)) if words else None


_WORDS_TABLE = "mention_fts_words"


def indexed_words(db: pw.Database, prefix: str, most: int) -> list[str] | None:
    """The indexed words starting with ``prefix`` (lower case, as indexed), or None if there
    are more than ``most``. Each is found by one seek in the index's word list (``fts5vocab``,
    per connection): 0.1-0.5 ms for a few words, not a count of every entry under them."""
    db.execute_sql(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{_WORDS_TABLE} "
        "USING fts5vocab(main, mention_fts, instance)"
    )
    words: list[str] = []
    start = prefix
    while len(words) <= most:
        row = db.execute_sql(
            f"SELECT term FROM temp.{_WORDS_TABLE} WHERE term >= ? LIMIT 1", (start,)
        ).fetchone()
        if row is None or not str(row[0]).startswith(prefix):
            return words
        words.append(str(row[0]))
        start = words[-1] + "\x01"  # just after this word and before any longer one
    return None


def read_only_uri(path: Path, *, immutable: bool = False) -> str:
    """A read-only ``file:`` URI naming exactly ``path`` (``#``, ``?``, ``%``, spaces escaped).

    (``f"file:{path}?mode=ro"`` reads ``#`` as the start of a fragment: SQLite then opens, and
    creates, a different file, read-write.) ``immutable`` reads without locks or ``-shm``/``-wal``
    files; only right when no ``-wal`` file holds changes that are not yet in the file itself.
    """
    uri = Path(path).absolute().as_uri() + "?mode=ro"
    return uri + "&immutable=1" if immutable else uri


def install_fts(db: pw.Database) -> None:
    for statement in FTS_DDL:
        db.execute_sql(statement)


def rebuild_fts(db: pw.Database) -> None:
    db.execute_sql("DELETE FROM mention_fts")
    db.execute_sql(FTS_REBUILD)


def install_person_fts(db: pw.Database) -> None:
    for statement in PERSON_FTS_DDL:
        db.execute_sql(statement)


def rebuild_person_fts(db: pw.Database) -> None:
    db.execute_sql("DELETE FROM person_fts")
    db.execute_sql(PERSON_FTS_REBUILD)


def matching_mention_ids(expression: str) -> pw.SQL:
    """A subquery of mention ids whose text or author matches ``expression``."""
    return pw.SQL("(SELECT rowid FROM mention_fts WHERE mention_fts MATCH ?)", (expression,))


def matching_case_ids(expression: str) -> pw.SQL:
    """A subquery of the cases of mentions whose text or author matches ``expression``.

    Each match's case is read from the narrow ``mention(id, case_id)`` index (schema 5): left
    to itself SQLite reads the mention row, ~3.5 KB with its raw JSON, once per match ("Okafor",
    24,000 matches: 45-58 ms against 19-30 ms through the index, bench/RESULTS.md).
    """
    return pw.SQL(
        "(SELECT m.case_id FROM mention_fts f"
        " JOIN mention m INDEXED BY mention_id_case_id ON m.id = f.rowid"
        " WHERE mention_fts MATCH ?)",
        (expression,),
    )


def matching_person_ids(expression: str) -> pw.SQL:
    """A subquery of the people whose name or handle matches every word of ``expression``."""
    return pw.SQL("(SELECT rowid FROM person_fts WHERE person_fts MATCH ?)", (expression,))


def matching_people(db: pw.Database, expression: str) -> set[int]:
    """The ids of the people whose name or handle matches every word of ``expression``."""
    rows = db.execute_sql(
        "SELECT rowid FROM person_fts WHERE person_fts MATCH ?", (expression,)
    ).fetchall()
    return {int(row[0]) for row in rows}


class MatchScan:
    """The ids of mentions matching ``expression``, read newest id first and only as far down
    as asked (``cover``): FTS5 returns rowids in descending order without sorting, so finding
    whether the newest few thousand mentions match costs little even for a common word."""

    def __init__(self, db: pw.Database, expression: str) -> None:
        self._cursor = db.execute_sql(
            "SELECT rowid FROM mention_fts WHERE mention_fts MATCH ? ORDER BY rowid DESC",
            (expression,),
        )
        self.hits: set[int] = set()
        self._floor: int | None = None  # every match with an id >= floor is in hits
        self.complete = False  # every match has been read

    def _more(self) -> None:
        rows = self._cursor.fetchmany(2048)
        if rows:
            self.hits.update(row[0] for row in rows)
            self._floor = rows[-1][0]
        else:
            self.complete = True

    def read(self, count: int) -> None:
        """Read at least ``count`` matches, or all of them if there are fewer."""
        while not self.complete and len(self.hits) < count:
            self._more()

    def cover(self, lowest: int) -> None:
        """Read matches until every one with an id >= ``lowest`` is known."""
        while not self.complete and (self._floor is None or self._floor > lowest):
            self._more()

    def close(self) -> None:
        self._cursor.close()


def variable_limit(db: pw.Database) -> int:
    """How many ``?`` parameters one statement may hold (999 before SQLite 3.32, else 32766)."""
    getlimit = getattr(db.connection(), "getlimit", None)  # Python 3.11+
    return int(getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)) if getlimit else 999


def quick_check(db: pw.Database) -> list[str]:
    """``PRAGMA quick_check``: an empty list means the file is sound."""
    rows: Iterable[tuple[str]] = db.execute_sql("PRAGMA quick_check").fetchall()
    problems = [row[0] for row in rows]
    return [] if problems == ["ok"] else problems


@contextmanager
def secure_delete(db: pw.Database) -> Iterator[None]:
    """Deletes made inside overwrite the freed space with zeros (this connection only)."""
    before = db.execute_sql("PRAGMA secure_delete").fetchone()[0]
    db.execute_sql("PRAGMA secure_delete = 1")
    try:
        yield
    finally:
        db.execute_sql(f"PRAGMA secure_delete = {int(before)}")


def optimize_fts(db: pw.Database) -> None:
    """Merge each full-text index (mentions, people's names) into one segment: deleted rows'
    words leave them entirely."""
    with db.atomic():
        db.execute_sql("INSERT INTO mention_fts(mention_fts) VALUES ('optimize')")
        db.execute_sql("INSERT INTO person_fts(person_fts) VALUES ('optimize')")


def checkpoint(db: pw.Database) -> bool:
    """Copy the WAL into the file and truncate it; False if a reader kept part of it."""
    busy, _log, _done = db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return not busy


def shifted_date(column: pw.Field, minutes: int) -> pw.Function:
    """The calendar date of ``column`` shifted by ``minutes`` (a local day, given the offset).

    PostgreSQL would write ``(column + interval 'N minutes')::date``.
    """
    return pw.fn.date(column, f"{minutes:+d} minutes").coerce(False)


def unindexed(column: pw.Field) -> pw.NodeList:
    """``+column``: SQLite then filters on it without choosing its index.

    For "the newest few rows in some states", walking the primary key backwards and skipping
    rows is far cheaper than reading every row of those states through the state index and
    sorting them (0.1 ms against 140 ms for 94,000 replies).
    """
    return pw.NodeList((pw.SQL("+"), column), glue="")
