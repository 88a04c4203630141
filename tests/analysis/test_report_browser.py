"""The CDNOW report opened in headless Chromium: no errors, no request, every image shown.

One browser session serves the module. In CI (``CI=true``) the test must run: a missing
Chromium, chromedriver or Selenium fails it with the way to install them; elsewhere it
is skipped, saying what is missing. The test saves a screenshot of the top of the page
as ``docs/img/analysis_report.png`` (shown by the docs).
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import crmmodels as crm
from crmmodels.datasets import load_cdnow

SECTIONS = [
    "key-figures",
    "data-checks",
    "model-selection",
    "clv",
    "quadrants",
    "portfolio",
    "lifecycle",
    "retention",
    "rfm",
    "assumptions",
]
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "analysis_report.png"
SCREENSHOT_SIZE = (1280, 2300)  # CSS pixels: from the title to the CLV figure
MAX_SCREENSHOT_BYTES = 400_000


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _missing(what: str) -> None:
    message = (
        f"{what}; the browser test of the report needs Debian's chromium and "
        "chromium-driver (apt-get install chromium chromium-driver) and selenium."
    )
    if _in_ci():
        pytest.fail(f"CI=true but {message}", pytrace=False)
    pytest.skip(f"{message} (the test runs in CI)")


def _browser_paths() -> tuple[str, str]:
    browser = next(
        (
            p
            for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome"))
            if p
        ),
        None,
    )
    driver = shutil.which("chromedriver")
    if browser is None:
        _missing("no Chromium browser found on PATH")
    if driver is None:
        _missing("no chromedriver found on PATH")
    assert browser is not None and driver is not None
    return browser, driver


@pytest.fixture(scope="module")
def analysis() -> crm.CustomerAnalysis:
    return crm.analyze(load_cdnow())


@pytest.fixture(scope="module")
def report_path(analysis: crm.CustomerAnalysis, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return analysis.report(tmp_path_factory.mktemp("browser") / "report.html")


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    browser, chromedriver = _browser_paths()
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium is not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--window-size={SCREENSHOT_SIZE[0]},{SCREENSHOT_SIZE[1]}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    # an explicit chromedriver: Selenium must not look for (download) one
    session = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    try:
        yield session
    finally:
        session.quit()


@pytest.fixture(scope="module")
def loaded(driver: Any, report_path: Path) -> dict[str, Any]:
    """The page opened once; the browser's console and network records of the load."""
    url = report_path.as_uri()
    driver.get(url)
    ready = driver.execute_script("return document.readyState")
    performance = [json.loads(e["message"])["message"] for e in driver.get_log("performance")]
    return {
        "url": url,
        "ready": ready,
        "console": driver.get_log("browser"),
        "network": [e for e in performance if e["method"].startswith("Network.")],
    }


def test_no_console_errors(loaded: dict[str, Any]) -> None:
    assert loaded["ready"] == "complete"
    problems = [e for e in loaded["console"] if e["level"] in ("SEVERE", "WARNING")]
    assert problems == []


def test_no_network_request_but_the_file(loaded: dict[str, Any]) -> None:
    requests = [
        e["params"]["request"]["url"]
        for e in loaded["network"]
        if e["method"] == "Network.requestWillBeSent"
    ]
    assert loaded["url"] in requests
    assert [u for u in requests if u != loaded["url"] and not u.startswith("data:")] == []
    assert not [e for e in loaded["network"] if e["method"] == "Network.webSocketCreated"]
    failed = [e["params"] for e in loaded["network"] if e["method"] == "Network.loadingFailed"]
    assert failed == []


def test_every_image_is_decoded(driver: Any, loaded: dict[str, Any], analysis) -> None:
    images = driver.execute_script(
        "return Array.from(document.images).map("
        "i => [i.closest('section').id, i.complete, i.naturalWidth, i.naturalHeight])"
    )
    assert len(images) >= 6
    for section, complete, width, height in images:
        assert complete and width > 0 and height > 0, section
    shown = {s for s, *_ in images}
    expected = {"clv", "quadrants", "portfolio", "lifecycle", "retention", "rfm"}
    if analysis.model_selection is not None:
        expected.add("model-selection")
    assert shown == expected


def test_every_section_is_present(driver: Any, loaded: dict[str, Any], analysis) -> None:
    ids = driver.execute_script(
        "return Array.from(document.querySelectorAll('main > section')).map(s => s.id)"
    )
    assert ids == SECTIONS
    skipped = driver.execute_script(
        "return Array.from(document.querySelectorAll('section p.skipped'))"
        ".map(p => [p.closest('section').id, p.textContent])"
    )
    for section, text in skipped:
        assert text.startswith("Skipped: "), section
    if analysis.model_selection is None:
        assert [s for s, _ in skipped] == ["model-selection"]


def test_the_top_customers_table_starts_with_the_highest_clv(
    driver: Any, loaded: dict[str, Any], analysis
) -> None:
    cells = driver.execute_script(
        "const t = document.getElementById('top-customers');"
        "return [Array.from(t.tHead.rows[0].cells).map(c => c.textContent),"
        " Array.from(t.tBodies[0].rows[0].cells).map(c => c.textContent),"
        " t.tBodies[0].rows.length]"
    )
    header, first, n_rows = cells
    table = analysis.customers
    best = table.iloc[int(np.nanargmax(table["clv"].to_numpy(dtype="float64")))]
    assert n_rows == 20
    assert first[0] == str(best["customer_id"])
    assert first[header.index("CLV")] == f"{best['clv']:,.2f}"
    assert first[header.index("rank")] == "1"
    assert float(first[header.index("P(alive)")]) == pytest.approx(best["p_alive"], abs=5e-4)
    assert first[header.index("total value")] == f"{best['total_value']:,.2f}"
    assert first[header.index("RFM segment")] == best["rfm_segment"]


def test_the_tables_fit_a_laptop_screen(driver: Any, loaded: dict[str, Any]) -> None:
    widths = driver.execute_script(
        "return Array.from(document.querySelectorAll('.table-wrap'))"
        ".map(w => [w.querySelector('table').id, w.clientWidth, w.scrollWidth])"
    )
    assert {t for t, *_ in widths} >= {"steps", "top-customers", "class-table", "rfm-table"}
    assert [t for t, client, scroll in widths if scroll > client] == []


def test_it_prints_one_section_per_page(driver: Any, loaded: dict[str, Any]) -> None:
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        breaks = driver.execute_script(
            "return Array.from(document.querySelectorAll('main > section'))"
            ".map(s => getComputedStyle(s).breakBefore)"
        )
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert breaks == ["auto"] + ["page"] * (len(SECTIONS) - 1)
    pdf = base64.b64decode(
        driver.execute_cdp_cmd("Page.printToPDF", {"printBackground": True})["data"]
    )
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))
    assert pages >= len(SECTIONS)


def test_screenshot(driver: Any, loaded: dict[str, Any]) -> None:
    from PIL import Image

    width, height = SCREENSHOT_SIZE
    driver.set_window_size(width, height)
    png = driver.get_screenshot_as_png()
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.width > 0.9 * width
    # a page with content: many colours, not a blank or an error page
    assert len(image.getcolors(maxcolors=1 << 16) or range(1 << 16)) > 50
    small = image.quantize(colors=128, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    assert len(out.getvalue()) < MAX_SCREENSHOT_BYTES
    if SCREENSHOT.parent.is_dir():
        SCREENSHOT.write_bytes(out.getvalue())
