"""The insight rules without a database: language, sentiment, roles."""

import pathlib
import re

import pytest
from insight import RoleStats, Thresholds, analyze, assess, customer_weight, plain_text

INSIGHT = pathlib.Path(__file__).resolve().parent.parent / "social_crm" / "insight"


def test_the_insight_layer_never_imports_odoo():
    assert not [p.name for p in INSIGHT.glob("*.py") if re.search(r"^\s*(from|import)\s+odoo\b", p.read_text(), re.M)]


@pytest.mark.parametrize(
    "text",
    [
        "Cette tente est vraiment nulle, l'eau est entrée toute la nuit.",
        "Das Zelt ist wirklich schlecht, es hat die ganze Nacht geregnet.",
        "このテントは最悪です。一晩中雨漏りしました。",
    ],
)
def test_other_languages_are_identified_and_not_scored(text):
    result = analyze(text)
    assert result.identified and result.language in {"fr", "de", "ja"}
    assert not result.scored and result.label == "" and result.score == 0


def test_the_platform_language_wins_over_the_text():
    assert analyze("Terrible, I hate it", "fr").scored is False
    result = analyze("Terrible, I hate it", "en-GB")
    assert (result.language, result.identified, result.label) == ("en-GB", False, "negative")


def test_tags_that_name_no_language_are_identified():
    result = analyze("Thanks so much, the new poles are brilliant!", "und")
    assert (result.language, result.identified, result.label) == ("en", True, "positive")


def test_empty_text_is_not_scored():
    assert analyze("", "en").scored is False


def test_thresholds_read_settings_and_keep_defaults_for_bad_values():
    params = {"social_crm.role_window_days": "30", "social_crm.role_helper_min_replies": "many"}
    thresholds = Thresholds.from_params(params.get)
    assert thresholds.window_days == 30
    assert thresholds.helper_min_replies == Thresholds.helper_min_replies
    assert Thresholds.from_params(lambda key: False) == Thresholds()


def test_revenue_weighs_without_drowning_the_voice():
    assert customer_weight(0) == 1
    assert customer_weight(9999) == pytest.approx(5)
    detractor = RoleStats(messages=3, scored=3, sentiment_sum=-2.1, negative=3, negative_days=9)
    anonymous = assess(detractor, Thresholds())["detractor"]
    customer = assess(detractor, Thresholds(), revenue=50000)["detractor"]
    assert customer > anonymous


def test_one_bad_day_is_no_detractor():
    stats = RoleStats(messages=3, scored=3, sentiment_sum=-2.1, negative=3, negative_days=0.5)
    assert "detractor" not in assess(stats, Thresholds())


def test_the_mood_is_read_from_the_words_not_the_markup():
    body = '<p>Broken &amp; useless.</p><p>See <a href="https://example.com/very-nice">the photo</a></p>'
    assert plain_text(body) == "Broken & useless. See the photo"
    assert analyze(plain_text(body), "en").label == "negative"
