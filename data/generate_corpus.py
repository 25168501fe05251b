"""Generate the built-in English sentiment corpus of product and phone reviews.

Running ``python data/generate_corpus.py`` rewrites three files next to this
script, byte-identically on every run:

* ``reviews.csv``        training corpus (``text,label``; 1 = positive, 0 = negative)
* ``heldout.csv``        sentences from the same construction families, built
                         only from held-out noun/word combinations
* ``contrast_pairs.csv`` (``pair_id,text,label``) pairs of sentences made of
                         exactly the same bag of words but with opposite labels,
                         written without punctuation ("No this tablet is good")

Every sentence is written from templates and vocabulary made up for this
project; nothing is taken from a public dataset.

Why it looks the way it does
----------------------------
The corpus exists to show that a recurrent network can use word *order*,
which a bag-of-words model cannot.  So besides plain reviews ("the camera is
excellent", "delivery was slow") most of it comes in pairs that share their
words but not their meaning:

* "the tablet is no good"                    vs "no, the tablet is good"
* "the screen is sharp, not blurry"          vs "the screen is blurry, not sharp"
* "the screen is great but the battery is terrible"
                                             vs "the battery is terrible but the screen is great"
* "the app used to be slow, now it is fast"  vs "the app used to be fast, now it is slow"
* "at first I hated this watch, then I loved it" vs the reverse
* "I would rather keep this laptop than return it" vs "... return this laptop than keep it"

Because both members of such a pair go into the same split, words like "no",
"not", "but", "good" and "bad" occur about equally often in positive and
negative reviews, and only their position tells the label.

Held-out evaluation
-------------------
About one in eight (noun, word) combinations -- e.g. ("screen", "dim") or
("tablet", "no-good") -- is reserved: a sentence using any reserved combination
never enters the training corpus and feeds held-out or contrast-pair
sentences instead.  Every word still appears in training, only in other
combinations.

Six probe sentences (``PROBES``) are kept out of every file, together with
their variants that differ only in determiners, and "phone" never appears in
the constructions that start with or hinge on "no" ("no good", "no, the ... is
good", "no problems"), so the probes measure generalisation.  Combinations
with "phone" are never reserved, since the probes already test them.
"""

from __future__ import annotations

import csv
import hashlib
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SEED = 1729
DATA_DIR = Path(__file__).resolve().parent
REVIEWS_PATH = DATA_DIR / "reviews.csv"
HELDOUT_PATH = DATA_DIR / "heldout.csv"
CONTRAST_PATH = DATA_DIR / "contrast_pairs.csv"

HELDOUT_SHARE_PER_MILLE = 125
CONTRAST_PAIR_COUNT = 160
HELDOUT_PAIR_COUNT = 150
MIN_WORDS, MAX_WORDS = 3, 20

PROBES = [
    ("I like this phone", 1),
    ("This phone is good", 1),
    ("This phone is not okay", 0),
    ("I do not like this phone because battery is not charging properly", 0),
    ("This phone is no good", 0),
    ("No, this phone is good", 1),
]
SEED_EXAMPLE = ("No, this phone is good", "This phone is no good")
PROBE_NOUNS = {"phone"}
NOUNS_KEPT_OUT_OF_NO_GOOD = PROBE_NOUNS

# Words whose label balance in the training corpus is checked: each must be
# common in both positive and negative reviews.
ORDER_SENSITIVE_WORDS = [
    "no",
    "not",
    "never",
    "nothing",
    "don't",
    "good",
    "bad",
    "great",
    "terrible",
    "but",
    "now",
    "used",
    "first",
    "then",
    "rather",
    "better",
]


# --------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------

GENERAL_PAIRS = [
    ("good", "bad"),
    ("great", "terrible"),
    ("excellent", "awful"),
    ("fantastic", "dreadful"),
    ("amazing", "disappointing"),
    ("wonderful", "horrible"),
]
MILD_POSITIVES = ["okay", "fine", "decent", "nice"]
MILD_POSITIVE_WEIGHTS = [4, 2, 1, 1]
NEGATIVES_FOR_MILD = ["bad", "terrible", "awful"]

# (positive, negative) adjectives that fit a particular quality of a noun.
QUALITY_PAIRS = {
    "speed": [("fast", "slow"), ("quick", "sluggish")],
    "smoothness": [("smooth", "laggy")],
    "display": [("bright", "dim"), ("sharp", "blurry"), ("crisp", "grainy"), ("vivid", "dull")],
    "image": [("sharp", "blurry"), ("clear", "grainy")],
    "audio": [("clear", "muffled"), ("rich", "tinny"), ("crisp", "distorted")],
    "voice": [("clear", "muffled"), ("crisp", "distorted")],
    "build": [("sturdy", "flimsy"), ("durable", "fragile")],
    "comfort": [("comfortable", "uncomfortable")],
    "weight": [("lightweight", "heavy")],
    "power": [("strong", "weak")],
    "reliability": [("reliable", "unreliable")],
    "price": [("fair", "steep"), ("reasonable", "ridiculous"), ("low", "high")],
    "delivery": [("fast", "slow"), ("quick", "late"), ("prompt", "delayed")],
    "software": [("stable", "buggy"), ("smooth", "laggy"), ("intuitive", "confusing")],
    "people": [("helpful", "unhelpful"), ("friendly", "rude"), ("responsive", "unresponsive")],
    "design": [("sleek", "clunky"), ("elegant", "ugly"), ("modern", "dated")],
    "connection": [("strong", "weak"), ("stable", "unstable")],
    "touch": [("responsive", "unresponsive"), ("accurate", "inaccurate")],
    "setup": [("easy", "confusing"), ("simple", "complicated")],
    "clarity": [("clear", "confusing")],
    "level": [("high", "low")],
}


@dataclass(frozen=True)
class Noun:
    """A thing reviews talk about.

    qualities name entries of QUALITY_PAIRS that fit the noun; tags say which
    constructions it fits:
      product      a thing you buy ("I would rather keep this ... than return it")
      likeable     "I love ...", "at first I hated ..., then I loved it"
      personable   people or services you can like but not buy
      person       referred to as "they"
      functional   works or fails ("it never fails, it always works")
      electronic   can overheat or freeze
      crashy       runs software that can crash
      updatable    can get better or worse after an update
      battery, staff, shipment, update   have their own BEHAVIOURS
      event        happens once, so it cannot "used to be" anything
      mass         takes no article ("my laptop has stable wifi")
    determiners are the ones that read naturally; "bare" means none
    ("delivery was slow").  parts are nouns that belong to a product.
    """

    word: str
    qualities: tuple[str, ...]
    tags: frozenset[str]
    plural: bool
    determiners: tuple[str, ...]
    parts: tuple[str, ...]

    def has(self, tag: str) -> bool:
        return tag in self.tags


def noun(word, qualities="", tags="", plural=False, determiners="the", parts=""):
    return Noun(
        word=word,
        qualities=tuple(qualities.split()),
        tags=frozenset(tags.split()),
        plural=plural,
        determiners=tuple(determiners.split()),
        parts=tuple(parts.split()),
    )


