"""One person across networks: linking, unlinking, and suggestions the officer decides on.

People the officer links share ``person.link_group`` (the smallest person id among them). Their
mentions and cases never move, so unlinking simply clears the group and both histories are as
they were. Kindly only suggests: the same display name on two networks, or a profile that
links to the other account (Mastodon bio and profile fields, Bluesky description). A pair the
officer turned down is not suggested again.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import peewee as pw

from app.core.vocab import Bucket, Network
from app.storage.models import Case, LinkDismissal, Mention, Person, database, read_json

SUGGESTION_POOL = 5000  # the most recently active people are compared, not all of history
COMMON_NAME = 4  # a display name shared by more people than this says nothing
ACTIVE_BUCKETS = (Bucket.NEEDS_REPLY.value, Bucket.WAITING.value)

_URL = re.compile(r"https?://[^\s\"'<>]+", re.I)
_BARE = re.compile(r"(?<![\w/.])(?:www\.)?(?:x\.com|twitter\.com|bsky\.app/profile)/[\w.:-]+", re.I)
_FEDI_HANDLE = re.compile(r"(?<![\w/])@?([\w.-]+)@([\w-]+(?:\.[\w-]+)+)")
_DOMAIN_HANDLE = re.compile(r"(?<![\w@/.])@([a-z0-9][\w-]*(?:\.[\w-]+)+)(?![\w@])", re.I)


class LinkError(Exception):
    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


@dataclass(frozen=True, slots=True)
class Identity:
    """One person record: someone on one network."""

    person_id: int
    network: Network
    handle: str
    display_name: str
    profile_url: str | None = None

    @property
    def label(self) -> str:
        name = self.display_name or self.handle or "Someone"
        handle = f" ({self.handle})" if self.handle and self.handle != name else ""
        return f"{name}{handle} on {self.network.label}"


@dataclass(frozen=True, slots=True)
class LinkSuggestion:
    first: Identity
    second: Identity
    reasons: tuple[str, ...]
    score: int

    @property
    def pair(self) -> tuple[int, int]:
        return _pair(self.first.person_id, self.second.person_id)


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def _identity(row: Person) -> Identity:
    return Identity(row.id, Network(row.network), row.handle, row.display_name, row.profile_url)


# -- the group ------------------------------------------------------------------------------------


def linked_ids(person_id: int) -> list[int]:
    """The person and everyone linked to them (just ``[person_id]`` when not linked)."""
    group = Person.select(Person.link_group).where(Person.id == person_id).scalar()
    if group is None:
        return [person_id]
    ids = Person.select(Person.id).where(Person.link_group == group).order_by(Person.id)
    return [int(row.id) for row in ids] or [person_id]


def linked_people(person_id: int) -> list[Identity]:
    """The others linked to this person."""
    others = [i for i in linked_ids(person_id) if i != person_id]
    if not others:
        return []
    rows = Person.select().where(Person.id.in_(others)).order_by(Person.network, Person.id)
    return [_identity(row) for row in rows]


def _set_group(ids: Iterable[int]) -> None:
    members = sorted(set(ids))
    group = members[0] if len(members) > 1 else None
    Person.update(link_group=group).where(Person.id.in_(members)).execute()


def link(first: int, second: int) -> list[int]:
    """Link two people (and whoever each is already linked to); returns the whole group."""
    if first == second:
        raise LinkError("That is the same person already.")
    with database.atomic():
        found = Person.select(Person.id).where(Person.id.in_([first, second])).count()
        if found != 2:
            raise LinkError("One of these people is no longer in Kindly.")
        members = set(linked_ids(first)) | set(linked_ids(second))
        _set_group(members)
        a, b = _pair(first, second)
        LinkDismissal.delete().where(
            (LinkDismissal.person_a == a) & (LinkDismissal.person_b == b)
        ).execute()
    return sorted(members)


def unlink(person_id: int) -> None:
    """Take one person out of their group; the others stay linked if two or more remain."""
    with database.atomic():
        rest = [i for i in linked_ids(person_id) if i != person_id]
        Person.update(link_group=None).where(Person.id == person_id).execute()
        if rest:
            _set_group(rest)  # re-keyed to its smallest id, or unlinked when one is left


def dismiss(first: int, second: int) -> None:
    """The officer says these two are not the same person: never suggest them again."""
    a, b = _pair(first, second)
    LinkDismissal.insert(person_a=a, person_b=b).on_conflict_ignore().execute()


def conversation_cases(case_id: int) -> list[int]:
    """This case, and the linked people's cases still going on (waiting or needing a reply):
    talking with one person on two networks at once is one conversation for the policy."""
    person_id = Case.select(Case.person).where(Case.id == case_id).scalar()
    if person_id is None:
        return [case_id]
    others = [i for i in linked_ids(int(person_id)) if i != person_id]
    if not others:
        return [case_id]
    active = Case.select(Case.id).where(Case.person.in_(others) & Case.bucket.in_(ACTIVE_BUCKETS))
    return [case_id, *sorted(int(row.id) for row in active)]


def find_people(text: str, exclude: int | None = None, limit: int = 20) -> list[Identity]:
    """People whose name or handle contains ``text`` (feeds' sites left out)."""
    words = text.strip().lstrip("@")
    if not words:
        return []
    pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    name_like = pw.SQL("LIKE ? ESCAPE '\\'", (pattern,))
    query = (
        Person.select()
        .where(
            (Person.network != Network.WEB.value)
            & (
                pw.Expression(Person.display_name, "", name_like)
                | pw.Expression(Person.handle, "", name_like)
            )
        )
        .order_by(Person.updated_at.desc())
        .limit(limit)
    )
    if exclude is not None:
        query = query.where(Person.id != exclude)
    return [_identity(row) for row in query]


# -- suggestions ----------------------------------------------------------------------------------


def normalised_name(name: str) -> str:
    """Case, accents, emoji and spacing set aside: "Rosa Martínez 🌿" is "rosa martinez"."""
    decomposed = unicodedata.normalize("NFKD", name)
    kept = "".join(c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c))
    return " ".join(kept.casefold().split())


