"""The pure-Python rules of reaching customers: placeholders rendered
safely, ideas captured by phrase and language, similar ideas told apart
from unrelated ones."""

import pytest
from markupsafe import Markup
from reach import IdeaRule, PlaceholderError, check_template, keywords, match_rule, render, similarity, strip_trigger

ALLOWED = {"name", "handle"}

RULES = [
    IdeaRule("it would be great if", "en"),
    IdeaRule("please add", "en"),
    IdeaRule("feature request", "en"),
    IdeaRule("I use it for", "en", "use"),
    IdeaRule("ce serait génial si", "fr"),
]


def test_placeholders_rendered_as_text():
    assert render("Hi {name} ({handle})!", {"name": "Ana", "handle": "@ana"}) == "Hi Ana (@ana)!"


def test_literal_braces_and_missing_values():
    assert render("{{braces}} {name}", {"name": None, "handle": "x"}) == "{braces} "


def test_html_values_are_escaped_and_the_template_kept():
    body = render("<p>Hi <b>{name}</b></p>", {"name": "<script>alert(1)</script>", "handle": ""}, html=True)
    assert isinstance(body, Markup)
    assert body == "<p>Hi <b>&lt;script&gt;alert(1)&lt;/script&gt;</b></p>"


@pytest.mark.parametrize(
    "template",
    ["{email}", "{name.__class__}", "{name[0]}", "{name!r}", "{name:>10}", "{0}", "{}", "Hi {name", "Hi name}"],
)
def test_templates_that_reach_beyond_the_placeholders_are_refused(template):
    with pytest.raises(PlaceholderError):
        check_template(template, ALLOWED)
    with pytest.raises(PlaceholderError):
        render(template, {"name": "Ana", "handle": "@ana"})


def test_the_error_names_the_allowed_placeholders():
    with pytest.raises(PlaceholderError, match=r"unknown placeholder \{email\}; use \{handle\}, \{name\}"):
        check_template("Dear {email}", ALLOWED)


@pytest.mark.parametrize(
    ("text", "language", "phrase"),
    [
        ("Love the tent. It would be GREAT if it came in green!", "en", "it would be great if"),
        ("Please   add a dark mode", "en", "please add"),
        ("Feature request: export to CSV", "", "feature request"),
        ("I use it for backyard movie nights", "en-GB", "I use it for"),
        ("Ce serait genial si l'appli avait un mode sombre", "fr", "ce serait génial si"),
    ],
)
def test_ideas_are_captured_by_phrase(text, language, phrase):
    assert match_rule(text, RULES, language).phrase == phrase


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("My order never arrived", "en"),
        ("Could you please address my ticket", "en"),  # "please add" is not a whole word of "address"
        ("It would be great if it came in green", "fr"),  # an English phrase in a French message
        ("Ce serait génial si l'appli avait un mode sombre", "en"),
    ],
)
def test_other_messages_and_other_languages_are_not_captured(text, language):
    assert match_rule(text, RULES, language) is None


def test_the_kind_of_idea_follows_the_phrase():
    assert match_rule("I use it for hanging lights", RULES, "en").kind == "use"


def test_the_trigger_is_stripped_from_what_the_idea_is():
    rule = match_rule("Nice tent. It would be great if it had a rain fly", RULES, "en")
    assert strip_trigger("Nice tent. It would be great if it had a rain fly", rule) == "it had a rain fly"
    assert keywords("it had a rain fly") == ["fly", "rain"]


def test_similar_ideas_score_high_and_unrelated_ones_low():
    dark = keywords("please add a dark mode to the app")
    dark_again = keywords("it would be great if the app had a dark mode")
    dark_modes = keywords("dark modes, please!")
    export = keywords("please add export to CSV")
    assert dark == dark_again == ["dark", "mode"]
    assert similarity(dark, dark_modes) == 1.0, "plurals are stemmed"
    assert similarity(dark, export) == 0.0
    assert similarity(keywords("export orders to CSV"), keywords("exporting invoices to CSV")) == 2 / 3
    # the customer's own words around the same idea do not sink it
    assert similarity(keywords("the tent came in green"), keywords("a green tent, like the old one")) == 2 / 3


def test_one_shared_word_is_not_enough():
    assert similarity(keywords("green tent porch"), keywords("green kayak paddle")) == 0.0
    assert similarity(["hammock"], keywords("hammock stand")) == 1.0


def test_empty_keywords_are_never_similar():
    assert similarity([], []) == 0.0
    assert keywords("please add this, it would be great") == []