PRODUCT = "the this my"
GADGET = "product likeable functional"
SMART_GADGET = GADGET + " electronic crashy updatable"

NOUNS = [
    noun(
        "phone",
        "speed smoothness build design",
        SMART_GADGET,
        determiners=PRODUCT,
        parts="battery screen camera speaker charger buttons design price sound wifi bluetooth touchscreen software",
    ),
    noun(
        "tablet",
        "speed smoothness build weight",
        SMART_GADGET,
        determiners=PRODUCT,
        parts="battery screen camera speaker charger design price sound wifi touchscreen software",
    ),
    noun(
        "laptop",
        "speed smoothness build weight design",
        SMART_GADGET,
        determiners=PRODUCT,
        parts="battery screen keyboard speaker charger design price sound wifi performance software",
    ),
    noun(
        "watch",
        "build comfort weight design",
        SMART_GADGET,
        determiners=PRODUCT,
        parts="battery screen strap design price bluetooth app buttons",
    ),
    noun(
        "camera",
        "image build",
        GADGET + " updatable",
        determiners=PRODUCT,
        parts="battery screen buttons design price software",
    ),
    noun(
        "speaker",
        "audio build",
        GADGET + " electronic",
        determiners=PRODUCT,
        parts="battery sound bluetooth design price buttons",
    ),
    noun(
        "headphones",
        "audio comfort build weight",
        GADGET,
        plural=True,
        determiners=PRODUCT,
        parts="battery sound microphone bluetooth design price buttons",
    ),
    noun(
        "earbuds",
        "audio comfort",
        GADGET,
        plural=True,
        determiners=PRODUCT,
        parts="battery sound microphone bluetooth case price",
    ),
    noun("charger", "speed build", GADGET + " electronic", determiners=PRODUCT),
    noun("case", "build design", "product likeable", determiners=PRODUCT),
    noun("keyboard", "build comfort touch", GADGET, determiners=PRODUCT, parts="keys design price bluetooth battery"),
    noun("mouse", "build comfort touch", GADGET, determiners=PRODUCT),
    noun("monitor", "display", GADGET + " electronic", determiners=PRODUCT, parts="display design price"),
    noun(
        "printer",
        "speed reliability",
        GADGET + " electronic updatable",
        determiners=PRODUCT,
        parts="software design price setup wifi",
    ),
    noun(
        "router",
        "speed reliability",
        GADGET + " electronic updatable",
        determiners=PRODUCT,
        parts="signal setup price software",
    ),
    noun("tv", "display", SMART_GADGET, determiners=PRODUCT, parts="screen sound software design price remote"),
    noun("cable", "build", "product functional", determiners=PRODUCT),
    noun("microphone", "voice", GADGET, determiners=PRODUCT),
    noun("remote", "build touch", GADGET, determiners=PRODUCT),
    noun("battery", "power reliability", "battery updatable", determiners="the my bare"),
    noun("screen", "display touch", "functional likeable updatable", determiners="the this"),
    noun("display", "display", "functional", determiners="the this"),
    noun("touchscreen", "touch", "functional updatable"),
    noun("buttons", "build touch", "functional", plural=True),
    noun("keys", "build touch", "functional", plural=True),
    noun("strap", "build comfort"),
    noun("wifi", "connection speed", "functional updatable mass", determiners="the bare"),
    noun("bluetooth", "connection reliability", "functional updatable mass", determiners="the bare"),
    noun("signal", "connection", "updatable mass", determiners="the bare"),
    noun("app", "software speed", "functional likeable crashy updatable", determiners="the this"),
    noun("software", "software speed", "functional crashy updatable mass", determiners="the bare"),
    noun("update", "software", "update likeable", determiners="the this"),
    noun("performance", "speed smoothness", "updatable mass", determiners="the bare"),
    noun("sound", "audio", "updatable mass", determiners="the bare"),
    noun("price", "price", determiners="the bare"),
    noun("cost", "price", "mass", determiners="the bare"),
    noun("fee", "price", determiners="the"),
    noun("design", "design", "likeable", determiners="the this"),
    noun("quality", "level", "mass", determiners="the bare"),
    noun("packaging", "build", "mass", determiners="the bare"),
    noun("setup", "setup", "mass", determiners="the bare"),
    noun("instructions", "clarity setup", plural=True, determiners="the bare"),
    noun("installation", "setup", "mass", determiners="the bare"),
    noun("delivery", "delivery", "shipment mass", determiners="the bare"),
    noun("shipping", "delivery", "mass", determiners="the bare"),
    noun("order", "delivery", "shipment event", determiners="the my"),
    noun("service", "people", "staff personable mass", determiners="the bare"),
    noun("support", "people", "staff personable mass", determiners="the bare"),
    noun("seller", "people reliability", "staff personable person", determiners="the this"),
    noun("refund", "speed", "event", determiners="the my"),
    noun("warranty", "", determiners="the"),
]
NOUNS_BY_WORD = {entry.word: entry for entry in NOUNS}


def nouns_tagged(tag: str) -> list[Noun]:
    return [entry for entry in NOUNS if entry.has(tag)]


PRODUCTS = nouns_tagged("product")
EXCLAIMABLE_NOUNS = [entry for entry in NOUNS if entry.word not in {"cost", "fee", "refund", "order", "warranty"}]
SINGULAR_PRODUCTS = [entry for entry in PRODUCTS if not entry.plural]
PRODUCTS_WITH_PARTS = [entry for entry in PRODUCTS if entry.parts]
NO_GOOD_NOUNS = [entry for entry in NOUNS if entry.word not in NOUNS_KEPT_OUT_OF_NO_GOOD]
FUN_NOUNS = [NOUNS_BY_WORD[word] for word in "tablet laptop watch camera speaker headphones keyboard tv app".split()]
# Nouns that can sensibly change over time ("used to be", "at first").
LASTING_NOUNS = [entry for entry in NOUNS if not entry.has("event") and not entry.has("update")]


def adjective_pairs(subject: Noun) -> list[tuple[str, str]]:
    pairs = list(GENERAL_PAIRS)
    for quality in subject.qualities:
        pairs.extend(pair for pair in QUALITY_PAIRS[quality] if pair not in pairs)
    return pairs


def specific_pairs(subject: Noun) -> list[tuple[str, str]]:
    """Adjective pairs that describe this noun in particular, or the general ones."""
    pairs = [pair for quality in subject.qualities for pair in QUALITY_PAIRS[quality]]
    return pairs or list(GENERAL_PAIRS)


