"""Screenshot the article viewer on a real article with a real model.

Runs the app on loopback with the given model, opens the page in headless Chromium
(the same harness as tests/browser), classifies the article, focuses one sentence so
the details panel shows its probabilities, and saves a full-page screenshot.

    python scripts/viewer_screenshot.py                          # test-artifacts/viewer.png
    python scripts/viewer_screenshot.py --out docs/viewer.png    # replace the docs' figure

The default goes to a git-ignored folder: a trial run must not overwrite the tracked
docs/viewer.png.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from claimtype.settings import Settings  # noqa: E402
from tests.browser.harness import chromium_path, launch, live_server  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="model directory (default: the shipped one)")
    parser.add_argument("--article", type=Path, default=ROOT / "docs" / "viewer-article.txt")
    parser.add_argument("--out", type=Path, default=ROOT / "test-artifacts" / "viewer.png")
    parser.add_argument("--focus", type=int, default=5, help="sentence to focus (0-based)")
    parser.add_argument("--threshold", type=float, default=0.6, help="needs-review threshold")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    from playwright.sync_api import expect, sync_playwright

    executable = chromium_path()
    if executable is None:
        raise SystemExit("chromium is not installed: run scripts/install-browser.sh")
    settings = Settings(threads=args.threads, **({"model": args.model} if args.model else {}))
    text = args.article.read_text()
    with live_server(settings) as url, sync_playwright() as p:
        browser = launch(p, executable)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url)
        expect(page.locator("#model-name")).not_to_have_text("not loaded yet")
        page.fill("#text", text)
        page.click("#submit")
        expect(page.locator("#status")).to_have_text(re.compile("^Labelled"))
        page.fill("#threshold", str(args.threshold))
        page.eval_on_selector("#text", "e => { e.scrollTop = 0; }")
        page.mouse.move(0, 0)  # no hover highlight; the panel follows the focus
        page.focus(f"#article .sentence >> nth={args.focus}")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(args.out), full_page=True)
        print(page.inner_text("#status"))
        for tag in page.eval_on_selector_all(
            "#article .sentence", "els => els.map(e => e.getAttribute('aria-label'))"
        ):
            print(" ", tag)
        browser.close()
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
