"""Templates: safe rendering, leftover placeholders and fill-ins, and the starter library."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from app.core.resources import resource_path
from app.core.settings import EMAIL, ORG_NAME, PHONE, REMOVED_STARTERS, SIGNATURE, Settings
from app.core.templates import (
    VARIABLES,
    TemplateLibrary,
    TemplateRefused,
    name_problem,
    person_values,
    placeholders,
    render,
    suggest_name,
    unfinished_fill_ins,
)
from app.storage.db import close_database, open_database
from app.storage.models import Template

ALL_VALUES = {
    "first_name": "Rosa",
    "name": "Rosa García",
    "handle": "@rosa@social.example",
    "org": "Riverbank Alliance",
    "signature": "— Sam, Riverbank Alliance",
    "phone": "+44 20 7946 0321",
    "email": "hello@riverbank.example",
}


def starter() -> list[dict[str, str]]:
    data = json.loads(resource_path("templates", "starter.json").read_text("utf-8"))
    templates: list[dict[str, str]] = data["templates"]
    return templates


# -- render ---------------------------------------------------------------------------------------


def test_the_test_values_cover_every_variable() -> None:
    assert set(ALL_VALUES) == set(VARIABLES)


@pytest.mark.parametrize("name", sorted(VARIABLES))
def test_every_variable_is_filled(name: str) -> None:
    rendered = render(f"<{{{name}}}>", ALL_VALUES)

    assert rendered.text == f"<{ALL_VALUES[name]}>"
    assert rendered.complete
    assert rendered.unfilled == rendered.unknown == ()


def test_spaces_inside_the_braces_are_forgiven() -> None:
    assert render("Hi { first_name }!", ALL_VALUES).text == "Hi Rosa!"


@pytest.mark.parametrize("value", [None, "", "   "])
def test_an_unfilled_variable_is_reported_and_left_visible(value: str | None) -> None:
    values = dict(ALL_VALUES)
    if value is None:
        del values["phone"]
    else:
        values["phone"] = value

    rendered = render("Call {phone} or {phone}, or email {email}.", values)

    assert rendered.text == "Call {phone} or {phone}, or email hello@riverbank.example."
    assert rendered.unfilled == ("phone",)
    assert rendered.unknown == ()
    assert not rendered.complete


def test_an_unknown_variable_is_reported_and_left_visible() -> None:
    rendered = render("Hi {frist_name} and {nmae}, from {org}. {frist_name}", ALL_VALUES)

    assert rendered.text == "Hi {frist_name} and {nmae}, from Riverbank Alliance. {frist_name}"
    assert rendered.unknown == ("frist_name", "nmae")
    assert rendered.unfilled == ()
    assert not rendered.complete


def test_braces_around_non_names_are_plain_text_not_a_crash() -> None:
    rendered = render("Hi {} there { } {:)} {she/her}", ALL_VALUES)

    assert rendered.text == "Hi {} there { } {:)} {she/her}"
    assert rendered.complete


def test_a_name_with_braces_in_it_does_not_block_the_reply() -> None:
    rendered = render("Hi {name}", {**ALL_VALUES, "name": "Rosa {she/her}"})

    assert rendered.text == "Hi Rosa {she/her}"
    assert placeholders(rendered.text) == []


def test_double_braces_are_literal_braces() -> None:
    rendered = render("{{first_name}} is written {{ like }} this; {{{first_name}}}", ALL_VALUES)

    assert rendered.text == "{first_name} is written { like } this; {Rosa}"
    assert rendered.complete


def test_values_are_not_expanded_again() -> None:
    values = dict(ALL_VALUES, name="{org} {{x}}")

    rendered = render("Hi {name}", values)

    assert rendered.text == "Hi {org} {{x}}"
    assert rendered.complete


@pytest.mark.parametrize(
    "body",
    [
        "{",
        "}",
        "{first_name",
        "first_name}",
        "{{{",
        "}}}",
        "}{",
        "{a{b}c}",
        "{\n}",
        "{first_name\n}",
        "{" + "x" * 41 + "}",
        "{" * 1000,
        "}" * 1001,
        "{{first_name}",
        "{first_name}}",
        "{%s}",
        "{0}",
        "{first_name!r}",
        "{first_name:>10}",
        "{__class__}",
        "\\{first_name\\}",
    ],
)
def test_malformed_braces_never_crash(body: str) -> None:
    rendered = render(body, ALL_VALUES)

    assert isinstance(rendered.text, str)
    placeholders(body)


def test_random_brace_soup_never_crashes() -> None:
    rng = random.Random(5)
    alphabet = "{}{}{} _\nafirst_nameorg!:%"
    for _ in range(2000):
        body = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        rendered = render(body, ALL_VALUES)
        assert isinstance(rendered.text, str)
        assert all(name not in VARIABLES for name in rendered.unknown)
        assert all(name in VARIABLES for name in rendered.unfilled)
        placeholders(rendered.text)


def test_lone_braces_stay_as_written() -> None:
    assert render("a { b", ALL_VALUES).text == "a { b"
    assert render("a } b", ALL_VALUES).text == "a } b"
    assert render(":-} {first_name", ALL_VALUES).text == ":-} {first_name"


# -- placeholders and fill-ins --------------------------------------------------------------------


def test_placeholders_lists_every_variable_left_in_a_draft() -> None:
    assert placeholders("Hi {first_name}, call {phone} or { email }") == [
        "first_name",
        "phone",
        "email",
    ]
    assert placeholders("Hi Rosa, nothing left") == []
    assert placeholders("Escaped {{first_name}} is not one") == []
    assert placeholders("Typos count too: {frist_name}") == ["frist_name"]
    assert placeholders("{}") == []
    assert placeholders("Typed with a space: {first name}") == ["first name"]


def test_a_rendered_template_has_placeholders_exactly_where_it_is_incomplete() -> None:
    values = dict(ALL_VALUES, phone="")
    rendered = render("Hi {first_name}, call {phone}; {oops}", values)

    assert set(placeholders(rendered.text)) == set(rendered.unfilled) | set(rendered.unknown)


def test_unfinished_fill_ins_are_the_templates_brackets_still_in_the_draft() -> None:
    body = "Hi {first_name}, the answer: [one-sentence answer]. More: [link]. [when]"

    assert sorted(unfinished_fill_ins(body, body)) == [
        "[link]",
        "[one-sentence answer]",
        "[when]",
    ]
    draft = "Hi Rosa, the answer: yes. More: [link]. Tomorrow"
    assert unfinished_fill_ins(body, draft) == ["[link]"]
    finished = "Hi Rosa, the answer: yes. More: https://example.org. Tomorrow [sic]"
    assert unfinished_fill_ins(body, finished) == []  # brackets of their own are fine


def test_fill_ins_are_at_most_a_line_of_reasonable_length() -> None:
    body = "[" + "x" * 81 + "] [a\nb] [] [ok]"

    assert unfinished_fill_ins(body, body) == ["[ok]"]


@pytest.mark.parametrize(
    ("display_name", "handle", "expected"),
    [
        ("Rosa García", "@rosa@social.example", ("Rosa", "Rosa García", "@rosa@social.example")),
        ("  Dev Patel ", "devp.bsky.social", ("Dev", "Dev Patel", "@devp.bsky.social")),
        ("🌊🌊🌊", "", ("", "🌊🌊🌊", "")),
    ],
)
def test_person_values(display_name: str, handle: str, expected: tuple[str, str, str]) -> None:
    values = person_values(display_name, handle)

    assert (values["first_name"], values["name"], values["handle"]) == expected


# -- the library ----------------------------------------------------------------------------------


def test_the_starter_file_is_sound() -> None:
    templates = starter()
    names = [t["name"] for t in templates]
    assert len(names) == len(set(names)) >= 5
    for t in templates:
        assert t["title"] and t["body"] and t.get("category")


def test_seeding_adds_the_starters_once(db_path: Path) -> None:
    library = TemplateLibrary()

    assert library.seed() == len(starter())
    assert library.seed() == 0
    assert Template.select().count() == len(starter())
    assert all(t.builtin for t in library.all())


def test_seeding_never_overwrites_an_edited_template(db_path: Path) -> None:
    library = TemplateLibrary()
    library.seed()
    name = starter()[0]["name"]
    library.save(name, "Our thanks", "Cheers {first_name}! {signature}", "Ours")

    assert library.seed() == 0

    edited = library.get(name)
    assert edited is not None
    assert (edited.title, edited.body, edited.category) == (
        "Our thanks",
        "Cheers {first_name}! {signature}",
        "Ours",
    )


def test_the_library_saves_lists_and_deletes(db_path: Path) -> None:
    library = TemplateLibrary()
    library.save("b-note", "B", "Body B", "Zeta")
    library.save("a-note", "A", "Body A", "Alpha")

    assert [t.name for t in library.all()] == ["a-note", "b-note"]  # by category, then title
    assert library.get("a-note") is not None
    assert library.get("a-note").builtin is False  # type: ignore[union-attr]

    library.delete("a-note")

    assert library.get("a-note") is None
    assert [t.name for t in library.all()] == ["b-note"]


@pytest.mark.parametrize("name", [t["name"] for t in starter()])
def test_every_starter_template_renders_completely(db_path: Path, name: str) -> None:
    settings = Settings()
    settings.set(ORG_NAME, "Riverbank Alliance")
    settings.set(SIGNATURE, "— Sam")
    settings.set(PHONE, "+44 20 7946 0321")
    settings.set(EMAIL, "hello@riverbank.example")
    TemplateLibrary().seed()
    template = TemplateLibrary().get(name)
    assert template is not None
    values = {**person_values("Rosa García", "@rosa"), **settings.organisation()}

    rendered = render(template.body, values)

    assert rendered.unknown == (), f"{name} uses variables that do not exist"
    assert rendered.complete
    assert placeholders(rendered.text) == []
    assert "Rosa" in rendered.text


def test_a_starter_template_without_settings_reports_what_is_missing(db_path: Path) -> None:
    TemplateLibrary().seed()
    template = TemplateLibrary().get("take-it-offline")
    assert template is not None
    values = {**person_values("Rosa García", "@rosa"), **Settings().organisation()}

    rendered = render(template.body, values)

    assert set(rendered.unfilled) == {"email", "phone", "signature"}
    assert rendered.unknown == ()


# -- the officer's own library: deleted starters stay deleted, names are checked ------------------


def test_a_deleted_starter_is_not_seeded_again_at_the_next_start(db_path: Path) -> None:
    TemplateLibrary().seed()
    TemplateLibrary().delete("away")
    close_database()
    open_database(db_path)  # the next launch: a new connection, a new library

    library = TemplateLibrary()
    assert library.seed() == 0
    assert library.get("away") is None
    assert library.removed_starters() == ["away"]
    assert Settings().get(REMOVED_STARTERS) == ["away"]
    assert len(library.all()) == len(starter()) - 1


def test_deleting_the_officers_own_template_remembers_nothing(db_path: Path) -> None:
    library = TemplateLibrary()
    library.save("our-note", "Our note", "Hi {first_name}")
    library.delete("our-note")
    library.delete("our-note")  # twice: nothing left to delete, no error

    assert library.removed_starters() == []
    assert library.get("our-note") is None


def test_deleting_a_starter_twice_records_it_once(db_path: Path) -> None:
    library = TemplateLibrary()
    library.seed()
    library.delete("away")
    library.delete("thank-you")
    library.delete("away")

    assert library.removed_starters() == ["away", "thank-you"]


def test_restoring_starters_brings_back_the_deleted_and_keeps_the_edited(db_path: Path) -> None:
    library = TemplateLibrary()
    library.seed()
    library.delete("away")
    library.delete("thank-you")
    library.save("apology-fix", "Our apology", "Sorry {first_name}! {signature}", "Ours")

    assert library.restore_starters() == 2

    assert library.removed_starters() == []
    assert library.get("away") is not None and library.get("thank-you") is not None
    edited = library.get("apology-fix")
    assert edited is not None and edited.title == "Our apology"
    assert len(library.all()) == len(starter())
    assert library.restore_starters() == 0
    assert library.seed() == 0


def test_a_new_template_may_not_take_a_name_in_use(db_path: Path) -> None:
    library = TemplateLibrary()
    library.seed()

    with pytest.raises(TemplateRefused, match="already a template named “away”"):
        library.create("away", "Mine", "Hello {first_name}")

    created = library.create("volunteers", "Thanks, volunteers", "Hi {first_name}", "Thanks")
    assert created.name == "volunteers" and not created.builtin
    assert library.get("away") is not None and library.get("away").title != "Mine"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("name", "title", "body", "message"),
    [
        ("", "Title", "Body", "short name is required"),
        ("Thank You", "Title", "Body", "lower-case letters"),
        ("-edge", "Title", "Body", "lower-case letters"),
        ("a" * 61, "Title", "Body", "up to 60"),
        ("ok-name", "   ", "Body", "title is required"),
        ("ok-name", "Title", " \n ", "reply text is empty"),
    ],
)
def test_a_template_that_is_not_sound_is_refused_by_the_library(
    db_path: Path, name: str, title: str, body: str, message: str
) -> None:
    library = TemplateLibrary()

    with pytest.raises(TemplateRefused, match=message):
        library.save(name, title, body)
    with pytest.raises(TemplateRefused, match=message):
        library.create(name, title, body)

    assert Template.select().count() == 0


def test_every_starter_name_is_a_valid_name() -> None:
    assert [name_problem(t["name"]) for t in starter()] == [None] * len(starter())
    assert name_problem("a") is None
    assert name_problem("a" * 60) is None
    assert name_problem("a--b") is None


def test_a_name_is_suggested_from_the_title_and_numbered_when_taken() -> None:
    assert suggest_name("Thank you, volunteers!") == "thank-you-volunteers"
    assert suggest_name("Café opening — Día 1") == "cafe-opening-dia-1"
    assert suggest_name("🌊🌊") == "template"
    assert suggest_name("Away", taken={"away", "away-2"}) == "away-3"
    long = suggest_name("word " * 40)
    assert name_problem(long) is None and len(long) <= 50