# Things a device does well or badly: (positive, negative) verb phrases.
# "*" marks a verb that takes the third-person "-s" with a singular subject.
BEHAVIOURS = {
    "functional": [
        ("never fail*", "never work*"),
        ("work* perfectly", "{doesnt} work"),
        ("never let* me down", "always let* me down"),
        ("{has} never given me any trouble", "{has} given me trouble from day one"),
        ("still work* after a year", "stopped working after a week"),
        ("{doesnt} disappoint", "always disappoint*"),
        ("work* exactly as promised", "{doesnt} work as promised"),
        ("{has} not failed me once", "{has} failed me many times"),
    ],
    "electronic": [
        ("{doesnt} overheat", "overheat* all the time"),
        ("never freeze*", "freeze* every day"),
    ],
    "crashy": [
        ("never crash*", "crash* all the time"),
        ("{doesnt} crash", "keep* crashing"),
        ("load* instantly", "take* forever to load"),
    ],
    "battery": [
        ("last* all day", "{is} dead before noon"),
        ("charge* quickly", "take* forever to charge"),
        ("{doesnt} drain quickly", "drain* very quickly"),
        ("hold* a charge for days", "{doesnt} hold a charge"),
    ],
    "staff": [
        ("answered all my questions", "never answered my questions"),
        ("solved my problem quickly", "never solved my problem"),
        ("replied within an hour", "never replied to my emails"),
    ],
    "shipment": [
        ("arrived early", "arrived late"),
        ("arrived on time", "arrived two weeks late"),
        ("came well packed", "came damaged"),
    ],
    "update": [
        ("installed smoothly", "broke everything"),
        ("made everything faster", "made everything slower"),
        ("fixed all the bugs", "added new bugs"),
    ],
}

# How a part of a product works: (verb, complement) e.g. "charge", "properly".
PART_FUNCTIONS = {
    "battery": [("charge", "properly"), ("hold", "a charge")],
    "screen": [("work", "properly"), ("respond", "properly")],
    "camera": [("focus", "properly"), ("work", "properly")],
    "speaker": [("work", "properly")],
    "microphone": [("work", "properly")],
    "charger": [("charge", "properly"), ("work", "properly")],
    "keyboard": [("work", "properly")],
    "buttons": [("work", "properly"), ("respond", "properly")],
    "keys": [("work", "properly")],
    "wifi": [("connect", "properly")],
    "bluetooth": [("connect", "properly")],
    "app": [("load", "properly"), ("sync", "properly")],
    "software": [("load", "properly"), ("sync", "properly"), ("work", "properly")],
    "touchscreen": [("respond", "properly")],
    "remote": [("work", "properly")],
}


# --------------------------------------------------------------------------
# Grammar
# --------------------------------------------------------------------------


def third_person(verb: str, plural: bool) -> str:
    if plural:
        return verb
    if verb.endswith(("s", "sh", "ch", "x", "z")):
        return verb + "es"
    return verb + "s"


def present_participle(verb: str) -> str:
    if verb.endswith("e") and not verb.endswith("ee"):
        return verb[:-1] + "ing"
    return verb + "ing"


def fill(template: str, subject: Noun | None = None, **slots: str) -> str:
    """Fill a template, agreeing verbs and pronouns with the subject noun."""
    plural = subject.plural if subject else False
    refers_to_people = plural or (subject is not None and subject.has("person"))
    agreement = {
        "is": "are" if plural else "is",
        "was": "were" if plural else "was",
        "isnt": "aren't" if plural else "isn't",
        "has": "have" if plural else "has",
        "doesnt": "don't" if plural else "doesn't",
        "pron": "they" if refers_to_people else "it",
        "obj": "them" if refers_to_people else "it",
        "pron_is": "they are" if refers_to_people else "it is",
        "pron_s": "they're" if refers_to_people else "it's",
        "pron_was": "they were" if refers_to_people else "it was",
    }
    text = template.format(**agreement, **slots)
    return re.sub(r"(\w+)\*", lambda match: third_person(match.group(1), plural), text)


def noun_phrase(subject: Noun, rng: random.Random, allow_bare: bool = False) -> str:
    choices = [d for d in subject.determiners if d != "bare" or allow_bare]
    determiner = rng.choice(choices)
    if determiner == "bare":
        return subject.word
    if determiner == "this" and subject.plural:
        determiner = "these"
    return f"{determiner} {subject.word}"


def with_article(adjective: str, subject: Noun) -> str:
    if subject.plural or subject.has("mass"):
        return f"{adjective} {subject.word}"
    article = "an" if adjective[0] in "aeiou" else "a"
    return f"{article} {adjective} {subject.word}"


def do_not(rng: random.Random) -> str:
    return rng.choice(["do not", "don't"])


# --------------------------------------------------------------------------
# Construction families.  Each returns a Pair: one positive and one negative
# sentence built from the same choices, plus the (noun, word) combinations it
# uses, which decide whether the pair may enter training.
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    family: str
    positive: str
    negative: str
    combinations: tuple[tuple[str, str], ...]


def adjective_swap(family: str, template: str, subject: Noun | None, good: str, bad: str, **slots: str) -> Pair:
    """The pair a template makes with slot a = good, b = bad (positive) and the other way round (negative).

    Its combinations are (subject, good) and (subject, bad); a sentence without a subject is about "it".
    """
    owner = subject.word if subject else "it"
    return Pair(
        family,
        fill(template, subject, a=good, b=bad, **slots),
        fill(template, subject, a=bad, b=good, **slots),
        ((owner, good), (owner, bad)),
    )


def pick_mild_positive(rng: random.Random) -> str:
    """A mild positive adjective; "okay" is the most common, as in real reviews."""
    return rng.choices(MILD_POSITIVES, weights=MILD_POSITIVE_WEIGHTS)[0]


def pick_adjectives(subject: Noun, rng: random.Random) -> tuple[str, str]:
    """An antonym pair for the noun: half the time a general one, favouring good/bad."""
    if rng.random() < 0.5:
        return rng.choices(GENERAL_PAIRS, weights=[4] + [1] * (len(GENERAL_PAIRS) - 1))[0]
    return rng.choice(specific_pairs(subject))


# ---- same words, opposite labels -------------------------------------------


def no_good_swap(rng):
    subject = rng.choice(NO_GOOD_NOUNS)
    np = noun_phrase(subject, rng)
    if subject.has("product") and rng.random() < 0.25:
        np = f"my new {subject.word}"
    negative, positive = rng.choice(
        [
            ("{np} {is} no good", "no, {np} {is} good"),
            ("{np} {was} no good", "no, {np} {was} good"),
            ("{np} {is} really no good", "no, {np} {is} really good"),
            ("honestly, {np} {is} no good", "no, honestly, {np} {is} good"),
            ("I think {np} {is} no good", "no, I think {np} {is} good"),
            ("trust me, {np} {is} no good", "no, trust me, {np} {is} good"),
            ("{np} {is} no good for me", "no, {np} {is} good for me"),
            ("to be honest, {np} {is} no good", "no, to be honest, {np} {is} good"),
        ]
    )
    return Pair(
        "no_good_swap", fill(positive, subject, np=np), fill(negative, subject, np=np), ((subject.word, "no-good"),)
    )


