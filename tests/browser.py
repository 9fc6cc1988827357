"""Driving the Airflow UI in Debian's chromium (headless) through chromedriver and Selenium."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterator

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

    def dag_page(self, dag_id: str, showing: str = "Owner") -> str:
        """The text of a DAG's page (schedule, owner, tags, details) once it shows ``showing`` (the page
        fills in its details and its labels' translations after it first renders)."""
        self.driver.get(f"{self.base_url}/dags/{dag_id}/details")
        return self.wait.until(lambda d: showing in (text := d.find_element(By.TAG_NAME, "body").text) and text)

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


class ConsolePage:
    """The Channel Hub console as a person uses it: the UI's "Channel Hub" page (an iframe of the
    console), its filters, rows, detail, actions and tabs."""

    def __init__(self, ui: HubUi):
        self.ui, self.driver, self.wait = ui, ui.driver, ui.wait

    def open(self, dag_id: str | None = None) -> None:
        """The navigation entry's page (or a DAG's Records tab), then into its frame once the console
        says who is logged in."""
        route = f"dags/{dag_id}/plugin/channelhub_records" if dag_id else "plugin/channelhub"
        self.driver.get(f"{self.ui.base_url}/{route}")
        frame = self.wait.until(expected_conditions.presence_of_element_located((By.TAG_NAME, "iframe")))
        self.driver.switch_to.frame(frame)
        self.wait.until(lambda d: d.find_element(By.ID, "who").text)

    def _reloaded(self, action: Callable[[], None]) -> None:
        """Runs ``action`` and waits until the list was drawn again (its count line is rewritten)."""
        self.driver.execute_script("document.getElementById('count').textContent = ''")
        action()
        self.wait.until(lambda d: d.find_element(By.ID, "count").text)

    def filter(self, **values: str) -> None:
        for name, value in values.items():
            field = self.driver.find_element(By.CSS_SELECTOR, f"#filters [name={name}]")
            field.clear()
            field.send_keys(value)
        self._reloaded(lambda: self.driver.find_element(By.CSS_SELECTOR, "#filters button[type=submit]").click())

    def rows(self) -> list[dict[str, str]]:
        found = []
        for row in self.driver.find_elements(By.CSS_SELECTOR, "#errors tr"):
            cells = [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
            found.append({"id": row.get_attribute("data-id"), "trace": row.get_attribute("data-trace"),
                          "owner": cells[2], "status": cells[8], "class": cells[7]})
        return found

    def show(self, error_id: str) -> str:
        """Opens an error's detail; the request it shows."""
        self.driver.find_element(By.CSS_SELECTOR, f"#errors tr[data-id='{error_id}'] td:nth-child(7)").click()
        return self.wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#detail pre[data-part=request]").text)

    def _said(self, action: Callable[[], None]) -> None:
        self.driver.execute_script("document.getElementById('message').textContent = ''")
        action()
        self.wait.until(lambda d: d.find_element(By.ID, "message").text)

    def message(self) -> str:
        return self.driver.find_element(By.ID, "message").text

    def retry_edited(self, payload: str, note: str, run_now: bool) -> None:
        area = self.driver.find_element(By.CSS_SELECTOR, "#detail textarea[name=payload]")
        self.driver.execute_script("arguments[0].value = arguments[1]", area, payload)
        self.driver.find_element(By.CSS_SELECTOR, "#detail [name=edit_note]").send_keys(note)
        box = self.driver.find_element(By.CSS_SELECTOR, "[name=run_now]")
        if box.is_selected() != run_now:
            box.click()
        self._said(lambda: self.driver.find_element(By.CSS_SELECTOR, "#detail [data-action=edit]").click())

    def select(self, error_id: str) -> None:
        self.driver.find_element(By.CSS_SELECTOR, f"[data-select='{error_id}']").click()

    def act(self, action: str, note: str) -> None:
        note_field = self.driver.find_element(By.CSS_SELECTOR, "#actions [name=note]")
        note_field.clear()
        note_field.send_keys(note)
        self._said(lambda: self.driver.find_element(By.CSS_SELECTOR, f"[data-action={action}]").click())

    def tab(self, name: str) -> None:
        button = self.driver.find_element(By.XPATH, f"//div[@class='tabs']/button[normalize-space()='{name}']")
        self._reloaded(button.click)

    def actions_shown(self) -> bool:
        return self.driver.find_element(By.ID, "actions").is_displayed()

    def _view(self, name: str, body_id: str) -> None:
        self.driver.find_element(By.XPATH, f"//nav/button[normalize-space()='{name}']").click()
        self.wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f"#{body_id} tr"))

    def download_report(self, dag_id: str, table: str) -> str:
        """The error report of the newest failed load of ``table``, fetched through its link."""
        self._view("File loads", "loads")
        row = self.driver.find_element(By.XPATH, f"//tbody[@id='loads']/tr[td[2][normalize-space()='{dag_id}'] and "
                                                 f"td[3][normalize-space()='{table}'] and .//a[@data-report]]")
        href = row.find_element(By.CSS_SELECTOR, "a[data-report]").get_attribute("href")
        return self.driver.execute_async_script(
            "const done = arguments[1]; fetch(arguments[0], {credentials: 'same-origin'})"
            ".then(r => r.text()).then(done)", href)

    def audit(self) -> str:
        self._view("Audit trail", "audit")
        return self.driver.find_element(By.ID, "audit").text

    def credentials(self) -> tuple[str, str]:
        """The Credentials view's two tables as text: push credentials, connection checks."""
        self._view("Credentials", "credentials")
        return (self.driver.find_element(By.ID, "credentials").text,
                self.driver.find_element(By.ID, "checks").text)
