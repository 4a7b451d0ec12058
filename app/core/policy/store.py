"""The active policy, kept in the database (``Setting`` key ``policy``) so it travels with a
backup; until the officer saves one, the default written for Kindly (resources/policy) applies.

A saved policy that can no longer be read (edited by hand, written by a newer Kindly) is never
dropped silently: ``load_policy`` logs the problem and falls back to the default *without*
overwriting what is stored, and ``saved_policy_problem`` lets the UI say so.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from app.core.policy.codec import policy_from_data, policy_to_data
from app.core.policy.files import read_policy_text
from app.core.policy.rules import Policy, PolicyError, check_policy
from app.core.resources import resource_path
from app.storage.models import Setting

log = logging.getLogger(__name__)

POLICY_KEY = "policy"
DEFAULT_POLICY_FILE = ("policy", "default-policy.toml")


@lru_cache(maxsize=1)
def default_policy() -> Policy:
    """The policy Kindly ships, read from its resource file (read once per process)."""
    return read_policy_text(resource_path(*DEFAULT_POLICY_FILE).read_text(encoding="utf-8"))


def load_policy() -> Policy:
    """The officer's saved policy, or the default when none is saved or it cannot be read."""
    row = Setting.get_or_none(Setting.key == POLICY_KEY)
    if row is None or row.value is None:
        return default_policy()
    try:
        return policy_from_data(row.value)
    except PolicyError as exc:
        log.error("the saved policy cannot be used (%s: %s); using the default", exc.path, exc)
        return default_policy()


def saved_policy_problem() -> str | None:
    """Why the saved policy is not in use, or None when it is fine (or none is saved)."""
    row = Setting.get_or_none(Setting.key == POLICY_KEY)
    if row is None:
        return None
    if row.value is None:
        return "The saved policy is damaged; Kindly is using its default policy."
    try:
        policy_from_data(row.value)
    except PolicyError as exc:
        return f"The saved policy cannot be used ({exc.field_name}: {exc.message})."
    return None


def save_policy(policy: Policy) -> None:
    """Check and store the policy; raises ``PolicyError`` and keeps the old one if it is bad."""
    check_policy(policy)
    Setting.insert(key=POLICY_KEY, value=policy_to_data(policy)).on_conflict_replace().execute()


def reset_policy() -> Policy:
    """Forget the saved policy: the default applies again."""
    Setting.delete().where(Setting.key == POLICY_KEY).execute()
    return default_policy()
