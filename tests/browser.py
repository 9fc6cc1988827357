"""Driving the Airflow UI in Debian's chromium (headless) through chromedriver and Selenium."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@contextlib.contextmanager
def browser() -> Iterator[WebDriver]:
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.skip("Debian's chromium and chromium-driver are not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


class HubUi:
    """The pages of Airflow's UI the operators use, by what a person sees and clicks."""

    def __init__(self, driver: WebDriver, base_url: str):
        self.driver = driver
        self.base_url = base_url
        self.wait = WebDriverWait(driver, 60, ignored_exceptions=(StaleElementReferenceException,))

    def log_in(self, username: str, password: str) -> None:
        self.driver.get(f"{self.base_url}/")
        self.wait.until(expected_conditions.presence_of_element_located((By.NAME, "username"))).send_keys(username)
        self.driver.find_element(By.NAME, "password").send_keys(password)
        self.driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        self.wait.until(lambda d: "/auth/login" not in d.current_url)

    def dag_list(self) -> dict[str, str]:
        """The DAGs page in table view: each DAG id with the text of its row (schedule, runs, tags)."""
        self.driver.get(f"{self.base_url}/dags")
        toggle = (By.CSS_SELECTOR, "[data-testid=toggle-pause]")
        self.wait.until(expected_conditions.presence_of_element_located(toggle))
        self.driver.find_element(By.CSS_SELECTOR, "button[aria-label='Show table view']").click()
        return self.wait.until(self._dag_rows)

    @staticmethod
    def _dag_rows(driver: WebDriver) -> dict[str, str] | bool:
        """The table's rows once each shows its DAG's link; while it still renders, False."""
        rows = driver.find_elements(By.CSS_SELECTOR, "tbody tr")
        links = [row.find_elements(By.CSS_SELECTOR, "a") for row in rows]
        if not rows or not all(links):
            return False
        return {link[0].text: row.text for link, row in zip(links, rows, strict=True)}

    def dag_page(self, dag_id: str) -> str:
        """The text of a DAG's page (schedule, owner, tags, details)."""
        self.driver.get(f"{self.base_url}/dags/{dag_id}/details")
        return self.wait.until(lambda d: "Owner" in (text := d.find_element(By.TAG_NAME, "body").text) and text)

    def toggle(self, dag_id: str) -> None:
        row = self.driver.find_element(By.XPATH, f"//tr[.//a[normalize-space()='{dag_id}']]")
        switch = row.find_element(By.CSS_SELECTOR, "[data-testid=toggle-pause]")
        before = switch.get_attribute("data-state")
        switch.click()
        self.wait.until(lambda _: switch.get_attribute("data-state") != before)


def press_test_button(ui: HubUi, conn_id: str) -> str:
    """Presses a connection's Test button under Admin > Connections; the result it shows a person:
    the toast's title and text ("Connection ..." / "Test Connection Failed ...")."""
    driver = ui.driver
    driver.get(f"{ui.base_url}/connections")
    row = (By.XPATH, f"//tr[.//*[normalize-space()='{conn_id}']]")
    ui.wait.until(expected_conditions.presence_of_element_located(row))
    driver.find_element(*row).find_element(By.CSS_SELECTOR, "button[aria-label='Test Connection']").click()

    def shown(d: WebDriver) -> str | bool:
        toasts = [t.text for t in d.find_elements(By.CSS_SELECTOR, "[data-scope=toast][data-part=root]") if t.text]
        return toasts[-1] if toasts else False

    return ui.wait.until(shown)
