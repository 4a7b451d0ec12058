"""The checks behind ``kindly --self-test`` that need no Qt: keyring, database, bundled files.

Each check returns a ``Check`` (a name, an outcome, one line for people) instead of raising,
so the self-test can report every problem at once. The self-test (``app/ui/self_test.py``)
runs these, then opens the main window, and turns the outcomes into an exit code:

* 0: everything works;
* 1: a check other than the keyring failed (the message names it);
* 3: no usable keyring (or it failed), everything else fine; ``--allow-no-keyring`` turns a
  *missing* keyring into a warning (CI without a Secret Service), never a broken one.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import platform
import secrets
import sys
import tomllib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from app.core.demo import demo_database_path, open_demo_database
from app.core.inbox import CaseQuery, Inbox
from app.core.resources import resources_root
from app.core.secrets import KeyringUnavailable, SecretStore, SecretStoreError
from app.storage.db import close_database, open_database
from app.storage.errors import StorageError
from app.storage.migrations import HEAD
from app.storage.models import database

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_NO_KEYRING = 3

KEYRING = "keyring"
SELF_TEST_NETWORK = "selftest"  # references kindly:selftest:<hex> never name an account

# Files the app reads at run time; a bundle missing one is broken.
REQUIRED_RESOURCES: list[tuple[str, ...]] = [
    ("templates", "starter.json"),
    ("policy", "default-policy.toml"),
    ("icons", "kindly.svg"),
]


class Outcome(StrEnum):
    PASSED = "ok"
    FAILED = "FAILED"
    UNAVAILABLE = "missing"  # the thing is not on this computer (no keyring)
    SKIPPED = "skipped"

    @property
    def passed(self) -> bool:
        return self in (Outcome.PASSED, Outcome.SKIPPED)


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    outcome: Outcome
    detail: str

    @property
    def passed(self) -> bool:
        return self.outcome.passed


def passed(name: str, detail: str) -> Check:
    return Check(name, Outcome.PASSED, detail)


def failed(name: str, detail: str) -> Check:
    return Check(name, Outcome.FAILED, detail)


# -- what this is ---------------------------------------------------------------------------


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def app_version() -> str:
    """Kindly's version: installed metadata, else pyproject.toml (bundled beside resources/)."""
    try:
        return importlib.metadata.version("kindly")
    except importlib.metadata.PackageNotFoundError:
        pass
    try:
        data = tomllib.loads((resources_root().parent / "pyproject.toml").read_text("utf-8"))
        return str(data["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def describe_environment() -> str:
    how = "frozen bundle" if is_frozen() else "from source"
    return (
        f"Kindly {app_version()} ({how}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()} {platform.machine()}"
    )


# -- the checks -----------------------------------------------------------------------------


def check_resources(root: Path | None = None) -> Check:
    """The files under resources/ that Kindly reads, present and readable (JSON parses)."""
    base = root or resources_root()
    missing: list[str] = []
    for parts in REQUIRED_RESOURCES:
        path = base.joinpath(*parts)
        try:
            text = path.read_text("utf-8")
            if path.suffix == ".json":
                json.loads(text)
        except (OSError, ValueError) as exc:
            missing.append(f"{'/'.join(parts)} ({type(exc).__name__})")
    if missing:
        return failed("resources", f"missing or unreadable under {base}: {', '.join(missing)}")
    return passed("resources", f"{len(REQUIRED_RESOURCES)} files under {base}")


def check_database(data_folder: Path) -> Check:
    """Create, migrate and fill the demo database in ``data_folder``; quick_check; two queries.

    On success the database stays open (bound to the models) for the window check; the caller
    closes it with ``app.storage.db.close_database``.
    """
    name = "database"
    try:
        report = open_database(demo_database_path(data_folder))  # create and migrate
        close_database()
        path = open_demo_database(data_folder)
        problems = [row[0] for row in database.execute_sql("PRAGMA quick_check").fetchall()]
        if problems != ["ok"]:
            close_database()
            return failed(name, f"quick_check on {path}: {'; '.join(map(str, problems[:3]))}")
        inbox = Inbox()
        cases = inbox.count(CaseQuery())
        found = inbox.count(CaseQuery(search="river"))
    except StorageError as exc:
        close_database()
        return failed(name, exc.user_message)
    except Exception as exc:  # the self-test reports any failure instead of crashing
        log.exception("self-test: database check failed")
        close_database()
        return failed(name, f"{type(exc).__name__}: {exc}")
    if report.to_version != HEAD or cases == 0 or found == 0:
        close_database()
        return failed(
            name,
            f"schema {report.to_version} (head {HEAD}), {cases} cases, "
            f"{found} found by full-text search: the demo database is incomplete",
        )
    return passed(
        name,
        f"schema {report.from_version} → {report.to_version}, quick_check ok, {cases} demo "
        f"cases, full-text search finds {found} for 'river' ({path})",
    )


def check_keyring(store: SecretStore | None = None) -> Check:
    """Write, read back and delete a throw-away secret; report the backend by name.

    UNAVAILABLE when this computer has no usable secure keyring (the detail says how to get
    one); FAILED when the keyring is there but does not work (locked, D-Bus errors, …).
    """
    try:
        store = store or SecretStore()
    except Exception as exc:  # keyring itself failing to load
        return Check(KEYRING, Outcome.UNAVAILABLE, f"{type(exc).__name__}: {exc}")
    info = store.backend_info()
    label = f"{info.name} [{info.backend_id}]"
    if not info.usable:
        return Check(KEYRING, Outcome.UNAVAILABLE, info.explanation_if_unusable or label)
    ref = f"kindly:{SELF_TEST_NETWORK}:{uuid.uuid4().hex}"
    secret = {"self_test": secrets.token_hex(16)}
    written = False
    try:
        store.set(ref, secret)
        written = True
        if store.get(ref) != secret:
            return failed(KEYRING, f"{label}: read back a different value than was written")
        if not store.delete(ref):
            return failed(KEYRING, f"{label}: the test secret was gone before it was deleted")
        written = False
        if store.get(ref) is not None:
            return failed(KEYRING, f"{label}: the test secret is still there after deleting it")
    except KeyringUnavailable as exc:
        return Check(KEYRING, Outcome.UNAVAILABLE, exc.user_message)
    except SecretStoreError as exc:
        return failed(KEYRING, f"{label}: {exc.user_message}")
    finally:
        if written:
            try:
                store.delete(ref)
            except SecretStoreError:
                log.warning("self-test: could not remove the test secret %s", ref)
    return passed(KEYRING, f"{label}: wrote, read back and deleted a test secret")


def check_sentiment() -> Check:
    """vaderSentiment loads both lexicons (data files a bundle must carry) and scores a text."""
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        analyzer = SentimentIntensityAnalyzer()
        score = float(analyzer.polarity_scores("Thank you, this is wonderful 😊")["compound"])
        words, emojis = len(analyzer.lexicon), len(analyzer.emojis)
    except Exception as exc:  # a missing lexicon raises OSError, a broken install anything
        return failed("sentiment", f"vaderSentiment does not load: {type(exc).__name__}: {exc}")
    if score <= 0.5 or not words or not emojis:
        return failed("sentiment", f"unexpected score {score:.2f} ({words} words, {emojis} emoji)")
    return passed("sentiment", f"lexicons loaded ({words} words, {emojis} emoji)")


def check_log_file(log_file: Path) -> Check:
    """The rotating log file in the data directory receives what Kindly logs."""
    log.info("self-test: checking the log file")
    for handler in logging.getLogger().handlers:
        handler.flush()
    try:
        size = log_file.stat().st_size
    except OSError as exc:
        return failed("log file", f"{log_file}: {exc}")
    if size == 0:
        return failed("log file", f"{log_file} stays empty")
    return passed("log file", str(log_file))


# -- the verdict ----------------------------------------------------------------------------


def settle(checks: Iterable[Check], allow_no_keyring: bool = False) -> list[Check]:
    """With ``allow_no_keyring``, a missing keyring becomes SKIPPED (a broken one stays)."""
    settled = []
    for check in checks:
        if allow_no_keyring and check.name == KEYRING and check.outcome is Outcome.UNAVAILABLE:
            check = Check(
                KEYRING,
                Outcome.SKIPPED,
                f"no usable keyring, allowed (--allow-no-keyring): {check.detail}",
            )
        settled.append(check)
    return settled


def exit_code(checks: Sequence[Check]) -> int:
    bad = [c for c in checks if not c.passed]
    if not bad:
        return EXIT_OK
    if all(c.name == KEYRING for c in bad):
        return EXIT_NO_KEYRING
    return EXIT_FAILED


def summary(checks: Sequence[Check]) -> str:
    """One closing sentence that says what is wrong, in words a non-technical person can use."""
    bad = [c for c in checks if not c.passed]
    if not bad:
        return "Kindly's self-test passed."
    if all(c.name == KEYRING for c in bad):
        if bad[0].outcome is Outcome.UNAVAILABLE:
            return (
                "Kindly's self-test FAILED: this computer has no usable keyring, so Kindly "
                "cannot keep account passwords safely. How to fix it is in the keyring line above."
            )
        return "Kindly's self-test FAILED: the keyring did not work (see the keyring line above)."
    names = ", ".join(c.name for c in bad)
    return f"Kindly's self-test FAILED ({names}). The details are above and in the log file."


def format_report(checks: Sequence[Check], header: str = "") -> str:
    width = max((len(c.name) for c in checks), default=0)
    lines = [header] if header else []
    for check in checks:
        lines.append(f"  {check.outcome.value:<8} {check.name:<{width}}  {check.detail}")
    lines.append(summary(checks))
    return "\n".join(lines)