def no_sibling_swap(rng):
    kind = rng.choice(["problems", "problems", "better", "fun"])
    if kind == "problems":
        subject = rng.choice([n for n in NO_GOOD_NOUNS if n.has("functional") or n.has("battery")])
        trouble = rng.choice(["problems", "issues", "flaws", "defects"])
        np = noun_phrase(subject, rng)
        positive, negative = rng.choice(
            [
                ("{np} {has} no {trouble}", "no, {np} {has} {trouble}"),
                ("{np} {has} no {trouble} so far", "no, {np} {has} {trouble} so far"),
                ("honestly, {np} {has} no {trouble}", "no, honestly, {np} {has} {trouble}"),
            ]
        )
        slot = "no-" + trouble
    elif kind == "better":
        subject = rng.choice([n for n in NO_GOOD_NOUNS if n.has("product") or n.has("updatable")])
        if subject.has("product") and rng.random() < 0.5:
            np = f"the new {subject.word}"
            positive, negative = "no, {np} {is} better", "{np} {is} no better"
        else:
            np = noun_phrase(subject, rng)
            positive, negative = ("no, {np} {is} better after the update", "{np} {is} no better after the update")
        slot = "no-better"
    else:
        subject = rng.choice(FUN_NOUNS)
        np = noun_phrase(subject, rng)
        positive, negative = rng.choice(
            [
                ("no, {np} {is} fun to use", "{np} {is} no fun to use"),
                ("no, {np} {is} fun", "{np} {is} no fun"),
            ]
        )
        slot = "no-fun"
    words = dict(np=np, trouble=slot.removeprefix("no-"))
    return Pair(
        "no_sibling_swap", fill(positive, subject, **words), fill(negative, subject, **words), ((subject.word, slot),)
    )


def not_swap(rng):
    if rng.random() < 0.12:
        good, bad = rng.choice(GENERAL_PAIRS + QUALITY_PAIRS["speed"])
        template = rng.choice(["it is {a}, not {b}", "it's {a}, not {b}", "{a}, not {b}"])
        return adjective_swap("not_swap", template, None, good, bad)
    subject = rng.choice(NOUNS)
    good, bad = pick_adjectives(subject, rng)
    if rng.random() < 0.2:
        good, bad = pick_mild_positive(rng), rng.choice(NEGATIVES_FOR_MILD)
    np = noun_phrase(subject, rng, allow_bare=True)
    template = rng.choice(
        [
            "{np} {is} {a}, not {b}",
            "{np} {is} not {b}, {pron_is} {a}",
            "{np} {isnt} {b}, {pron_s} {a}",
            "{np} {is} not {b} but {a}",
            "{np} {is} actually {a}, not {b}",
            "{np} {was} {a}, not {b}",
            "{np} {was} not {b}, {pron_was} {a}",
        ]
    )
    return adjective_swap("not_swap", template, subject, good, bad, np=np)


def rather_swap(rng):
    choice = rng.random()
    if choice < 0.4:
        subject = rng.choice(NOUNS)
        good, bad = pick_adjectives(subject, rng)
        np = noun_phrase(subject, rng, allow_bare=True)
        template = "{np} {is} {a} rather than {b}"
        return adjective_swap("rather_swap", template, subject, good, bad, np=np)
    if choice < 0.75:
        subject = rng.choice(PRODUCTS)
        np = noun_phrase(subject, rng)
        would = rng.choice(["I would", "I'd"])
        template = "{would} rather {a} {np} than {b} {obj}"
        return Pair(
            "rather_swap",
            fill(template, subject, would=would, np=np, a="keep", b="return"),
            fill(template, subject, would=would, np=np, a="return", b="keep"),
            ((subject.word, "rather-keep"),),
        )
    subject = rng.choice(SINGULAR_PRODUCTS)
    would = rng.choice(["I would", "I'd"])
    positive = f"{would} rather use this {subject.word} than my old one"
    negative = f"{would} rather use my old {subject.word} than this one"
    return Pair("rather_swap", positive, negative, ((subject.word, "rather-use"),))


def better_than_swap(rng):
    subject = rng.choice(SINGULAR_PRODUCTS)
    word = subject.word
    positive, negative = rng.choice(
        [
            (f"this {word} is better than my old one", f"my old {word} is better than this one"),
            (f"this {word} is much better than my old one", f"my old {word} is much better than this one"),
            (f"the new {word} is better than the old one", f"the old {word} is better than the new one"),
            (f"my old {word} is worse than this one", f"this {word} is worse than my old one"),
            (f"the old {word} is far worse than the new one", f"the new {word} is far worse than the old one"),
            (f"the new {word} works better than the old one", f"the old {word} works better than the new one"),
        ]
    )
    return Pair("better_than_swap", positive, negative, ((word, "better-than"),))


def but_swap(rng):
    if rng.random() < 0.2:
        first, second = rng.sample(["price", "delivery", "seller", "support", "packaging", "design", "quality"], 2)
    else:
        product = rng.choice(PRODUCTS_WITH_PARTS)
        options = list(product.parts) + [product.word]
        first, second = rng.sample(options, 2)
    first_noun, second_noun = NOUNS_BY_WORD[first], NOUNS_BY_WORD[second]
    style = rng.random()
    if style < 0.45:
        shared = [pair for pair in adjective_pairs(first_noun) if pair in adjective_pairs(second_noun)]
        good, bad = rng.choice(shared)
        comma = rng.choice(["", ","])
        template = "the {x} {x_is} {a}" + comma + " but the {y} {y_is} {b}"
        slots = dict(x=first, y=second, x_is=fill("{is}", first_noun), y_is=fill("{is}", second_noun))
        positive = template.format(a=bad, b=good, **slots)
        negative = template.format(a=good, b=bad, **slots)
        combinations = ((first, good), (first, bad), (second, good), (second, bad))
    elif style < 0.85:
        first_good, _ = pick_adjectives(first_noun, rng)
        _, second_bad = pick_adjectives(second_noun, rng)
        praise = fill("the {x} {is} {a}", first_noun, x=first, a=first_good)
        complaint = fill("the {y} {is} {b}", second_noun, y=second, b=second_bad)
        joint = rng.choice([" but ", ", but "])
        positive = complaint + joint + praise
        negative = praise + joint + complaint
        combinations = ((first, first_good), (second, second_bad))
    else:
        product = rng.choice(PRODUCTS_WITH_PARTS)
        part = NOUNS_BY_WORD[rng.choice(product.parts)]
        good, bad = rng.choice(GENERAL_PAIRS)
        template = "the {x} {x_is} {a}, but overall the {y} {y_is} {b}"
        slots = dict(x=part.word, y=product.word, x_is=fill("{is}", part), y_is=fill("{is}", product))
        positive = template.format(a=bad, b=good, **slots)
        negative = template.format(a=good, b=bad, **slots)
        combinations = ((part.word, good), (part.word, bad), (product.word, good), (product.word, bad))
    return Pair("but_swap", positive, negative, combinations)


def used_to_swap(rng):
    if rng.random() < 0.1:
        good, bad = rng.choice(GENERAL_PAIRS + QUALITY_PAIRS["speed"] + QUALITY_PAIRS["software"])
        template = rng.choice(["it used to be {b}, now it is {a}", "it used to be {b} but now it's {a}"])
        return adjective_swap("used_to_swap", template, None, good, bad)
    subject = rng.choice(LASTING_NOUNS)
    good, bad = pick_adjectives(subject, rng)
    np = noun_phrase(subject, rng, allow_bare=True)
    templates = [
        "{np} used to be {b}, now {pron_is} {a}",
        "{np} used to be {b} but now {pron_s} {a}",
        "{np} used to be {b}, but now {pron_is} {a}",
        "{np} {is} {a} now, {pron} used to be {b}",
    ]
    if subject.has("updatable"):
        templates += [
            "{np} {was} {b} before the update, now {pron_is} {a}",
            "before the update {np} {was} {b}, now {pron_is} {a}",
        ]
    template = rng.choice(templates)
    return adjective_swap("used_to_swap", template, subject, good, bad, np=np)


