"""Spoken forms for words espeak gets wrong: drug names, acronyms, units, phone numbers.

Used only for espeak (ElevenLabs reads these well by itself). Drug names are given as espeak
phoneme mnemonics inside [[ ]] (synthesised with the espeakPHONEMES flag), because spelling
tricks cannot move espeak's stress off the first syllable; each was derived from espeak's own
rendering of the word (espeak_TextToPhonemes) with the stress moved to where it belongs.
Edit freely: the espeak model name carries PRONUNCIATION_VERSION, so the audio cache never
serves audio made with an older list.
"""
from __future__ import annotations

import hashlib
import re

# word (matched whole, any case) -> what espeak should say
PRONUNCIATIONS: dict[str, str] = {
    "cilostazol": "[[sIl'oUst@z,0l]]",       # sih-LOH-stuh-zol
    "clopidogrel": "[[kloU'pId@grEl]]",        # kloh-PID-uh-grel
    "rivaroxaban": "[[r,Iv@r'0ks@ban]]",       # riv-uh-ROX-uh-ban
    "atorvastatin": "[[@t,o@v@st'atIn]]",      # uh-tor-vuh-STAT-in
    "rosuvastatin": "[[roUs'u:v@st,atIn]]",    # roh-SOO-vuh-stat-in
    "ticagrelor": "[[taI'kagr@lo@]]",          # tie-KAG-ruh-lor
    "pentoxifylline": "[[p,Ent0ks'IfIli:n]]",  # pen-tox-IF-ih-leen
    "ezetimibe": "[[E'zEtImaIb]]",             # eh-ZET-ih-mibe
    "dipyridamole": "[[d,aIpI'rId@moUl]]",     # dye-pih-RID-uh-mole
    "xarelto": "[[z@r'EltoU]]",                # zuh-REL-toe
    "eliquis": "[['ElIkwIs]]",                 # EL-ih-kwiss
    "pletal": "[[pl'Etal]]",
    "brilinta": "[[brI'lInt@]]",
    "p.a.d.": "P.A.D",  # letters, without a full stop that could sound like a sentence end
    "p.a.d": "P.A.D",
    "e.g.": "for example",
    "i.e.": "that is",
    "vs.": "versus",
    "mmhg": "millimeters of mercury",
}
# Capitals matter here: "PAD" is the disease, "pad" a heating pad.
CASE_SENSITIVE: dict[str, str] = {
    "PAD": "P.A.D",   # "P A D" would make espeak read the A as the article "uh"
    "ABI": "A.B.I",
    "LDL": "L.D.L",
}
# (pattern, replacement) applied after the words above.
RULES: list[tuple[str, str]] = [
    (r"(?<=\d)\s*mg\b", " milligrams"),
    (r"(?<=\d)\s*mcg\b", " micrograms"),
    # 1-800-QUIT-NOW: "one eight hundred quit now", not "one dash eight hundred dash..."
    (r"\b(1)-(8\d\d)-([A-Z]+)-([A-Z]+)\b", r"\1 \2 \3 \4"),
    (r"\b(\d{1,3})-(\d{1,3})\b(?!-)", r"\1 to \2"),  # "2-3 times a week"
]

_WORD = re.compile(
    r"(?<![\w.])(?:%s)(?![\w])" % "|".join(
        re.escape(w) for w in sorted(PRONUNCIATIONS, key=len, reverse=True)),
    re.IGNORECASE)
_CASED = re.compile(r"\b(?:%s)\b" % "|".join(map(re.escape, CASE_SENSITIVE)))
_RULES = [(re.compile(p), r) for p, r in RULES]
# Phone numbers like 800-784-8669 are read digit by digit.
_PHONE = re.compile(r"\b(?:1-)?\d{3}-\d{3}-\d{4}\b")

PRONUNCIATION_VERSION = hashlib.sha256(
    repr((sorted(PRONUNCIATIONS.items()), sorted(CASE_SENSITIVE.items()), RULES,
          _PHONE.pattern)).encode()).hexdigest()[:8]


def _spell_phone(match: re.Match) -> str:
    return ", ".join(" ".join(group) for group in match.group(0).split("-"))


def apply_pronunciations(text: str) -> str:
    # Only our own entries may reach espeak as phonemes.
    text = text.replace("[[", "").replace("]]", "")
    text = _WORD.sub(lambda m: PRONUNCIATIONS[m.group(0).lower()], text)
    text = _CASED.sub(lambda m: CASE_SENSITIVE[m.group(0)], text)
    text = _PHONE.sub(_spell_phone, text)
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text
