"""Triage's fast paths decide exactly as the plain reading of the policy does.

The policy engine skips expressions that cannot match, remembers each text's results, and the
plan of a case is built without the intermediate objects; none of that may change a decision.
Here thousands of generated mentions (demo text, every policy word in odd spellings, look-alike
letters, links, very long posts) go through the default policy and through a policy that uses
every condition type, and each decision, priority, due time and why line is compared with the
straightforward evaluation in ``triage_reference`` (the code as it was before). The last tests
show the comparison does catch a wrong engine.
"""

from __future__ import annotations

import marshal
import pickle
import random
import re
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
import triage_reference as ref

from app.core import demo
from app.core.ingest import Ingestor
from app.core.networks.base import RemoteMention, RemotePerson
from app.core.policy import engine as policy_engine
from app.core.policy.engine import PolicyEngine, fold_case
from app.core.policy.rules import MAX_SCAN, Conditions, MentionFacts, Outcome, Policy, Rule
from app.core.policy.store import default_policy
from app.core.triage import AwayPeriod, OfficeHours, Triage, TriageConfig, TriageHook
from app.core.triage.engine import plan_case
from app.core.triage.facts import CaseFacts
from app.core.vocab import CaseStatus, EventKind, Network, Stance
from app.storage.models import Account, Case, CaseEvent, Mention, Person

STANDARD = timedelta(hours=2)
SAMPLES = 3_000

EVERY_CONDITION = Policy(
    watch_list=("@Troll@Example.Social", "pest@bsky.example"),
    rules=(
        Rule("Switched off", Outcome.ESCALATE, Conditions(), enabled=False),
        Rule(
            "Danger on X or Bluesky",
            Outcome.ESCALATE,
            Conditions(
                words=("kill you", "self-harm", "threat*", "not  safe", "doesn't work"),
                networks=(Network.X, Network.BLUESKY),
            ),
            respond_within_hours=1,
        ),
        Rule(
            "Money words",  # "$5" starts with no word character: always read with the expression
            Outcome.SPAM,
            Conditions(words=("$5", "earn $*", "bitcoin"), has_link=True),
            reason="scam",
        ),
        Rule(
            "Accents",  # no ASCII key for "café": always read with the expression
            Outcome.RESPOND,
            Conditions(words=("café", "très bien", "very naïve"), min_followers=100),
            respond_within_hours=3,
        ),
        Rule(
            "Watched",
            Outcome.LEAVE_ALONE,
            Conditions(on_watch_list=True, sentiment_below=0.3),
            reason="watched",
        ),
        Rule(
            "Opponents asking",
            Outcome.RESPOND,
            Conditions(pattern=r"\?\s*$|\bwhy\b", stances=(Stance.OPPONENT, Stance.NEUTRAL)),
            respond_within_hours=0.5,
        ),
        Rule(
            "Angry and big",
            Outcome.ESCALATE,
            Conditions(sentiment_below=-0.5, min_followers=10_000),
        ),
        Rule(
            "Replies of ours, no link",
            Outcome.RESPOND,
            Conditions(reply_to_us=True, has_link=False, words=("skip*", "stop", "list")),
        ),
        Rule(
            "Lukewarm refunds",
            Outcome.RESPOND,
            Conditions(
                words=("refund*", "cancel*", "kelvin", "I know where you live"),
                sentiment_above=-0.2,
                sentiment_below=0.2,
                reply_to_us=False,
            ),
            respond_within_hours=4,
        ),
        Rule(
            "Unwatched links",
            Outcome.LEAVE_ALONE,
            Conditions(on_watch_list=False, has_link=True, words=("click here", "dm me")),
            reason="links",
        ),
        Rule("Feeds", Outcome.RESPOND, Conditions(networks=(Network.WEB,)), respond_within_hours=8),
    ),
)

LOOKALIKES = {"k": "\u212a", "s": "\u017f", "i": "\u0131", "I": "\u0130", "'": "\u2019"}


def policy_words(policy: Policy) -> list[str]:
    found = [w.rstrip("*") for r in policy.rules for w in r.when.words]
    return [*found, "how", "why", "who", "can I", "is there", "?"]