FEELING_PAIRS = [("loved", "hated"), ("liked", "disliked")]


def at_first_swap(rng):
    if rng.random() < 0.45:
        if rng.random() < 0.1:
            subject, np = None, "it"
            owner = "it"
        else:
            subject = rng.choice(nouns_tagged("likeable"))
            np = noun_phrase(subject, rng)
            owner = subject.word
        loved, hated = rng.choice(FEELING_PAIRS)
        template = rng.choice(
            [
                "at first I {b} {np}, then I {a} {obj}",
                "I {b} {np} at first, but then I {a} {obj}",
                "at first I {b} {np}, but after a week I {a} {obj}",
            ]
        )
        return Pair(
            "at_first_swap",
            fill(template, subject, np=np, a=loved, b=hated),
            fill(template, subject, np=np, a=hated, b=loved),
            ((owner, "feelings-" + loved),),
        )
    subject = rng.choice(LASTING_NOUNS)
    good, bad = pick_adjectives(subject, rng)
    np = noun_phrase(subject, rng)
    template = rng.choice(
        [
            "at first I thought {np} {was} {b}, then I realized {pron_was} {a}",
            "at first {np} seemed {b}, but after a while {pron} seemed {a}",
            "at first {np} {was} {b}, but now {pron_is} {a}",
        ]
    )
    return adjective_swap("at_first_swap", template, subject, good, bad, np=np)


def love_hate_swap(rng):
    subject = rng.choice(nouns_tagged("likeable"))
    np = noun_phrase(subject, rng)
    dont = do_not(rng)
    template = rng.choice(
        [
            "I {dont} {b} {np}, I {a} {obj}",
            "I {dont} {b} {np} at all, I {a} {obj}",
            "I {a} {np}, I {dont} {b} {obj}",
        ]
    )
    return Pair(
        "love_hate_swap",
        fill(template, subject, np=np, dont=dont, a="love", b="hate"),
        fill(template, subject, np=np, dont=dont, a="hate", b="love"),
        ((subject.word, "love-hate"),),
    )


def always_never_swap(rng):
    if rng.random() < 0.08:
        template = rng.choice(["it never {b}, it always {a}", "it always {a} and never {b}"])
        return Pair(
            "always_never_swap",
            fill(template, a="works", b="fails"),
            fill(template, a="fails", b="works"),
            (("it", "always-never"),),
        )
    subject = rng.choice(nouns_tagged("functional"))
    np = noun_phrase(subject, rng)
    if subject.has("crashy") and rng.random() < 0.3:
        positive = fill("{np} never crash* and always load* quickly", subject, np=np)
        negative = fill("{np} always crash* and never load* quickly", subject, np=np)
        return Pair("always_never_swap", positive, negative, ((subject.word, "crash-load"),))
    template = rng.choice(
        [
            "{np} always {a}* and never {b}*",
            "{np} never {b}*, {pron} always {a}*",
            "{np} never {b}*; {pron} always {a}*",
        ]
    )
    return Pair(
        "always_never_swap",
        fill(template, subject, np=np, a="work", b="fail"),
        fill(template, subject, np=np, a="fail", b="work"),
        ((subject.word, "always-never"),),
    )


def nothing_all_swap(rng):
    subject = rng.choice(NOUNS)
    good, bad = rng.choice(GENERAL_PAIRS[:3])
    np = noun_phrase(subject, rng)
    template = rng.choice(
        [
            "nothing about {np} is {b}, it is all {a}",
            "everything about {np} is {a}, nothing is {b}",
            "nothing is {b} about {np}, everything is {a}",
        ]
    )
    return adjective_swap("nothing_all_swap", template, subject, good, bad, np=np)


# ---- mirrored sentences (different words, opposite labels) ---------------


def capitalised(word: str) -> str:
    return word[0].upper() + word[1:]


def simple_mirror(rng):
    """Short everyday verdicts: "this tablet is good", "delivery was awful"."""
    subject = rng.choice(NOUNS)
    good, bad = rng.choices(GENERAL_PAIRS, weights=[4] + [1] * (len(GENERAL_PAIRS) - 1))[0]
    if rng.random() < 0.3:
        good = pick_mild_positive(rng)
    if "this" in subject.determiners and rng.random() < 0.5:
        np = f"{'these' if subject.plural else 'this'} {subject.word}"
    else:
        np = noun_phrase(subject, rng, allow_bare=True)
    template = rng.choice(["{np} {is} {adj}", "{np} {is} {adj}", "{np} {was} {adj}"])
    return Pair(
        "simple_mirror",
        fill(template, subject, np=np, adj=good),
        fill(template, subject, np=np, adj=bad),
        ((subject.word, good), (subject.word, bad)),
    )


def plain_mirror(rng):
    style = rng.random()
    if style < 0.15:
        first, second = rng.sample(EXCLAIMABLE_NOUNS, 2)
        first_good, first_bad = pick_adjectives(first, rng)
        second_good, second_bad = pick_adjectives(second, rng)
        template = rng.choice(["{a} {x}, {b} {y}!", "{a} {x} and {b} {y}!", "{a} {x}, {b} {y}"])
        positive = template.format(a=capitalised(first_good), b=second_good, x=first.word, y=second.word)
        negative = template.format(a=capitalised(first_bad), b=second_bad, x=first.word, y=second.word)
        combinations = (
            (first.word, first_good),
            (first.word, first_bad),
            (second.word, second_good),
            (second.word, second_bad),
        )
        return Pair("plain_mirror", positive, negative, combinations)

    if style < 0.3:
        subject = rng.choice(EXCLAIMABLE_NOUNS)
        good, bad = pick_adjectives(subject, rng)
        exclaim = rng.choice(
            [
                lambda adjective: f"What {with_article(adjective, subject)}!",
                lambda adjective: f"Such {with_article(adjective, subject)}!",
                lambda adjective: f"Really {adjective} {subject.word}!",
            ]
        )
        return Pair("plain_mirror", exclaim(good), exclaim(bad), ((subject.word, good), (subject.word, bad)))

    if style < 0.45:
        product = rng.choice(PRODUCTS_WITH_PARTS)
        part = NOUNS_BY_WORD[rng.choice(product.parts)]
        good, bad = pick_adjectives(part, rng)
        owner = rng.choice(["these" if product.plural else "this", "my"])
        if rng.random() < 0.5:
            template, subject = "the {part} on {owner} {product} {is} {adj}", part
        else:
            template, subject = "{owner} {product} {has} {described_part}", product
        positive, negative = (
            fill(
                template,
                subject,
                part=part.word,
                owner=owner,
                product=product.word,
                adj=adjective,
                described_part=with_article(adjective, part),
            )
            for adjective in (good, bad)
        )
        return Pair("plain_mirror", positive, negative, ((part.word, good), (part.word, bad)))

    subject = rng.choice(NOUNS)
    good, bad = pick_adjectives(subject, rng)
    np = noun_phrase(subject, rng, allow_bare=True)
    templates = ["{np} {is} {adj}"] * 4 + ["{np} {was} {adj}", "honestly {np} {is} {adj}"]
    if rng.random() < 0.25:
        good = pick_mild_positive(rng)
    else:
        templates += ["{np} {is} really {adj}", "{np} {is} very {adj}", "{np} {was} so {adj}"]
    template = rng.choice(templates)
    return Pair(
        "plain_mirror",
        fill(template, subject, np=np, adj=good),
        fill(template, subject, np=np, adj=bad),
        ((subject.word, good), (subject.word, bad)),
    )


