"""The active policy lives in the database; the shipped default applies until one is saved."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.policy.rules import Outcome, Policy, PolicyError, Rule
from app.core.policy.store import (
    POLICY_KEY,
    default_policy,
    load_policy,
    reset_policy,
    save_policy,
    saved_policy_problem,
)
from app.storage.models import Setting

MINE = Policy(rules=(Rule("Only rule", Outcome.RESPOND, respond_within_hours=3),))


def test_default_applies_until_a_policy_is_saved(db_path: Path) -> None:
    assert load_policy() == default_policy()
    save_policy(MINE)
    assert load_policy() == MINE
    assert saved_policy_problem() is None
    assert reset_policy() == default_policy()
    assert load_policy() == default_policy()


def test_a_bad_policy_is_not_saved(db_path: Path) -> None:
    save_policy(MINE)
    with pytest.raises(PolicyError):
        save_policy(Policy(rules=(Rule("x", Outcome.SPAM),)))
    assert load_policy() == MINE


def test_an_unreadable_saved_policy_falls_back_without_being_overwritten(db_path: Path) -> None:
    broken = {"format": 1, "rule": [{"name": "x", "outcome": "nonsense"}]}
    Setting.insert(key=POLICY_KEY, value=broken).execute()
    assert load_policy() == default_policy()
    problem = saved_policy_problem()
    assert problem is not None and "rule.1.outcome" in problem
    assert Setting.get_by_id(POLICY_KEY).value == broken
