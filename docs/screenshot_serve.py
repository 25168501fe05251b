"""Screenshots of the serve page with the seed pair: ``python docs/screenshot_serve.py --model DIR --bow-model DIR``.

Starts ``sentiment-rnn serve`` on a free loopback port, types each sentence of
the seed pair into the page in headless chromium (Debian's ``chromium`` and
``chromium-driver``, through Selenium) and writes ``docs/serve-no-good.png``
and ``docs/serve-good.png``, which the README shows; with ``--prefix
serve-hybrid --model reviews-en``, ``docs/serve-hybrid-no-good.png`` and
``docs/serve-hybrid-good.png``, the bundled hybrid model's page. A page with a
language model (``--model reviews-lm``, or ``--lm-model``) also gets the
lecture notes' France sentence typed into its guess box, in
``docs/PREFIX-guess.png``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
SHOTS = {"This phone is no good": "no-good.png", "No, this phone is good": "good.png"}  # after PREFIX-
GUESS = "I went to France last year, there the people speak the ___ language"  # into the guess box: PREFIX-guess.png


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="the model directory (a classifier, or a language model)")
    parser.add_argument("--bow-model", help="a bag-of-words model directory, shown beside it")
    parser.add_argument("--lm-model", help="a language model directory, guessing words beside it")
    parser.add_argument("--width", type=int, default=900)
    parser.add_argument("--height", type=int, default=760)
    parser.add_argument("--prefix", default="serve", help="the files are docs/PREFIX-no-good.png and PREFIX-good.png")
    args = parser.parse_args()

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    command = [sys.executable, "-m", "sentiment_rnn", "serve", "--model", args.model, "--port", "0"]
    if args.bow_model:
        command += ["--bow-model", args.bow_model]
    if args.lm_model:
        command += ["--lm-model", args.lm_model]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        url = server.stdout.readline().split(" at ", 1)[1].split(" ", 1)[0]
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium")
        for argument in (
            "--headless=new",
            "--no-sandbox",
            "--hide-scrollbars",
            f"--window-size={args.width},{args.height}",
        ):
            options.add_argument(argument)
        browser = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
        try:
            browser.get(url)
            WebDriverWait(browser, 30).until(  # the page asks /healthz which boxes to show
                lambda b: b.execute_script(
                    "return !document.getElementById('sentiment').hidden || !document.getElementById('guess').hidden"
                )
            )
            for text, name in SHOTS.items() if browser.find_element(By.ID, "sentiment").is_displayed() else ():
                box = browser.find_element(By.ID, "text")
                box.clear()
                box.send_keys(text)
                WebDriverWait(browser, 30).until(
                    lambda b, text=text: (
                        b.execute_script(
                            "return document.body.dataset.state === 'ready' && document.getElementById('rnn').dataset.text"
                        )
                        == text
                    )
                )
                browser.save_screenshot(str(DOCS / f"{args.prefix}-{name}"))
                print(f"wrote {DOCS / f'{args.prefix}-{name}'}")
            if browser.find_element(By.ID, "guess").is_displayed():
                box = browser.find_element(By.ID, "guess-text")
                box.clear()
                box.send_keys(GUESS)
                WebDriverWait(browser, 120).until(
                    lambda b: (
                        b.execute_script(
                            "const box = document.getElementById('guess');"
                            "return box.dataset.state === 'ready' && box.dataset.text"
                        )
                        == GUESS
                    )
                )
                browser.execute_script(  # below a classifier's box: scroll to it
                    "if (!document.getElementById('sentiment').hidden) document.getElementById('guess').scrollIntoView()"
                )
                browser.save_screenshot(str(DOCS / f"{args.prefix}-guess.png"))
                print(f"wrote {DOCS / f'{args.prefix}-guess.png'}")
        finally:
            browser.quit()
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
