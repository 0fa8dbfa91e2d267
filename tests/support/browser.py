"""A real headless Chromium (Debian's ``chromium`` + ``chromedriver``) driven by Selenium.

The system browser and driver only: nothing is downloaded (Selenium Manager is never asked).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from tests.support.binaries import require_binary

PHONE = (390, 844)
DESKTOP = (1920, 1080)


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser = require_binary("chromium", "chromium-browser")
    driver_binary = require_binary("chromedriver")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in ("--headless=new", "--disable-gpu", "--hide-scrollbars", "--no-first-run"):
        options.add_argument(flag)
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")  # Chromium refuses to sandbox as root
    driver = webdriver.Chrome(service=Service(driver_binary), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def viewport(driver, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    """The page's viewport exactly (a phone is narrower than headless Chromium's window)."""
    width, height = size
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def overflow(driver) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """The page's horizontal overflow: the document, and every element wider than its box."""
    return driver.execute_script(
        """
        const doc = document.documentElement;
        const wide = [];
        for (const el of document.querySelectorAll('body *')) {
          const r = el.getBoundingClientRect();
          if (r.width && (r.right > doc.clientWidth + 0.5 || r.left < -0.5)) {
            wide.push(`${el.tagName.toLowerCase()}.${el.className}`);
          }
          const style = getComputedStyle(el);
          if (el.scrollWidth > el.clientWidth + 1 && style.overflowX === 'hidden'
              && !['line', 'name'].some((c) => el.classList.contains(c))) {
            wide.push(`${el.tagName.toLowerCase()}.${el.className} (clipped)`);
          }
        }
        return {scroll: doc.scrollWidth, client: doc.clientWidth, wide: wide};
        """
    )


def full_page_screenshot(driver, path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    """The whole page at ``size``'s width (a phone page is taller than the screen)."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    viewport(driver, (size[0], max(size[1], int(height))))
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))
    viewport(driver, size)