def like_mirror(rng):
    subject = rng.choice(nouns_tagged("likeable") + nouns_tagged("personable"))
    np = noun_phrase(subject, rng)
    dont = do_not(rng)
    options = [
        ("I like {np}", "I {dont} like {np}"),
        ("I like {np}", "I dislike {np}"),
        ("I love {np}", "I hate {np}"),
        ("I really like {np}", "I really dislike {np}"),
        ("I like {np} a lot", "I {dont} like {np} at all"),
        ("Love {np}!", "Hate {np}!"),
        ("I would not change anything about {np}", "I would change everything about {np}"),
        ("I {dont} regret choosing {np}", "I regret choosing {np}"),
    ]
    if subject.has("product"):
        options += [
            ("I {dont} regret buying {np}", "I regret buying {np}"),
            ("I {dont} want to return {np}", "I want to return {np}"),
            ("I {dont} know how I lived without {np}", "I {dont} know why I bought {np}"),
            ("I love my new {w}", "I hate my new {w}"),
            ("I enjoy using {np}", "I regret buying {np}"),
            ("I would buy {np} again", "I would never buy {np} again"),
        ]
    simplest = options[:2]
    positive, negative = rng.choice(simplest if rng.random() < 0.35 else options)
    return Pair(
        "like_mirror",
        fill(positive, subject, np=np, dont=dont, w=subject.word),
        fill(negative, subject, np=np, dont=dont, w=subject.word),
        ((subject.word, "like"),),
    )


def negation_mirror(rng):
    subject = rng.choice(NOUNS)
    good, bad = pick_adjectives(subject, rng)
    if rng.random() < 0.45:
        good = pick_mild_positive(rng)
        bad = rng.choice(NEGATIVES_FOR_MILD + ["bad"])
    np = noun_phrase(subject, rng, allow_bare=True)
    template = rng.choice(
        [
            "{np} {is} not {adj}",
            "{np} {isnt} {adj}",
            "{np} {was} not {adj}",
            "{np} {is} not {adj} at all",
            "I think {np} {is} not {adj}",
        ]
    )
    return Pair(
        "negation_mirror",
        fill(template, subject, np=np, adj=bad),
        fill(template, subject, np=np, adj=good),
        ((subject.word, good), (subject.word, bad)),
    )


def no_answer_mirror(rng):
    subject = rng.choice(NO_GOOD_NOUNS)
    good, bad = pick_adjectives(subject, rng)
    if rng.random() < 0.3:
        good, bad = pick_mild_positive(rng), rng.choice(NEGATIVES_FOR_MILD)
    np = noun_phrase(subject, rng)
    positive, negative = rng.choice(
        [
            ("no, {np} {is} {a}", "no, {np} {is} {b}"),
            ("no, {np} {is} not {b}", "no, {np} {is} not {a}"),
            ("no, {np} {isnt} {b}", "no, {np} {isnt} {a}"),
            ("no, honestly, {np} {is} {a}", "no, honestly, {np} {is} {b}"),
            ("no, {np} {was} really {a}", "no, {np} {was} really {b}"),
            ("no, {np} {is} not {b}, {pron_s} {a}", "no, {np} {is} not {a}, {pron_s} {b}"),
        ]
    )
    return Pair(
        "no_answer_mirror",
        fill(positive, subject, np=np, a=good, b=bad),
        fill(negative, subject, np=np, a=good, b=bad),
        ((subject.word, good), (subject.word, bad)),
    )


def behaviour_mirror(rng):
    tag = rng.choice(["functional", "functional", "electronic", "crashy", "battery", "staff", "shipment", "update"])
    subject = rng.choice(nouns_tagged(tag))
    index = rng.randrange(len(BEHAVIOURS[tag]))
    good, bad = BEHAVIOURS[tag][index]
    np = noun_phrase(subject, rng, allow_bare=True)
    positive = fill("{np} " + good, subject, np=np)
    negative = fill("{np} " + bad, subject, np=np)
    return Pair("behaviour_mirror", positive, negative, ((subject.word, f"{tag}-behaviour-{index}"),))


def nothing_mirror(rng):
    subject = rng.choice(NOUNS)
    np = noun_phrase(subject, rng)
    options = [
        ("there is nothing wrong with {np}", "there is something wrong with {np}"),
        ("I have nothing bad to say about {np}", "I have nothing good to say about {np}"),
        ("I have no complaints about {np}", "I have nothing but complaints about {np}"),
        ("I had no problems with {np}", "I had nothing but problems with {np}"),
        ("I {dont} have any complaints about {np}", "I have many complaints about {np}"),
    ]
    slot = "nothing"
    if rng.random() < 0.4:
        good, bad = pick_adjectives(subject, rng)
        options = [
            ("nothing about {np} is {b}", "nothing about {np} is {a}"),
            ("I found nothing {b} about {np}", "I found nothing {a} about {np}"),
        ]
        slot = good
    elif subject.has("product"):
        options.append(("nothing beats {np}", "nothing works on {np}"))
    positive, negative = rng.choice(options)
    slots = dict(np=np, dont=do_not(rng))
    if slot != "nothing":
        slots.update(a=good, b=bad)
    combinations = ((subject.word, slot),) if slot == "nothing" else ((subject.word, good), (subject.word, bad))
    return Pair("nothing_mirror", fill(positive, subject, **slots), fill(negative, subject, **slots), combinations)