def _url_token(url: str) -> str:
    parts = urlsplit(url.strip().rstrip(".,;)"))
    host = (parts.hostname or "").lower()
    host = host[4:] if host.startswith("www.") else host
    return f"{host}{parts.path.rstrip('/')}".lower() if host else ""


def identity_tokens(identity: Identity) -> set[str]:
    """How a profile elsewhere may point at this person: handles and profile addresses."""
    handle = identity.handle.strip().lstrip("@").lower()
    tokens = {_url_token(identity.profile_url)} if identity.profile_url else set()
    if identity.network is Network.MASTODON and "@" in handle:
        tokens.add(handle)
    elif identity.network is Network.BLUESKY and "." in handle:
        tokens |= {handle, f"bsky.app/profile/{handle}"}
    elif identity.network is Network.X and handle:
        tokens |= {f"x.com/{handle}", f"twitter.com/{handle}"}
    return {t for t in tokens if t}


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def profile_text(network: Network, raw: Any) -> str:
    """What a person wrote about themselves, from the newest stored post of theirs."""
    data = _dict(raw)
    if network is Network.MASTODON:  # a notification holds the status; a search hit is one
        account = _dict(_dict(data.get("status")).get("account")) or _dict(data.get("account"))
        fields = [_dict(f) for f in account.get("fields") or []]
        bits = [str(account.get("note") or "")]
        bits += [f"{f.get('name', '')} {f.get('value', '')}" for f in fields]
        return "\n".join(bits)
    if network is Network.BLUESKY:
        return str(_dict(data.get("author")).get("description") or "")
    return ""


def profile_tokens(text: str) -> set[str]:
    """Handles and addresses a profile mentions, in the form ``identity_tokens`` uses."""
    tokens = {_url_token(url) for url in _URL.findall(text)}
    tokens |= {_url_token(f"https://{bare}") for bare in _BARE.findall(text)}  # "x.com/name"
    tokens |= {f"{user}@{host}".lower() for user, host in _FEDI_HANDLE.findall(text)}
    tokens |= {handle.lower() for handle in _DOMAIN_HANDLE.findall(text)}
    return {t for t in tokens if t}


