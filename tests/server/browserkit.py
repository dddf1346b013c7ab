"""Playwright for Python driving Debian's chromium (never `playwright install`)."""

from __future__ import annotations

import os
import shutil

CHROMIUM = os.environ.get("TICKITZ_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)


def sign_in(page, url: str, key: str, event_id: str | None = None) -> None:
    """Sign in through the form and, on a hub with several events, pick `event_id`."""
    page.goto(url + "/")
    page.fill("#keyInput", key)
    page.click("#loginButton")
    page.wait_for_selector("#app:not([hidden])")
    if event_id is not None:
        page.select_option("#eventSelect", event_id)
        page.wait_for_selector(f'body[data-event="{event_id}"]')  # its figures, not the last


def horizontal_overflow(page) -> int:
    """How far the page is wider than the window (0: no sideways scroll)."""
    return page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")


# Headers and badges are words: one laid out on more lines than it has words was broken
# inside a word ("Recei|ved", "offlin|e"), or spills out of its cell.
_BROKEN_WORDS = """() => [...document.querySelectorAll('th, .badge')]
  .filter((e) => e.offsetParent && e.textContent.trim())
  .filter((e) => {
    const range = document.createRange();
    range.selectNodeContents(e);
    const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
    return lines > e.textContent.trim().split(/\\s+/).length || e.scrollWidth > e.clientWidth;
  })
  .map((e) => e.textContent.trim())"""


def broken_words(page) -> list[str]:
    """The visible table headers and badges that wrap inside a word or overflow."""
    return page.evaluate(_BROKEN_WORDS)
