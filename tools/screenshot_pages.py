"""Screenshots of the gallery's explorable pages, for the gallery and the README.

Opens every ``*_explore.html`` in a directory in headless Chromium (Debian's
``chromium`` driven by playwright; ``OPTVIZ_CHROMIUM`` names another binary), waits
until its paths are drawn, and writes ``NAME_explore.png`` beside it.

Usage: python tools/screenshot_pages.py [gallery] [--width 1280] [--height 860]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def shoot(paths: list[Path], width: int, height: int) -> list[Path]:
    from playwright.sync_api import sync_playwright

    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=os.environ.get("OPTVIZ_CHROMIUM", "/usr/bin/chromium"),
                                    args=ARGS)
        for path in paths:
            page = browser.new_page(viewport={"width": width, "height": height})
            errors: list[str] = []
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            page.goto(path.resolve().as_uri())
            deadline = time.monotonic() + 30
            while not page.evaluate("window.optvizPage && window.optvizPage.ready"):
                if errors or time.monotonic() > deadline:
                    raise SystemExit(f"{path}: the page did not get ready {errors}")
                page.wait_for_timeout(50)
            page.wait_for_timeout(300)  # the background image and one more frame
            target = path.with_suffix(".png")
            page.screenshot(path=str(target))
            written.append(target)
            page.close()
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", default="gallery", type=Path)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=860)
    args = parser.parse_args()
    for path in shoot(sorted(args.directory.glob("*_explore.html")), args.width, args.height):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