def spell(word: str, rng: random.Random) -> str:
    """One of the ways a word turns up in a post."""
    how = rng.randrange(9)
    if how == 0:
        return word.upper()
    if how == 1:
        return word.title()
    if how == 2:
        return re.sub(r"\s+", rng.choice(["  ", "\n", " \t "]), word)
    if how == 3:
        return word + rng.choice(["s", "ed", "ing", "_", "1"])  # a longer word
    if how == 4:
        return rng.choice(["un", "x", "_", "9"]) + word  # inside a longer word
    if how == 5:
        return "".join(LOOKALIKES.get(c, c) if rng.random() < 0.5 else c for c in word)
    if how == 6:
        return rng.choice(["(", "#", "@", "\u00ab", "-"]) + word + rng.choice([")", "!", ",", "-"])
    return word


def texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    plain = [
        *demo.QUESTIONS,
        *demo.COMPLAINTS,
        *demo.PRAISE,
        *demo.OPPOSITION,
        *demo.SPAM,
        *demo.HOSTILE,
        *demo.THREAD,
    ]
    words = policy_words(default_policy()) + policy_words(EVERY_CONDITION)
    extras = ["https://x.example/a", "www.example.org", "@www.example", "café", "👩🏽‍🔬", "…"]
    out: list[str] = []
    for n in range(count):
        kind = rng.random()
        if kind < 0.3:
            out.append(rng.choice(plain))  # repeats, as campaign copy-paste
            continue
        pieces = [rng.choice(plain)] if kind < 0.6 else []
        for _ in range(rng.randrange(1, 5)):
            pieces.append(spell(rng.choice(words), rng) if rng.random() < 0.6 else "")
            pieces.append(rng.choice(extras) if rng.random() < 0.2 else rng.choice(plain)[:40])
        text = rng.choice([" ", "", "\n"]).join(pieces)
        if n % 500 == 7:  # a very long post: only its first MAX_SCAN characters count
            text = "lorem " * (MAX_SCAN // 6) + text
        out.append(text)
    return out


def facts_for(policy_texts: list[str], seed: int) -> list[MentionFacts]:
    rng = random.Random(seed)
    followers = [None, 0, 5, 99, 100, 999, 1_000, 9_999, 10_000, 12_345, 2_000_000]
    moods = [None, -1.0, -0.6, -0.59, -0.5, -0.41, -0.4, -0.2, -0.05, 0.0, 0.2, 0.3, 0.5, 0.51]
    handles = ["rosa", "sam@x.example", "ana", "troll@example.social", "@TROLL@example.social"]
    handles.append("pest@bsky.example")
    return [
        MentionFacts(
            text=text,
            network=rng.choice(list(Network)),
            stance=rng.choice(list(Stance)),
            follower_count=rng.choice(followers),
            sentiment=rng.choice(moods) if rng.random() < 0.7 else rng.uniform(-1, 1),
            reply_to_us=rng.random() < 0.3,
            author_handle=rng.choice(handles),
        )
        for text in policy_texts
    ]


def mismatches(engine: PolicyEngine, policy: Policy, sample: list[MentionFacts]) -> list[str]:
    wrong = []
    for facts in sample:
        got = engine.evaluate(facts, STANDARD)
        want = ref.evaluate(policy, facts, STANDARD)
        if (got, got.detail, got.actor) != (want, want.detail, want.actor):
            wrong.append(f"{facts!r}: {got.actor} instead of {want.actor}")
    return wrong


WATCHING = replace(default_policy(), watch_list=("@troll@example.social",))
POLICIES = [default_policy(), WATCHING, EVERY_CONDITION]
POLICY_IDS = ["default", "default-watching", "every-condition"]


@pytest.mark.parametrize("policy", POLICIES, ids=POLICY_IDS)
def test_the_engine_decides_as_the_plain_reading(policy: Policy) -> None:
    sample = facts_for(texts(SAMPLES, seed=11), seed=12)
    engine = PolicyEngine(policy)
    assert mismatches(engine, policy, sample) == []
    # Again in another order: now from the remembered results of each text.
    shuffled = sample[::-1]
    random.Random(3).shuffle(shuffled)
    assert mismatches(engine, policy, shuffled) == []
    # Only short texts are remembered, so the cache's size is bounded in bytes too.
    assert 0 < max(map(len, engine._verdicts)) <= policy_engine.VERDICT_TEXT_MAX
    # A cache too small to hold them: texts leave it and come back.
    assert mismatches(PolicyEngine(policy, cache_size=7), policy, sample) == []
    # The sample reaches every enabled rule (and, where there is no catch-all, none at all).
    chosen = Counter(ref.evaluate(policy, f, STANDARD).actor for f in sample)
    names = {
        f"rule: {r.name}"
        for r in policy.rules
        if r.enabled and (policy.watch_list or r.when.on_watch_list is not True)
    }
    assert names <= set(chosen), names - set(chosen)
    if policy is EVERY_CONDITION:
        assert chosen["kindly"] > 0


def test_matching_rule_and_decide_agree_with_evaluate() -> None:
    policy = EVERY_CONDITION
    engine = PolicyEngine(policy)
    for facts in facts_for(texts(300, seed=5), seed=6):
        decision = engine.evaluate(facts, STANDARD)
        assert engine.matching_rule(facts) == decision.rule
        assert engine.decide(STANDARD, **_fields(facts)) == decision


def _fields(facts: MentionFacts) -> dict[str, object]:
    return {
        "text": facts.text,
        "network": facts.network,
        "stance": facts.stance,
        "follower_count": facts.follower_count,
        "sentiment": facts.sentiment,
        "reply_to_us": facts.reply_to_us,
        "author_handle": facts.author_handle,
    }


def test_the_comparison_catches_an_engine_that_skips_wrongly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """If the pre-check said "cannot match" once too often, the tests above would fail."""
    sample = facts_for(texts(SAMPLES, seed=11), seed=12)
    monkeypatch.setattr(policy_engine._Scan, "may_contain", lambda self, keys: False)
    assert mismatches(PolicyEngine(default_policy()), default_policy(), sample)


def test_the_comparison_catches_a_stale_cache() -> None:
    """Results remembered for another policy would be wrong: each engine keeps its own."""
    sample = facts_for(texts(SAMPLES, seed=11), seed=12)
    engine = PolicyEngine(default_policy())
    mismatches(engine, default_policy(), sample)
    rules_now = default_policy().rules
    reordered = replace(default_policy(), rules=rules_now[1:] + rules_now[:1])
    stale = PolicyEngine(reordered)
    stale._verdicts = engine._verdicts  # what a cache shared across policies would do
    assert mismatches(stale, reordered, sample)
    assert mismatches(PolicyEngine(reordered), reordered, sample) == []


def test_verdicts_worked_out_in_another_process_decide_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker computes the text half of each decision; the triaging side learns it and then
    never reads a text itself, and decides as the plain reading does."""
    policy = EVERY_CONDITION
    sample = facts_for(texts(1_000, seed=51), seed=52)
    worker = pickle.loads(pickle.dumps(PolicyEngine(policy)))  # as a process would get it
    sent = marshal.loads(
        marshal.dumps([(f.text, worker.text_verdicts(f.text), worker.text_token) for f in sample])
    )
    here = PolicyEngine(policy)
    assert all(here.learn(*item) for item in sent)
    assert mismatches(here, policy, sample) == []
    # Texts up to VERDICT_TEXT_MAX are remembered (longer ones are read again when they come).
    short = [f for f in sample if len(f.text) <= policy_engine.VERDICT_TEXT_MAX]
    assert len(short) > 900
    monkeypatch.setattr(policy_engine._Compiled, "text_holds", _no_reading)
    assert mismatches(here, policy, short) == []


def _no_reading(self: object, scan: object) -> bool:
    raise AssertionError("the text was read again")


def test_verdicts_of_other_text_conditions_are_not_learned() -> None:
    sample = facts_for(texts(300, seed=53), seed=54)
    other = PolicyEngine(WATCHING)  # the same text conditions: the same token
    assert other.text_token == PolicyEngine(default_policy()).text_token
    rules_now = default_policy().rules
    moved = PolicyEngine(replace(default_policy(), rules=rules_now[1:] + rules_now[:1]))
    assert moved.text_token != other.text_token
    engine = PolicyEngine(default_policy())
    assert not any(
        engine.learn(f.text, moved.text_verdicts(f.text), moved.text_token) for f in sample
    )
    assert mismatches(engine, default_policy(), sample) == []
    assert all(other.learn(f.text, engine.text_verdicts(f.text), engine.text_token) for f in sample)
    assert mismatches(other, WATCHING, sample) == []


# -- the text as the expressions see it -----------------------------------------------------

EVERY_CHARACTER = "".join(map(chr, range(0x110000)))
_WORD = re.compile(r"\w")


def test_folding_keeps_every_character_and_every_word_boundary() -> None:
    folded = fold_case(EVERY_CHARACTER)
    assert len(folded) == len(EVERY_CHARACTER)
    assert [m.start() for m in _WORD.finditer(folded)] == [
        m.start() for m in _WORD.finditer(EVERY_CHARACTER)
    ]
    spaces = {m.start() for m in re.finditer(r"\s", EVERY_CHARACTER)}
    assert not spaces & {m.start() for m in _WORD.finditer(EVERY_CHARACTER)}


def test_what_ignorecase_takes_for_an_ascii_character_folds_to_it() -> None:
    """The key test: every character ``re.IGNORECASE`` matches to an ASCII one folds to it."""
    candidates = re.findall(r"(?i)[\x00-\x7f]", EVERY_CHARACTER)
    assert len(candidates) > 128  # the look-alikes are among them
    for char in candidates:
        for code in range(128):
            ascii_char = chr(code)
            if re.fullmatch(re.escape(ascii_char), char, re.IGNORECASE):
                assert fold_case(char) == ascii_char.lower(), (char, ascii_char)


@pytest.mark.parametrize(
    ("words", "text", "matches"),
    [
        (("kill you",), "I will \u212aILL  YOU", True),
        (("suicide",), "\u017fuicide", True),
        (("idiot",), "\u0130D\u0130OT", True),
        (("idiot",), "\u0131d\u0131ot", True),
        (("refund*",), "REFUNDED", True),
        (("refund*",), "nonrefundable", False),
        (("does not work",), "it does   not\nwork", True),
        (("does not work",), "it does not workout", False),
        (("earn $*",), "earn $500", True),
        (("self-harm",), "self-harmful", False),
        (("ab\u0345",), "say ab\u03b9 now", True),  # U+0345 matches iota, a word character
        (("ab\u2019s",), "ab\u2019s", True),
    ],
)
def test_look_alike_letters_and_word_edges(
    words: tuple[str, ...], text: str, matches: bool
) -> None:
    policy = Policy(rules=(Rule("r", when=Conditions(words=words)),))
    facts = MentionFacts(text, Network.MASTODON)
    assert (PolicyEngine(policy).matching_rule(facts) is not None) is matches
    assert (ref.evaluate(policy, facts, STANDARD).rule is not None) is matches


ALPHABET = "abikKsSyI-'$_1 \u2019\u0345\u03b9\u00b5\u03bc\u0130\u0131\u017f\u212a\u00e9"


def test_random_words_in_every_case_insensitive_spelling() -> None:
    """Words of letters, punctuation and the characters case-insensitive matching treats
    specially, met in texts spelt with every character ``re`` takes for each of theirs."""
    spellings = {
        c: re.findall("(?i)" + re.escape(c), EVERY_CHARACTER) for c in set(ALPHABET) - {" "}
    }
    spellings[" "] = [" ", "\n", "\t  ", "\u00a0"]
    rng = random.Random(61)
    checked = matched = 0
    for _ in range(400):
        words = tuple(
            "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(1, 6))).strip()
            + rng.choice(["", "", "*"])
            for _ in range(rng.randrange(1, 4))
        )
        words = tuple(w for w in words if w.rstrip("*").strip())
        if not words:
            continue
        policy = Policy(rules=(Rule("r", when=Conditions(words=words)),))
        engine = PolicyEngine(policy)
        for _ in range(12):
            word = rng.choice(words).rstrip("*")
            spelt = "".join(rng.choice(spellings[c]) for c in word)
            around = rng.choice(["", " ", "x", "_", "\u00e9", "-", "\u03b9"])
            text = rng.choice(["", "say ", "x"]) + spelt + around + rng.choice(["", " now"])
            facts = MentionFacts(text, Network.MASTODON)
            want = ref.evaluate(policy, facts, STANDARD).rule
            assert engine.matching_rule(facts) == want, (words, text)
            checked += 1
            matched += want is not None
    assert checked > 3_000 and matched > checked // 4, (checked, matched)


# -- whole plans: deadline, priority, why line ----------------------------------------------

LONDON = OfficeHours(
    zone="Europe/London",
    days=frozenset({0, 1, 2, 3, 4, 5}),
    opens=time(8, 30),
    closes=time(0),
    holidays=frozenset({date(2024, 3, 29), date(2024, 4, 1)}),
    away=(AwayPeriod(datetime(2024, 3, 20, 12, tzinfo=UTC), datetime(2024, 3, 22, 9, tzinfo=UTC)),),
)
NOW = datetime(2024, 4, 2, 10, 17, 30, tzinfo=UTC)  # the week after the clocks changed
CONFIGS = [
    TriageConfig(OfficeHours(), timedelta(hours=2)),
    TriageConfig(LONDON, timedelta(minutes=45), at_risk_fraction=0.5),
    TriageConfig(  # vacation mode since the day before
        replace(LONDON, away=(*LONDON.away, AwayPeriod(NOW - timedelta(days=1)))),
        timedelta(hours=3),
    ),
]


def case_facts(sample: list[MentionFacts], seed: int) -> list[CaseFacts]:
    rng = random.Random(seed)
    last = [None, "rule: Question", "kindly", "rule: Watched"]
    out = []
    for n, facts in enumerate(sample):
        if n % 7 == 0:  # exactly at, or just around, a target's end
            start = NOW - timedelta(hours=rng.choice([1, 2]), seconds=rng.choice([0, 20, 59, 61]))
        else:
            back = rng.choice([3 * 3_600, 3 * 86_400, 40 * 86_400])
            start = NOW - timedelta(seconds=rng.randrange(-3_600, back))
        decided = rng.choice(last)
        out.append(
            CaseFacts(
                case_id=n,
                account_id=1,
                status=CaseStatus.NEW,
                network=facts.network,
                person_id=n,
                handle=facts.author_handle,
                display_name="",
                follower_count=facts.follower_count,
                stance=facts.stance,
                reply_count=rng.choice([0, 0, 0, 1]),
                newest_mention_id=n,
                newest_text=facts.text,
                newest_sentiment=facts.sentiment,
                reply_to_us=facts.reply_to_us,
                clock_start=start,
                last_decision_actor=decided,
                last_decision_detail=None if decided is None else "Respond within 1 h",
                officer_decided=rng.random() < 0.1,
            )
        )
    return out


@pytest.mark.parametrize("config", CONFIGS, ids=["utc", "london", "vacation"])
@pytest.mark.parametrize("policy", POLICIES, ids=POLICY_IDS)
def test_plans_are_the_plain_reading(policy: Policy, config: TriageConfig) -> None:
    sample = case_facts(facts_for(texts(1_500, seed=21), seed=22), seed=23)
    triage = Triage(policy, config, clock=lambda: NOW)
    seen: Counter[str] = Counter()
    for facts in sample:
        got = plan_case(facts, triage.decide(facts), config, NOW)
        want = ref.plan(policy, facts, config, NOW, due_now=True)
        assert (
            got.priority,
            got.due_at,
            got.why,
            got.leave,
            got.suggested_only,
            got.record,
            got.decision.actor,
            got.decision.detail,
        ) == (
            want.priority,
            want.due_at,
            want.why,
            want.leave,
            want.suggested_only,
            want.record,
            want.actor,
            want.detail,
        ), facts
        seen.update(k for k in ("overdue", "at risk", " left", "paused") if k in got.why)
    # The sample meets every kind of clock.
    wanted = {"paused"} if config is CONFIGS[2] else {"overdue", "at risk", " left"}
    assert wanted <= set(seen), seen


# -- office time: the closed-time memo and the interval fast path ---------------------------

BERLIN_ALWAYS = OfficeHours(
    zone="Europe/Berlin", days=frozenset(range(7)), opens=time(0), closes=time(0)
)
SPLIT = OfficeHours(  # two intervals on some days: time away at lunch on two days
    zone="America/New_York",
    opens=time(9),
    closes=time(17, 30),
    away=(
        AwayPeriod(datetime(2024, 3, 11, 16, tzinfo=UTC), datetime(2024, 3, 11, 17, tzinfo=UTC)),
        AwayPeriod(datetime(2024, 3, 26, 16, tzinfo=UTC), datetime(2024, 3, 26, 18, tzinfo=UTC)),
    ),
)
HOURS = [OfficeHours(), LONDON, BERLIN_ALWAYS, SPLIT, CONFIGS[2].office_hours]


@pytest.mark.parametrize("hours", HOURS, ids=["utc", "london", "berlin", "split", "vacation"])
def test_office_time_is_the_day_by_day_walk(hours: OfficeHours) -> None:
    """Instants in UTC and in the office's own zone (which subtract on the wall clock), across
    the clock changes of March 2024, twice over (the second time from remembered results)."""
    from app.core.triage.office_hours import add_office_time, deadline, office_time_between

    rng = random.Random(41)
    zones = [UTC, hours.tz]
    base = datetime(2024, 3, 1, tzinfo=UTC)
    spread = [base + timedelta(minutes=rng.randrange(0, 45 * 24 * 60)) for _ in range(300)]
    changes = [datetime(2024, 3, 10, 7, tzinfo=UTC), datetime(2024, 3, 31, 1, tzinfo=UTC)]
    near = [
        c + timedelta(minutes=rng.randrange(-1_500, 1_500)) for c in changes for _ in range(150)
    ]
    near += [c + timedelta(hours=h) for c in changes for h in (-26, -25, -24, -1, 0, 1, 22, 23)]
    targets = [timedelta(0), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=30)]
    pairs = []
    for group in (spread, near):
        group = [t.astimezone(rng.choice(zones)) for t in group]
        pairs += [(start, rng.choice(group), rng.choice(targets)) for start in group]
    local = hours.tz  # both ends in the office's zone, on either side of a clock change
    for c in changes:
        for before, after in ((-30, 30), (-90, 180), (-600, 300), (-1, 1)):
            start, now = (c + timedelta(minutes=before)), (c + timedelta(minutes=after))
            pairs += [(start.astimezone(local), now.astimezone(local), t) for t in targets]
        day = c.astimezone(local).date()  # from the very opening of the day, and to its close
        opening = datetime.combine(day, hours.opens, tzinfo=local)
        last = day + timedelta(days=1) if hours.closes == time(0) else day
        closing = datetime.combine(last, hours.closes, tzinfo=local)
        pairs += [(opening, (c + timedelta(hours=3)).astimezone(local), t) for t in targets]
        pairs += [(opening, closing, t) for t in targets]
        pairs += [((c - timedelta(hours=2)).astimezone(local), closing, t) for t in targets]
    for _ in range(2):
        for start, now, target in pairs:
            got = deadline(hours, start, target, now, 0.25)
            want = ref.clock(hours, start, target, now, 0.25)
            assert (got.due_at, got.used, got.urgency) == (want.due_at, want.used, want.urgency)
            if got.due_at is not None and want.due_at is not None:
                assert got.due_at.utcoffset() == want.due_at.utcoffset()
            assert office_time_between(hours, start, now) == ref.office_time_between(
                hours, start, now
            )
            assert add_office_time(hours, start, target) == ref.add_office_time(
                hours, start, target
            )


# -- through ingest, against what is stored -------------------------------------------------


def test_triage_at_ingest_stores_the_plain_reading(db_path: Path) -> None:
    """Mentions through the real ingest path and hook; each case as stored is compared with
    the reference fed from the rows themselves (newest mention, author, oldest mention)."""
    policy, config = default_policy(), CONFIGS[1]
    account = Account.create(network="mastodon", handle="@org@example.social", keyring_ref="k")
    triage = Triage(policy, config, clock=lambda: NOW)
    ingestor = Ingestor([TriageHook(triage)])
    rng = random.Random(31)
    people = [
        RemotePerson(f"p{i}", f"user{i}", f"User {i}", rng.choice([None, 3, 1_500, 50_000]))
        for i in range(60)
    ]
    sample = texts(600, seed=32)
    for first in range(0, len(sample), 80):
        page = [
            RemoteMention(
                network=Network.MASTODON,
                remote_id=f"m{n}",
                author=rng.choice(people),
                text=text,
                created_at=NOW - timedelta(minutes=rng.randrange(1, 5_000)),
            )
            for n, text in enumerate(sample[first : first + 80], start=first)
        ]
        ingestor.ingest(account.id, Network.MASTODON, page)
    cases = list(Case.select())
    assert len(cases) > 100
    for case in cases:
        mentions = list(Mention.select().where(Mention.case == case.id))
        newest = max(mentions, key=lambda m: (m.created_at, m.id))
        person = Person.get_by_id(case.person_id)
        facts = CaseFacts(
            case.id,
            account.id,
            CaseStatus(case.status),
            Network.MASTODON,
            person.id,
            person.handle,
            person.display_name,
            person.follower_count,
            Stance(person.stance),
            0,
            newest.id,
            newest.text,
            newest.sentiment,
            False,
            min(m.created_at for m in mentions),
            None,
            None,
        )
        want = ref.plan(policy, facts, config, NOW, due_now=True)
        assert (case.priority, case.due_at, case.why) == (want.priority, want.due_at, want.why)
        events = CaseEvent.select().where(
            (CaseEvent.case == case.id) & (CaseEvent.kind == EventKind.DECISION.value)
        )
        assert [(e.actor, e.detail) for e in events] == [(want.actor, want.detail)]
        assert (case.status == CaseStatus.LEFT_ALONE.value) is want.leave
