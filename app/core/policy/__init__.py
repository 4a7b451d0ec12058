"""The response policy: rules that decide respond / leave alone / escalate / spam, its file
format, and where the active one is kept. See ``rules`` for how a policy decides."""

from app.core.policy.engine import PolicyEngine
from app.core.policy.files import (
    PolicyFileError,
    export_policy,
    import_policy,
    policy_to_text,
    read_policy_text,
)
from app.core.policy.rules import (
    Conditions,
    Decision,
    FlaggedPhrase,
    MentionFacts,
    Outcome,
    Policy,
    PolicyError,
    Rule,
    check_policy,
)
from app.core.policy.store import (
    default_policy,
    load_policy,
    reset_policy,
    save_policy,
    saved_policy_problem,
)

__all__ = [
    "Conditions",
    "Decision",
    "FlaggedPhrase",
    "MentionFacts",
    "Outcome",
    "Policy",
    "PolicyEngine",
    "PolicyError",
    "PolicyFileError",
    "Rule",
    "check_policy",
    "default_policy",
    "export_policy",
    "import_policy",
    "load_policy",
    "policy_to_text",
    "read_policy_text",
    "reset_policy",
    "save_policy",
    "saved_policy_problem",
]
