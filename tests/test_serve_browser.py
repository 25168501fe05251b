"""The serve page in a real headless browser: Debian's chromium and chromium-driver, driven by Selenium.

Typing the seed pair into the page must render the label, the probability
and one cell per token, the numbers those of ``inference.predict`` and
``predict_per_token``. Skipped, saying why, where no browser is installed.
"""

from __future__ import annotations

import shutil

import pytest
from model_factory import randomized_model, write_model_dir
from test_serve import start_server

from sentiment_rnn.inference import predict, predict_per_token

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="no headless browser: install Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
)

WAIT_SECONDS = 60  # how long to wait for the page to render an answer (not a speed check)


@pytest.fixture(scope="module")
def server(model_dir, tmp_path_factory):
    model, config = randomized_model("model.kind=bow")
    bow_dir = write_model_dir(model, config, tmp_path_factory.mktemp("browser") / "bow")
    process, port = start_server(model_dir, "--bow-model", str(bow_dir))
    yield f"http://127.0.0.1:{port}/", bow_dir
    process.terminate()
    process.wait(timeout=60)


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1000,800"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    yield driver
    driver.quit()


def rendered(browser, text: str) -> dict:
    """What the page shows once it has rendered ``text``: labels, probabilities and the token cells."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda b: (
            b.execute_script(
                "return document.body.dataset.state === 'ready' && document.getElementById('rnn').dataset.text"
            )
            == text
        )
    )
    cells = browser.find_elements(By.CSS_SELECTOR, "#tokens .cell")
    return {
        "label": browser.find_element(By.ID, "rnn-label").text,
        "probability": browser.find_element(By.ID, "rnn-probability").text,
        "bow_label": browser.find_element(By.ID, "bow-label").text,
        "bow_probability": browser.find_element(By.ID, "bow-probability").text,
        "cells": [
            (
                cell.find_element(By.CLASS_NAME, "word").text,
                cell.find_element(By.CLASS_NAME, "p").text,
                "unknown" in cell.get_attribute("class").split(),
            )
            for cell in cells
        ],
    }


def expected_view(model_dir, bow_dir, text: str, unknown: tuple[str, ...] = ()) -> dict:
    (rnn,) = predict_per_token(model_dir, [text])
    (bow,) = predict(bow_dir, [text])
    return {
        "label": rnn.label,
        "probability": f"{rnn.probability:.4f}",
        "bow_label": bow.label,
        "bow_probability": f"{bow.probability:.4f}",
        "cells": [(token, f"{p:.3f}", token in unknown) for token, p in rnn.tokens],
    }


def test_the_seed_pair_typed_into_the_page(server, browser, model_dir):
    from selenium.webdriver.common.by import By

    url, bow_dir = server
    browser.get(url)
    box = browser.find_element(By.ID, "text")
    for text, label in (("This phone is no good", "negative"), ("No, this phone is good", "positive")):
        box.clear()
        box.send_keys(text)
        view = rendered(browser, text)
        assert view == expected_view(model_dir, bow_dir, text)
        assert view["label"] == label


def test_the_seed_buttons_and_unknown_words(server, browser, model_dir):
    from selenium.webdriver.common.by import By

    url, bow_dir = server
    browser.get(url)
    browser.find_element(By.CSS_SELECTOR, "button.seed[data-text='This phone is no good']").click()
    assert rendered(browser, "This phone is no good") == expected_view(model_dir, bow_dir, "This phone is no good")
    box = browser.find_element(By.ID, "text")
    box.clear()
    box.send_keys("this phone is zorblaxian")
    view = rendered(browser, "this phone is zorblaxian")
    assert view == expected_view(model_dir, bow_dir, "this phone is zorblaxian", unknown=("zorblaxian",))
    assert browser.find_element(By.CSS_SELECTOR, "#tokens .cell.unknown").get_attribute("title") == (
        '"zorblaxian" is not in the vocabulary: read as [UNK]'
    )
    assert browser.find_element(By.ID, "error").is_displayed() is False
