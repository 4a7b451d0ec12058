"""Canned replies with ``{variables}``, rendered safely.

An unknown or unfilled variable never reaches a network as a literal ``{…}`` and never
crashes: the placeholder stays visible in the composer, is reported by name, and the outbox
refuses text that still holds one (``placeholders``).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from app.core.resources import resource_path
from app.core.settings import REMOVED_STARTERS, Settings
from app.core.text import first_name
from app.storage.models import Template, database, utcnow

VARIABLES: dict[str, str] = {
    "first_name": "Their first name, when their display name has one",
    "name": "Their display name",
    "handle": "Their handle, with @",
    "org": "Your organisation's name (Settings)",
    "signature": "Your signature (Settings)",
    "phone": "Your phone number (Settings)",
    "email": "Your email address (Settings)",
}

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}\n]{0,40})\}")
# What reads as a variable: a name, perhaps mistyped ({phonee}, {first name}). Braces around
# anything else ("Rosa {she/her}", "{:)}") are ordinary text.
_NAME_LIKE = re.compile(r"\s*[A-Za-z][A-Za-z0-9_ -]{0,39}\s*")


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    unfilled: tuple[str, ...]  # known variables with no value (e.g. no phone in Settings)
    unknown: tuple[str, ...]  # names that are not variables at all (typos)

    @property
    def complete(self) -> bool:
        return not self.unfilled and not self.unknown


@dataclass(frozen=True, slots=True)
class TemplateView:
    id: int
    name: str
    title: str
    body: str
    category: str
    builtin: bool


def render(body: str, values: Mapping[str, str]) -> Rendered:
    """Fill variables; leave ``{name}`` in place (and report it) where there is no value."""
    unfilled: list[str] = []
    unknown: list[str] = []

    def replace(match: re.Match[str]) -> str:
        matched = match.group(0)
        if matched == "{{":
            return "{"
        if matched == "}}":
            return "}"
        raw = match.group(1) or ""
        if not _NAME_LIKE.fullmatch(raw):
            return matched
        name = raw.strip()
        if name not in VARIABLES:
            unknown.append(name)
            return matched
        value = values.get(name, "").strip()
        if not value:
            unfilled.append(name)
            return matched
        return value

    text = _TOKEN.sub(replace, body)
    return Rendered(text, tuple(dict.fromkeys(unfilled)), tuple(dict.fromkeys(unknown)))


def placeholders(text: str) -> list[str]:
    """Every ``{variable}`` still in a draft; sending is refused while there are any."""
    return [
        m.group(1).strip()
        for m in _TOKEN.finditer(text)
        if m.group(1) is not None and _NAME_LIKE.fullmatch(m.group(1))
    ]


def person_values(display_name: str, handle: str) -> dict[str, str]:
    shown = handle if not handle or handle.startswith("@") else "@" + handle
    return {"first_name": first_name(display_name), "name": display_name.strip(), "handle": shown}


NAME_PATTERN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?")


class TemplateRefused(ValueError):
    """A template cannot be saved as it is; ``user_message`` says what to fix."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a template (None: it can). Names are short and plain because
    they are typed in the picker's filter and recorded on each reply sent from the template."""
    if not name:
        return "A short name is required."
    if not NAME_PATTERN.fullmatch(name):
        return (
            "The short name may use lower-case letters, digits and hyphens (not at either end), "
            "up to 60 characters, e.g. “thank-you-volunteers”."
        )
    return None


def suggest_name(title: str, taken: Collection[str] = ()) -> str:
    """A valid short name from a title (“Thank you, volunteers!” → ``thank-you-volunteers``),
    numbered if ``taken`` already has it."""
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:50].strip("-") or "template"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name


def _starters() -> list[dict[str, str]]:
    data = json.loads(resource_path("templates", "starter.json").read_text("utf-8"))
    starters: list[dict[str, str]] = data["templates"]
    return starters


class TemplateLibrary:
    """The templates in the database, seeded from ``resources/templates/starter.json``.

    A starter the officer deletes is remembered (``REMOVED_STARTERS``) so the next start does
    not bring it back; ``restore_starters`` does, on request.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()

    def seed(self) -> int:
        """Add starter templates that are missing (never overwrites the officer's edits, never
        re-adds one they deleted)."""
        removed: list[str] = self.settings.get(REMOVED_STARTERS)
        return self._add_starters(skip=set(removed))

    def restore_starters(self) -> int:
        """Bring back every deleted starter template; edited ones stay as the officer left
        them. Returns how many came back."""
        with database.atomic():
            self.settings.set(REMOVED_STARTERS, [])
            return self._add_starters(skip=set())

    def removed_starters(self) -> list[str]:
        removed: list[str] = self.settings.get(REMOVED_STARTERS)
        return removed

    def _add_starters(self, skip: set[str]) -> int:
        existing = {row.name for row in Template.select(Template.name)}
        added = 0
        for item in _starters():
            if item["name"] not in existing and item["name"] not in skip:
                Template.create(
                    name=item["name"],
                    title=item["title"],
                    body=item["body"],
                    category=item.get("category", ""),
                    builtin=True,
                )
                added += 1
        return added

    def all(self) -> list[TemplateView]:
        return [
            self._view(t) for t in Template.select().order_by(Template.category, Template.title)
        ]

    def get(self, name: str) -> TemplateView | None:
        row = Template.get_or_none(Template.name == name)
        return None if row is None else self._view(row)

    def create(self, name: str, title: str, body: str, category: str = "") -> TemplateView:
        """A new template; refused if the name is taken (``save`` edits an existing one)."""
        with database.atomic():
            if Template.select().where(Template.name == name).exists():
                raise TemplateRefused(f"There is already a template named “{name}”.")
            return self.save(name, title, body, category)

    def save(self, name: str, title: str, body: str, category: str = "") -> TemplateView:
        """Create or edit the template called ``name``; checked here as well as in the UI."""
        name, title, category = name.strip(), title.strip(), category.strip()
        problem = name_problem(name)
        if problem:
            raise TemplateRefused(problem)
        if not title:
            raise TemplateRefused("A title is required: it is what you pick the template by.")
        if not body.strip():
            raise TemplateRefused("The reply text is empty.")
        row = Template.get_or_none(Template.name == name)
        if row is None:
            row = Template.create(name=name, title=title, body=body, category=category)
        else:
            row.title, row.body, row.category, row.updated_at = title, body, category, utcnow()
            row.save()
        return self._view(row)

    def delete(self, name: str) -> None:
        """Delete the template; a starter's name is remembered so seeding leaves it out."""
        with database.atomic():
            Template.delete().where(Template.name == name).execute()
            if name in {item["name"] for item in _starters()}:
                removed = self.settings.get(REMOVED_STARTERS)
                if name not in removed:
                    self.settings.set(REMOVED_STARTERS, [*removed, name])

    @staticmethod
    def _view(row: Template) -> TemplateView:
        return TemplateView(row.id, row.name, row.title, row.body, row.category, row.builtin)


_FILL_IN = re.compile(r"\[[^\[\]\n]{1,80}\]")


def unfinished_fill_ins(template_body: str, text: str) -> list[str]:
    """Template fill-ins such as ``[link]`` that are still in the draft, word for word."""
    markers = set(_FILL_IN.findall(template_body))
    return [marker for marker in markers if marker in text]
