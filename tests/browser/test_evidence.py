"""Evidence in the viewer: source and cue marked in the article and named to screen readers,
the details panel beside its sentence, the who-said-what table, and the first visit.

FakePredictor marks the cue word that decided the label and the words before it as the
source ("The ministry denied the report." -> source "The ministry", cue "denied").
"""

from __future__ import annotations

import re

import pytest

from claimtype.labels import DEFINITIONS, LABELS
from tests.browser.test_viewer import ARTICLE, SENTENCES, api_article, attr_list, classify

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser

#: per sentence of ARTICLE: (source, cue) as the API gives them
MARKED = [("Officials 🚢", "said"), ("The ministry", "denied"), ("The company", "offered")]

STYLE = """els => els.map(e => {
    const s = getComputedStyle(e);
    return [e.textContent, s.textDecorationLine, Number(s.fontWeight)];
})"""


def test_source_underlined_cue_bold_and_both_named(server: str, open_page) -> None:  # type: ignore[no-untyped-def]
    sentences = api_article(server, ARTICLE)["sentences"]
    assert [(s["evidence"]["source"]["text"], s["evidence"]["cue"]["text"]) for s in sentences] == (
        MARKED
    )
    page = open_page(server)
    classify(page, ARTICLE)
    assert page.is_visible("#evidence-key")
    for i, (source, cue) in enumerate(MARKED):
        sentence = f'{SENTENCES}[data-index="{i}"]'
        [(text, line, _)] = page.eval_on_selector_all(f"{sentence} .ev-source", STYLE)
        assert text == source and "underline" in line
        [(text, _, weight)] = page.eval_on_selector_all(f"{sentence} .ev-cue", STYLE)
        assert text == cue and weight >= 600
        [(_, line, weight)] = page.eval_on_selector_all(sentence, STYLE)
        assert "underline" not in line and weight < 600  # the rest of the sentence is plain
        description = page.get_attribute(sentence, "aria-description")
        assert description.startswith(f"Source: {source}. Cue: {cue}. "), description
    # the marks split the text into elements but add none: the article reads as written
    assert page.eval_on_selector("#article", "e => e.textContent") == ARTICLE
    texts = page.eval_on_selector_all(SENTENCES, "els => els.map(e => e.textContent)")
    assert texts == [s["text"] for s in sentences]

    page.focus(f"{SENTENCES} >> nth=1")
    evidence = page.locator("#details-body .evidence")
    expect(evidence).to_have_attribute("aria-label", "Evidence the model marked")
    assert re.sub(r"\s+", " ", evidence.inner_text()) == "Source The ministry Cue denied"
    assert page.inner_text("#details-body .evidence .ev-source") == "The ministry"
    assert page.inner_text("#details-body .evidence .ev-cue") == "denied"


def test_the_details_panel_sits_beside_its_sentence(server: str, open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page(server)
    classify(page, "Rain fell on the town for a week. " * 8 + ARTICLE)
    tops = []
    for i in (0, 10):  # the first sentence, and the last, many lines further down
        sentence = page.locator(f"{SENTENCES} >> nth={i}")
        sentence.focus()
        line = sentence.evaluate("e => e.getClientRects()[0].toJSON()")
        panel = page.locator("#details").bounding_box()
        article = page.locator("#article").bounding_box()
        assert panel["x"] >= article["x"] + article["width"]  # to the right of the text
        assert abs(panel["y"] - line["top"]) <= 2, (i, panel, line)  # level with its first line
        tops.append(panel["y"])
    assert tops[1] > tops[0] + 100


def test_who_said_what(server: str, open_page) -> None:  # type: ignore[no-untyped-def]
    text = (
        "The ministry denied the report. Officials said the port would reopen. "
        "The Ministry offered to pay for repairs."
    )
    sources = api_article(server, text)["sources"]
    assert [(s["source"], s["names"], s["where"]) for s in sources] == [
        ("ministry", ["The ministry", "The Ministry"], [0, 2]),
        ("officials", ["Officials"], [1]),
    ]
    page = open_page(server)
    classify(page, text)
    table = page.locator("#sources table")
    # beside the legend: the same row of the toolbar
    legend, box = page.locator(".legend").bounding_box(), table.bounding_box()
    assert box["x"] > legend["x"] + legend["width"] and box["y"] < legend["y"] + legend["height"]
    assert table.get_attribute("aria-labelledby") == "sources-title"
    assert page.inner_text("#sources-title") == "Who said what"
    header = page.eval_on_selector_all("#sources thead th", "els => els.map(e => e.textContent)")
    assert header == ["Source", "Claims", "Denials", "Offers", "Sentences"]
    rows = page.eval_on_selector_all(
        "#sources tbody tr",
        "rows => rows.map(r => [...r.children].map(c => c.innerText.replace(/\\s+/g, ' ')))",
    )
    assert rows == [
        ["The ministry also: The Ministry", "0", "1", "1", "1 3"],
        ["Officials", "1", "0", "0", "2"],
    ]
    assert (
        page.get_attribute("#sources tbody th >> nth=0", "title") == "The ministry · The Ministry"
    )
    page.click("#sources button[aria-label='Go to sentence 3']")
    assert page.evaluate("document.activeElement.dataset.index") == "2"
    assert "Sentence 3 of 3" in page.inner_text("#details-body")


def test_a_model_without_evidence_says_so(server: str, open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page(server)
    answer = api_article(server, ARTICLE)
    for s in answer["sentences"]:
        s["evidence"] = None
    answer["sources"] = []
    page.route("**/v1/classify/article", lambda route: route.fulfill(json=answer))
    classify(page, ARTICLE)
    assert page.inner_text("#sources") == "This model does not mark sources and cues."
    assert page.is_hidden("#evidence-key")
    assert page.locator("#article .ev-source, #article .ev-cue").count() == 0
    assert page.eval_on_selector("#article", "e => e.textContent") == ARTICLE
    page.focus(f"{SENTENCES} >> nth=0")
    assert page.locator("#details-body .evidence").count() == 0


def test_first_visit_explains_the_labels_and_offers_an_example(
    auth_server: str,
    open_page,  # type: ignore[no-untyped-def]
) -> None:
    page = open_page(auth_server)
    page.wait_for_selector("#auth:not([hidden])")  # no key yet: the API has said nothing
    assert page.is_visible("#intro") and page.is_hidden("#results")
    terms = page.eval_on_selector_all(
        "#definitions > div",
        "ds => ds.map(d => [d.dataset.label, d.querySelector('dt').textContent,"
        " d.querySelector('dd').textContent])",
    )
    assert terms == [[name, name, DEFINITIONS[name]] for name in LABELS]
    key = page.inner_text("#intro")
    assert "the source (who says it) is underlined" in key and "cue" in key

    page.click("#example")
    example = page.input_value("#text")
    assert page.evaluate("document.activeElement.id") == "text"
    assert "press Classify" in page.inner_text("#status")
    page.fill("#api-key", "s3cret-key")
    page.press("#api-key", "Enter")
    classify(page, example)
    labels = attr_list(page, "data-label")
    assert 3 <= len(labels) <= 6 and set(labels) == set(LABELS)
    assert page.is_hidden("#intro")
    # the chips and the details panel carry the same definitions from then on
    assert page.get_attribute(".chip.l-denial", "title") == DEFINITIONS["denial"]
    page.focus(f"{SENTENCES}[data-label='offer']")
    assert page.inner_text("#details-body .definition") == DEFINITIONS["offer"]
