"""Peewee models. Every model binds to ``database``, a proxy that ``open_database`` fills.

Nothing here is SQLite-specific: the FTS5 index, pragmas and triggers live in ``sqlite.py`` so a
shared PostgreSQL database can later use the same models.
"""

from __future__ import annotations

import json
import re
import zlib
from datetime import UTC, datetime
from typing import Any

import orjson
import peewee as pw

from app.storage.vocab import Bucket, CaseStatus, ReplyState, Stance

database = pw.DatabaseProxy()


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTimeField(pw.DateTimeField):
    """Stores ISO-8601 UTC text; always hands back timezone-aware datetimes."""

    field_type = "DATETIME"

    def db_value(self, value: datetime | None) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def python_value(self, value: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        text = str(value)
        for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
            try:
                return datetime.strptime(text, fmt).replace(tzinfo=UTC)
            except ValueError:
                continue
        return datetime.fromisoformat(text).astimezone(UTC)


# Lone UTF-16 surrogates (from broken "\\ud83d" escapes in a network's JSON) cannot be encoded
# as UTF-8: SQLite would refuse the whole statement. They become U+FFFD.
_SURROGATE = re.compile("[\ud800-\udfff]")


# Compact (no spaces) and in the value's own key order: a stored raw notification is ~3.5 KB,
# and sorting keys and scanning the text for surrogates took ~40% more time than encoding it.
# orjson encodes it in ~8 us (the standard encoder: ~27 us); what orjson refuses (a lone
# surrogate, an integer past 64 bits, a key that is not a string) the standard encoder takes.
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def json_utf8(value: Any) -> bytes | None:
    """What ``JSONField`` stores for a value, as UTF-8: compact JSON, lone surrogates replaced."""
    if value is None:
        return None
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        text = _ENCODE(value)
    try:
        return text.encode("utf-8")  # far quicker than the regular expression when all is well
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text).encode("utf-8")


def json_text(value: Any) -> str | None:
    """What ``JSONField`` stores for a value: compact JSON text, lone surrogates replaced."""
    data = json_utf8(value)
    return None if data is None else data.decode("utf-8")


class JSONField(pw.TextField):
    def db_value(self, value: Any) -> str | bytes | None:  # bytes: PackedJSONField
        return json_text(value)

    def python_value(self, value: Any) -> Any:
        return read_json(value)


# Schema 8 on: a mention's raw payload (3.2 KB a Mastodon notification) is stored as zlib-packed
# JSON, a BLOB in the same TEXT column (SQLite keeps a BLOB as it is); rows written before, and
# small payloads, stay JSON text. Every reader takes both: ``read_json``.
PACK_FROM = 256  # bytes of JSON (UTF-8): shorter payloads are stored as text
PACK_LEVEL = 3  # 3.2 -> 0.9 KB in ~26 us; higher levels cost more time for little


def read_json(value: Any) -> Any:
    """A stored JSON value, text or zlib-packed bytes (None when it cannot be read)."""
    if value is None:
        return None
    try:
        if isinstance(value, bytes | bytearray | memoryview):
            value = zlib.decompress(value)
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:  # e.g. NaN, or text from another writer: as before
            return json.loads(value)
    except (TypeError, ValueError, RecursionError, zlib.error):
        return None


class PackedJSONField(JSONField):
    """JSON stored zlib-packed when long (``PACK_FROM``); reads packed and plain rows alike."""

    def db_value(self, value: Any) -> str | bytes | None:
        data = json_utf8(value)  # lone surrogates already replaced: it is valid UTF-8
        if data is None or len(data) < PACK_FROM:
            return None if data is None else data.decode("utf-8")
        return zlib.compress(data, PACK_LEVEL)


class BaseModel(pw.Model):
    class Meta:
        database = database
        legacy_table_names = False


class Account(BaseModel):
    """An organisation account on one network. ``keyring_ref`` names the secret; never holds it."""

    network = pw.CharField()
    handle = pw.CharField()
    display_name = pw.CharField(default="")
    base_url = pw.CharField(default="")
    remote_id = pw.CharField(default="")
    keyring_ref = pw.CharField(unique=True)
    cursor = pw.TextField(null=True)  # the client's sync cursor, stored with what it covers
    enabled = pw.BooleanField(default=True)
    created_at = UTCDateTimeField(default=utcnow)
    last_sync_at = UTCDateTimeField(null=True)
    last_error = pw.TextField(null=True)

    class Meta:
        indexes = ((("network", "handle", "base_url"), True),)


