"""Browsing runs as a person does: a real run, `astrozoo ui`, and the MLflow UI in headless
Chromium showing the toy task's experiment, the run and its metrics; then the UI stops cleanly.

Needs Debian's chromium + chromium-driver and selenium (scripts/ci-deps.sh installs them). Without
them the test is skipped with the reason — except in CI (CI=true), where it fails instead.
A screenshot of each page is kept under test-artifacts/ (git-ignored).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import mlflow
import pytest

from astrozoo.cli import main

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "test-artifacts"
BIN = Path(sys.executable).parent
RUN_NAME = "toy/line/quick/seed0"
COMPARISON = ("test_rmse", "test_mae")
# chromium never leaves the machine: every host name but 127.0.0.1 fails to resolve
CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--window-size=1600,900", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--no-first-run", "--disable-default-apps")


def need(what: str) -> None:
    reason = f"{what} is not installed (run scripts/ci-deps.sh)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the browser test: {reason}")
    pytest.skip(reason)


@pytest.fixture
def browser():
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        need("Debian's chromium and chromium-driver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        need("selenium")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(driver), options=options)
    try:
        yield browser
    finally:
        browser.quit()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_text(browser, texts, timeout=90.0) -> str:
    """The page's visible text once it shows every one of ``texts`` (React renders late)."""
    deadline = time.monotonic() + timeout
    body = ""
    while time.monotonic() < deadline:
        body = browser.execute_script("return document.body ? document.body.innerText : ''")
        if all(t in body for t in texts):
            return body
        time.sleep(1)
    raise AssertionError(f"the page never showed {[t for t in texts if t not in body]}; it shows:\n{body[:2000]}")


def test_mlflow_ui_shows_the_run_and_its_metrics(browser, workdir, capsys, monkeypatch):
    from selenium.webdriver.common.by import By

    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    with pytest.raises(SystemExit) as done:
        main(["run", "toy", "--model", "line"])
    out = capsys.readouterr().out
    assert done.value.code == 0, out
    run_id = out.split("run id: ")[1].split()[0]
    metrics = mlflow.get_run(run_id).data.metrics
    experiment = mlflow.get_experiment_by_name("toy").experiment_id
    assert set(COMPARISON) <= set(metrics)

    port = free_port()
    log = open(workdir / "ui.log", "w+")
    ui = subprocess.Popen([BIN / "astrozoo", "ui", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT,
                          start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 240  # MLflow needs 8-70 s to answer, depending on the load
        while time.monotonic() < deadline and ui.poll() is None:
            try:
                with urllib.request.urlopen(base + "health", timeout=2):
                    break
            except OSError:
                time.sleep(1)
        log.seek(0)
        assert f"at http://127.0.0.1:{port}" in log.read(), "astrozoo ui must say its URL"
        assert ui.poll() is None, "astrozoo ui exited"
        SHOTS.mkdir(exist_ok=True)

        # the runs table, with the comparison columns chosen (as a person would with "Columns"),
        # in MLflow's "Model training" view (its sidebar switch; the default is "GenAI")
        browser.get(base)
        wait_for_text(browser, ["Experiments", "Model training"])
        browser.find_element(By.XPATH, "//*[normalize-space(text())='Model training']").click()
        state = {"selectedColumns": [f"metrics.`{m}`" for m in COMPARISON] + ["tags.`astrozoo.provenance`"],
                 "orderByKey": "metrics.`test_rmse`", "orderByAsc": True}
        browser.execute_script("localStorage.setItem('mlflow.assistant.panelOpen_v1', 'false');"
                               "localStorage.setItem('mlflow.assistant.fab.autoOpenedOnFirstLoad_v1', 'true');"
                               "localStorage.setItem(arguments[0], arguments[1]);",
                               f'MLflowLocalStorage-1.1-ExperimentPage-["{experiment}"]-ReactComponentState',
                               json.dumps(state))
        browser.get(f"{base}#/experiments/{experiment}/runs")
        browser.refresh()
        table = wait_for_text(browser, ["Model registry", "toy", RUN_NAME, *COMPARISON, "mock"])
        browser.save_screenshot(str(SHOTS / "mlflow-ui-runs.png"))
        assert repr(metrics["test_rmse"])[:6] in table

        # the run's own page: every test metric with its value
        browser.get(f"{base}#/experiments/{experiment}/runs/{run_id}")
        page = wait_for_text(browser, [RUN_NAME, run_id, *COMPARISON, "astrozoo.provenance"])
        browser.save_screenshot(str(SHOTS / "mlflow-ui-run.png"))
        for name in COMPARISON:
            assert repr(metrics[name])[:6] in page, f"{name} = {metrics[name]} is not on the run page"
    finally:
        if ui.poll() is None:
            os.killpg(ui.pid, signal.SIGTERM)  # astrozoo ui stops its server's process group in turn
        code = ui.wait(timeout=60)
        log.seek(0)
        output = log.read()
        log.close()
    assert code == 0, output
    assert "MLflow UI stopped" in output
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0, "the MLflow server is still listening"


def test_the_comparison_columns_exist_for_regression_and_classification():
    """The columns to compare by are logged as test_<metric>: these names must stay registered."""
    from astrozoo.registry import get_registry

    registry = get_registry()
    assert {"rmse", "mae"} <= set(registry.task("toy").metrics)
    for name in ("accuracy", "f1", "roc_auc"):
        assert registry.metric(name).kind == "classification" and registry.metric(name).higher_is_better
