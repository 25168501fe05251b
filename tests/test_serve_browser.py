"""The serve page in a real headless browser: Debian's chromium and chromium-driver, driven by Selenium.

Typing the seed pair into the page must render the label, the probability
and one cell per token, the numbers those of ``inference.predict`` and
``predict_per_token``; served in an empty directory (the bundled reviews-en, a
hybrid), also each word's recurrent and n-gram terms and the model's name; a
bag of words as the main model gets its label and no cells. With a language
model (conftest's ``tiny_lm``), alone or beside a classifier, typing into the
"Guess the next word" box must list the words and probabilities of
``guessing.guess``; a page without a language model shows no such box, and
one without a classifier no sentiment box. Skipped, saying why, where no
browser is installed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from model_factory import randomized_model, write_model_dir
from test_language_model import FRANCE
from test_serve import start_server

from sentiment_rnn.guessing import guess
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


def open_page(browser, url: str) -> None:
    """Load the page and wait until it has shown its boxes (it asks /healthz which models answer first)."""
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url)
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda b: b.execute_script(
            "return !document.getElementById('sentiment').hidden || !document.getElementById('guess').hidden"
        )
    )


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
    open_page(browser, url)
    box = browser.find_element(By.ID, "text")
    for text, label in (("This phone is no good", "negative"), ("No, this phone is good", "positive")):
        box.clear()
        box.send_keys(text)
        view = rendered(browser, text)
        assert view == expected_view(model_dir, bow_dir, text)
        assert view["label"] == label
    assert not browser.find_element(By.ID, "guess").is_displayed()  # no language model: no guess box


def test_the_seed_buttons_and_unknown_words(server, browser, model_dir):
    from selenium.webdriver.common.by import By

    url, bow_dir = server
    open_page(browser, url)
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


REAL = Path(__file__).resolve().parent.parent / "sentiment_rnn" / "bundled" / "reviews-en"


@pytest.fixture(scope="module")
def default_server(tmp_path_factory):
    """``sentiment-rnn serve`` without --model in an empty directory: the bundled reviews-en answers."""
    if not (REAL / "meta.json").is_file():
        pytest.skip("sentiment_rnn/bundled/reviews-en is absent: build it with benchmarks/build_reviews_en.py")
    process, port = start_server(None, cwd=tmp_path_factory.mktemp("fresh"))
    yield f"http://127.0.0.1:{port}/"
    process.terminate()
    process.wait(timeout=60)


def type_into(browser, text: str) -> None:
    from selenium.webdriver.common.by import By

    box = browser.find_element(By.ID, "text")
    box.clear()
    box.send_keys(text)


def test_the_default_hybrid_model_shows_a_label_each_words_terms_and_its_name(default_server, browser):
    from selenium.webdriver.common.by import By

    open_page(browser, default_server)
    for text, label in (("This phone is no good", "negative"), ("No, this phone is good", "positive")):
        type_into(browser, text)
        view = rendered(browser, text)
        (expected,) = predict_per_token("reviews-en", [text])
        assert (view["label"], view["probability"]) == (label, f"{expected.probability:.4f}")
        assert view["cells"] == [(token, f"{p:.3f}", False) for token, p in expected.tokens]
        terms = [
            [cell.find_element(By.CSS_SELECTOR, f".term.{name} .value").text for name in ("recurrent", "ngrams")]
            for cell in browser.find_elements(By.CSS_SELECTOR, "#tokens .cell")
        ]
        assert terms == [[f"{r:+.2f}", f"{n:+.2f}"] for r, n in zip(expected.recurrent, expected.ngrams)]
    assert browser.find_element(By.ID, "model").text == (
        "Answering: reviews-en, a hybrid of a recurrent network and n-grams, bundled with sentiment-rnn"
    )
    assert browser.find_element(By.ID, "rnn-title").text == "Hybrid: recurrent network + n-grams"
    assert browser.find_element(By.ID, "bias").text == f"{expected.bias:+.2f}"
    assert browser.find_element(By.ID, "terms-note").is_displayed()
    assert not browser.find_element(By.ID, "error").is_displayed()


def test_a_bag_of_words_as_the_main_model_still_shows_its_label(server, browser):
    from selenium.webdriver.common.by import By

    _, bow_dir = server
    process, port = start_server(bow_dir)
    try:
        open_page(browser, f"http://127.0.0.1:{port}/")
        type_into(browser, "No, this phone is good")
        view = rendered(browser, "No, this phone is good")
        (expected,) = predict(bow_dir, ["No, this phone is good"])
        assert (view["label"], view["probability"], view["cells"]) == (
            expected.label,
            f"{expected.probability:.4f}",
            [],
        )
        assert browser.find_element(By.ID, "no-order").is_displayed()
        assert browser.find_element(By.ID, "rnn-title").text == "Bag of words"
        assert browser.find_element(By.ID, "model").text == f"Answering: bow, a bag of words, from {bow_dir}"
        assert not browser.find_element(By.ID, "error").is_displayed()
    finally:
        process.terminate()
        process.wait(timeout=60)


GUESS_K = 10  # the words the page's guess box asks for (app.js: GUESSES)


def guessed(browser, text: str) -> dict:
    """What the guess box shows once it has answered ``text``: the heading, the words with their probabilities."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda b: (
            b.execute_script(
                "const box = document.getElementById('guess'); return box.dataset.state === 'ready' && box.dataset.text"
            )
            == text
        )
    )
    return {
        "what": browser.find_element(By.ID, "guess-what").text,
        "words": [
            (item.find_element(By.CLASS_NAME, "word").text, item.find_element(By.CLASS_NAME, "p").text)
            for item in browser.find_elements(By.CSS_SELECTOR, "#guesses .guess")
        ],
    }


