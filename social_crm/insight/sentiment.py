"""Language and sentiment of a message's text.

Language: ``py3langid`` (a maintained, numpy-only port of langid.py: 97
languages, offline, about 0.1 ms per post, no network, no model download; the
model ships in the wheel). The platform's own language tag wins when it gives
one: the author chose it or the platform detected it from more than the text.

Sentiment: VADER (``vaderSentiment``), a lexicon and rules built for social
media text (emoticons, capitals, "but", negations, boosters), English only,
no model to train or download, about 0.07 ms per post. Its *compound* score
(-1 to 1, kept to the hundredth) is the score; its published cut-offs (±0.05) give the label.

A text in a language VADER does not read is *not scored*: scoring French with
an English lexicon would call most of it neutral, which is wrong, not unknown.
"""

import html
import re
from dataclasses import dataclass

#: languages a scorer reads (primary subtags)
SUPPORTED_LANGUAGES = frozenset({"en"})
#: VADER's published thresholds on the compound score
POSITIVE_FROM = 0.05
NEGATIVE_FROM = -0.05
#: an identification less sure than this leaves the language unknown:
#: a two-word post ("great", "lol") is not enough to tell
MIN_CONFIDENCE = 0.5
#: tags that name no language: X's undetermined, no-linguistic-content and
#: media-, hashtag- or mention-only codes, and the ISO "undetermined"/"multiple"
NO_LANGUAGE = frozenset({"", "und", "zxx", "mul", "qme", "qht", "qam", "qct", "qst", "art"})

_tools = {}
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Sentiment:
    """What was read from one text. ``language`` is as given or identified
    (empty when unknown); ``score`` and ``label`` are empty unless scored."""

    language: str
    identified: bool
    scored: bool
    score: float = 0.0
    label: str = ""


def _identifier():
    """The language model takes 2 s to load: only when first needed."""
    if "langid" not in _tools:
        # pylint: disable-next=import-outside-toplevel
        from py3langid.langid import MODEL_FILE, LanguageIdentifier  # noqa: PLC0415

        _tools["langid"] = LanguageIdentifier.from_model_file(
            MODEL_FILE, norm_probs=True, min_confidence=MIN_CONFIDENCE
        )
    return _tools["langid"]


def _vader():
    if "vader" not in _tools:
        # pylint: disable-next=import-outside-toplevel
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # noqa: PLC0415

        _tools["vader"] = SentimentIntensityAnalyzer()
    return _tools["vader"]


def primary_language(tag):
    """``en-US`` -> ``en``; tags that name no language -> ``""``."""
    primary = (tag or "").strip().lower().replace("_", "-").split("-")[0]
    return "" if primary in NO_LANGUAGE else primary


def plain_text(body_html):
    """The words of an HTML body, for reading its mood: tags dropped, links
    as their text, without the footnotes of URLs a plain-text rendering adds
    (which read as neutral words), and 20 times cheaper than rendering."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", body_html or ""))).strip()


def label_of(score):
    if score >= POSITIVE_FROM:
        return "positive"
    if score <= NEGATIVE_FROM:
        return "negative"
    return "neutral"


def analyze(text, language=""):
    """The language (kept when the platform gave one) and, when a scorer
    reads that language, the sentiment of ``text``."""
    text = (text or "").strip()
    given = primary_language(language)
    identified = False
    if not given and text:
        found, _confidence = _identifier().classify(text)
        given = primary_language(found)
        identified = bool(given)
    kept = language if primary_language(language) else given
    if not text or given not in SUPPORTED_LANGUAGES:
        return Sentiment(kept or "", identified, scored=False)
    score = round(_vader().polarity_scores(text)["compound"], 2)
    return Sentiment(kept, identified, scored=True, score=score, label=label_of(score))


def analyze_many(items):
    """``analyze`` over ``(text, language)`` pairs, in order."""
    return [analyze(text, language) for text, language in items]