class Person(BaseModel):
    """Someone who wrote to us, per network."""

    network = pw.CharField()
    remote_id = pw.CharField()
    handle = pw.CharField(default="")
    display_name = pw.CharField(default="")
    follower_count = pw.IntegerField(null=True)
    profile_url = pw.CharField(null=True)
    stance = pw.CharField(default=Stance.UNKNOWN.value)
    notes = pw.TextField(default="")
    updated_at = UTCDateTimeField(default=utcnow)
    # Schema 4: people the officer linked (one person on several networks) share a group, whose
    # value is the smallest person id in it; NULL when not linked. Mentions never move.
    link_group = pw.IntegerField(null=True, index=True)

    class Meta:
        indexes = ((("network", "remote_id"), True),)


class Case(BaseModel):
    """One conversation with one person on one account."""

    # Schema 7: no index of its own, (account, person, conversation_key) covers it.
    account = pw.ForeignKeyField(Account, backref="cases", on_delete="CASCADE", index=False)
    person = pw.ForeignKeyField(Person, backref="cases", on_delete="CASCADE")
    network = pw.CharField()  # copied from the account so per-network views are one index range
    conversation_key = pw.CharField()
    status = pw.CharField(default=CaseStatus.NEW.value)
    bucket = pw.CharField(default=Bucket.NEEDS_REPLY.value)
    status_reason = pw.TextField(default="")
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)
    first_mention_at = UTCDateTimeField()
    last_activity_at = UTCDateTimeField()
    mention_count = pw.IntegerField(default=0)
    reply_count = pw.IntegerField(default=0)
    last_snippet = pw.CharField(default="")
    reopened_count = pw.IntegerField(default=0)
    priority = pw.FloatField(default=0.0)
    why = pw.CharField(default="")  # the one-line "why this is here"
    due_at = UTCDateTimeField(null=True)
    keep = pw.BooleanField(default=False)  # exempt from retention purges

    class Meta:
        indexes = (
            (("account", "person", "conversation_key"), True),
            (("bucket", "last_activity_at", "id"), False),
            (("network", "bucket", "last_activity_at", "id"), False),
            (("last_activity_at", "id"), False),
            (("network", "last_activity_at", "id"), False),
            (("bucket", "priority", "last_activity_at", "id"), False),
            (("network", "bucket", "priority", "last_activity_at", "id"), False),
            (("network", "priority", "last_activity_at", "id"), False),  # schema 3
            (("priority", "last_activity_at", "id"), False),
        )


class Mention(BaseModel):
    """A post or comment from a network; stored once per (network, remote id)."""

    account = pw.ForeignKeyField(Account, backref="mentions", on_delete="CASCADE")
    network = pw.CharField()
    remote_id = pw.CharField()
    # Schema 7: author and case have no index of their own; (author, created_at) and
    # (case, created_at) cover them (one index write less each, for every mention stored).
    author = pw.ForeignKeyField(Person, backref="mentions", on_delete="CASCADE", index=False)
    case = pw.ForeignKeyField(
        Case, backref="mentions", null=True, on_delete="SET NULL", index=False
    )
    text = pw.TextField(default="")
    markup = pw.TextField(default="")
    url = pw.CharField(null=True)
    kind = pw.CharField(default="mention")
    addressed_to_us = pw.BooleanField(default=True)
    created_at = UTCDateTimeField()
    fetched_at = UTCDateTimeField(default=utcnow)
    in_reply_to_id = pw.CharField(null=True)
    conversation_id = pw.CharField(null=True)
    sentiment = pw.FloatField(null=True)
    sentiment_corrected = pw.BooleanField(default=False)
    raw = PackedJSONField(null=True)  # schema 8 on: packed when long (``read_json``)

    class Meta:
        indexes = (
            (("network", "remote_id"), True),
            (("case", "created_at"), False),
            (("author", "created_at"), False),
            (("id", "case"), False),
        )


