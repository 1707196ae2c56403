"""Headless Chromium for looking at the dashboard as a person would: Debian's ``chromium-headless-shell``
(``make .chromium`` installs it, as root), driven by Playwright.

Playwright's own browser builds are never used: ``playwright install`` downloads them from a CDN, and
this project installs everything from package registries. Playwright drives any recent Chromium
through ``executable_path`` (Debian's 150 works). ``CONTRIBSYNC_CHROMIUM`` names another binary.
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser

ENV = "CONTRIBSYNC_CHROMIUM"
CANDIDATES = ("chromium-headless-shell", "chromium", "chromium-browser")


class ChromiumNotFound(RuntimeError):
    pass


def chromium_path() -> str:
    """The headless Chromium binary to drive, or ``ChromiumNotFound`` saying how to install one."""
    if explicit := os.environ.get(ENV):
        if found := shutil.which(explicit):
            return found
        raise ChromiumNotFound(f"{ENV}={explicit} is not an executable")
    for name in CANDIDATES:
        if found := shutil.which(name):
            return found
    raise ChromiumNotFound(
        "no headless Chromium on PATH (looked for " + ", ".join(CANDIDATES) + "): `make .chromium` installs "
        "Debian's chromium-headless-shell (as root: apt-get install --no-install-recommends "
        f"chromium-headless-shell), or set {ENV} to a Chromium binary")


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium, closed on exit."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            yield browser
        finally:
            browser.close()


__all__ = ["ChromiumNotFound", "chromium", "chromium_path"]
