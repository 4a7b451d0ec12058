"""A realistic demo organisation, built through the real ingest path into its own database.

"Riverbank Alliance" campaigns for clean rivers. Its demo inbox holds several hundred mentions
across the four networks: questions, complaints, praise, opponents, spam, a thread that reaches
five back-and-forths, and hostile text (markup, bidi tricks, huge posts). Demo data never mixes
with real data: it lives in ``demo/kindly-demo.sqlite3`` inside the data directory.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.core.ingest import IngestHook, Ingestor
from app.core.networks.base import RemoteMention, RemotePerson
from app.core.settings import EMAIL, ORG_NAME, PHONE, SIGNATURE, Settings
from app.core.templates import TemplateLibrary
from app.core.triage import TriageHook
from app.core.triage.office_hours import OfficeHours, add_office_time
from app.core.triage_setup import build_triage, office_hours
from app.core.vocab import CaseStatus, EventKind, Network, ReplyState, Stance
from app.storage.models import Account, Case, CaseEvent, OutboundReply, Person, database

DEMO_ORG = "Riverbank Alliance"
DEMO_HANDLES = {
    Network.MASTODON: ("@riverbank@mastodon.example", "https://mastodon.example"),
    Network.BLUESKY: ("riverbank.bsky.social", "https://bsky.social"),
    Network.X: ("@RiverbankAlly", "https://api.x.com"),
    Network.FACEBOOK: ("Riverbank Alliance (Page)", "https://graph.facebook.com"),
}

FIRST = [
    "Amira",
    "Ben",
    "Chloé",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hamish",
    "Ines",
    "Jon",
    "Kemi",
    "Liam",
    "Maya",
    "Nils",
    "Olu",
    "Priya",
    "Quentin",
    "Rosa",
    "Sam",
    "Tariq",
    "Uma",
    "Viktor",
    "Wen",
    "Yusuf",
    "Zoë",
    "Aoife",
    "Bartek",
    "Carmen",
    "Dmitri",
    "Eli",
]
LAST = [
    "Okafor",
    "Nguyen",
    "Schmidt",
    "Dubois",
    "Patel",
    "Haddad",
    "Kowalski",
    "O'Brien",
    "Larsen",
    "García",
    "Tanaka",
    "Mensah",
    "Rossi",
    "Novak",
    "Ahmed",
    "Byrne",
]

QUESTIONS = [
    "Is the river clean-up on Saturday still happening if it rains?",
    "How do I sign up as a volunteer for the water testing team?",
    "Where can I read the report on sewage overflows you mentioned?",
    "Do you accept donations by bank transfer? The donate page only shows cards.",
    "Can kids come to the clean-up? My two are 8 and 11.",
    "What time does the riverside walk start, and where do we meet?",
    "I'm a reporter at the Valley Herald writing about the sewage report: could someone "
    "comment for our story?",
    "Could you share the petition link again? It's not in your bio.",
]
COMPLAINTS = [
    "I signed up for the newsletter three weeks ago and still haven't received anything.",
    "Your donate page crashed twice and I think I was charged twice. Not impressed.",
    "Nobody turned up at the meeting point on Sunday. We waited 40 minutes in the cold!",
    "The event map on your website sends people to the wrong bridge.",
    "I emailed you twice about my direct debit and got no answer at all. Next stop is the "
    "ombudsman.",
    "The volunteer gloves you handed out fell apart in ten minutes. Waste of plastic.",
]
PRAISE = [
    "Huge thanks to everyone at the clean-up today, we pulled 40 bags out of the river! 🌊💚",
    "Just read your water quality report. Brilliant, clear work. Sharing with my council.",
    "My daughter loved the kids' river dipping session. Thank you!",
    "Donated this month, keep going. The river has never looked better.",
    "Your volunteers were so welcoming. First time and I'll definitely be back.",
]
OPPOSITION = [
    "You lot just want to stop farmers working. The river was fine for 100 years.",
    "Another campaign that will cost jobs. Who funds you, honestly?",
    "Your report cherry-picks the worst days. Pure scaremongering.",
    "Ban the boats, ban the farms, ban everything. When does it stop?",
    "Clean rivers are nice but not if my water bill doubles for it.",
]
SPAM = [
    "🔥 FREE followers FAST!!! 10k real followers for $9 → https://bit.ly/xx-fol 🔥",
    "Congratulations! You've been selected for a crypto airdrop, claim at https://claim.example",
    "DM me for cheap promotion, 100% guaranteed engagement!!!",
]
HOSTILE = [
    '<script>alert("pwned")</script>Is this thing on? <img src="http://tracker.example/p.png">',
    "Normal text \u202egnp.exe\u202c with a right-to-left override hiding a file name",
    "Z̷̢̛a̴̛͝l̵̨̛g̶̡̛ơ̸̢ ̷̛͜t̶̛͜e̵̛͜x̸̛͜t̵̛͜ shouldn't break your layout",
    "YOU PEOPLE ARE USELESS AND I WILL KEEP POSTING UNTIL YOU ANSWER " + "!!!" * 40,
    "ما رأيكم في تقرير جودة المياه؟ Mixed scripts and emoji 👩🏽‍🔬🏳️‍🌈 in one post",
    "Long post: " + "the river deserves better than this, " * 120,
]
THREAD = [
    "Why did you cancel the Millbrook testing session without telling anyone?",
    "That doesn't explain why nobody emailed the volunteers who had signed up.",
    "I checked my spam folder. Nothing. This is the second time this has happened.",
    "OK, but who do I actually talk to about getting my training hours counted?",
    "Fine. I still think the process is a mess, but I'd like to stay involved.",
]
OUR_THREAD_REPLIES = [
    "Hi Rosa, I'm sorry, you're right that we should have told you. The lab cancelled on us "
    "Friday night; we're rescheduling for next week.",
    "You're right, and that's on us: the volunteer list didn't sync with our mailer. We're "
    "fixing it today.",
    "I'm sorry it happened twice. I've added you to the new list by hand and checked it myself.",
    "That's Dev, our volunteer coordinator. I've passed him your name and he'll be in touch.",
    "Thank you for sticking with us, Rosa. It would be easier to sort the rest by phone: could "
    "we call you this week?",
]
LEFT_ALONE_REASONS = [
    "Spam",
    "Troll: repeated bad-faith posts, policy says no reply",
    "Not about us",
]


@dataclass
class _Person:
    remote: RemotePerson
    network: Network
    stance: Stance


def demo_database_path(data_dir: Path) -> Path:
    return data_dir / "demo" / "kindly-demo.sqlite3"


class DemoBuilder:
    """Fills an empty, open database with the demo organisation. Deterministic per seed."""

    def __init__(
        self, seed: int = 7, now: datetime | None = None, hooks: list[IngestHook] | None = None
    ) -> None:
        self.rng = random.Random(seed)
        self.now = now or datetime.now(UTC)
        self.ingestor = Ingestor(hooks or [])
        self._ids = 0
        self._hours: OfficeHours | None = None  # Sam's working week, from the settings

    def build(self, people_per_network: int = 40, mentions_per_network: int = 90) -> int:
        if Account.select().exists():
            raise RuntimeError("demo data goes only into an empty database")
        settings = Settings()
        settings.set(ORG_NAME, DEMO_ORG)
        settings.set(SIGNATURE, "— Sam, Riverbank Alliance")
        settings.set(PHONE, "+44 20 7946 0321")
        settings.set(EMAIL, "hello@riverbank.example")
        TemplateLibrary().seed()
        self._hours = office_hours(settings)
        total = 0
        for network, (handle, base_url) in DEMO_HANDLES.items():
            account = Account.create(
                network=network.value,
                handle=handle,
                base_url=base_url,
                display_name=DEMO_ORG,
                keyring_ref=f"demo:{network.value}",
            )
            people = [self._person(network) for _ in range(people_per_network)]
            mentions: list[RemoteMention] = []
            while len(mentions) < mentions_per_network:
                mentions.extend(self._conversation(network, self.rng.choice(people)))
            total += self.ingestor.ingest(account.id, network, mentions).stored
            self._stances(network, people)
            self._answer_some(account)
        total += self._five_exchange_thread()
        self._decide_some()
        self._catch_up()
        return total

    # -- people and mentions -----------------------------------------------------------------

    def _next_id(self) -> str:
        self._ids += 1
        return f"demo-{self._ids:06d}"

    def _person(self, network: Network) -> _Person:
        first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
        slug = f"{first}{last}".lower().replace("'", "").replace("é", "e").replace("ë", "e")
        handle = {
            Network.MASTODON: f"@{slug}@social.example",
            Network.BLUESKY: f"{slug}.bsky.social",
            Network.X: f"@{slug[:14]}",
            Network.FACEBOOK: "",
        }[network]
        followers = int(self.rng.lognormvariate(5.5, 1.8))
        stance = self.rng.choices(
            [Stance.SUPPORTER, Stance.NEUTRAL, Stance.OPPONENT, Stance.UNKNOWN],
            weights=[4, 3, 2, 4],
        )[0]
        remote = RemotePerson(
            remote_id=self._next_id(),
            handle=handle,
            display_name=f"{first} {last}",
            follower_count=followers,
        )
        return _Person(remote, network, stance)

    def _text_for(self, person: _Person) -> tuple[str, str]:
        pools = {
            Stance.SUPPORTER: [
                (PRAISE, "praise"),
                (QUESTIONS, "question"),
                (COMPLAINTS, "complaint"),
            ],
            Stance.NEUTRAL: [(QUESTIONS, "question"), (COMPLAINTS, "complaint")],
            Stance.OPPONENT: [(OPPOSITION, "opposition"), (COMPLAINTS, "complaint")],
            Stance.UNKNOWN: [
                (QUESTIONS, "question"),
                (SPAM, "spam"),
                (HOSTILE, "hostile"),
                (PRAISE, "praise"),
            ],
        }[person.stance]
        pool, label = self.rng.choice(pools)
        return self.rng.choice(pool), label

    def _mention(
        self,
        network: Network,
        person: _Person,
        text: str | None = None,
        at: datetime | None = None,
        in_reply_to: str | None = None,
        conversation: str | None = None,
    ) -> RemoteMention:
        body = text if text is not None else self._text_for(person)[0]
        remote_id = self._next_id()
        # Over the last two weeks, most of it recent (as an inbox that is looked after is).
        when = at or self.now - timedelta(minutes=5 + int(14 * 24 * 60 * self.rng.random() ** 3))
        tag = {
            Network.MASTODON: "@riverbank",
            Network.BLUESKY: "@riverbank.bsky.social",
            Network.X: "@RiverbankAlly",
            Network.FACEBOOK: "",
        }[network]
        shown = f"{tag} {body}".strip()
        markup = f"<p>{shown}</p>" if network is Network.MASTODON else shown
        author = (
            person.remote if network is not Network.FACEBOOK or self.rng.random() > 0.1 else None
        )
        return RemoteMention(
            network=network,
            remote_id=remote_id,
            author=author,
            text=shown,
            markup=markup,
            created_at=when,
            url=f"https://{network.value}.example/post/{remote_id}",
            in_reply_to_id=in_reply_to,
            conversation_id=conversation,
            kind="comment" if network is Network.FACEBOOK else "mention",
            raw={"demo": True, "id": remote_id},
        )

    def _conversation(self, network: Network, person: _Person) -> list[RemoteMention]:
        """A first post and, sometimes, the same person following up in the thread."""
        first = self._mention(network, person)
        thread = [first]
        for _ in range(self.rng.choice([0, 0, 0, 1, 1, 2])):
            previous = thread[-1]
            later = min(self.now, previous.created_at + timedelta(minutes=self.rng.randint(3, 300)))
            text = self.rng.choice(
                [
                    "Any update on this?",
                    "Hello? Still waiting for an answer.",
                    "Also: " + self._text_for(person)[0],
                    "Thanks, that helps a bit.",
                ]
            )
            thread.append(
                self._mention(
                    network,
                    person,
                    text,
                    later,
                    in_reply_to=previous.remote_id,
                    conversation=first.remote_id,
                )
            )
        return thread

    def _answer_some(self, account: Account) -> None:
        """Replies we already sent: those cases now wait on the other person."""
        open_cases = list(Case.select().where(Case.account == account.id).order_by(Case.id))
        for case in self.rng.sample(open_cases, k=len(open_cases) // 7):
            at = self._officer_time(case.last_activity_at, 180)
            if at is None:  # it came after Sam's last working hours: not answered yet
                continue
            remote_id = self._next_id()
            OutboundReply.create(
                case=case.id,
                account=account.id,
                state=ReplyState.SENT.value,
                text="Hi, thanks for getting in touch — we've passed this to the team and will "
                "follow up here. — Sam",
                idempotency_key=f"demo-{remote_id}",
                remote_id=remote_id,
                created_at=at,
                updated_at=at,
                sent_at=at,
            )
            Case.update(
                reply_count=Case.reply_count + 1,
                status=CaseStatus.WAITING.value,
                bucket=CaseStatus.WAITING.bucket.value,
            ).where(Case.id == case.id).execute()

    def _officer_time(self, after: datetime, most_minutes: int) -> datetime | None:
        """When Sam, who works office hours, gets to something that came at ``after``: ten
        minutes to ``most_minutes`` of office time later (so the reports' response times are
        office hours, as for a real officer); None while that is still to come."""
        wait = timedelta(minutes=self.rng.randint(10, most_minutes))
        at = None if self._hours is None else add_office_time(self._hours, after, wait)
        return at if at is not None and at <= self.now else None

    def _stances(self, network: Network, people: list[_Person]) -> None:
        for person in people:
            if person.stance is not Stance.UNKNOWN and self.rng.random() < 0.6:
                Person.update(stance=person.stance.value).where(
                    (Person.network == network.value)
                    & (Person.remote_id == person.remote.remote_id)
                ).execute()

    # -- the long thread and some decisions --------------------------------------------------

    def _five_exchange_thread(self) -> int:
        """Rosa and us, five back-and-forths: the policy's cue to move to phone or email."""
        network = Network.MASTODON
        account = Account.get(Account.network == network.value)
        rosa = _Person(
            RemotePerson(self._next_id(), "@rosa@social.example", "Rosa García", 2150),
            network,
            Stance.NEUTRAL,
        )
        start = self.now - timedelta(hours=30)
        parent: str | None = None
        root: str | None = None
        stored = 0
        for turn, (theirs, ours) in enumerate(zip(THREAD, OUR_THREAD_REPLIES, strict=True)):
            at = start + timedelta(hours=5 * turn)
            mention = self._mention(
                network, rosa, theirs, at, in_reply_to=parent, conversation=root
            )
            root = root or mention.remote_id
            stored += self.ingestor.ingest(account.id, network, [mention]).stored
            if turn == len(THREAD) - 1:
                break  # her last message waits for our fifth reply
            case = Case.get((Case.account == account.id) & (Case.conversation_key == root))
            parent = self._next_id()
            OutboundReply.create(
                case=case.id,
                account=account.id,
                text=ours,
                state=ReplyState.SENT.value,
                idempotency_key=f"demo-{parent}",
                remote_id=parent,
                remote_url=f"https://mastodon.example/@riverbank/{parent}",
                created_at=at + timedelta(minutes=40),
                updated_at=at + timedelta(minutes=40),
                sent_at=at + timedelta(minutes=41),
            )
            Case.update(
                reply_count=Case.reply_count + 1,
                status=CaseStatus.WAITING.value,
                bucket=CaseStatus.WAITING.bucket.value,
            ).where(Case.id == case.id).execute()
        return stored

    def _decide_some(self) -> None:
        """Some history: resolved cases, left-alone spam, an escalation, waiting cases."""
        cases = list(Case.select().where(Case.reply_count == 0).order_by(Case.id))
        self.rng.shuffle(cases)
        with database.atomic():
            for case in cases[: len(cases) // 5]:
                self._set(case, CaseStatus.RESOLVED, "", "officer")
            for case in cases[len(cases) // 5 : len(cases) // 5 + 12]:
                reason = self.rng.choice(LEFT_ALONE_REASONS)
                self._set(case, CaseStatus.LEFT_ALONE, reason, "officer")
            for case in cases[len(cases) // 5 + 12 : len(cases) // 5 + 14]:
                self._set(case, CaseStatus.ESCALATED, "Moved to phone: billing dispute", "officer")

    def _catch_up(self) -> None:
        """The officer keeps up: most unanswered conversations older than three days were dealt
        with (by phone, in person, or needing no reply), so what waits is mostly recent."""
        cutoff = self.now - timedelta(days=3)
        old = (
            Case.select()
            .where(
                (Case.bucket == CaseStatus.NEW.bucket.value)
                & (Case.reply_count == 0)
                & (Case.last_activity_at < cutoff)
            )
            .order_by(Case.id)
        )
        with database.atomic():
            for case in list(old):
                if self.rng.random() < 0.8:
                    self._set(case, CaseStatus.RESOLVED, "", "officer")

    def _set(self, case: Case, status: CaseStatus, reason: str, actor: str) -> None:
        Case.update(
            status=status.value,
            bucket=status.bucket.value,
            status_reason=reason,
            priority=0.0,  # off the inbox: no clock, no rank (as when the officer moves it)
            due_at=None,
            why=f"{status.label.lower()} · {actor}",
        ).where(Case.id == case.id).execute()
        kind = EventKind.DECISION if reason else EventKind.STATUS_CHANGED
        CaseEvent.create(
            case=case.id,
            kind=kind.value,
            actor=actor,
            detail=f"New → {status.label}" + (f": {reason}" if reason else ""),
            created_at=self._officer_time(case.last_activity_at, 240) or self.now,
        )


def open_demo_database(data_folder: Path, hooks: list[IngestHook] | None = None) -> Path:
    """Open the demo database (bound to the models), building it on first use.

    Without ``hooks`` the demo is built through triage, as synced mentions are: sentiment,
    the default policy's decisions, priorities and "why" lines are all there from the start.
    """
    from app.storage.db import open_database

    path = demo_database_path(data_folder)
    open_database(path)
    if not Account.select().exists():
        if hooks is None:
            hooks = [TriageHook(build_triage(Settings()))]
        # All or nothing: a half-built demo (a hook failed, the app was closed) would have
        # accounts, so it would never be built again.
        with database.atomic():
            DemoBuilder(hooks=hooks).build()
    return path
