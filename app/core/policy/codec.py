"""A policy as plain data (dicts, lists, strings, numbers): the one shape behind both the TOML
file people edit and the JSON the database keeps. Reading is strict, because a typo in a rule
("respond_whitin_hours") silently ignored would change what the inbox does without anyone
noticing; every problem is a ``PolicyError`` whose path names the field.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from typing import Any

from app.core.policy.rules import (
    Conditions,
    FlaggedPhrase,
    Outcome,
    Policy,
    PolicyError,
    Rule,
    check_policy,
)
from app.core.vocab import Network, Stance

FORMAT = 1
Path = tuple[str | int, ...]

_TOP_KEYS = ("format", "take_offline_after", "watch_list", "flagged_phrases", "rule")
_RULE_KEYS = (
    "name",
    "note",
    "enabled",
    "outcome",
    "respond_within_hours",
    "reason",
    "reminder",
    "when",
)
_WHEN_KEYS = (
    "words",
    "pattern",
    "networks",
    "stances",
    "min_followers",
    "sentiment_below",
    "sentiment_above",
    "reply_to_us",
    "has_link",
    "on_watch_list",
)


# -- writing --------------------------------------------------------------------------------


def policy_to_data(policy: Policy) -> dict[str, Any]:
    """Plain data in a fixed key order; fields at their default are left out."""
    data: dict[str, Any] = {
        "format": FORMAT,
        "take_offline_after": policy.take_offline_after,
        "watch_list": list(policy.watch_list),
        "flagged_phrases": [
            {"phrase": f.phrase, "suggestion": f.suggestion} for f in policy.flagged_phrases
        ],
        "rule": [_rule_to_data(rule) for rule in policy.rules],
    }
    return data


def _rule_to_data(rule: Rule) -> dict[str, Any]:
    data: dict[str, Any] = {"name": rule.name}
    if rule.note:
        data["note"] = rule.note
    if not rule.enabled:
        data["enabled"] = False
    data["outcome"] = rule.outcome.value
    if rule.respond_within_hours is not None:
        data["respond_within_hours"] = rule.respond_within_hours
    if rule.reason:
        data["reason"] = rule.reason
    if rule.reminder:
        data["reminder"] = rule.reminder
    when = _conditions_to_data(rule.when)
    if when:
        data["when"] = when
    return data


def _conditions_to_data(when: Conditions) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if when.words:
        data["words"] = list(when.words)
    if when.pattern:
        data["pattern"] = when.pattern
    if when.networks:
        data["networks"] = [n.value for n in when.networks]
    if when.stances:
        data["stances"] = [s.value for s in when.stances]
    for name in _WHEN_KEYS[4:]:
        value = getattr(when, name)
        if value is not None:
            data[name] = value
    return data


# -- reading --------------------------------------------------------------------------------


def policy_from_data(data: Mapping[str, Any]) -> Policy:
    """Build and check a policy from plain data; raises ``PolicyError`` naming the field."""
    _no_unknown_keys(data, _TOP_KEYS, ())
    version = _int(data.get("format", FORMAT), ("format",))
    if version > FORMAT:
        raise PolicyError(
            f"this policy was written by a newer Kindly (format {version}; this one reads "
            f"format {FORMAT}); update Kindly to use it",
            ("format",),
        )
    rules_data = data.get("rule", [])
    if not isinstance(rules_data, list):
        raise PolicyError("must be a list of rules ([[rule]] sections)", ("rule",))
    rules = tuple(_rule_from_data(item, index) for index, item in enumerate(rules_data, 1))
    flagged_data = _list(data.get("flagged_phrases", []), ("flagged_phrases",))
    flagged: list[FlaggedPhrase] = []
    for index, item in enumerate(flagged_data, 1):
        where: Path = ("flagged_phrases", index)
        if isinstance(item, str):
            flagged.append(FlaggedPhrase(item))
            continue
        table = _table(item, where)
        _no_unknown_keys(table, ("phrase", "suggestion"), where)
        flagged.append(
            FlaggedPhrase(
                _str(table.get("phrase"), (*where, "phrase"), required=True),
                _str(table.get("suggestion", ""), (*where, "suggestion")),
            )
        )
    policy = Policy(
        rules=rules,
        watch_list=tuple(_str_list(data.get("watch_list", []), ("watch_list",))),
        flagged_phrases=tuple(flagged),
        take_offline_after=_int(data.get("take_offline_after", 5), ("take_offline_after",)),
    )
    check_policy(policy)
    return policy


def _rule_from_data(item: Any, index: int) -> Rule:
    where: Path = ("rule", index)
    table = _table(item, where)
    _no_unknown_keys(table, _RULE_KEYS, where)
    outcome_text = _str(table.get("outcome", Outcome.RESPOND.value), (*where, "outcome"))
    try:
        outcome = Outcome(outcome_text)
    except ValueError:
        choices = ", ".join(o.value for o in Outcome)
        raise PolicyError(
            f"unknown outcome {outcome_text!r}; use one of {choices}", (*where, "outcome")
        ) from None
    hours = table.get("respond_within_hours")
    return Rule(
        name=_str(table.get("name"), (*where, "name"), required=True),
        outcome=outcome,
        when=_conditions_from_data(table.get("when", {}), (*where, "when")),
        respond_within_hours=None
        if hours is None
        else _float(hours, (*where, "respond_within_hours")),
        reason=_str(table.get("reason", ""), (*where, "reason")),
        reminder=_str(table.get("reminder", ""), (*where, "reminder")),
        note=_str(table.get("note", ""), (*where, "note")),
        enabled=_bool(table.get("enabled", True), (*where, "enabled")),
    )


def _conditions_from_data(item: Any, where: Path) -> Conditions:
    table = _table(item, where)
    _no_unknown_keys(table, _WHEN_KEYS, where)
    networks = tuple(
        _choice(Network, v, (*where, "networks"))
        for v in _str_list(table.get("networks", []), (*where, "networks"))
    )
    stances = tuple(
        _choice(Stance, v, (*where, "stances"))
        for v in _str_list(table.get("stances", []), (*where, "stances"))
    )

    def optional_float(name: str) -> float | None:
        value = table.get(name)
        return None if value is None else _float(value, (*where, name))

    def optional_bool(name: str) -> bool | None:
        value = table.get(name)
        return None if value is None else _bool(value, (*where, name))

    followers = table.get("min_followers")
    return Conditions(
        words=tuple(_str_list(table.get("words", []), (*where, "words"))),
        pattern=_str(table.get("pattern", ""), (*where, "pattern")),
        networks=networks,
        stances=stances,
        min_followers=None if followers is None else _int(followers, (*where, "min_followers")),
        sentiment_below=optional_float("sentiment_below"),
        sentiment_above=optional_float("sentiment_above"),
        reply_to_us=optional_bool("reply_to_us"),
        has_link=optional_bool("has_link"),
        on_watch_list=optional_bool("on_watch_list"),
    )


# -- strict little readers ------------------------------------------------------------------


def _no_unknown_keys(table: Mapping[str, Any], known: tuple[str, ...], where: Path) -> None:
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise PolicyError(f"unknown field {key!r}{hint}", (*where, str(key)))


def _table(value: Any, where: Path) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PolicyError("must be a table of fields", where)
    return value


def _list(value: Any, where: Path) -> list[Any]:
    if not isinstance(value, list):
        raise PolicyError('must be a list, e.g. ["a", "b"]', where)
    return value


def _str(value: Any, where: Path, required: bool = False) -> str:
    if value is None and required:
        raise PolicyError("is missing", where)
    if not isinstance(value, str):
        raise PolicyError("must be text in quotes", where)
    if required and not value.strip():
        raise PolicyError("is empty", where)
    return value


def _str_list(value: Any, where: Path) -> list[str]:
    items = _list(value, where)
    for item in items:
        if not isinstance(item, str):
            raise PolicyError("must be a list of texts in quotes", where)
    return items


def _int(value: Any, where: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PolicyError("must be a whole number", where)
    return value


def _float(value: Any, where: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PolicyError("must be a number", where)
    number = float(value)
    if not math.isfinite(number):
        raise PolicyError("must be a finite number", where)
    return number


def _bool(value: Any, where: Path) -> bool:
    if not isinstance(value, bool):
        raise PolicyError("must be true or false", where)
    return value


def _choice(kind: type[Network] | type[Stance], value: str, where: Path) -> Any:
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise PolicyError(f"unknown value {value!r}; use {choices}", where) from None
