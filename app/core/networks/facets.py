"""Bluesky rich-text facets: where the @mentions and links are, in UTF-8 byte offsets.

Bluesky does not parse post text: a mention only notifies and links when the record carries a
facet whose ``byteStart``/``byteEnd`` count UTF-8 *bytes* (not characters), so text with emoji
or accents before a handle must be measured in bytes. The patterns follow the official
client's rules (a handle is a domain name; trailing punctuation is not part of a link).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# "@" at the start, after whitespace or "(", then a domain-like handle (as the official client).
_MENTION = re.compile(r"(?:^|(?<=[\s(]))@([a-zA-Z0-9.-]+)\b", re.ASCII)
_HANDLE = re.compile(
    r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$"
)
_LINK = re.compile(r"(?:^|(?<=[\s(]))(https?://\S+)", re.IGNORECASE)
_TRAILING = ".,;:!?\"'"


@dataclass(frozen=True, slots=True)
class Span:
    """A substring and where it is, in bytes of the UTF-8 text."""

    text: str
    byte_start: int
    byte_end: int


def _span(text: str, start: int, end: int) -> Span:
    byte_start = len(text[:start].encode("utf-8"))
    return Span(text[start:end], byte_start, byte_start + len(text[start:end].encode("utf-8")))


def mention_spans(text: str) -> list[Span]:
    """Every ``@handle`` that looks like a valid handle, with its byte range (incl. the "@")."""
    spans = []
    for match in _MENTION.finditer(text):
        handle = match.group(1).rstrip(".")
        if len(handle) > 253 or not _HANDLE.match(handle):
            continue
        start = match.start()
        spans.append(_span(text, start, start + 1 + len(handle)))
    return spans


def link_spans(text: str) -> list[Span]:
    """Every http(s) link, without trailing punctuation or unbalanced closing brackets."""
    spans = []
    for match in _LINK.finditer(text):
        url = match.group(1).rstrip(_TRAILING)
        while url.endswith(")") and url.count(")") > url.count("("):
            url = url[:-1].rstrip(_TRAILING)
        if len(url) > len("https://"):
            spans.append(_span(text, match.start(1), match.start(1) + len(url)))
    return spans


def build_facets(text: str, resolve: Callable[[str], str | None]) -> list[dict[str, Any]]:
    """The ``facets`` of a post: mentions whose handle ``resolve`` turns into a DID, and links.

    Handles that do not resolve are left as plain text (as the official client does).
    ``resolve`` is called once per distinct handle.
    """
    facets: list[dict[str, Any]] = []
    resolved: dict[str, str | None] = {}
    for span in mention_spans(text):
        handle = span.text[1:].lower()
        if handle not in resolved:
            resolved[handle] = resolve(handle)
        did = resolved[handle]
        if did:
            facets.append(_facet(span, {"$type": "app.bsky.richtext.facet#mention", "did": did}))
    for span in link_spans(text):
        facets.append(_facet(span, {"$type": "app.bsky.richtext.facet#link", "uri": span.text}))
    facets.sort(key=lambda facet: int(facet["index"]["byteStart"]))
    return facets


def _facet(span: Span, feature: dict[str, str]) -> dict[str, Any]:
    return {
        "index": {"byteStart": span.byte_start, "byteEnd": span.byte_end},
        "features": [feature],
    }