def because_mirror(rng):
    product = rng.choice(PRODUCTS_WITH_PARTS)
    part = NOUNS_BY_WORD[rng.choice(product.parts)]
    part_np = part.word if rng.random() < 0.25 else f"the {part.word}"
    this = "these" if product.plural else "this"
    opening = {
        "like": f"I like {this} {product.word}",
        "love": f"I love {this} {product.word}",
        "dislike": f"I {do_not(rng)} like {this} {product.word}",
        "regret": f"I regret buying {this} {product.word}",
        "no-regret": f"I {do_not(rng)} regret buying {this} {product.word}",
    }
    functions = PART_FUNCTIONS.get(part.word)
    if functions and rng.random() < 0.55:
        verb, complement = rng.choice(functions)
        working = f"{present_participle(verb)} {complement}"
        works = f"{third_person(verb, part.plural)} {complement}"
        positive, negative = rng.choice(
            [
                ("{like} because {part} {works}", "{dislike} because {part} {is} not {working}"),
                ("{like} because {part} always {works}", "{dislike} because {part} {is} not {working}"),
                ("{no_regret} because {part} {works}", "{regret} because {part} {is} not {working}"),
                ("{love} because {part} {works} every time", "{dislike} because {part} {isnt} {working}"),
            ]
        )
        slots = dict(works=works, working=working)
        combinations = ((product.word, "because"), (part.word, "function"))
    else:
        good, bad = pick_adjectives(part, rng)
        positive, negative = rng.choice(
            [
                ("{like} because {part} {is} {a}", "{dislike} because {part} {is} {b}"),
                ("{like} because {part} {is} not {b}", "{dislike} because {part} {is} not {a}"),
                ("{no_regret} because {part} {is} not {b}", "{dislike} because {part} {is} not {a}"),
                ("{love} because {part} {is} so {a}", "{regret} because {part} {is} so {b}"),
            ]
        )
        slots = dict(a=good, b=bad)
        combinations = ((product.word, "because"), (part.word, good), (part.word, bad))
    slots.update(
        part=part_np,
        like=opening["like"],
        love=opening["love"],
        dislike=opening["dislike"],
        regret=opening["regret"],
        no_regret=opening["no-regret"],
    )
    return Pair("because_mirror", fill(positive, part, **slots), fill(negative, part, **slots), combinations)


def opinion_mirror(rng):
    subject = rng.choice(NOUNS)
    np = noun_phrase(subject, rng)
    options = [
        ("I am happy with {np}", "I am not happy with {np}"),
        ("I'm satisfied with {np}", "I'm not satisfied with {np}"),
        ("I was not disappointed by {np}", "I was disappointed by {np}"),
        ("I could not be happier with {np}", "I could not be more disappointed with {np}"),
        ("I was impressed by {np}", "I was not impressed by {np}"),
        ("{np} exceeded my expectations", "{np} did not meet my expectations"),
    ]
    if subject.has("product") or subject.word in ("app", "seller"):
        options += [
            ("I would recommend {np}", "I would not recommend {np}"),
            ("I'd recommend {np} to anyone", "I would never recommend {np} to anyone"),
            ("{np} {is} worth the money", "{np} {is} not worth the money"),
            ("{np} {is} worth every penny", "{np} {is} a waste of money"),
        ]
    positive, negative = rng.choice(options)
    return Pair(
        "opinion_mirror", fill(positive, subject, np=np), fill(negative, subject, np=np), ((subject.word, "opinion"),)
    )


def change_mirror(rng):
    subject = rng.choice(nouns_tagged("updatable"))
    np = noun_phrase(subject, rng, allow_bare=True)
    if rng.random() < 0.5:
        good, bad = pick_adjectives(subject, rng)
        template = rng.choice(
            [
                "after the update {np} became {adj}",
                "since the update {np} {is} {adj}",
                "{np} {is} {adj} after the latest update",
            ]
        )
        return Pair(
            "change_mirror",
            fill(template, subject, np=np, adj=good),
            fill(template, subject, np=np, adj=bad),
            ((subject.word, good), (subject.word, bad)),
        )
    positive, negative = rng.choice(
        [
            ("{np} {is} getting better every week", "{np} {is} getting worse every week"),
            ("{np} {is} much better since the update", "{np} {is} much worse since the update"),
            ("{np} {has} improved a lot", "{np} {has} gotten much worse"),
        ]
    )
    return Pair(
        "change_mirror", fill(positive, subject, np=np), fill(negative, subject, np=np), ((subject.word, "change"),)
    )


@dataclass(frozen=True)
class Family:
    make: Callable[[random.Random], Pair]
    training_pairs: int
    same_words: bool  # both sentences of every pair share one bag of words


FAMILIES = [
    Family(no_good_swap, 150, True),
    Family(no_sibling_swap, 80, True),
    Family(not_swap, 140, True),
    Family(rather_swap, 60, True),
    Family(better_than_swap, 50, True),
    Family(but_swap, 120, True),
    Family(used_to_swap, 115, True),
    Family(at_first_swap, 100, True),
    Family(love_hate_swap, 40, True),
    Family(always_never_swap, 60, True),
    Family(nothing_all_swap, 50, True),
    Family(simple_mirror, 120, False),
    Family(plain_mirror, 200, False),
    Family(like_mirror, 100, False),
    Family(negation_mirror, 180, False),
    Family(no_answer_mirror, 100, False),
    Family(behaviour_mirror, 90, False),
    Family(nothing_mirror, 45, False),
    Family(because_mirror, 95, False),
    Family(opinion_mirror, 60, False),
    Family(change_mirror, 40, False),
]
EVALUATION_POOL_PER_FAMILY = 60
ATTEMPTS_PER_FAMILY = 6000


# --------------------------------------------------------------------------
# Normalisation, surface style and the split
# --------------------------------------------------------------------------

DETERMINERS = {"the", "this", "these", "my", "a", "an"}


def word_tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower())


def sentence_key(text: str) -> str:
    """Lowercased words without punctuation: two texts with equal keys count as the same sentence.

    This is stricter than comparing texts with punctuation split off as
    tokens, so distinct keys also mean distinct sentences in that sense.
    """
    return " ".join(word_tokens(text))


def without_determiners(text: str) -> str:
    return " ".join(token for token in word_tokens(text) if token not in DETERMINERS)


PROBE_SHAPES = {without_determiners(text) for text, _ in PROBES}


def resembles_probe(text: str) -> bool:
    return without_determiners(text) in PROBE_SHAPES


def is_reserved(combination: tuple[str, str]) -> bool:
    """Whether a (noun, word) combination is kept out of training.

    Probe nouns are never reserved: the probes themselves test them.
    """
    if combination[0] in PROBE_NOUNS:
        return False
    digest = hashlib.sha256(f"{SEED}|{combination[0]}|{combination[1]}".encode()).hexdigest()
    return int(digest[:8], 16) % 1000 < HELDOUT_SHARE_PER_MILLE


def write_casually(text: str, rng: random.Random) -> str:
    """Vary capitalisation and punctuation the way people type reviews.

    Many people skip commas ("no the tablet is good"), so some sentences lose them.
    """
    if rng.random() < 0.3:
        text = " ".join(re.sub(r"[,;]", " ", text).split())
    roll = rng.random()
    if roll < 0.55:
        text = text[0].upper() + text[1:]
    elif roll < 0.85:
        text = text.lower()
    if text.endswith("!"):
        return text
    return text + rng.choice([".", ".", ".", "!", "", ""])


@dataclass
class FamilyDraw:
    family: Family
    training: list[Pair]
    evaluation: list[Pair]