def expected_guesses(lm, text: str) -> dict:
    answer = guess(lm, text, GUESS_K)
    return {
        "what": "Words for the blank" if answer.blank else "The next word",
        "words": [(g.word, f"{g.probability:.4f}") for g in answer.guesses],
    }


def type_guess(browser, text: str) -> None:
    from selenium.webdriver.common.by import By

    box = browser.find_element(By.ID, "guess-text")
    box.clear()
    box.send_keys(text)


def test_the_guess_box_shows_the_top_words_as_you_type(tiny_lm, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    lm = tiny_lm[0]
    process, port = start_server(lm)
    try:
        open_page(browser, f"http://127.0.0.1:{port}/")
        opening = "The food was great and the service"  # the box's text when the page opens
        assert guessed(browser, opening) == expected_guesses(lm, opening)
        type_guess(browser, FRANCE)
        view = guessed(browser, FRANCE)
        assert view == expected_guesses(lm, FRANCE)
        assert (view["what"], view["words"][0][0]) == ("Words for the blank", "french")
        type_guess(browser, "the phone is")
        assert guessed(browser, "the phone is") == expected_guesses(lm, "the phone is")
        assert browser.find_element(By.ID, "guess-what").text == "The next word"
        assert browser.find_element(By.ID, "guess-model").text == f"Answering: lm, a language model, from {lm}"
        assert not browser.find_element(By.ID, "guess-unknown").is_displayed()
        type_guess(browser, "the zorblaxian is")
        assert guessed(browser, "the zorblaxian is") == expected_guesses(lm, "the zorblaxian is")
        assert browser.find_element(By.ID, "guess-unknown").text == (
            "Not in the model's vocabulary, read as [UNK]: zorblaxian"
        )
        assert not browser.find_element(By.ID, "sentiment").is_displayed()  # no classifier: no sentiment box
        assert not browser.find_element(By.ID, "guess-error").is_displayed()
        browser.execute_script(  # over --max-chars, pasted: the server's error, and no words
            "const box = document.getElementById('guess-text');"
            "box.value = arguments[0]; box.dispatchEvent(new Event('input'));",
            "a" * 10_001,
        )
        error = browser.find_element(By.ID, "guess-error")
        WebDriverWait(browser, WAIT_SECONDS).until(lambda b: error.is_displayed())
        assert error.text == (
            '"texts"[0] has 10,001 characters, more than the server\'s limit of 10,000 (--max-chars): send a shorter '
            "text, or split it."
        )
        assert browser.find_elements(By.CSS_SELECTOR, "#guesses .guess") == []
    finally:
        process.terminate()
        process.wait(timeout=60)


def test_a_classifier_and_a_language_model_on_one_page(tiny_lm, server, browser, model_dir):
    from selenium.webdriver.common.by import By

    lm = tiny_lm[0]
    _, bow_dir = server
    process, port = start_server(model_dir, "--bow-model", str(bow_dir), "--lm-model", str(lm))
    try:
        open_page(browser, f"http://127.0.0.1:{port}/")
        type_into(browser, "No, this phone is good")
        assert rendered(browser, "No, this phone is good") == expected_view(
            model_dir, bow_dir, "No, this phone is good"
        )
        type_guess(browser, FRANCE)
        assert guessed(browser, FRANCE) == expected_guesses(lm, FRANCE)
        assert browser.find_element(By.ID, "model").text == f"Answering: model, a recurrent network, from {model_dir}"
        assert browser.find_element(By.ID, "guess-model").text == f"Answering: lm, a language model, from {lm}"
        assert not browser.find_element(By.ID, "error").is_displayed()
        assert not browser.find_element(By.ID, "guess-error").is_displayed()
    finally:
        process.terminate()
        process.wait(timeout=60)
