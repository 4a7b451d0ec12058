"""Realistic mention text and people for the benchmarks, fast and reproducible (seeded).

Mentions are built from openings, bodies and endings of the kinds a small charity receives
(questions, thanks, complaints, campaign copy, spam), so full-text search meets common words,
rare words, names and hashtags in proportions like a real inbox, and VADER scores real
sentiment instead of "Mention 17".
"""

from __future__ import annotations

import random

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
    "Eilidh",
    "Fatima",
    "Gareth",
    "Hiroshi",
    "Ingrid",
    "Jamal",
    "Katarzyna",
    "Lucia",
    "Mateo",
    "Niamh",
    "Oskar",
    "Paula",
    "Rhys",
    "Sofia",
    "Tomasz",
    "Ulrike",
    "Valentina",
    "William",
    "Xavier",
    "Yara",
    "Zainab",
    "Anna",
    "David",
    "Sarah",
    "James",
    "Emma",
    "Mohammed",
    "Laura",
    "Peter",
    "Helen",
    "Chris",
    "Kate",
    "Daniel",
    "Rachel",
    "Mark",
    "Lisa",
    "Tom",
    "Claire",
    "Ahmed",
    "Joanna",
    "Pavel",
    "Siobhan",
]
LAST = [
    "Okafor",
    "Schmidt",
    "Dubois",
    "Patel",
    "Rossi",
    "Haddad",
    "Nowak",
    "Campbell",
    "Silva",
    "Eriksson",
    "Adeyemi",
    "Tanaka",
    "Kowalski",
    "Murphy",
    "Fernández",
    "Novak",
    "Hughes",
    "Larsen",
    "Osei",
    "Moreau",
    "Bianchi",
    "Jensen",
    "Kaur",
    "Walsh",
    "Smith",
    "Jones",
    "Brown",
    "Taylor",
    "Wilson",
    "Evans",
    "Thomas",
    "Roberts",
    "Johnson",
    "Lewis",
    "Walker",
    "Robinson",
    "Wood",
    "Thompson",
    "White",
    "Watson",
    "Jackson",
    "Wright",
    "Green",
    "Harris",
    "Cooper",
    "King",
    "Lee",
    "Martin",
    "Clarke",
    "James",
    "Morgan",
    "Baker",
]
PLACES = [
    "Riverside",
    "Millbrook",
    "Eastgate",
    "Harbourside",
    "Northfield",
    "Old Town",
    "Westbury",
    "the canal",
    "the weir",
    "the park",
    "Greenbank",
    "Ashford",
    "Kingsmead",
    "Bridgend",
    "Lowfield",
    "Castle Hill",
]

OPENINGS = [
    "Hi @riverbank,",
    "Hello!",
    "@riverbank",
    "Quick question:",
    "Dear Riverbank Alliance,",
    "Hey team,",
    "So,",
    "Honestly,",
    "",
    "",
    "Morning all!",
    "Thank you @riverbank!",
]
QUESTIONS = [
    "how do I sign up to volunteer for the river cleanup on Saturday?",
    "is the {place} litter pick still happening if it rains?",
    "can I donate monthly instead of a one-off gift?",
    "where can I find the water quality results for {place}?",
    "do you take school groups for the wildlife walk?",
    "my direct debit failed, who should I contact about it?",
    "is there parking near the {place} meeting point?",
    "how is the petition to the council going?",
    "can volunteers under 16 come along with a parent?",
    "are dogs allowed at the family fun day?",
    "I'd like a refund for the gala tickets, we can't make it.",
    "could you send me the Gift Aid form again?",
]
PRAISE = [
    "thank you so much for organising the cleanup, the {place} stretch looks amazing!",
    "what a brilliant event yesterday, my kids loved the otter talk.",
    "huge thanks to the volunteers who pulled three shopping trolleys out of the weir.",
    "your report on sewage overflows was clear and really useful.",
    "proud to be a monthly donor, keep up the great work!",
    "the new signs along the towpath are lovely, well done everyone.",
    "great to see kingfishers back at {place} after your planting.",
]
COMPLAINTS = [
    "nobody answered my email about the volunteer insurance, very disappointing.",
    "the event page still shows the wrong date, I turned up and nobody was there.",
    "I was charged twice for my donation this month, please fix this.",
    "why is there still plastic everywhere at {place} after the so-called cleanup?",
    "your newsletter keeps coming even though I unsubscribed. Annoying.",
    "the minibus never arrived and we waited an hour in the cold.",
    "terrible communication about the cancelled walk, really frustrated.",
]
OPPOSITION = [
    "you lot are just making it harder for farmers, stop lobbying the council.",
    "another charity wasting money on signs instead of doing anything useful.",
    "the river was fine before you started campaigning, this is all scaremongering.",
    "who funds you? Seems like a political campaign dressed up as a charity.",
]
CAMPAIGN = [
    "I support the clean rivers pledge! #CleanRivers #SaveOurRiver",
    "Signed the petition for bathing water status at {place}. #CleanRivers",
    "Just joined the river watch scheme, first sampling kit arrived today #RiverWatch",
    "Sharing because everyone should see the sewage map #SewageScandal",
]
SPAM = [
    "Earn $5000 a week from home!!! DM me for crypto tips",
    "Follow back? Great content, check my profile for giveaways",
    "Cheap followers and likes, visit my link",
]
ENDINGS = ["", "", "", "Thanks!", "Cheers", "🙏", "💚", "Any help appreciated.", "x", "🌊🦦"]
KINDS = (
    [QUESTIONS] * 40 + [PRAISE] * 22 + [COMPLAINTS] * 18 + [OPPOSITION] * 6
    + [CAMPAIGN] * 10 + [SPAM] * 4
)  # fmt: skip


class TextGen:
    """``text()`` gives one mention; ``person(i)`` a stable name and handle for person ``i``."""

    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)

    def text(self) -> str:
        rng = self.rng
        body = rng.choice(rng.choice(KINDS))
        if "{place}" in body:
            body = body.replace("{place}", rng.choice(PLACES))
        parts = [rng.choice(OPENINGS), body]
        if rng.random() < 0.35:  # a second sentence from another kind
            more = rng.choice(rng.choice(KINDS))
            parts.append(more.replace("{place}", rng.choice(PLACES)).capitalize())
        parts.append(rng.choice(ENDINGS))
        return " ".join(p for p in parts if p)

    @staticmethod
    def person(i: int) -> tuple[str, str]:
        """(display name, handle) for person number ``i``; many share a first name."""
        first = FIRST[i % len(FIRST)]
        last = LAST[(i // len(FIRST)) % len(LAST)]
        handle = f"{first.lower()}{last.lower()}{i}"
        handle = handle.encode("ascii", "ignore").decode() or f"person{i}"
        return f"{first} {last}", handle
