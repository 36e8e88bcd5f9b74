import random
import re

import pytest

from paco.speech.sentences import SentenceSplitter, clean_markdown


def split_whole(text, **kw):
    s = SentenceSplitter(**kw)
    return s.feed(text) + s.flush()


def split_pieces(text, sizes, **kw):
    s = SentenceSplitter(**kw)
    out, i = [], 0
    while i < len(text):
        n = next(sizes)
        out += s.feed(text[i:i + n])
        i += n
    return out + s.flush()


@pytest.mark.parametrize("text, expected", [
    ("Hello there. How are you? Fine!", ["Hello there.", "How are you?", "Fine!"]),
    ("I have P.A.D. and it hurts.", ["I have P.A.D. and it hurts."]),
    ("I have P.A.D. It hurts.", ["I have P.A.D.", "It hurts."]),
    ("PAD is common. It affects the legs.", ["PAD is common.", "It affects the legs."]),
    ("Dr. Smith and Mr. Jones met Mrs. Lee.", ["Dr. Smith and Mr. Jones met Mrs. Lee."]),
    ("Eat well, e.g. fruit, i.e. healthy food. Walk.", ["Eat well, e.g. fruit, i.e. healthy food.", "Walk."]),
    ("Statins vs. aspirin. In the U.S. Most people walk.", ["Statins vs. aspirin.", "In the U.S. Most people walk."]),
    ("Take it at 8 a.m. Then rest.", ["Take it at 8 a.m.", "Then rest."]),
    ("Take it at 8 a.m. and 8 p.m. daily.", ["Take it at 8 a.m. and 8 p.m. daily."]),
    ("Fruit, nuts, etc. are good. Beans, etc. Then walk.", ["Fruit, nuts, etc. are good.", "Beans, etc.", "Then walk."]),  # noqa: E501
    ("See No. 5 on the list.", ["See No. 5 on the list."]),
    ("No. You should not stop it.", ["No.", "You should not stop it."]),
    ("Take 2.5 mg daily. Or 1.5 tablets.", ["Take 2.5 mg daily.", "Or 1.5 tablets."]),
    ("Call 1-800-QUIT-NOW. It is free.", ["Call 1-800-QUIT-NOW.", "It is free."]),
    ("Well... maybe. Or not.", ["Well... maybe.", "Or not."]),
    ("See https://www.cdc.gov/pad/index.html for more. Thanks.",
     ["See https://www.cdc.gov/pad/index.html for more.", "Thanks."]),
    ("Write to help.desk@example.org. We answer.", ["Write to help.desk@example.org.", "We answer."]),
    ('He said "stop." Then he left. (Really.) Yes?! Ok.',
     ['He said "stop."', "Then he left.", "(Really.)", "Yes?!", "Ok."]),
    ("John F. Kennedy spoke.", ["John F. Kennedy spoke."]),
    ("Line one\nLine two\n\nParagraph three", ["Line one", "Line two", "Paragraph three"]),
    ("Vitamin D. is not it", ["Vitamin D. is not it"]),
])
def test_examples(text, expected):
    assert split_whole(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("## Your medicines\n\n1. **Cilostazol** helps you walk.\n2. Take it twice a day.",
     ["Your medicines", "Cilostazol helps you walk.", "Take it twice a day."]),
    ("- Do not stop.\n* Ask your doctor.\n+ Walk.\n> Quote here.",
     ["Do not stop.", "Ask your doctor.", "Walk.", "Quote here."]),
    ("**Never stop your medicine.** Talk to us first.", ["Never stop your medicine.", "Talk to us first."]),
    ("Use `snake_case` and _italic_ words.", ["Use snake_case and italic words."]),
    ("Read [the guide](https://example.org/guide). Done.", ["Read the guide.", "Done."]),
    ("Intro:\n\n---\n\n1.\nWalk daily.", ["Intro:", "Walk daily."]),
    ("Step 1. Walk daily.", ["Step 1.", "Walk daily."]),
    ("# Title\n#hashtag stays", ["Title", "#hashtag stays"]),
    ("-5 degrees is cold.", ["-5 degrees is cold."]),
])
def test_markdown_is_not_spoken(text, expected):
    assert split_whole(text) == expected


def test_sentence_is_emitted_as_soon_as_the_whitespace_after_it_arrives():
    s = SentenceSplitter()
    assert s.feed("Take your pills") == []
    assert s.feed(" daily.") == []          # could still be "daily.com" or "daily..."
    assert s.feed(" ") == ["Take your pills daily."]
    assert s.feed("Walk") == []
    assert s.feed("!\n") == ["Walk!"]
    assert s.feed("Dr.") == []
    assert s.feed(" Smith said so.") == []
    assert s.feed("\n") == ["Dr. Smith said so."]
    assert s.flush() == []


def test_ambiguous_abbreviation_waits_for_one_more_character_only():
    s = SentenceSplitter()
    assert s.feed("Take it at 8 a.m. ") == []
    assert s.feed("T") == ["Take it at 8 a.m."]
    assert s.feed("hen rest.") == []
    assert s.flush() == ["Then rest."]


def test_short_fragments_are_not_emitted_alone():
    assert split_whole("1.\n\nWalk every day.") == ["Walk every day."]
    assert split_whole("Walk.\n42.\n") == ["Walk."]
    assert split_whole("100%.\nThat is the goal.") == ["100%. That is the goal."]
    assert split_whole("Ok. Take it daily. Yes.", min_chars=5) == ["Ok. Take it daily.", "Yes."]
    assert split_whole("---\n***\n```") == []


