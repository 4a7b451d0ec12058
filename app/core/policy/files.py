"""The policy as a TOML file people can read, edit, share and keep in a folder of their own.

Export writes a canonical layout (fixed key order, one rule per ``[[rule]]`` section), so
``import`` then ``export`` gives back the same text and importing an exported file gives back
the same policy. Reading uses ``tomllib``; writing uses the small writer below, which only needs
the few TOML forms a policy uses (strings, numbers, booleans, lists, inline tables).

A file that cannot be used raises ``PolicyFileError`` with the line and the field, e.g.
"line 31, rule 4 “Press”, field outcome: unknown outcome 'reply'; use one of …".
"""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path
from typing import Any

from app.core.policy.codec import policy_from_data, policy_to_data
from app.core.policy.rules import Policy, PolicyError

HEADER = """\
# Kindly response policy.
#
# Rules are read from the top. The first enabled rule whose conditions all hold decides what
# happens to a new mention: respond (within respond_within_hours of office time, or the standard
# target), leave_alone or spam (with the reason recorded on the case), or escalate (move the
# conversation to phone or email). If no rule matches, Kindly asks for a reply within the
# standard target. A rule without [rule.when] conditions matches everything: keep it last.
#
# Conditions (all must hold; a list means "any of"): words (whole words or phrases, any case;
# "refund*" also matches "refunds"), pattern (a regular expression), networks, stances,
# min_followers, sentiment_below / sentiment_above (-1 negative … 1 positive), reply_to_us,
# has_link, on_watch_list.
"""
_WIDTH = 100


class PolicyFileError(ValueError):
    """A policy file that cannot be used, with where the problem is."""

    def __init__(self, message: str, line: int | None = None, field: str = "") -> None:
        where = [f"line {line}"] if line else []
        if field:
            where.append(field)
        super().__init__(", ".join(where) + ": " + message if where else message)
        self.line = line
        self.field = field
        self.problem = message


# -- reading --------------------------------------------------------------------------------


def read_policy_text(text: str) -> Policy:
    """Parse a policy file's text; raises ``PolicyFileError`` naming the line and field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _decode_error_line(str(exc))
        raise PolicyFileError(f"this is not valid TOML ({exc})", line) from exc
    try:
        return policy_from_data(data)
    except PolicyError as exc:
        raise PolicyFileError(
            exc.message, _locate(text, exc.path), _describe(exc.path, data)
        ) from exc


def import_policy(path: Path) -> Policy:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyFileError(f"{path.name} is not a UTF-8 text file") from exc
    except OSError as exc:
        raise PolicyFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return read_policy_text(text)


def _decode_error_line(message: str) -> int | None:
    found = re.search(r"line (\d+)", message)
    return int(found.group(1)) if found else None


def _describe(path: tuple[str | int, ...], data: dict[str, Any]) -> str:
    """``rule 4 “Press”, field outcome`` for a person reading the file."""
    if len(path) >= 2 and path[0] == "rule" and isinstance(path[1], int):
        rules = data.get("rule")
        name = ""
        if isinstance(rules, list) and 0 < path[1] <= len(rules):
            item = rules[path[1] - 1]
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                name = f" “{item['name']}”"
        rest = ".".join(str(p) for p in path[2:])
        return f"rule {path[1]}{name}" + (f", field {rest}" if rest else "")
    return "field " + ".".join(str(p) for p in path)


_SECTION = re.compile(r"^\s*\[")
_RULE_HEADER = re.compile(r"^\s*\[\[\s*rule\s*\]\]")
_WHEN_HEADER = re.compile(r"^\s*\[\s*rule\s*\.\s*when\s*\]")


def _key_line(lines: list[str], start: int, stop: int, key: str) -> int | None:
    pattern = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=")
    for number in range(start, stop):
        if pattern.match(lines[number]):
            return number + 1
    return None


def _locate(text: str, path: tuple[str | int, ...]) -> int | None:
    """The line a field path points at, found by reading the layout of the file."""
    lines = text.splitlines()
    first_section = next((i for i, line in enumerate(lines) if _SECTION.match(line)), len(lines))
    if not path:
        return None
    if path[0] != "rule":
        line = _key_line(lines, 0, first_section, str(path[0]))
        if line and len(path) > 1 and isinstance(path[1], int):
            return _nth_item_line(lines, line - 1, path[1]) or line
        return line
    headers = [i for i, line in enumerate(lines) if _RULE_HEADER.match(line)]
    if len(path) < 2 or not isinstance(path[1], int) or not 0 < path[1] <= len(headers):
        return headers[0] + 1 if headers else None
    start = headers[path[1] - 1]
    stop = headers[path[1]] if path[1] < len(headers) else len(lines)
    if len(path) < 3:
        return start + 1
    when = next((i for i in range(start, stop) if _WHEN_HEADER.match(lines[i])), None)
    key = str(path[2])
    if key == "when" and len(path) > 3:
        if when is not None:
            return _key_line(lines, when + 1, stop, str(path[3])) or when + 1
        return _key_line(lines, start + 1, stop, "when") or start + 1
    body_end = when if when is not None else stop
    return _key_line(lines, start + 1, body_end, key) or start + 1


def _nth_item_line(lines: list[str], key_index: int, nth: int) -> int | None:
    """In a multi-line list written one item per line, the line of item ``nth``."""
    if lines[key_index].rstrip().endswith("["):
        number = key_index + nth
        if number < len(lines):
            return number + 1
    return None


# -- writing --------------------------------------------------------------------------------


def policy_to_text(policy: Policy) -> str:
    """The canonical TOML text of a policy."""
    data = policy_to_data(policy)
    out = [HEADER]
    for key in ("format", "take_offline_after", "watch_list", "flagged_phrases"):
        out.append(_assignment(key, data[key]))
    for rule in data["rule"]:
        out.append("")
        out.append("[[rule]]")
        when = rule.pop("when", None)
        for key, value in rule.items():
            out.append(_assignment(key, value))
        if when:
            out.append("[rule.when]")
            for key, value in when.items():
                out.append(_assignment(key, value))
    return "\n".join(out) + "\n"


def export_policy(policy: Policy, path: Path) -> None:
    """Write the policy file (atomically: a half-written policy is never left behind)."""
    temporary = path.with_name(path.name + ".part")
    temporary.write_text(policy_to_text(policy), encoding="utf-8")
    temporary.replace(path)


def _assignment(key: str, value: Any) -> str:
    line = f"{key} = {_value(value)}"
    if len(line) <= _WIDTH or not isinstance(value, list) or not value:
        return line
    items = "".join(f"    {_value(item)},\n" for item in value)
    return f"{key} = [\n{items}]"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("TOML has no place for an infinite policy value")
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b"}


def _string(text: str) -> str:
    """A TOML string: literal ('…') when that spares backslashes, else basic with escapes."""
    plain = all(ord(ch) >= 0x20 and ord(ch) != 0x7F for ch in text)
    if "\\" in text and "'" not in text and plain:
        return "'" + text + "'"
    parts: list[str] = []
    for ch in text:
        if ch in _ESCAPES:
            parts.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            parts.append(f"\\u{ord(ch):04X}")
        else:
            parts.append(ch)
    return '"' + "".join(parts) + '"'
