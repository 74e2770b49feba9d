"""Ideas in what customers write: which messages suggest an improvement or
another use of a product, and which of those ideas are alike.

*Capture* is by phrases (``please add``, ``I use it for``), each with a
language: a phrase applies to messages in its language, or of no known
language. Text is compared case-, accent- and space-insensitively, on whole
words.

*Similarity* compares two ideas' keyword sets: the words of the message
once the capturing phrase, stop words and request words (``please``,
``add``, ``feature``) are dropped, crudely stemmed (``exports`` and
``exporting`` are ``export``). It is the overlap coefficient, the share of
the smaller set found in the other, counted only when they share two
keywords (or the whole of a one-word set): customers add their own words
around the same idea (``a green tent, like the old one`` is {green, tent,
old}; ``the tent came in green`` is {tent, came, green}: 2/3), which would
sink a Jaccard index. Deliberately simple and explainable: synonyms
(``night theme`` for ``dark mode``) are not grouped.
"""

import re
import unicodedata
from dataclasses import dataclass

WORD = re.compile(r"\w+")

#: words that say nothing about what the idea is (English, French, German,
#: Spanish): articles, pronouns, auxiliaries and the words of requests
STOP_WORDS = frozenset("""
    a an the and or but if then than so to of in on at by for with from as into about this that these those it its
    i me my we our you your he she they them their is are was were be been being am do does did done have has had
    would could should can will shall may might must not no yes very really just also too more most some any all
    there here what which who whom when where why how please add adding added feature request requests great nice
    cool love like want wish hope idea suggestion suggest could allow let make able option support way use using
    used thing things something anything lot get got app one
    le la les un une des du de et ou mais si en au aux pour par avec sur dans ce cet cette ces il elle ils elles
    je tu nous vous mon ma mes ton ta tes son sa ses est sont etre avoir ai as avons avez ont serait pourriez
    merci svp ajouter ajout fonctionnalite genial bien
    der die das ein eine einen und oder aber wenn dann zu von mit fur auf im ist sind ich du wir ihr sie es
    bitte hinzufugen ware toll schon gut
    el los las un una unos y o pero si para por con en es son yo tu nosotros ellos seria genial agregar anadir
    """.split())

SUFFIXES = ("ing", "ed", "es", "s")


@dataclass(frozen=True)
class IdeaRule:
    """A phrase that marks an idea; ``language`` is an ISO 639-1 code, or
    empty for every language; ``kind`` is what the phrase suggests
    (``improvement`` or ``use``)."""

    phrase: str
    language: str = ""
    kind: str = "improvement"


def normalized(text):
    """Lower case, accents off, runs of non-word characters as one space."""
    text = unicodedata.normalize("NFKD", text or "").casefold()
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(WORD.findall(text))


def _language_applies(rule_language, language):
    if not rule_language or not language:
        return True
    return language.lower().split("-")[0].split("_")[0] == rule_language.lower()


def match_rule(text, rules, language=""):
    """The first of ``rules`` whose phrase ``text`` contains as whole
    words, among those of ``language`` (all when it is unknown); None."""
    haystack = f" {normalized(text)} "
    for rule in rules:
        phrase = normalized(rule.phrase)
        if phrase and _language_applies(rule.language, language) and f" {phrase} " in haystack:
            return rule
    return None


def strip_trigger(text, rule):
    """``text`` from the capturing phrase on, the phrase itself dropped:
    what is left says what the idea is."""
    words = normalized(text).split()
    phrase = normalized(rule.phrase).split() if rule else []
    for start in range(len(words) - len(phrase) + 1):
        if phrase and words[start : start + len(phrase)] == phrase:
            return " ".join(words[start + len(phrase) :])
    return " ".join(words)


def _stem(word):
    for suffix in SUFFIXES:
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def keywords(text):
    """The sorted, stemmed words of ``text`` that say what an idea is."""
    stems = {_stem(word) for word in normalized(text).split() if word not in STOP_WORDS and not word.isdigit()}
    return sorted(stem for stem in stems if len(stem) > 1 and stem not in STOP_WORDS)


def similarity(first, second):
    """Overlap coefficient of two keyword collections, from 0 to 1; 0 when
    they share fewer than two keywords (unless one has a single one)."""
    first, second = set(first), set(second)
    smaller = min(len(first), len(second))
    shared = len(first & second)
    if not smaller or shared < min(2, smaller):
        return 0.0
    return shared / smaller
