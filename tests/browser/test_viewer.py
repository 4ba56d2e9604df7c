"""The article viewer in headless Chromium against a live server with the FakePredictor.

FakePredictor labels by cue word ("said" -> claim, "denied" -> denial, "offered" ->
offer, otherwise fact) with a top probability of 0.948, so the expected labels and
the needs-review boundary are known exactly.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import httpx
import pytest

from tests.browser.harness import ARTIFACTS

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser

# an astral character (the ship) shifts UTF-16 indices against Python's code point
# offsets; the double space, blank line, indent and trailing newline must all survive
ARTICLE = (
    "Officials 🚢 said the port would reopen on Monday.  The ministry denied the report."
    "\n\n   The company offered to rebuild the pier.\n"
)
LABELS = ["claim", "denial", "offer"]
SENTENCES = "#article .sentence"


def classify(page, text: str) -> None:  # type: ignore[no-untyped-def]
    page.fill("#text", text)
    page.click("#submit")
    expect(page.locator("#status")).to_have_text(re.compile("^Labelled"))


def attr_list(page, attr: str) -> list[str]:  # type: ignore[no-untyped-def]
    return page.eval_on_selector_all(SENTENCES, f"els => els.map(e => e.getAttribute('{attr}'))")


def api_article(url: str, text: str, **headers: str) -> dict:
    r = httpx.post(f"{url}/v1/classify/article", json={"text": text}, headers=headers)
    r.raise_for_status()
    return r.json()


def test_article_is_shown_as_written_with_the_api_labels(server: str, open_page) -> None:  # type: ignore[no-untyped-def]
    expected = api_article(server, ARTICLE)
    assert [s["label"] for s in expected["sentences"]] == LABELS
    page = open_page(server)
    page.fill("#text", ARTICLE)
    page.press("#text", "Control+Enter")
    page.wait_for_selector(SENTENCES)

    assert page.locator(SENTENCES).count() == 3
    assert attr_list(page, "data-label") == LABELS
    texts = page.eval_on_selector_all(SENTENCES, "els => els.map(e => e.textContent)")
    assert texts == [s["text"] for s in expected["sentences"]]
    # the tags are generated content, so the text is the article byte for byte
    assert page.eval_on_selector("#article", "e => e.textContent") == ARTICLE
    tags = page.eval_on_selector_all(
        SENTENCES, "els => els.map(e => getComputedStyle(e, '::before').content)"
    )
    assert [t.split("/")[0].strip().strip('"') for t in tags] == LABELS
    for label, aria in zip(LABELS, attr_list(page, "aria-label"), strict=True):
        assert f": {label}, 94.8%" in aria
    legend = page.inner_text("#legend")
    for label in ("fact 0", "claim 1", "denial 1", "offer 1"):
        assert re.search(label.replace(" ", r"\s*"), legend), legend
    assert page.inner_text("#status").startswith("Labelled 3 sentences")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "viewer.png"), full_page=True)


def test_filters_and_the_review_threshold(server: str, open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page(server)
    classify(page, ARTICLE)
    muted = lambda: attr_list(page, "class")  # noqa: E731

    page.uncheck('#legend input[data-label="denial"]')
    assert ["muted" in c for c in muted()] == [False, True, False]
    assert attr_list(page, "tabindex") == ["0", "-1", "0"]
    page.check('#legend input[data-label="denial"]')
    assert not any("muted" in c for c in muted())

    assert not any("review" in c for c in muted())  # 0.948 >= the default 0.6
    page.fill("#threshold", "0.95")
    assert all("review" in c for c in muted())
    assert page.inner_text("#review-count") == "3 sentences of 3 need review."
    assert "needs review" in attr_list(page, "aria-label")[0]
    page.fill("#threshold", "0.9")
    page.check("#review-only")
    assert all("muted" in c for c in muted())
    page.fill("#threshold", "7")  # invalid: flagged, and the last good value stays
    assert page.get_attribute("#threshold", "aria-invalid") == "true"
    assert all("muted" in c for c in muted())


def test_keyboard_and_hover_show_probabilities(server: str, open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page(server)
    classify(page, ARTICLE)
    active = "document.activeElement.dataset.index"
    page.focus(f"{SENTENCES} >> nth=0")
    assert "claim" in page.inner_text("#details-body")
    page.keyboard.press("ArrowRight")
    assert page.evaluate(active) == "1"
    details = page.inner_text("#details-body")
    assert "Sentence 2 of 3" in details and "denial" in details and "94.8%" in details
    page.keyboard.press("End")
    assert page.evaluate(active) == "2"
    page.keyboard.press("Home")
    page.keyboard.press("Tab")
    assert page.evaluate(active) == "1"
    page.uncheck('#legend input[data-label="denial"]')
    page.focus(f"{SENTENCES} >> nth=0")
    page.keyboard.press("ArrowDown")  # skips the filtered-out denial
    assert page.evaluate(active) == "2"
    page.hover(f"{SENTENCES} >> nth=0")
    assert "Sentence 1 of 3" in page.inner_text("#details-body")
    description = attr_list(page, "aria-description")[2]
    assert "offer 94.8%" in description and "fact 1.7%" in description


def test_downloads_from_an_opened_file(server: str, open_page) -> None:  # type: ignore[no-untyped-def]
    text = '=HYPERLINK("x") was said to work. The firm offered $5, "cheap"!\n'
    page = open_page(server)
    page.set_input_files(
        "#file", files=[{"name": "story.txt", "mimeType": "text/plain", "buffer": text.encode()}]
    )
    expect(page.locator("#text")).to_have_value(text)
    assert "story.txt" in page.inner_text("#status")
    page.click("#submit")
    page.wait_for_selector(SENTENCES)
    expected = api_article(server, text)["sentences"]

    with page.expect_download() as info:
        page.click("#download-jsonl")
    assert info.value.suggested_filename == "story.claimtype.jsonl"
    rows = [json.loads(line) for line in Path(info.value.path()).read_text().splitlines()]
    assert [r["label"] for r in rows] == ["claim", "offer"]
    for row, s in zip(rows, expected, strict=True):
        assert row["id"] == "story.txt"
        assert {k: row[k] for k in ("index", "start", "end", "text", "scores", "truncated")} == {
            k: s[k] for k in ("index", "start", "end", "text", "scores", "truncated")
        }
        assert row["needs_review"] is False and row["review_threshold"] == 0.6

    with page.expect_download() as info:
        page.click("#download-csv")
    assert info.value.suggested_filename == "story.claimtype.csv"
    raw = Path(info.value.path()).read_bytes().decode()
    assert raw.endswith("\r\n")
    table = list(csv.DictReader(io.StringIO(raw, newline="")))
    assert list(table[0]) == [
        "index", "start", "end", "label", "score", "needs_review",
        "p_fact", "p_claim", "p_denial", "p_offer", "truncated", "text",
    ]  # fmt: skip
    assert [r["label"] for r in table] == ["claim", "offer"]
    assert table[0]["text"] == "'" + expected[0]["text"]  # a formula stays text
    assert table[1]["text"] == expected[1]["text"]  # commas and quotes round-trip
    assert float(table[1]["p_offer"]) == pytest.approx(expected[1]["scores"]["offer"], abs=1e-4)


@pytest.mark.parametrize(
    ("reply", "needle"),
    [
        ({"status": 422, "json": {"detail": "the article has no sentences"}}, "could not classify"),
        (
            {"status": 500, "json": {"detail": "boom"}, "headers": {"x-request-id": "r-42"}},
            "request id r-42",
        ),
        (None, "Could not reach the claimtype server"),
    ],
)
def test_api_failures_are_readable(server: str, open_page, reply, needle: str) -> None:  # type: ignore[no-untyped-def]
    page = open_page(server)
    if reply is None:
        page.route("**/v1/classify/article", lambda route: route.abort("connectionrefused"))
    else:
        page.route("**/v1/classify/article", lambda route: route.fulfill(**reply))
    page.fill("#text", ARTICLE)
    page.click("#submit")
    page.wait_for_selector("#error:not([hidden])")
    assert needle in page.inner_text("#error")
    assert page.input_value("#text") == ARTICLE  # nothing the user typed is lost
    assert page.is_enabled("#submit")


def test_too_long_and_empty_articles(server: str, open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page(server)
    long_text = "The port stayed shut. " * 30  # 660 characters > max_article_chars=600
    page.fill("#text", long_text)
    page.click("#submit")
    page.wait_for_selector("#error:not([hidden])")
    message = page.inner_text("#error")
    assert "too long" in message and "max_article_chars=600" in message
    assert page.input_value("#text") == long_text
    assert page.get_attribute("#error", "role") == "alert"

    page.fill("#text", "  \n ")
    page.click("#submit")
    assert "no text to classify" in page.inner_text("#error")


def test_auth_prompt_and_session_key(auth_server: str, open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page(auth_server)
    page.wait_for_selector("#auth:not([hidden])")  # GET v1/model answered 401
    assert "requires an API key" in page.inner_text("#auth-message")

    page.fill("#text", ARTICLE)
    page.fill("#api-key", "half-typed")
    with page.expect_response("**/v1/classify/article") as answer:
        page.click("#submit")  # 401 again: the prompt stays, the classify waits for a key
    assert answer.value.status == 401
    expect(page.locator("#submit")).to_be_enabled()  # the page has handled that 401
    assert "requires an API key" in page.inner_text("#auth-message")
    assert page.input_value("#api-key") == "half-typed"  # a 401 arriving does not wipe typing
    page.fill("#api-key", "wrong-key")
    page.press("#api-key", "Enter")
    expect(page.locator("#auth-message")).to_contain_text("refused")
    assert page.is_visible("#auth")

    with page.expect_request("**/v1/classify/article") as sent:
        page.fill("#api-key", "s3cret-key")
        page.click("#auth-form button")
        page.wait_for_selector(SENTENCES)  # the waiting classify ran by itself
    assert sent.value.headers["authorization"] == "Bearer s3cret-key"
    assert page.is_hidden("#auth")
    assert attr_list(page, "data-label") == LABELS
    assert page.evaluate("sessionStorage.getItem('claimtype.apiKey')") == "s3cret-key"
    assert page.evaluate("localStorage.length") == 0

    page.reload()  # same tab: the key is still there
    page.wait_for_selector("#forget-key:not([hidden])")
    assert page.is_hidden("#auth")
    page.click("#forget-key")
    assert page.evaluate("sessionStorage.getItem('claimtype.apiKey')") is None

    other = open_page(auth_server)  # another tab does not get the key
    other.wait_for_selector("#auth:not([hidden])")


def _luminance(rgb: str) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (float(x) for x in re.findall(r"[\d.]+", rgb)[:3])
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_accessibility_contrast_roles_and_no_outside_requests(server: str, open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page(server)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    classify(page, "Rain fell. The union said no. " + ARTICLE)
    for threshold in ("0.6", "0.99"):  # plain, then every sentence flagged for review
        page.fill("#threshold", threshold)
        colours = page.eval_on_selector_all(
            f"{SENTENCES}, #legend .tag",
            """els => els.map(e => {
                const s = getComputedStyle(e), t = getComputedStyle(e, '::before');
                return [e.dataset.label || e.textContent, s.color, s.backgroundColor,
                        t.color, t.backgroundColor];
            })""",
        )
        assert {c[0] for c in colours} == {"fact", "claim", "denial", "offer"}
        for name, ink, bg, tag_ink, tag_bg in colours:
            assert contrast(ink, bg) >= 4.5, (name, ink, bg)
            if tag_bg != "rgba(0, 0, 0, 0)":  # the legend's tags have no ::before
                assert contrast(tag_ink, tag_bg) >= 4.5, (name, tag_ink, tag_bg)

    assert page.get_attribute("#status", "role") == "status"
    assert page.get_attribute("#status", "aria-live") == "polite"
    assert set(attr_list(page, "role")) == {"group"}
    assert set(attr_list(page, "aria-roledescription")) == {"sentence"}
    assert all(label.startswith("Sentence ") for label in attr_list(page, "aria-label"))
    for selector in ("#text", "#file", "#threshold", "#api-key"):
        assert page.eval_on_selector(selector, "e => e.labels.length") == 1, selector
    assert requests and all(u.startswith(server + "/") for u in requests), requests