def draw_family(family: Family, rng: random.Random, used_keys: set[str]) -> FamilyDraw:
    draw = FamilyDraw(family, [], [])
    for _ in range(ATTEMPTS_PER_FAMILY):
        if len(draw.training) >= family.training_pairs and len(draw.evaluation) >= EVALUATION_POOL_PER_FAMILY:
            break
        pair = family.make(rng)
        keys = (sentence_key(pair.positive), sentence_key(pair.negative))
        if keys[0] == keys[1] or any(key in used_keys for key in keys):
            continue
        if resembles_probe(pair.positive) or resembles_probe(pair.negative):
            continue
        reserved = any(is_reserved(combination) for combination in pair.combinations)
        bucket = draw.evaluation if reserved else draw.training
        limit = EVALUATION_POOL_PER_FAMILY if reserved else family.training_pairs
        if len(bucket) >= limit:
            continue
        used_keys.update(keys)
        bucket.append(
            Pair(pair.family, write_casually(pair.positive, rng), write_casually(pair.negative, rng), pair.combinations)
        )
    assert len(draw.training) == family.training_pairs, (family.make.__name__, len(draw.training))
    return draw


def take_round_robin(pools: list[list[Pair]], count: int) -> list[Pair]:
    taken: list[Pair] = []
    while len(taken) < count and any(pools):
        for pool in pools:
            if pool and len(taken) < count:
                taken.append(pool.pop(0))
    return taken


def labelled_rows(pairs: list[Pair]) -> list[tuple[str, int]]:
    return [row for pair in pairs for row in ((pair.positive, 1), (pair.negative, 0))]


def build_corpus(rng: random.Random):
    used_keys: set[str] = set()
    draws = [draw_family(family, rng, used_keys) for family in FAMILIES]

    contrast = take_round_robin([d.evaluation for d in draws if d.family.same_words], CONTRAST_PAIR_COUNT)
    heldout_pairs = take_round_robin([d.evaluation for d in draws], HELDOUT_PAIR_COUNT)

    reviews = labelled_rows([pair for d in draws for pair in d.training])
    heldout = labelled_rows(heldout_pairs)
    rng.shuffle(reviews)
    rng.shuffle(heldout)

    contrast_rows = []
    for pair_id, pair in enumerate(contrast, start=1):
        members = [(pair.positive, 1), (pair.negative, 0)]
        rng.shuffle(members)
        contrast_rows.extend((pair_id, without_punctuation(text), label) for text, label in members)
    return reviews, heldout, contrast_rows, draws


ASCII_PUNCTUATION_BUT_APOSTROPHE = re.compile(r"""[!"#$%&()*+,\-./:;<=>?@\[\\\]^_`{|}~]""")


def without_punctuation(text: str) -> str:
    """Drop ASCII punctuation (apostrophes stay), as the lecture writes "No this phone is good".

    The tool's tokenizer makes each punctuation mark a token, so a comma in only
    one sentence of a pair would give the two different bags of words; without
    punctuation the pair's bags are identical, token for token.
    """
    return " ".join(ASCII_PUNCTUATION_BUT_APOSTROPHE.sub(" ", text).split())


# --------------------------------------------------------------------------
# Invariants and output
# --------------------------------------------------------------------------


def check_invariants(reviews, heldout, contrast_rows):
    for name, rows in (("reviews", reviews), ("heldout", heldout)):
        labels = [label for _, label in rows]
        assert labels.count(1) == labels.count(0), f"{name} is not balanced"
        keys = [sentence_key(text) for text, _ in rows]
        assert len(set(keys)) == len(keys), f"{name} has duplicate sentences"
    assert 3000 <= len(reviews) <= 4000, len(reviews)
    assert 200 <= len(heldout) <= 400, len(heldout)

    review_keys = {sentence_key(text) for text, _ in reviews}
    heldout_keys = {sentence_key(text) for text, _ in heldout}
    contrast_keys = {sentence_key(text) for _, text, _ in contrast_rows}
    assert not review_keys & heldout_keys, "heldout overlaps reviews"
    assert not review_keys & contrast_keys, "contrast pairs overlap reviews"
    assert not heldout_keys & contrast_keys, "contrast pairs overlap heldout"
    assert len(contrast_keys) == len(contrast_rows), "contrast pairs repeat a sentence"

    all_texts = [text for text, _ in reviews + heldout] + [text for _, text, _ in contrast_rows]
    assert not any(resembles_probe(text) for text in all_texts), "a probe sentence leaked"
    assert not {sentence_key(text) for text in SEED_EXAMPLE} & contrast_keys

    members_by_pair: dict[int, list[tuple[str, int]]] = {}
    for pair_id, text, label in contrast_rows:
        members_by_pair.setdefault(pair_id, []).append((text, label))
    assert len(members_by_pair) >= 120, len(members_by_pair)
    for pair_id, members in members_by_pair.items():
        assert len(members) == 2, pair_id
        (first, first_label), (second, second_label) = members
        assert {first_label, second_label} == {0, 1}, pair_id
        assert sorted(word_tokens(first)) == sorted(word_tokens(second)), (first, second)
        assert sorted(first.lower().split()) == sorted(second.lower().split()), (first, second)
        assert not ASCII_PUNCTUATION_BUT_APOSTROPHE.search(first + second), (first, second)

    training_vocabulary = {token for text, _ in reviews for token in word_tokens(text)}
    for text in [text for _, text, _ in contrast_rows] + [text for text, _ in heldout]:
        unknown = set(word_tokens(text)) - training_vocabulary
        assert not unknown, (text, unknown)

    for text in all_texts:
        assert MIN_WORDS <= len(word_tokens(text)) <= MAX_WORDS, text

    for word, share in positive_share_of_words(reviews).items():
        assert 0.3 <= share <= 0.7, f"'{word}' is too one-sided: {share:.2f} positive"


def positive_share_of_words(rows) -> dict[str, float]:
    shares = {}
    for word in ORDER_SENSITIVE_WORDS:
        labels = [label for text, label in rows if word in word_tokens(text)]
        shares[word] = sum(labels) / len(labels)
    return shares


def write_csv(path: Path, header: list[str], rows) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def print_summary(reviews, heldout, contrast_rows, draws) -> None:
    def balance(rows):
        positives = sum(label for *_, label in rows)
        return f"{len(rows)} rows, {positives} positive / {len(rows) - positives} negative"

    print(f"{REVIEWS_PATH.name}: {balance(reviews)}")
    print(f"{HELDOUT_PATH.name}: {balance(heldout)}")
    print(f"{CONTRAST_PATH.name}: {len(contrast_rows) // 2} pairs, {balance(contrast_rows)}")
    print("training pairs per family: " + ", ".join(f"{d.family.make.__name__}={len(d.training)}" for d in draws))
    print(
        "share of positive reviews containing: "
        + ", ".join(f"{word} {share:.2f}" for word, share in positive_share_of_words(reviews).items())
    )
    print(f"seed example (kept out of every file): {SEED_EXAMPLE[0]!r} (1) / {SEED_EXAMPLE[1]!r} (0)")


def main() -> None:
    rng = random.Random(SEED)
    reviews, heldout, contrast_rows, draws = build_corpus(rng)
    check_invariants(reviews, heldout, contrast_rows)
    write_csv(REVIEWS_PATH, ["text", "label"], reviews)
    write_csv(HELDOUT_PATH, ["text", "label"], heldout)
    write_csv(CONTRAST_PATH, ["pair_id", "text", "label"], contrast_rows)
    print_summary(reviews, heldout, contrast_rows, draws)


if __name__ == "__main__":
    main()
