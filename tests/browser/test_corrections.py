"""Corrections from the viewer's details panel, by keyboard and by mouse, down to the store.

FakePredictor's spans are crude on purpose (the cue word that decided the label, and
everything before it as the source), so there is always something to correct.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from claimtype.feedback import FeedbackRecord, FeedbackStore
from tests.browser.test_viewer import SENTENCES, classify

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser

# the police car shifts string indices against code points: offsets after it must still be right
POLICE = "Police 🚓 said the driver denied speeding."  # denial; source "Police 🚓 said the driver"
MONUMENT = "A monument to the claims office opened in 1890."  # "claims": claim, but a fact
UNION = "The union rejected claims that it had offered a deal."  # "offered": offer, a denial


def stored(db: Path, text: str) -> list[FeedbackRecord]:
    return [r for r in FeedbackStore(db).records() if r.text == text]


def text_box(page, index: int, start: int, end: int) -> dict:  # type: ignore[no-untyped-def]
    """The viewport box of characters start..end (string indices) of sentence `index`."""
    return page.evaluate(
        """([index, start, end]) => {
            const sentence = document.querySelector(`#article .sentence[data-index="${index}"]`);
            const walk = document.createTreeWalker(sentence, NodeFilter.SHOW_TEXT);
            const range = document.createRange();
            let pos = 0;
            for (let node = walk.nextNode(); node; node = walk.nextNode()) {
                if (start >= pos && start < pos + node.length) range.setStart(node, start - pos);
                if (end > pos && end <= pos + node.length) range.setEnd(node, end - pos);
                pos += node.length;
            }
            return range.getBoundingClientRect().toJSON();
        }""",
        [index, start, end],
    )


def words_box(page, index: int, words: str) -> dict:  # type: ignore[no-untyped-def]
    text = page.text_content(f'{SENTENCES}[data-index="{index}"]')
    start = text.index(words)
    return text_box(page, index, start, start + len(words))


def drag_select(page, index: int, words: str) -> None:  # type: ignore[no-untyped-def]
    """Select `words` of sentence `index` with the mouse, from the first letter to the last."""
    box = words_box(page, index, words)
    y = box["top"] + box["height"] / 2
    page.mouse.move(box["left"] + 1, y)
    page.mouse.down()
    page.mouse.move(box["right"] - 1, y, steps=5)
    page.mouse.up()
    assert page.evaluate("getSelection().toString()") == words


def test_a_correction_by_keyboard(feedback_server: tuple[str, Path], open_page) -> None:  # type: ignore[no-untyped-def]
    url, db = feedback_server
    page = open_page(url)
    classify(page, f"{POLICE} {MONUMENT}")
    page.focus(f"{SENTENCES} >> nth=0")
    page.keyboard.press("Enter")  # to the panel's first control
    assert page.evaluate("document.activeElement.id") == "fix-label"
    assert page.input_value("#fix-label") == "denial"
    assert page.inner_text("#fix-source") == "Police 🚓 said the driver"

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "fix-text"
    page.keyboard.press("Tab")  # nothing selected yet: marking says what to do
    page.keyboard.press("Enter")
    expect(page.locator("#fix-error")).to_contain_text("Select the words of the source first")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Control+Home")
    for _ in range(POLICE.index("the driver")):  # one press a character, the car included
        page.keyboard.press("ArrowRight")
    for _ in "the driver":
        page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "mark-source"
    page.keyboard.press("Enter")
    assert page.inner_text("#fix-source") == "the driver"
    assert page.is_hidden("#fix-error")
    assert page.inner_text("#fix-status") == "Source marked: the driver."
    while page.evaluate("document.activeElement.id") != "fix-send":
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#fix-status")).to_contain_text("saved: denial")
    assert "source “the driver”; cue “denied”" in page.inner_text("#fix-status")
    [record] = stored(db, POLICE)
    assert (record.label, record.predicted, record.model) == ("denial", "denial", "fake@0")
    # code points, as the API counts them: the car is one character, not two
    assert record.evidence == {"source": [14, 24], "cue": [25, 31]}

    # the next sentence is a fact: a fact's spans cannot be marked, and none are sent
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.dataset.index") == "0"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    assert page.input_value("#fix-label") == "claim"
    page.keyboard.press("ArrowUp")  # claim -> fact
    assert page.input_value("#fix-label") == "fact"
    assert page.is_visible("#fix-fact") and page.is_disabled("#mark-cue")
    assert page.inner_text("#fix-cue") == "none"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # past the disabled span buttons, to the note
    assert page.evaluate("document.activeElement.id") == "fix-note"
    page.keyboard.type("an office's name")
    page.keyboard.press("Enter")
    expect(page.locator("#fix-status")).to_contain_text("saved: fact.")
    [record] = stored(db, MONUMENT)
    assert (record.label, record.predicted, record.note) == ("fact", "claim", "an office's name")
    assert record.evidence is None


def test_a_correction_by_mouse(feedback_server: tuple[str, Path], open_page) -> None:  # type: ignore[no-untyped-def]
    url, db = feedback_server
    page = open_page(url)
    classify(page, f"{UNION} Rain fell.")
    page.click(f"{SENTENCES} >> nth=0")
    page.select_option("#fix-label", "denial")

    drag_select(page, 0, "The union rejected")
    page.hover(f"{SENTENCES} >> nth=1")  # on the way: the panel stays with the selection
    assert "Sentence 1 of 2" in page.inner_text("#details-body")
    page.click("#mark-source")
    assert page.inner_text("#fix-source") == "The union rejected"
    box = words_box(page, 0, "rejected")
    page.mouse.dblclick(box["left"] + box["width"] / 2, box["top"] + box["height"] / 2)
    assert page.evaluate("getSelection().toString().trim()") == "rejected"
    page.click("#mark-cue")
    assert page.inner_text("#fix-cue") == "rejected"
    page.click("#fix-send")  # source and cue overlap: the server says so, nothing is lost
    expect(page.locator("#fix-error")).to_contain_text("did not keep this correction")
    assert "overlap" in page.inner_text("#fix-error")
    assert page.get_attribute("#fix-error", "role") == "alert"
    assert stored(db, UNION) == []
    assert page.input_value("#fix-label") == "denial"

    page.hover(f"{SENTENCES} >> nth=1")  # a correction not sent yet keeps the panel too
    assert "Sentence 1 of 2" in page.inner_text("#details-body")
    drag_select(page, 0, "The union")
    page.click("#mark-source")
    page.click("#fix-send")
    expect(page.locator("#fix-status")).to_contain_text("saved: denial")
    assert page.is_hidden("#fix-error")
    [record] = stored(db, UNION)
    assert (record.label, record.predicted) == ("denial", "offer")
    assert record.evidence == {"source": [0, 9], "cue": [10, 18]}

    page.hover(f"{SENTENCES} >> nth=1")  # sent: pointing shows other sentences again
    assert "Sentence 2 of 2" in page.inner_text("#details-body")
    page.click(f"{SENTENCES} >> nth=0")  # and coming back shows what was sent
    assert page.inner_text("#fix-source") == "The union"
    assert "saved: denial" in page.inner_text("#fix-status")


def test_a_failed_correction_is_shown(feedback_server: tuple[str, Path], open_page) -> None:  # type: ignore[no-untyped-def]
    url, db = feedback_server
    kept = len(stored(db, UNION))
    page = open_page(url)
    classify(page, UNION)
    page.route("**/v1/feedback", lambda route: route.abort("connectionrefused"))
    page.click(f"{SENTENCES} >> nth=0")
    page.click("#clear-cue")
    assert page.inner_text("#fix-cue") == "none"
    page.click("#fix-send")
    expect(page.locator("#fix-error")).to_contain_text("Could not reach the claimtype server")
    assert page.inner_text("#fix-cue") == "none"  # the reader's change is still there
    assert page.get_attribute("#fix-send", "aria-disabled") is None  # and may be sent again
    assert len(stored(db, UNION)) == kept


def test_the_correction_form_is_labelled(server: str, open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page(server)
    classify(page, UNION)
    page.focus(f"{SENTENCES} >> nth=0")
    for selector in ("#fix-label", "#fix-text", "#fix-note"):
        assert page.eval_on_selector(selector, "e => e.labels.length") == 1, selector
    assert page.get_attribute("#fix-status", "role") == "status"
    assert page.get_attribute("#clear-source", "aria-label") == "Clear source"
    groups = page.eval_on_selector_all(
        "#correct [role=group]",
        "gs => gs.map(g => document.getElementById(g.getAttribute('aria-labelledby')).textContent)",
    )
    assert groups == ["Source", "Cue"]
