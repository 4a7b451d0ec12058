"""One person across networks: suggestions never act alone, linking gives one history and one
reply count for the policy, unlinking gives both people back as they were."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.core.inbox import Inbox
from app.core.ingest import Ingestor
from app.core.listening import linking
from app.core.networks.base import RemoteMention, RemotePerson
from app.core.outbox import Outbox
from app.core.policy.store import default_policy
from app.core.reminders import ReminderKind, ReminderService
from app.core.triage import Triage, TriageConfig, TriageHook
from app.core.vocab import Network
from app.storage.models import Account, Case, LinkDismissal, Mention, Person

NOW = datetime(2026, 8, 3, 10, 0, tzinfo=UTC)
GOOD = "Hi Rosa, thanks for the question: the clean-up starts at 10 by the old mill."


class World:
    """Two accounts of ours (Mastodon, Bluesky) and the people who write to them."""

    def __init__(self) -> None:
        self.accounts = {
            Network.MASTODON: Account.create(network="mastodon", handle="org", keyring_ref="m"),
            Network.BLUESKY: Account.create(network="bluesky", handle="org.bsky", keyring_ref="b"),
            Network.X: Account.create(network="x", handle="org", keyring_ref="x"),
        }
        self.triage = Triage(default_policy(), TriageConfig(), clock=lambda: NOW)
        self.ingestor = Ingestor([TriageHook(self.triage)])
        self.count = 0

    def says(
        self,
        network: Network,
        who: str,
        name: str,
        text: str = "A question about the clean-up?",
        raw: dict[str, Any] | None = None,
        url: str | None = None,
    ) -> int:
        """Their post; returns its case id."""
        self.count += 1
        author = RemotePerson(remote_id=who, handle=who, display_name=name, profile_url=url)
        mention = RemoteMention(
            network, f"{network.value}-{self.count}", author, text,
            NOW - timedelta(minutes=90 - self.count), raw=raw or {},
        )  # fmt: skip
        result = self.ingestor.ingest(self.accounts[network].id, network, [mention])
        return result.touched_cases[0]

    @staticmethod
    def person(case_id: int) -> int:
        return int(Case.get_by_id(case_id).person_id)


@pytest.fixture
def world(db_path: Path) -> World:
    return World()


def mastodon_raw(note: str = "", fields: list[dict[str, str]] | None = None) -> dict[str, Any]:
    account = {"id": "7", "note": note, "fields": fields or []}
    return {"id": "n1", "type": "mention", "account": account, "status": {"account": account}}


def test_linking_gives_one_history_and_unlinking_gives_both_back(world: World) -> None:
    on_mastodon = world.says(Network.MASTODON, "rosa@social.example", "Rosa Martínez")
    world.says(Network.MASTODON, "rosa@social.example", "Rosa Martínez", "A second thread")
    on_bluesky = world.says(Network.BLUESKY, "rosa.bsky.social", "Rosa M.")
    rosa_m, rosa_b = world.person(on_mastodon), world.person(on_bluesky)
    inbox = Inbox()
    before = {p: inbox.person(p) for p in (rosa_m, rosa_b)}
    assert len(before[rosa_m].cases) == 2 and len(before[rosa_b].cases) == 1

    assert linking.link(rosa_b, rosa_m) == sorted([rosa_m, rosa_b])

    both = inbox.person(rosa_b)
    assert both is not None and len(both.cases) == 3
    assert {c.network for c in both.cases} == {Network.MASTODON, Network.BLUESKY}
    assert [i.person_id for i in both.linked] == [rosa_m]
    assert Person.get_by_id(rosa_m).link_group == Person.get_by_id(rosa_b).link_group
    assert Mention.select().where(Mention.author == rosa_b).count() == 1  # nothing moved

    linking.unlink(rosa_m)

    assert {p: inbox.person(p) for p in (rosa_m, rosa_b)} == before
    assert Person.select().where(Person.link_group.is_null(False)).count() == 0


def test_a_group_of_three_keys_on_its_smallest_member_whoever_leaves(world: World) -> None:
    ids = [
        world.person(world.says(net, who, "Sam Doe"))
        for net, who in (
            (Network.MASTODON, "sam@a.example"),
            (Network.BLUESKY, "sam.bsky.social"),
            (Network.X, "samdoe"),
        )
    ]
    linking.link(ids[0], ids[1])
    linking.link(ids[2], ids[1])
    assert linking.linked_ids(ids[2]) == sorted(ids)
    assert {Person.get_by_id(i).link_group for i in ids} == {min(ids)}

    linking.unlink(min(ids))  # the key leaves: the rest is keyed again, not left dangling
    rest = sorted(ids)[1:]
    assert linking.linked_ids(rest[0]) == rest
    assert {Person.get_by_id(i).link_group for i in rest} == {rest[0]}
    assert linking.linked_ids(min(ids)) == [min(ids)]
    linking.link(min(ids), world.person(world.says(Network.X, "other", "Other")))
    assert linking.linked_ids(rest[0]) == rest  # a new group never joins the old one

    linking.unlink(rest[0])
    assert linking.linked_ids(rest[1]) == [rest[1]]  # one left alone is not a group
    with pytest.raises(linking.LinkError):
        linking.link(rest[1], rest[1])


def test_the_take_offline_reminder_counts_replies_across_linked_people(world: World) -> None:
    here = world.says(Network.MASTODON, "rosa@social.example", "Rosa Martínez")
    there = world.says(Network.BLUESKY, "rosa.bsky.social", "Rosa")
    outbox = Outbox()
    for n in range(2):
        outbox.queue_reply(here, f"Hi Rosa, answer {n} on Mastodon about the clean-up plan")
    for n in range(2):
        outbox.queue_reply(there, f"Hi Rosa, answer {n} on Bluesky about the clean-up plan")
    reminders = ReminderService(world.triage)
    Case.update(bucket="needs_reply").where(Case.id == there).execute()  # she wrote again

    alone = reminders.context(here, GOOD)
    assert (alone.our_public_replies, alone.replies_elsewhere) == (2, 0)
    assert len(alone.recent_replies_to_others) == 2  # her Bluesky self is "someone else" yet

    linking.link(world.person(here), world.person(there))
    linked = reminders.context(here, GOOD)
    assert (linked.our_public_replies, linked.replies_elsewhere) == (4, 2)
    assert linked.recent_replies_to_others == ()
    (offline,) = [r for r in reminders.for_draft(here, GOOD) if r.kind is ReminderKind.TAKE_OFFLINE]
    assert "5th public reply to Rosa" in offline.message
    assert "counting 2 to their linked accounts" in offline.message

    Case.update(bucket="resolved").where(Case.id == there).execute()  # that one is over
    assert reminders.context(here, GOOD).our_public_replies == 2

    linking.unlink(world.person(there))
    assert reminders.context(here, GOOD).our_public_replies == 2


def test_suggestions_from_names_and_profiles_and_nothing_is_linked_by_itself(
    world: World,
) -> None:
    rosa_m = world.person(world.says(Network.MASTODON, "rosa@social.example", "Rosa Martínez 🌿"))
    rosa_b = world.person(world.says(Network.BLUESKY, "rosa-m.bsky.social", "rosa martinez"))
    critic_m = world.person(
        world.says(
            Network.MASTODON,
            "grumpy@social.example",
            "G.",
            raw=mastodon_raw(
                fields=[
                    {
                        "name": "Bluesky",
                        "value": '<a href="https://bsky.app/profile/grump.bsky.social">'
                        "bsky.app/profile/grump.bsky.social</a>",
                    }
                ]
            ),
        )
    )
    critic_b = world.person(
        world.says(
            Network.BLUESKY,
            "grump.bsky.social",
            "Grumbles",
            raw={"author": {"description": "Also @grumpy@social.example on the fediverse"}},
        )
    )
    bob_x = world.person(world.says(Network.X, "bob", "Bob", url="https://x.com/bob"))
    bob_m = world.person(
        world.says(
            Network.MASTODON, "bob@m.example", "Robert", raw=mastodon_raw("<p>x.com/bob</p>")
        )
    )
    for i in range(6):  # a name too common to mean anything
        world.says(Network.X if i % 2 else Network.BLUESKY, f"jo{i}", "Jo Smith")
    rosa2 = world.person(world.says(Network.MASTODON, "rosa2@social.example", "Rosa Martínez"))

    found = {s.pair: s for s in linking.suggestions()}

    critic = found[tuple(sorted((critic_m, critic_b)))]
    assert critic.score == 4 and len(critic.reasons) == 2  # both profiles point at each other
    assert any("profile links to grump.bsky.social" in r for r in critic.reasons)
    assert any("profile links to grumpy@social.example" in r for r in critic.reasons)
    rosa = found[tuple(sorted((rosa_m, rosa_b)))]
    assert rosa.reasons == ("Same display name “Rosa Martínez 🌿”",) or rosa.reasons == (
        "Same display name “rosa martinez”",
    )
    assert tuple(sorted((bob_x, bob_m))) in found
    assert not any(s.first.display_name == "Jo Smith" for s in found.values())
    assert all(s.first.network is not s.second.network for s in found.values())
    assert linking.suggestions()[0] == critic  # best first
    assert Person.select().where(Person.link_group.is_null(False)).count() == 0

    only_rosa = linking.suggestions(person_id=rosa_b)
    assert {s.pair for s in only_rosa} == {rosa.pair, tuple(sorted((rosa_b, rosa2)))}
    assert tuple(sorted((rosa_m, rosa2))) not in found  # the same network: not suggested

    linking.dismiss(rosa_b, rosa_m)
    assert rosa.pair not in {s.pair for s in linking.suggestions()}
    assert LinkDismissal.select().count() == 1
    linking.link(critic_m, critic_b)
    assert critic.pair not in {s.pair for s in linking.suggestions()}
    linking.link(rosa_m, rosa_b)  # the officer changed their mind: the dismissal goes
    assert LinkDismissal.select().count() == 0


def test_finding_people_to_link_by_hand_is_safe_with_any_input(world: World) -> None:
    rosa = world.person(world.says(Network.MASTODON, "rosa@social.example", "Rosa 100%_real"))
    world.says(Network.BLUESKY, "someone.bsky.social", "Someone")
    assert [i.person_id for i in linking.find_people("100%_r")] == [rosa]
    assert [i.person_id for i in linking.find_people("%")] == [rosa]  # a %, not a wildcard
    assert [i.person_id for i in linking.find_people("_")] == [rosa]
    assert linking.find_people("   ") == []
    assert [i.handle for i in linking.find_people("@rosa")] == ["rosa@social.example"]
    assert linking.find_people("rosa", exclude=rosa) == []
    assert linking.find_people("'; DROP TABLE person; --") == []
    assert Person.select().count() == 2
