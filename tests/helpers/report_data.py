"""A known data set for reports, exports and archives, stored through the real ``Ingestor``.

October 2026 (1 October is a Thursday; Mondays are the 5th, 12th, 19th and 26th), office hours
Monday–Friday 09:00–17:00 UTC, standard response target 2 hours, "now" Monday 2 November 09:30.

case  network   stance     first mention    first reply sent    office time  status
A     mastodon  supporter  Mon 5 10:00      Mon 5 10:30         30 min       waiting
B     mastodon  opponent   Mon 5 16:00      Tue 6 10:00         2 h          resolved
C     mastodon  neutral    Sat 10 12:00     Mon 12 09:45        45 min       waiting
D     mastodon  opponent   Wed 14 09:00 (2) Wed 14 13:00        4 h          resolved
                           (a failed reply at 10:00 does not count)
E     mastodon  supporter  Thu 15 08:00     Thu 15 09:20        20 min       waiting
F     bluesky   supporter  Mon 19 11:00     Mon 19 12:00        1 h          resolved
                           (a second reply at 15:00 does not count)
G     bluesky   opponent   Tue 20 15:00     —                   —            new: overdue
H     bluesky   unknown    Fri 30 16:30     —                   —            new: due 09:15 today
I     mastodon  opponent   Wed 21 10:00     —                   —            left alone
J     mastodon  supporter  Thu 22 10:00     —                   —            escalated
K     mastodon  neutral    Wed 30 Sep       (Sep) + a mention on Thu 1 Oct (volume only)
L     mastodon  neutral    Sun 1 Nov        —                   (outside October)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from app.core.cases import CaseService
from app.core.checklist import EventChecklistStore, Step
from app.core.ingest import Ingestor
from app.core.networks.base import RemoteMention, RemotePerson
from app.core.triage import OfficeHours, TriageConfig
from app.core.vocab import CaseStatus, Network, ReplyState, Stance
from app.storage.models import Account, Case, Mention, OutboundReply, Person

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
OFFICE = OfficeHours(zone="UTC")
CONFIG = TriageConfig(office_hours=OFFICE, response_target=timedelta(hours=2))
HOSTILE = (
    '<script>alert("x")</script><img src="https://evil.example/pixel.png">'
    '<a href="javascript:alert(1)">click</a> & \' " </body>'
)


def oct_(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, minute, tzinfo=UTC)


@dataclass
class KnownData:
    cases: dict[str, int] = field(default_factory=dict)
    accounts: dict[str, int] = field(default_factory=dict)
    _n: int = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    def case(
        self,
        name: str,
        network: Network,
        stance: Stance,
        mentions: list[tuple[datetime, str, float | None]],
        replies: list[tuple[ReplyState, datetime, str]] | None = None,
        followers: int = 10,
        url: str | None = None,
    ) -> int:
        person = RemotePerson(
            f"p-{name}",
            f"@{name.lower()}ndy{name.lower()}oe@example.social",
            f"{name}ndy {name}oe",
            followers,
            f"https://example.social/@{name.lower()}",
        )
        remote: list[RemoteMention] = []
        for at, text, _ in mentions:
            remote_id = f"{network.value}-{name}-{self._next()}"
            remote.append(
                RemoteMention(
                    network=network,
                    remote_id=remote_id,
                    author=person,
                    text=text,
                    created_at=at,
                    url=url or f"https://example.social/@{name.lower()}/{remote_id}",
                    in_reply_to_id=remote[0].remote_id if remote else None,
                    conversation_id=remote[0].remote_id if remote else None,
                    kind="reply" if remote else "mention",
                )
            )
        account_id = self.accounts[network.value]
        result = Ingestor().ingest(account_id, network, remote)
        case_id = result.touched_cases[0]
        for (_, _, score), m in zip(mentions, remote, strict=True):
            Mention.update(sentiment=score).where(
                (Mention.network == network.value) & (Mention.remote_id == m.remote_id)
            ).execute()
        Person.update(stance=stance.value).where(Person.remote_id == person.remote_id).execute()
        replies = replies or []
        for state, sent_at, text in replies:
            key = f"reply-{self._next()}"
            OutboundReply.create(
                case=case_id,
                account=account_id,
                text=text,
                state=state.value,
                idempotency_key=key,
                remote_id=key if state is ReplyState.SENT else None,
                remote_url=f"https://example.social/@riverbank/{key}"
                if state is ReplyState.SENT
                else None,
                created_at=sent_at - timedelta(minutes=1),
                updated_at=sent_at,
                sent_at=sent_at if state is ReplyState.SENT else None,
            )
        Case.update(reply_count=len(replies)).where(Case.id == case_id).execute()
        self.cases[name] = case_id
        return case_id


def build_known_data() -> KnownData:
    """Stores the data set in the open database and returns the case ids by letter."""
    data = KnownData()
    data.accounts["mastodon"] = Account.create(
        network="mastodon", handle="@riverbank", keyring_ref="k:mastodon"
    ).id
    data.accounts["bluesky"] = Account.create(
        network="bluesky", handle="riverbank.example", keyring_ref="k:bluesky"
    ).id
    m, b, sent, failed = Network.MASTODON, Network.BLUESKY, ReplyState.SENT, ReplyState.FAILED
    data.case(
        "A",
        m,
        Stance.SUPPORTER,
        [(oct_(5, 10), "Love what you do!", 0.8)],
        [(sent, oct_(5, 10, 30), "Hi Andy, thank you so much for the kind words!")],
    )
    data.case(
        "B",
        m,
        Stance.OPPONENT,
        [(oct_(5, 16), "Your charity wastes money.", -0.7)],
        [(sent, oct_(6, 10), "WE HAVE ALREADY ANSWERED THIS QUESTION MANY TIMES")],
        followers=12_000,
    )
    data.case(
        "C",
        m,
        Stance.NEUTRAL,
        [(oct_(10, 12), "Where is the annual report?", 0.0)],
        [(sent, oct_(12, 9, 45), "Hi Cndy, here is the report you asked about.")],
    )
    data.case(
        "D",
        m,
        Stance.OPPONENT,
        [(oct_(14, 9), "This is a scandal.", -0.5), (oct_(14, 9, 5), HOSTILE, -0.02)],
        [
            (failed, oct_(14, 10), "A draft that failed to send"),
            (sent, oct_(14, 13), "Calm down, the facts are on our website."),
        ],
    )
    data.case(
        "E",
        m,
        Stance.SUPPORTER,
        [(oct_(15, 8), "How do I volunteer?", 0.3)],
        [(sent, oct_(15, 9, 20), "Thanks Endy, the form is at the link.")],
    )
    data.case(
        "F",
        b,
        Stance.SUPPORTER,
        [(oct_(19, 11), "Great event!", 0.6)],
        [
            (sent, oct_(19, 12), "Glad you liked it, Fndy!"),
            (sent, oct_(19, 15), "Hi Fndy, one more thing: photos are up."),
        ],
    )
    data.case(
        "G",
        b,
        Stance.OPPONENT,
        [(oct_(20, 15), "You ignored my complaint.", -0.9)],
        followers=50_000,
    )
    data.case("H", b, Stance.UNKNOWN, [(oct_(30, 16, 30), "Are you open on Monday?", None)])
    data.case("I", m, Stance.OPPONENT, [(oct_(21, 10), "Buy followers here", -0.4)])
    data.case("J", m, Stance.SUPPORTER, [(oct_(22, 10), "Please call me about my bill", 0.05)])
    k = data.case(
        "K",
        m,
        Stance.NEUTRAL,
        [(datetime(2026, 9, 30, 10, tzinfo=UTC), "September question", 0.1)],
        [(sent, datetime(2026, 9, 30, 11, tzinfo=UTC), "Hi Kndy, answered.")],
    )
    first_k = Mention.get(Mention.case == k).remote_id
    later = RemoteMention(
        network=m,
        remote_id="mastodon-K-late",
        author=RemotePerson("p-K", "@kndykoe@example.social", "Kndy Koe", 10),
        text="Thanks, one more thing",
        created_at=oct_(1, 10),
        in_reply_to_id=first_k,
        conversation_id=first_k,
        kind="reply",
    )
    Ingestor().ingest(data.accounts["mastodon"], m, [later])
    Mention.update(sentiment=0.04).where(Mention.remote_id == "mastodon-K-late").execute()
    assert Mention.get(Mention.remote_id == "mastodon-K-late").case_id == k
    data.case("L", m, Stance.NEUTRAL, [(datetime(2026, 11, 1, 9, tzinfo=UTC), "November", 0.5)])

    cases = CaseService()
    for name in ("A", "C", "E"):
        cases.set_status(data.cases[name], CaseStatus.WAITING)
    for name in ("B", "D", "F"):
        cases.set_status(data.cases[name], CaseStatus.RESOLVED)
    cases.set_status(data.cases["I"], CaseStatus.LEFT_ALONE, "Spam")
    cases.set_status(data.cases["J"], CaseStatus.ESCALATED, "Moved to phone")
    Case.update(due_at=datetime(2026, 11, 2, 9, 15, tzinfo=UTC)).where(
        Case.id == data.cases["H"]
    ).execute()
    cases.add_case_note(data.cases["D"], "Called them back <b>later</b> & it went well")
    store = EventChecklistStore()
    store.set_step(data.cases["D"], Step.LISTEN)
    store.set_step(data.cases["D"], Step.CARE)
    return data