class OutboundReply(BaseModel):
    """A reply of ours, from draft to sent. ``idempotency_key`` makes sending at-most-once."""

    case = pw.ForeignKeyField(Case, backref="replies", on_delete="CASCADE")
    account = pw.ForeignKeyField(Account, backref="replies", on_delete="CASCADE")
    in_reply_to = pw.ForeignKeyField(Mention, null=True, on_delete="SET NULL")
    text = pw.TextField()
    template_name = pw.CharField(null=True)
    state = pw.CharField(default=ReplyState.DRAFT.value)
    idempotency_key = pw.CharField(unique=True)
    remote_id = pw.CharField(null=True)
    remote_url = pw.CharField(null=True)
    error = pw.TextField(null=True)
    attempts = pw.IntegerField(default=0)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)
    sent_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("state", "id"), False), (("account", "remote_id"), False))


class Note(BaseModel):
    """A private note on a case or on a person."""

    case = pw.ForeignKeyField(Case, backref="notes", null=True, on_delete="CASCADE")
    person = pw.ForeignKeyField(Person, backref="person_notes", null=True, on_delete="CASCADE")
    text = pw.TextField()
    created_at = UTCDateTimeField(default=utcnow)


class CaseEvent(BaseModel):
    """What happened to a case and who decided it: answers "why didn't we reply?" later."""

    case = pw.ForeignKeyField(Case, backref="events", on_delete="CASCADE")
    kind = pw.CharField()
    detail = pw.TextField(default="")
    actor = pw.CharField(default="")  # "officer", "kindly", or "rule: <name>"
    created_at = UTCDateTimeField(default=utcnow)


class Template(BaseModel):
    """A canned reply with {variables}."""

    name = pw.CharField(unique=True)
    title = pw.CharField()
    body = pw.TextField()
    category = pw.CharField(default="")
    builtin = pw.BooleanField(default=False)
    updated_at = UTCDateTimeField(default=utcnow)


class Setting(BaseModel):
    """Typed values registered in ``app.core.settings``; stored as JSON."""

    key = pw.CharField(primary_key=True)
    value = JSONField(null=True)


class SavedSearch(BaseModel):
    """Schema 4: a search run on one account's network, as its own stream with its own cursor."""

    account = pw.ForeignKeyField(Account, backref="saved_searches", on_delete="CASCADE")
    kind = pw.CharField()  # keywords or hashtag (app.core.listening.store.SearchKind)
    query = pw.CharField()
    enabled = pw.BooleanField(default=True)
    cursor = pw.TextField(null=True)  # stored with the batch it covers, like Account.cursor
    estimated_reads = pw.IntegerField(null=True)  # X: posts read a month, estimated beforehand
    created_at = UTCDateTimeField(default=utcnow)
    last_run_at = UTCDateTimeField(null=True)
    last_error = pw.TextField(null=True)

    class Meta:
        indexes = ((("account", "kind", "query"), True),)


class Feed(BaseModel):
    """Schema 4: an RSS or Atom feed (Google Alerts, a news search); its items are read only."""

    url = pw.CharField(unique=True)
    title = pw.CharField(default="")
    enabled = pw.BooleanField(default=True)
    cursor = pw.TextField(null=True)  # JSON: ETag, Last-Modified; stored with the batch
    created_at = UTCDateTimeField(default=utcnow)
    last_run_at = UTCDateTimeField(null=True)
    last_error = pw.TextField(null=True)


class LinkDismissal(BaseModel):
    """Schema 4: two people the officer said are not the same person (never suggested again)."""

    person_a = pw.ForeignKeyField(Person, on_delete="CASCADE")
    person_b = pw.ForeignKeyField(Person, on_delete="CASCADE")
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("person_a", "person_b"), True),)


class SchemaInfo(BaseModel):
    """One row: the schema version this file is at (portable, unlike PRAGMA user_version)."""

    version = pw.IntegerField()
    upgraded_at = UTCDateTimeField(default=utcnow)


ALL_MODELS: list[type[BaseModel]] = [
    SchemaInfo,
    Account,
    Person,
    Case,
    Mention,
    OutboundReply,
    Note,
    CaseEvent,
    Template,
    Setting,
    SavedSearch,
    Feed,
    LinkDismissal,
]
