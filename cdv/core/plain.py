"""Langage clair : le résumé à montrer en premier au public, et la lisibilité d'un texte.

Le site public ne montre jamais un résumé vide : à défaut du résumé rédigé, il prend le début de la
description, sinon une phrase construite à partir de l'intitulé.

La lisibilité est l'indice de Flesch adapté au français (Kandel et Moles : 207 − 1,015 × mots par
phrase − 73,6 × syllabes par mot), calculé par la bibliothèque ``textstat`` (syllabes par
césure ``pyphen``). Plus l'indice est haut, plus le texte est facile à lire.
"""

import re
from dataclasses import dataclass, field
from functools import cache

PLAIN_MAX = 300
LONG_SENTENCE_WORDS = 20
LONG_WORD_SYLLABLES = 5
# Indice de Flesch-Kandel-Moles : seuils usuels.
LEVELS = [
    (70, "facile", "compris par la plupart des lecteurs"),
    (60, "assez facile", "lisible par un large public"),
    (50, "assez difficile", "demande un effort à une partie du public"),
    (30, "difficile", "réservé à des lecteurs habitués"),
    (-1000, "très difficile", "difficile pour la plupart des habitants"),
]
TARGET_SCORE = 60
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿŒœ'’-]+")
_ACRONYM = re.compile(r"\b[A-ZÀ-Ö]{2,}\b")


@cache
def _textstat():
    """textstat (et nltk qu'il charge) coûte 0,3 s au démarrage : importé au premier calcul."""
    import textstat

    textstat.set_lang("fr")
    return textstat


def first_sentences(text: str, limit: int = PLAIN_MAX) -> str:
    """Les premières phrases entières de ``text`` qui tiennent dans ``limit`` caractères."""
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    kept = ""
    for sentence in _SENTENCE_END.split(text):
        candidate = f"{kept} {sentence}".strip()
        if len(candidate) > limit:
            break
        kept = candidate
    if kept:
        return kept
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return f"{cut}…"


def _generated(obj) -> str:
    name = type(obj).__name__
    if name == "Partner":
        return f"{obj.name} prend part au contrat de ville ({obj.get_kind_display().lower()})."
    if name == "Commitment":
        return f"{obj.partner.name} s'engage : {obj.title}."
    if name == "Enjeu":
        return f"Cet enjeu du contrat porte sur : {obj.title.lower()}."
    if name == "Contract":
        return f"{obj.title} : les engagements des partenaires pour les quartiers prioritaires."
    return f"{obj}."


def plain_summary(obj) -> str:
    """Le résumé en langage clair d'un objet public, jamais vide."""
    summary = " ".join((getattr(obj, "summary_plain", "") or "").split())
    if summary:
        return summary
    description = getattr(obj, "description", "") or ""
    if description.strip():
        return first_sentences(description)
    return _generated(obj)


@dataclass
class Readability:
    score: float | None
    level: str
    meaning: str
    words: int
    sentences: int
    advice: list[str] = field(default_factory=list)

    @property
    def good(self) -> bool:
        return self.score is not None and self.score >= TARGET_SCORE


def readability(text: str) -> Readability:
    """Indice de lisibilité et conseils pour un résumé destiné au public."""
    text = " ".join((text or "").split())
    words = _WORD.findall(text)
    if len(words) < 3:
        return Readability(None, "non calculé", "texte trop court pour être mesuré", len(words), 0)
    score = round(_textstat().flesch_reading_ease(text), 1)
    sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
    level, meaning = next((label, m) for floor, label, m in LEVELS if score >= floor)
    advice = []
    long_sentences = [s for s in sentences if len(_WORD.findall(s)) > LONG_SENTENCE_WORDS]
    if long_sentences:
        advice.append(
            f"{len(long_sentences)} phrase{'s' if len(long_sentences) > 1 else ''} de plus de "
            f"{LONG_SENTENCE_WORDS} mots : coupez-les en deux."
        )
    long_words = sorted({w for w in words if _textstat().syllable_count(w) >= LONG_WORD_SYLLABLES})
    if long_words:
        shown = ", ".join(long_words[:5])
        advice.append(f"Mots longs ({shown}) : cherchez un mot plus courant quand il existe.")
    acronyms = sorted(set(_ACRONYM.findall(text)))
    if acronyms:
        advice.append(f"Sigles ({', '.join(acronyms[:5])}) : écrivez-les en toutes lettres.")
    if not text.endswith((".", "!", "?", "…")):
        advice.append("Terminez par un point : des phrases complètes se lisent mieux.")
    if score < TARGET_SCORE and not advice:
        advice.append("Préférez des phrases courtes et des mots courants.")
    return Readability(score, level, meaning, len(words), len(sentences), advice)
