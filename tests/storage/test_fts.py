"""Full-text search: the FTS5 index follows every change, and no typed input can break a query."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.storage import queries, sqlite
from app.storage.models import Account, Case, Mention, Person, database

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def account(db_path: Path) -> Account:
    return Account.create(network="mastodon", handle="@riverbank", keyring_ref="k")


def person(remote_id: str, display_name: str, handle: str) -> Person:
    return Person.create(
        network="mastodon", remote_id=remote_id, display_name=display_name, handle=handle
    )


def mention(account: Account, author: Person, text: str, n: int = 0) -> Mention:
    case = Case.create(
        account=account,
        person=author,
        network="mastodon",
        conversation_key=f"conv-{author.id}-{n}-{text[:8]}",
        first_mention_at=T0,
        last_activity_at=T0 + timedelta(minutes=n),
    )
    return Mention.create(
        account=account,
        network="mastodon",
        remote_id=f"m-{author.id}-{n}-{text[:8]}",
        author=author,
        case=case,
        text=text,
        created_at=T0 + timedelta(minutes=n),
    )


def found(typed: str) -> set[int]:
    """Mention ids matching what a person typed, through the same path the inbox uses."""
    expression = sqlite.match_expression(typed)
    if expression is None:
        return set()
    query = Mention.select(Mention.id).where(
        Mention.id.in_(sqlite.matching_mention_ids(expression))
    )
    return {row.id for row in query}


def found_cases(typed: str) -> set[int]:
    return {row.id for row in queries.case_page(queries.CaseQuery(search=typed), None, 500)}


def index_size() -> int:
    return int(database.execute_sql("SELECT count(*) FROM mention_fts").fetchone()[0])


# -- the index follows the rows -------------------------------------------------------------------


def test_a_new_mention_is_found_by_words_and_prefixes(account: Account) -> None:
    rosa = person("1", "Rosa García", "@rosa@social.example")
    m = mention(account, rosa, "Is the river clean-up on Saturday still happening?")

    assert found("river") == {m.id}
    assert found("Clean-Up saturday") == {m.id}  # every word, any case
    assert found("satur") == {m.id}  # a prefix, as someone types
    assert found("r") == {m.id}  # one letter is still a prefix
    assert found("river drought") == set()  # every word must appear
    assert found_cases("river") == {m.case_id}


def test_authors_are_found_by_display_name_and_handle(account: Account) -> None:
    rosa = person("1", "Rosa García", "@rosa@social.example")
    dev = person("2", "Dev Patel", "devp.bsky.social")
    by_rosa = mention(account, rosa, "Thanks for the report")
    by_dev = mention(account, dev, "Where do we meet?")

    assert found("Rosa") == {by_rosa.id}
    assert found("garcía") == {by_rosa.id}
    assert found("@rosa@social.example") == {by_rosa.id}
    assert found("rosa@social") == {by_rosa.id}
    assert found("devp.bsky.social") == {by_dev.id}
    assert found("devp") == {by_dev.id}
    assert found("patel meet") == {by_dev.id}  # name and text together
    assert found_cases("patel meet") == {by_dev.case_id}
    assert found_cases("rosa@social") == {by_rosa.case_id}
    assert found_cases("patel thanks") == set()


def test_searching_ignores_diacritics_both_ways(account: Account) -> None:
    chloe = person("1", "Chloé Dubois", "@chloe")
    m = mention(account, chloe, "Naïve question: is the café open? Zoë asked too")

    for typed in ("chloe", "CHLOÉ", "naive", "naïve", "cafe", "café", "zoe", "Zoë"):
        assert found(typed) == {m.id}, typed


def test_text_typed_in_decomposed_form_finds_composed_text(account: Account) -> None:
    """Pasted text may be NFD (``e`` + U+0301); stored text is NFC. Both must meet."""
    chloe = person("1", "Chloé Dubois", "@chloe")
    m = mention(account, chloe, "Naïve question")

    assert found("nai\u0308ve") == {m.id}
    assert found("Chloe\u0301") == {m.id}


def test_editing_a_mentions_text_updates_the_index(account: Account) -> None:
    rosa = person("1", "Rosa García", "@rosa")
    m = mention(account, rosa, "The meeting point moved to the old bridge")

    Mention.update(text="Parking at Millbrook is full").where(Mention.id == m.id).execute()

    assert found("bridge") == set()
    assert found("millbrook parking") == {m.id}
    assert found("rosa") == {m.id}  # the author part is rewritten too, not lost
    assert index_size() == Mention.select().count()


def test_changing_a_mentions_author_updates_the_index(account: Account) -> None:
    unknown = person("~unknown", "Someone", "")
    rosa = person("1", "Rosa García", "@rosa")
    m = mention(account, unknown, "Who runs the testing team?")

    Mention.update(author=rosa).where(Mention.id == m.id).execute()

    assert found("rosa") == {m.id}
    assert found("someone") == set()
    assert found("testing") == {m.id}


def test_a_deleted_mention_leaves_the_index(account: Account) -> None:
    rosa = person("1", "Rosa García", "@rosa")
    keep = mention(account, rosa, "river one", 1)
    gone = mention(account, rosa, "river two", 2)

    gone.delete_instance()

    assert found("river") == {keep.id}
    assert index_size() == 1


def test_mentions_deleted_by_a_cascade_leave_the_index(account: Account) -> None:
    rosa = person("1", "Rosa García", "@rosa")
    for n in range(3):
        mention(account, rosa, f"river {n}", n)
    assert index_size() == 3

    Account.delete_by_id(account.id)  # cascades to cases and mentions

    assert Mention.select().count() == 0
    assert index_size() == 0
    assert found("river") == set()


def test_renaming_a_person_updates_all_their_mentions(account: Account) -> None:
    rosa = person("1", "Rosa García", "@rosa@social.example")
    other = person("2", "Dev Patel", "@dev")
    hers = {mention(account, rosa, f"post number {n}", n).id for n in range(3)}
    his = mention(account, other, "post by dev").id

    Person.update(display_name="Rosa Okafor", handle="@rosa@new.example").where(
        Person.id == rosa.id
    ).execute()

    assert found("okafor") == hers
    assert found("new.example") == hers
    assert found("garcía") == set()
    assert found("social.example") == set()
    assert found("dev") == {his}
    assert found("post") == hers | {his}


def found_lazily(typed: str, people_found: bool = False) -> set[int]:
    """Mention ids matching the expression a scan reads (long prefixes as their words)."""
    search = sqlite.parse_search(typed)
    assert search is not None
    expression = search.mentions_read_lazily(database, people_found=people_found)
    scan = sqlite.MatchScan(database, expression)
    scan.read(10**9)
    scan.close()
    return scan.hits


def test_a_prefix_read_as_its_words_finds_the_same_mentions(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    rosa = person("1", "Rosa García", "@rosa")
    texts = [
        "River clean-up at the riverbank",
        "Rivers and riversides, RIVERWATCH volunteers",
        "Volunteering at the Café des Rivières",  # stored "cafe", "rivieres"
        "A riv3r of numbers 2024 and 20245",
        "Nothing to see",
    ]
    for n, text in enumerate(texts):
        mention(account, rosa, text, n)

    assert sqlite.indexed_words(database, "river", most=16) == [
        "river",
        "riverbank",
        "rivers",
        "riversides",
        "riverwatch",
    ]
    assert sqlite.indexed_words(database, "cafe", most=16) == ["cafe"]
    assert sqlite.indexed_words(database, "zebra", most=16) == []
    assert sqlite.indexed_words(database, "river", most=4) is None  # too many: prefix kept
    typed_ones = [
        "river", "rivers", "RIVER volunteer", "cafe", "café", "rivière", "riv", "2024", "riv3",
        "volunteering river", "clean-up river", "rosa river", "garcía", "zebra", "nothing see",
    ]  # fmt: skip
    for typed in typed_ones:
        assert found_lazily(typed) == found(typed), typed
    monkeypatch.setattr(sqlite, "_MOST_WORDS", 2)
    assert found_lazily("river") == found("river")
    # Once people are found, one word is read from the text column alone, prefix kept.
    assert found_lazily("rosa", people_found=True) == set()
    assert found_lazily("river", people_found=True) == found("river")


def people_named(typed: str) -> set[int]:
    """Ids of people whose name or handle has every typed word (the people index, schema 6)."""
    expression = sqlite.match_expression(typed)
    assert expression is not None
    rows = database.execute_sql(
        "SELECT rowid FROM person_fts WHERE person_fts MATCH ?", (expression,)
    ).fetchall()
    return {row[0] for row in rows}


def test_the_people_index_follows_new_renamed_and_deleted_people(account: Account) -> None:
    rosa = person("1", "Rosa García", "@rosa@social.example")
    dev = person("2", "Dev Patel", "devp.bsky.social")

    assert people_named("garcia") == {rosa.id}
    assert people_named("rosa@social") == {rosa.id}
    assert people_named("devp") == {dev.id}

    Person.update(display_name="Rosa Okafor").where(Person.id == rosa.id).execute()
    assert people_named("garcia") == set()
    assert people_named("okafor rosa") == {rosa.id}
    Person.update(handle="@rosa@new.example").where(Person.id == rosa.id).execute()
    assert people_named("social.example") == set()
    assert people_named("new.example") == {rosa.id}
    Person.update(follower_count=12).where(Person.id == dev.id).execute()  # no name change
    assert people_named("patel") == {dev.id}

    dev.delete_instance()
    assert people_named("patel") == set()
    count = database.execute_sql("SELECT count(*) FROM person_fts").fetchone()[0]
    assert count == Person.select().count() == 1


def test_a_person_and_their_mentions_match_the_same_words(account: Account) -> None:
    """The people index holds what the mention index holds as ``author``: the same name finds
    the person in one and all of their mentions in the other."""
    names = [("Chloé Dubois", "@chloe"), ("Dev Patel", "devp.bsky.social"), ("", "@x_y-z")]
    people = [person(str(n), name, handle) for n, (name, handle) in enumerate(names)]
    for n, who in enumerate(people):
        mention(account, who, "nothing in common", n)
    for typed in ("chloe", "CHLOÉ dub", "devp.bsky", "bsky social", "x_y", "@x_y-z", "z"):
        expression = sqlite.match_expression(typed)
        author_only = f"{{author}}: ({expression})"
        by_author = {
            m.author_id
            for m in Mention.select().where(
                Mention.id.in_(sqlite.matching_mention_ids(author_only))
            )
        }
        assert people_named(typed) == by_author != set(), typed


# -- whatever a person types ----------------------------------------------------------------------

HOSTILE = [
    '"',
    '""',
    '"river',
    'river"',
    "'",
    "*",
    "river*",
    "*river",
    "(",
    ")",
    "(river",
    "river)",
    "NEAR",
    "NEAR(river bridge)",
    "river NEAR bridge",
    "river AND",
    "AND",
    "OR river",
    "NOT",
    "river NOT bridge",
    "text:river",
    "author:rosa",
    "{text author}: river",
    "^river",
    "river + bridge",
    "-river",
    "river -",
    "-",
    "@",
    "#",
    "@#'’.-",
    "_",
    "\\",
    "'; DROP TABLE mention; --",
    "🌊",
    "🌊 river 💚",
    "👩🏽‍🔬",
    "",
    "   ",
    "\n\t",
    "\x00",
    "\u202e",
    "ما رأيكم",
    "x" * 5000,
    "river " * 200,
]


FINDS_ITS_WORDS = [
    '"river',
    'river"',
    "river*",
    "(river",
    "river)",
    "NEAR(river bridge)",
    "river NEAR bridge",
    "river AND shine",
    "🌊 river 💚",
    "#river",
    "@rosa",
    "-river",
    "ما رأيكم",
    "river " * 200,
]
NO_WORDS = ['"', "*", "()", "-", "🌊", "\u202e", "@#'’.-", "\x00"]


@pytest.fixture
def hostile_world(account: Account) -> Mention:
    """One database for all the inputs below (they only read): a mention to find, and another."""
    rosa = person("1", "Rosa García", "@rosa")
    target = mention(
        account, rosa, "Rain AND shine: NEAR the river bridge (north side) 🌊 ما رأيكم"
    )
    mention(account, person("2", "Dev Patel", "@dev"), "Nothing to see here")
    return target


@pytest.mark.parametrize("scan_from", [1, 5_000])  # every search scans; only many matches do
def test_no_typed_input_breaks_a_search(
    hostile_world: Mention, monkeypatch: pytest.MonkeyPatch, scan_from: int
) -> None:
    monkeypatch.setattr(queries, "SEARCH_SCAN_FROM", scan_from)
    for typed in HOSTILE:
        found(typed)  # never raises
        rows = queries.case_page(queries.CaseQuery(search=typed), None, 50)
        assert queries.case_count(queries.CaseQuery(search=typed)) == len(rows), repr(typed)


def test_hostile_input_still_finds_its_words(hostile_world: Mention) -> None:
    wrong = {
        typed: (found(typed), found_cases(typed))
        for typed in FINDS_ITS_WORDS
        if (found(typed), found_cases(typed)) != ({hostile_world.id}, {hostile_world.case_id})
    }
    assert wrong == {}


def test_input_without_words_finds_nothing(hostile_world: Mention) -> None:
    for typed in NO_WORDS:
        assert sqlite.match_expression(typed) is None, repr(typed)
        assert found_cases(typed) == set(), repr(typed)


def test_an_empty_search_is_no_filter(account: Account) -> None:
    rosa = person("1", "Rosa García", "@rosa")
    m = mention(account, rosa, "river")

    assert found_cases("") == {m.case_id}
    assert queries.case_count(queries.CaseQuery(search="")) == 1
