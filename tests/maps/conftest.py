"""A headless Chromium for looking at saved maps as a person would, with no network.

The browser is Debian's ``chromium`` driven by its ``chromedriver`` (``.ci/install-browser.sh``
installs both). Without them the browser tests skip locally, and fail when ``CI`` is set.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Test modules import the shared layers in map_fixtures.py by name (pytest imports test
# files by path, so their folder is not on sys.path by itself).
sys.path.insert(0, str(Path(__file__).resolve().parent))

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "maps"

BROWSER_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,900",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless Chromium session (selenium WebDriver) with a fresh, empty profile."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        message = "chromium and chromedriver are needed; run .ci/install-browser.sh"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI is set, so this is not skipped)")
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="trazo-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in BROWSER_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        # No network for the pages under test: anything they try to fetch fails loudly.
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd(
            "Network.emulateNetworkConditions",
            {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Folder for screenshots (gitignored ``test-artifacts/``)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
