"""Reading VCR.py cassettes (the recordings of real servers) without PyYAML.

VCR writes a small subset of YAML: block mappings and sequences with plain, single-quoted and
double-quoted scalars folded over several lines. ``load_yaml`` reads exactly that subset, and
the contract tests check it byte for byte against each response's ``Content-Length``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "n": "\n", "v": "\v", "f": "\f",
            "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85",
            "_": "\xa0", "L": "\u2028", "P": "\u2029"}  # fmt: skip


def _fold(lines: list[str]) -> str:
    """YAML line folding: a line break is a space, an empty line is a newline."""
    out, blank = lines[0], 0
    for line in lines[1:]:
        if not line:
            blank += 1
            continue
        out += "\n" * blank if blank else " "
        out += line
        blank = 0
    return out


def _scalar(first: str, more: list[str]) -> Any:
    text, rest = first.strip(), [m.strip() for m in more]
    if text.startswith("'"):
        body = _fold([text[1:], *rest])
        return body[:-1].replace("''", "'")
    if text.startswith('"'):
        joined = text[1:]
        for part in rest:
            if joined.endswith("\\"):
                joined = joined[:-1] + part  # escaped line break: no space
            else:
                joined += (" " if part else "\n") + part
        return re.sub(
            r"\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)",
            lambda m: chr(int(m[1][1:], 16)) if len(m[1]) > 1 else _ESCAPES[m[1]],
            joined[:-1],
        )
    value = _fold([text, *rest])
    if value in ("null", "~", ""):
        return None
    if value in ("true", "false"):
        return value == "true"
    return int(value) if re.fullmatch(r"-?\d+", value) else value


def load_yaml(text: str) -> Any:
    """Block mappings and sequences with plain, single- and double-quoted scalars."""
    lines = text.split("\n")
    pos = 0

    def indent(line: str) -> int:
        return len(line) - len(line.lstrip(" "))

    def skip_blank() -> None:
        nonlocal pos
        while pos < len(lines) and not lines[pos].strip():
            pos += 1

    def continuation(minimum: int) -> list[str]:
        nonlocal pos
        more = []
        while pos < len(lines) and (not lines[pos].strip() or indent(lines[pos]) >= minimum):
            if not lines[pos].strip() and (
                pos + 1 >= len(lines) or indent(lines[pos + 1]) < minimum
            ):
                break
            more.append(lines[pos])
            pos += 1
        return more

    def node(level: int) -> Any:
        skip_blank()
        return sequence(level) if lines[pos][level:].startswith("-") else mapping(level)

    def sequence(level: int) -> list[Any]:
        nonlocal pos
        items: list[Any] = []
        while True:
            skip_blank()
            if pos >= len(lines) or indent(lines[pos]) != level:
                return items
            if not lines[pos][level:].startswith("-"):
                return items
            rest = lines[pos][level + 2 :]
            if re.match(r"^[^'\"][^:]*:( |$)", rest):
                lines[pos] = " " * (level + 2) + rest
                items.append(mapping(level + 2))
            else:
                pos += 1
                items.append(_scalar(rest, continuation(level + 1)))

    def mapping(level: int) -> dict[str, Any]:
        nonlocal pos
        out: dict[str, Any] = {}
        while True:
            skip_blank()
            if pos >= len(lines) or indent(lines[pos]) != level:
                return out
            if lines[pos][level:].startswith("- "):
                return out
            key, _, rest = lines[pos][level:].partition(":")
            pos += 1
            if rest.strip():
                out[key] = _scalar(rest, continuation(level + 1))
                continue
            skip_blank()
            nested = pos < len(lines) and (
                indent(lines[pos]) > level
                or (indent(lines[pos]) == level and lines[pos][level:].startswith("- "))
            )
            out[key] = node(indent(lines[pos])) if nested else None

    return node(0)


@dataclass(frozen=True)
class Interaction:
    """One recorded request and its response."""

    method: str
    uri: str
    request_body: str | None
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


@cache
def read_cassette(path: Path) -> tuple[Interaction, ...]:
    """Every interaction of one cassette file."""
    data = load_yaml(path.read_text(encoding="utf-8"))
    result = []
    for item in data["interactions"]:
        request, response = item["request"], item["response"]
        headers = {k.lower(): ", ".join(map(str, v)) for k, v in response["headers"].items()}
        result.append(
            Interaction(
                method=request["method"],
                uri=request["uri"],
                request_body=request["body"],
                status=response["status"]["code"],
                headers=headers,
                body=response["body"]["string"],
            )
        )
    return tuple(result)


def find_interaction(path: Path, method: str, needle: str) -> Interaction:
    """The first interaction whose request is ``method`` to a URI containing ``needle``."""
    for interaction in read_cassette(path):
        if interaction.method == method and needle in interaction.uri:
            return interaction
    raise KeyError(f"{path.name}: no {method} {needle}")