def test_flush_resets_and_empty_input():
    s = SentenceSplitter()
    assert s.flush() == []
    assert s.feed("One. Two") == ["One."]
    assert s.flush() == ["Two"]
    assert s.feed("Three. ") == ["Three."]
    assert s.flush() == []


def test_clean_markdown():
    assert clean_markdown("  1. **Bold**  and *it*  ") == "Bold and it"
    assert clean_markdown("### Heading") == "Heading"
    assert clean_markdown("file_name_here") == "file_name_here"


# --- property tests -------------------------------------------------------------------------

FRAGMENTS = [
    "Peripheral artery disease, or P.A.D., narrows the arteries in your legs.",
    "I have P.A.D. It hurts when I walk.",
    "PAD is common after 60!",
    "Dr. Patel said to take cilostazol 100 mg twice a day.",
    "Take 2.5 mg of rivaroxaban, e.g. with breakfast.",
    "Do you smoke?",
    "Call 1-800-QUIT-NOW for free help.",
    "Well... it takes time.",
    "Visit https://www.cdc.gov/heart-disease/index.html today.",
    "Email the team at care.team@example.org.",
    'Your doctor may say "walk more."',
    "Statins lower cholesterol (LDL).",
    "In the U.S. Most people with P.A.D. are older.",
    "Take it at 8 a.m. Then take it again at 8 p.m.",
    "No. Do not stop clopidogrel on your own.",
    "See No. 3 on your list.",
    "**Never skip a dose.**",
    "Ask about atorvastatin, rosuvastatin, etc. and side effects.",
    "Mrs. Lee walks 30 minutes, 3-4 times a week.",
    "Blood pressure should be under 130/80 mmHg.",
]
SEPARATORS = [" ", "  ", "\n", "\n\n", "\n- ", "\n* ", "\n1. ", "\n2) ", "\n## ", " \n"]
_MARKER = re.compile(r"^\s*(?:#+|[-*+]|\d+[.)])\s+", re.MULTILINE)


def words(text):
    return re.findall(r"[A-Za-z0-9]+", _MARKER.sub("", text))


def random_text(rng):
    parts = [rng.choice(FRAGMENTS)]
    for _ in range(rng.randint(0, 12)):
        parts.append(rng.choice(SEPARATORS))
        parts.append(rng.choice(FRAGMENTS))
    return "".join(parts) + rng.choice(["", " ", "\n"])


def piece_sizes(rng, style):
    while True:
        if style == "chars":
            yield 1
        elif style == "tokens":
            yield rng.randint(1, 6)
        else:
            yield rng.randint(1, 80)


@pytest.mark.parametrize("seed", range(8))
def test_any_chunking_gives_the_same_sentences_and_keeps_every_word(seed):
    rng = random.Random(seed)
    for _ in range(40):
        text = random_text(rng)
        whole = split_whole(text)
        for style in ("chars", "tokens", "big"):
            assert split_pieces(text, piece_sizes(rng, style)) == whole, text
        assert words(" ".join(whole)) == words(text), text
        assert all(s and s == s.strip() and "\n" not in s for s in whole)
        assert not any(s.startswith(("- ", "* ", "#")) or "**" in s for s in whole)


def test_every_fragment_alone_is_one_sentence_except_the_two_sentence_ones():
    two = {FRAGMENTS[1], FRAGMENTS[13], FRAGMENTS[14]}  # "U.S." never ends one
    for fragment in FRAGMENTS:
        assert len(split_whole(fragment)) == (2 if fragment in two else 1), fragment


def test_long_stream_is_linear():
    text = " ".join(FRAGMENTS) * 50  # ~50k characters, one character at a time
    s = SentenceSplitter()
    out = []
    for ch in text:
        out += s.feed(ch)
    out += s.flush()
    assert len(out) > 1000


# ------------------------------------------------------------------ over-long sentences

LONG = ("Walking is one of the best things you can do for your legs, and if you walk until the "
        "pain is moderate and then rest until it goes away before you walk again, you will find "
        "that over a few weeks you can go much farther than you could before.")


def test_long_sentence_is_cut_at_a_comma_or_conjunction():
    parts = split_whole(LONG)
    assert len(parts) > 1
    assert all(len(p) <= 160 for p in parts), parts
    assert " ".join(parts) == LONG  # nothing lost, nothing added
    assert all(p.endswith((",", ".")) for p in parts), parts  # cut after the commas


def test_long_sentence_cut_the_same_whatever_the_chunks():
    text = LONG + " Short one. " + LONG
    whole = split_whole(text)
    rng = random.Random(7)
    for _ in range(20):
        assert split_pieces(text, iter(lambda: rng.randint(1, 9), None)) == whole


def test_long_sentence_without_a_place_to_cut_stays_whole():
    text = "A" + " very" * 40 + " long sentence."
    assert split_whole(text) == [text]


def test_short_sentences_and_numbers_with_commas_are_not_cut():
    text = "Most adults should not take more than 3,000 milligrams a day, so check the labels."
    assert split_whole(text) == [text]


def test_cutting_can_be_turned_off():
    assert split_whole(LONG, max_chars=None) == [LONG]
