"""Reading a case archive: every value checked and converted before anything is written.

The archive's own description is in ``app.core.archive``. Here each record type has a list of
fields and what each must be; unknown fields are ignored (so an archive with an extra field
from a later release of the same format still reads), a missing or mistyped one makes the whole
archive refused with the path of the problem, e.g. ``cases[3].mentions[0].created_at``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.core.vocab import Bucket, CaseStatus, Network, ReplyState, Stance

FORMAT = "kindly-archive"
VERSION = 1


class ArchiveError(Exception):
    """An archive that cannot be imported; the message says why, for a person to read."""

    @property
    def user_message(self) -> str:
        return str(self)


# field name → kind; "?" allows null. Kinds: str, int, float, bool, time, json, and enums.
_ENUMS: dict[str, frozenset[str]] = {
    "status": frozenset(s.value for s in CaseStatus),
    "bucket": frozenset(b.value for b in Bucket),
    "stance": frozenset(s.value for s in Stance),
    "state": frozenset(s.value for s in ReplyState),
    "network": frozenset(n.value for n in Network),
}
ACCOUNT = {
    "network": "network", "handle": "str", "display_name": "str", "base_url": "str",
    "remote_id": "str",
}  # fmt: skip
PERSON = {
    "network": "network", "remote_id": "str", "handle": "str", "display_name": "str",
    "follower_count": "int?", "profile_url": "str?", "stance": "stance", "notes": "str",
    "updated_at": "time",
}  # fmt: skip
CASE = {
    "conversation_key": "str", "network": "network", "status": "status", "bucket": "bucket",
    "status_reason": "str", "created_at": "time", "updated_at": "time",
    "first_mention_at": "time", "last_activity_at": "time", "mention_count": "int",
    "reply_count": "int", "last_snippet": "str", "reopened_count": "int", "priority": "float",
    "why": "str", "due_at": "time?", "keep": "bool",
}  # fmt: skip
MENTION = {
    "network": "network", "remote_id": "str", "author": "int", "text": "str", "markup": "str",
    "url": "str?", "kind": "str", "addressed_to_us": "bool", "created_at": "time",
    "fetched_at": "time", "in_reply_to_id": "str?", "conversation_id": "str?",
    "sentiment": "float?", "sentiment_corrected": "bool", "raw": "json?",
}  # fmt: skip
REPLY = {
    "text": "str", "template_name": "str?", "state": "state", "idempotency_key": "str",
    "remote_id": "str?", "remote_url": "str?", "error": "str?", "attempts": "int",
    "created_at": "time", "updated_at": "time", "sent_at": "time?", "in_reply_to": "pair?",
}  # fmt: skip
NOTE = {"text": "str", "created_at": "time"}
EVENT = {"kind": "str", "detail": "str", "actor": "str", "created_at": "time"}


@dataclass(slots=True)
class CaseRecord:
    ref: int
    account: int
    person: int
    values: dict[str, Any]
    mentions: list[dict[str, Any]] = field(default_factory=list)
    replies: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class ArchiveFile:
    version: int
    exported_at: datetime
    accounts: dict[int, dict[str, Any]]
    people: dict[int, dict[str, Any]]
    cases: list[CaseRecord]


def _damaged(path: str, problem: str) -> ArchiveError:
    return ArchiveError(f"The archive is damaged ({path}: {problem}); nothing was imported.")


def _value(path: str, kind: str, value: Any) -> Any:
    optional = kind.endswith("?")
    kind = kind.rstrip("?")
    if value is None:
        if optional:
            return None
        raise _damaged(path, "missing")
    if kind == "json":
        return value
    if kind == "time":
        if not isinstance(value, str):
            raise _damaged(path, "not a time")
        try:
            when = datetime.fromisoformat(value)
        except ValueError as exc:
            raise _damaged(path, "not a time") from exc
        if when.tzinfo is None:
            raise _damaged(path, "a time without its UTC offset")
        return when.astimezone(UTC)
    if kind == "bool":
        if not isinstance(value, bool):
            raise _damaged(path, "not true or false")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _damaged(path, "not a whole number")
        return value
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _damaged(path, "not a number")
        return float(value)
    if kind == "pair":
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(v, str) for v in value)
        ):
            raise _damaged(path, "not a [network, id] pair")
        return (value[0], value[1])
    if not isinstance(value, str):
        raise _damaged(path, "not text")
    if kind in _ENUMS and value not in _ENUMS[kind]:
        raise _damaged(path, f"unknown value {value!r}")
    return value


def _record(path: str, data: Any, spec: dict[str, str]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _damaged(path, "not a record")
    found: dict[str, Any] = {}
    for name, kind in spec.items():
        if name not in data and not kind.endswith("?"):
            raise _damaged(f"{path}.{name}", "missing")
        found[name] = _value(f"{path}.{name}", kind, data.get(name))
    return found


def _list(path: str, data: Any) -> list[Any]:
    if not isinstance(data, list):
        raise _damaged(path, "not a list")
    return data


def _refs(path: str, items: Iterable[Any], spec: dict[str, str]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    for index, item in enumerate(items):
        here = f"{path}[{index}]"
        ref = _value(f"{here}.ref", "int", item.get("ref") if isinstance(item, dict) else None)
        if ref in found:
            raise _damaged(f"{here}.ref", f"{ref} is used twice")
        found[ref] = _record(here, item, spec)
    return found


def parse_archive(data: Any) -> ArchiveFile:
    """Check and convert a decoded archive, or raise ``ArchiveError``."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ArchiveError("This file is not a Kindly archive.")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _damaged("version", "not a format version")
    if version > VERSION:
        raise ArchiveError(
            f"This archive was written by a newer Kindly (archive format {version}); this "
            f"Kindly reads format {VERSION} and older. Update Kindly to import it. "
            "Nothing was imported."
        )
    exported_at = _value("exported_at", "time", data.get("exported_at"))
    accounts = _refs("accounts", _list("accounts", data.get("accounts")), ACCOUNT)
    people = _refs("people", _list("people", data.get("people")), PERSON)
    listed = zip(people, _list("people", data.get("people")), strict=True)
    for index, (ref, item) in enumerate(listed):
        here = f"people[{index}].person_notes"
        notes = _list(here, item.get("person_notes", []))
        people[ref]["person_notes"] = [
            _record(f"{here}[{i}]", note, NOTE) for i, note in enumerate(notes)
        ]
    cases: list[CaseRecord] = []
    for index, item in enumerate(_list("cases", data.get("cases"))):
        cases.append(_case(f"cases[{index}]", item, accounts, people))
    return ArchiveFile(version, exported_at, accounts, people, cases)


