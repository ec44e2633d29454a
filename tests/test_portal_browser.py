"""The portal in a real browser (Debian's chromium and chromedriver, headless, with Selenium) against a
real server (uvicorn in a thread), on SQLite and on PostgreSQL: a head opens the link, uploads a workbook
with mistakes, reads the findings, uploads the fixed one and sees it accepted; the office sees the board
change and downloads a master equal, cell by cell, to the one `reconcile --from-portal` writes.

PostgreSQL: $CASCADEBOOK_TEST_POSTGRES (a URL of a database the test may empty; .ci/run starts a cluster
and sets it). Without it the PostgreSQL case is skipped locally and fails under CI, as does a missing
chromium. With $CASCADEBOOK_PORTAL_SCREENSHOTS set to a folder, the pages' screenshots are copied there
(README's, under docs/).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cascadebook.cli import cli
from conftest import IN_CI
from portal_fixtures import make_cycle, make_portal, postgres_url
from test_portal import TIMESTAMP, _cells

CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _require(ok: bool, what: str) -> None:
    if ok:
        return
    if IN_CI:
        pytest.fail(f"{what} is missing under CI (.ci/run provides it)", pytrace=False)
    pytest.skip(f"{what} is not available")


def _empty_postgres(url: str) -> None:
    from sqlalchemy import text

    from cascadebook.portal.store import _engine, metadata

    engine = _engine(url)
    with engine.begin() as conn:
        metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    """uvicorn serving the portal in a thread, on a free loopback port."""

    def __init__(self, app) -> None:
        import uvicorn

        self.port = _free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "the portal did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=30)


def _browser(downloads: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1500"):
        options.add_argument(arg)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def _wait(driver, condition, timeout: float = 30):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request) -> str | None:
    if request.param == "sqlite":
        return None
    url = postgres_url()
    _require(url is not None, "a PostgreSQL server ($CASCADEBOOK_TEST_POSTGRES)")
    _empty_postgres(url)
    return url


def test_a_head_and_the_office_in_a_browser(database, tmp_path):
    from selenium.webdriver.common.by import By

    _require(Path(CHROMEDRIVER).is_file() and Path(CHROMIUM).is_file(), "chromium and chromium-driver")
    cycle = make_cycle(tmp_path / "cycle")
    portal = make_portal(cycle, database)  # today fixed: the links work whatever the date the test runs
    from cascadebook.portal.app import create_app

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with _Server(create_app(portal)) as server:
        portal.public_url = f"http://127.0.0.1:{server.port}"
        driver = _browser(downloads)
        try:
            driver.get(portal.department_link("MKT"))
            assert "Marketing (MKT)" in driver.find_element(By.TAG_NAME, "h1").text
            assert "Friday 29 January 2027" in driver.page_source
            driver.find_element(By.ID, "workbook").send_keys(str(cycle.mkt_bad))  # portal.js sends it
            verdict = _wait(driver, lambda d: d.find_elements(By.ID, "verdict"))[0]
            assert "4 error(s) to fix" in verdict.text
            table = driver.find_element(By.CSS_SELECTOR, "#latest table.findings").text
            assert "Initiatives!B5" in table and "'CO9' is not an objective id" in table
            driver.save_screenshot(str(tmp_path / "portal-department.png"))
            old = verdict
            driver.find_element(By.ID, "workbook").send_keys(str(cycle.mkt_good))
            _wait(
                driver,
                lambda d: (
                    "Accepted" in d.find_element(By.ID, "verdict").text
                    if old.id != d.find_element(By.ID, "verdict").id
                    else False
                ),
            )
            assert len(driver.find_elements(By.CSS_SELECTOR, "#history tbody tr")) == 2

            driver.get(portal.office_link())
            state = driver.find_element(By.CSS_SELECTOR, "#dep-MKT .state").text
            assert state == "returned"
            assert driver.find_element(By.CSS_SELECTOR, "#dep-SAL .state").text == "waiting"
            driver.save_screenshot(str(tmp_path / "portal-office.png"))
            driver.find_element(By.ID, "master").click()
            master = _wait(driver, lambda d: list(downloads.glob("*.xlsx")))[0]
        finally:
            driver.quit()
    cli_master = tmp_path / "cli.xlsx"
    args = ["reconcile", str(cycle.strategy_path), "--from-portal", str(cycle.root), "-o", str(cli_master), "-q"]
    run = CliRunner().invoke(cli, args + (["--portal-database", database] if database else []))
    assert run.exit_code == 0, run.output
    ours, theirs = _cells(master), _cells(cli_master)
    assert ours.keys() == theirs.keys()
    differing = {k: (ours[k], theirs[k]) for k in ours if ours[k] != theirs[k]}
    assert all(TIMESTAMP.search(str(a)) and TIMESTAMP.search(str(b)) for a, b in differing.values()), differing
    shots = os.environ.get("CASCADEBOOK_PORTAL_SCREENSHOTS")
    if shots and database is None:
        for name in ("portal-department.png", "portal-office.png"):
            shutil.copyfile(tmp_path / name, Path(shots) / name)
    portal.store.dispose()
    assert re.match(r"FY2027_master", master.name)
