"""Canned replies with ``{variables}``, rendered safely.

An unknown or unfilled variable never reaches a network as a literal ``{…}`` and never
crashes: the placeholder stays visible in the composer, is reported by name, and the outbox
refuses text that still holds one (``placeholders``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from app.core.resources import resource_path
from app.core.text import first_name
from app.storage.models import Template, utcnow

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


class TemplateLibrary:
    """The templates in the database, seeded from ``resources/templates/starter.json``."""

    def seed(self) -> int:
        """Add starter templates that are missing (never overwrites the officer's edits)."""
        data = json.loads(resource_path("templates", "starter.json").read_text("utf-8"))
        existing = {row.name for row in Template.select(Template.name)}
        added = 0
        for item in data["templates"]:
            if item["name"] not in existing:
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

    def save(self, name: str, title: str, body: str, category: str = "") -> TemplateView:
        row = Template.get_or_none(Template.name == name)
        if row is None:
            row = Template.create(name=name, title=title, body=body, category=category)
        else:
            row.title, row.body, row.category, row.updated_at = title, body, category, utcnow()
            row.save()
        return self._view(row)

    def delete(self, name: str) -> None:
        Template.delete().where(Template.name == name).execute()

    @staticmethod
    def _view(row: Template) -> TemplateView:
        return TemplateView(row.id, row.name, row.title, row.body, row.category, row.builtin)


_FILL_IN = re.compile(r"\[[^\[\]\n]{1,80}\]")


def unfinished_fill_ins(template_body: str, text: str) -> list[str]:
    """Template fill-ins such as ``[link]`` that are still in the draft, word for word."""
    markers = set(_FILL_IN.findall(template_body))
    return [marker for marker in markers if marker in text]
