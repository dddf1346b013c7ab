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