@dataclass(frozen=True, slots=True)
class _Candidate:
    identity: Identity
    group: int | None
    mentions: frozenset[str]  # tokens found in their profile


def _candidates(pool: int) -> list[_Candidate]:
    person, mention = Person._meta.table_name, Mention._meta.table_name
    sql = (
        f'SELECT p."id", p."network", p."handle", p."display_name", p."profile_url", '
        f'p."link_group", (SELECT m."raw" FROM "{mention}" m WHERE m."author_id" = p."id" '
        f'ORDER BY m."created_at" DESC LIMIT 1) FROM "{person}" p WHERE p."network" IN '
        f'({", ".join("?" * 3)}) ORDER BY p."updated_at" DESC LIMIT ?'
    )
    networks = [Network.MASTODON.value, Network.BLUESKY.value, Network.X.value]
    found: list[_Candidate] = []
    for pid, net, handle, name, url, group, raw in database.execute_sql(sql, [*networks, pool]):
        network = Network(net)
        data = read_json(raw)  # JSON text, or zlib-packed (schema 8 on)
        identity = Identity(int(pid), network, handle or "", name or "", url)
        tokens = profile_tokens(profile_text(network, data)) - identity_tokens(identity)
        found.append(_Candidate(identity, group, frozenset(tokens)))
    return found


def suggestions(
    person_id: int | None = None, pool: int = SUGGESTION_POOL, limit: int = 50
) -> list[LinkSuggestion]:
    """Likely links across networks, best first; only ``person_id``'s when given."""
    people = _candidates(pool)
    if person_id is not None and all(c.identity.person_id != person_id for c in people):
        row = Person.get_or_none(Person.id == person_id)
        if row is not None and row.network != Network.WEB.value:
            people.append(_Candidate(_identity(row), row.link_group, frozenset()))
    reasons: dict[tuple[int, int], list[tuple[int, str]]] = defaultdict(list)
    by_id = {c.identity.person_id: c for c in people}

    owners: dict[str, list[int]] = defaultdict(list)
    for c in people:
        for token in identity_tokens(c.identity):
            owners[token].append(c.identity.person_id)
    for c in people:
        for token in c.mentions:
            for other in owners.get(token, ()):
                if other != c.identity.person_id:
                    name = c.identity.display_name or c.identity.handle
                    target = by_id[other].identity
                    reasons[_pair(c.identity.person_id, other)].append(
                        (
                            2,
                            f"{name}'s {c.identity.network.label} profile links to "
                            f"{target.handle or token} on {target.network.label}",
                        )
                    )

    names: dict[str, list[int]] = defaultdict(list)
    for c in people:
        key = normalised_name(c.identity.display_name)
        if len(key.replace(" ", "")) >= 4:
            names[key].append(c.identity.person_id)
    for ids in names.values():
        if len(ids) > COMMON_NAME:
            continue
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                shown = by_id[a].identity.display_name
                reasons[_pair(a, b)].append((1, f"Same display name “{shown}”"))

    dismissed = _dismissed([p for p in reasons])
    found: list[LinkSuggestion] = []
    for (a, b), why in reasons.items():
        first, second = by_id[a], by_id[b]
        if first.identity.network is second.identity.network:
            continue  # across networks only
        if first.group is not None and first.group == second.group:
            continue  # already linked
        if (a, b) in dismissed or (person_id is not None and person_id not in (a, b)):
            continue
        found.append(
            LinkSuggestion(
                first.identity,
                second.identity,
                tuple(dict.fromkeys(text for _, text in why)),
                sum(score for score, _ in why),
            )
        )
    found.sort(key=lambda s: (-s.score, s.pair))
    return found[:limit]


def _dismissed(pairs: Sequence[tuple[int, int]]) -> set[tuple[int, int]]:
    found: set[tuple[int, int]] = set()
    firsts = sorted({a for a, _ in pairs})
    for start in range(0, len(firsts), 400):
        rows = LinkDismissal.select(LinkDismissal.person_a, LinkDismissal.person_b).where(
            LinkDismissal.person_a.in_(firsts[start : start + 400])
        )
        found.update((int(r.person_a_id), int(r.person_b_id)) for r in rows)
    return found
