"""What the article viewer adds on top of the API: page time against a bare API call.

For one article of --chars characters (default: the server's max_article_chars,
200,000, about 2,000 sentences), it measures in the same process, alternating:
  api   POST /v1/classify/article from Python (the baseline)
  page  Classify clicked in headless Chromium until the page has drawn every sentence
        (the same request, plus JSON parsing, offset mapping, DOM, layout and paint)
  viewer the page again with that same answer served by the browser (no server, no
        model): the viewer's own cost
and prints medians and the ratios page/api and viewer/api. A last figure times the
threshold re-styling of every sentence.

    PYTHONPATH=. python benchmarks/viewer.py --model models/claimtype-minilm
    PYTHONPATH=. python benchmarks/viewer.py --model /tmp/trial/model --chars 20000 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from claimtype.settings import Settings  # noqa: E402
from tests.browser.harness import chromium_path, launch, live_server  # noqa: E402

# timed inside the page (no polling from Python): click, wait for the status line that
# show() writes after building the DOM, then two frames so layout and paint are counted
CLICK_UNTIL_SHOWN = """() => new Promise((resolve) => {
    const status = document.querySelector('#status');
    status.textContent = '';
    const t0 = performance.now();
    const done = new MutationObserver(() => {
        if (!status.textContent.startsWith('Labelled')) return;
        done.disconnect();
        requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - t0)));
    });
    done.observe(status, { childList: true, characterData: true, subtree: true });
    document.querySelector('#submit').click();
})"""


def article(chars: int) -> str:
    """The docs article repeated (paragraphs intact) and cut at a sentence end."""
    base = (ROOT / "docs" / "viewer-article.txt").read_text().strip()
    text = base
    while len(text) < chars:
        text += "\n\n" + base
    cut = text.rfind(".", 0, chars)
    return text[: cut + 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="model directory (default: the shipped one)")
    parser.add_argument("--chars", type=int, default=Settings().max_article_chars)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, help="ONNX Runtime threads")
    args = parser.parse_args()

    import httpx
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    if executable is None:
        raise SystemExit("chromium is not installed: run scripts/install-browser.sh")
    overrides = {"model": args.model, "threads": args.threads}
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    text = article(args.chars)
    api_s: list[float] = []
    page_s: list[float] = []
    restyle_ms: list[float] = []
    render_s: list[float] = []
    with live_server(settings) as url, sync_playwright() as p, httpx.Client(timeout=600) as http:
        browser = launch(p, executable)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url)
        page.fill("#text", text)
        answer = http.post(f"{url}/v1/classify/article", json={"text": text})
        n = len(answer.json()["sentences"])
        print(f"article: {len(text):,} characters, {n:,} sentences; {args.repeats} repeats")
        for _ in range(args.repeats):
            start = time.perf_counter()
            http.post(f"{url}/v1/classify/article", json={"text": text}).raise_for_status()
            api_s.append(time.perf_counter() - start)

            page_s.append(page.evaluate(CLICK_UNTIL_SHOWN) / 1000)
            assert page.locator("#article .sentence").count() == n

            restyle_ms.append(
                page.evaluate(
                    """() => {
                        const t = document.querySelector('#threshold');
                        const t0 = performance.now();
                        t.value = '0.99'; t.dispatchEvent(new Event('input'));
                        t.value = '0.6'; t.dispatchEvent(new Event('input'));
                        return (performance.now() - t0) / 2;
                    }"""
                )
            )
        # the viewer alone: the same answer served by the browser itself, no model in the loop
        page.route(
            "**/v1/classify/article",
            lambda route: route.fulfill(body=answer.content, content_type="application/json"),
        )
        for _ in range(args.repeats):
            render_s.append(page.evaluate(CLICK_UNTIL_SHOWN) / 1000)
        browser.close()
    api, shown = statistics.median(api_s), statistics.median(page_s)
    print(f"api   median {api * 1000:9.1f} ms   (POST from Python: the baseline)")
    print(f"page  median {shown * 1000:9.1f} ms   (click -> every sentence on screen)")
    render = statistics.median(render_s)
    print(f"viewer only  {render * 1000:9.1f} ms   (same answer, canned: parse, DOM, paint)")
    print(f"ratio page/api {shown / api:.2f}x; viewer only / api {render / api:.3f}x")
    restyle = statistics.median(restyle_ms)
    print(f"re-style {n:,} sentences on a threshold change: median {restyle:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