def _case(path: str, item: Any, accounts: dict[int, Any], people: dict[int, Any]) -> CaseRecord:
    values = _record(path, item, CASE)
    refs = _record(path, item, {"ref": "int", "account": "int", "person": "int"})
    if refs["account"] not in accounts:
        raise _damaged(f"{path}.account", "no such account in the archive")
    if refs["person"] not in people:
        raise _damaged(f"{path}.person", "no such person in the archive")
    record = CaseRecord(refs["ref"], refs["account"], refs["person"], values)
    for name, spec, target in (
        ("mentions", MENTION, record.mentions),
        ("replies", REPLY, record.replies),
        ("notes", NOTE, record.notes),
        ("events", EVENT, record.events),
    ):
        for index, row in enumerate(_list(f"{path}.{name}", item.get(name))):
            target.append(_record(f"{path}.{name}[{index}]", row, spec))
    for index, mention in enumerate(record.mentions):
        if mention["author"] not in people:
            raise _damaged(f"{path}.mentions[{index}].author", "no such person in the archive")
    return record


def row_values(row: dict[str, Any], fields: Iterable[str]) -> tuple[Any, ...]:
    """The values compared to tell whether a note or an event is already there."""
    values: list[Any] = []
    for name in fields:
        value = row.get(name)
        if isinstance(value, datetime):
            value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
        values.append(value)
    return tuple(values)
