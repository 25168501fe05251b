"""sentiment-rnn serve with a language model: POST /guess, alone (--model LM) and beside a classifier (--lm-model).

The language model is conftest's ``tiny_lm`` (27 words, trained in seconds on
reviews that each end with the lecture notes' France sentence). Expected
bodies are computed with the library (``guessing.guess``,
``inference.predict``, ``inspection.describe``): the server must answer what
``guess --json``, ``predict --json`` and ``inspect --json`` print.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_language_model import FRANCE

from sentiment_rnn.cli import cli
from sentiment_rnn.guessing import guess
from sentiment_rnn.inference import predict
from sentiment_rnn.serve import create_app
from sentiment_rnn.serve.api import GUESS_STEP_COST, MAX_K, Limits

pytest.importorskip("starlette", reason="the serve extra is not installed")
from starlette.testclient import TestClient  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NEXT = "the phone is"  # no blank: the next word is guessed
NO_CLASSIFIER = (
    "This server has no classifier, only the language model lm: POST /guess to guess words, or start it with "
    "--model a classifier and --lm-model lm."
)
NO_LANGUAGE_MODEL = "This server has no language model: start it with --lm-model DIR (e.g. --lm-model reviews-lm)."


@pytest.fixture(scope="module")
def lm(tiny_lm) -> Path:
    return tiny_lm[0]


@pytest.fixture(scope="module")
def alone(lm) -> TestClient:
    """``serve --model LM``: the language model alone."""
    return TestClient(create_app(lm))


@pytest.fixture(scope="module")
def beside(model_dir, lm) -> TestClient:
    """``serve --model CLASSIFIER --lm-model LM``."""
    return TestClient(create_app(model_dir, lm_model_dir=lm))


def expected(lm: Path, texts: list[str], k: int = 5) -> dict:
    model = {"name": "lm", "kind": "lm", "bundled": False, "path": str(lm)}
    return {"guesses": [{**guess(lm, text, k).to_dict(), "model": model} for text in texts]}


def test_guess_answers_what_guess_json_prints_and_names_the_model(alone, lm):
    response = alone.post("/guess", json={"texts": [FRANCE, NEXT], "k": 3})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == expected(lm, [FRANCE, NEXT], 3)
    blank, after = response.json()["guesses"]
    assert (blank["blank"], after["blank"]) == (True, False)
    assert blank["guesses"][0]["word"] == "french"  # the one word the toy corpus puts there
    assert [len(answer["guesses"]) for answer in (blank, after)] == [3, 3]
    assert blank["guesses"][0]["probability"] > blank["guesses"][1]["probability"]


def test_k_defaults_to_5_and_a_whole_float_counts_as_its_integer(alone, lm):
    assert alone.post("/guess", json={"texts": [NEXT]}).json() == expected(lm, [NEXT], 5)
    assert alone.post("/guess", json={"texts": [NEXT], "k": 2.0}).json() == expected(lm, [NEXT], 2)


def test_words_outside_the_vocabulary_are_named(alone, lm):
    text = "the zorblaxian phone is ___ ."
    answer = alone.post("/guess", json={"texts": [text]}).json()
    assert answer == expected(lm, [text])
    assert answer["guesses"][0]["unknown_words"] == ["zorblaxian"]


def test_a_language_model_alone_has_no_classifier(alone, lm):
    response = alone.post("/predict", json={"texts": ["good"]})
    assert (response.status_code, response.json()) == (404, {"error": NO_CLASSIFIER})
    assert alone.get("/healthz").json() == {"status": "ok", "models": {"lm": {"path": str(lm), "kind": "lm"}}}
    described = json.loads(CliRunner().invoke(cli, ["inspect", "--json", "--model", str(lm)]).output)
    assert alone.get("/model").json() == described  # /model describes --model, whatever its kind
    assert alone.get("/model/lm").json() == described
    response = alone.get("/model/bow")
    assert (response.status_code, response.json()) == (
        404,
        {"error": "This server has no bag-of-words model: start it with --bow-model DIR."},
    )


def test_a_language_model_beside_a_classifier(beside, model_dir, lm):
    texts = ["This phone is no good", "No, this phone is good"]
    assert beside.post("/predict", json={"texts": texts}).json() == {
        "predictions": [p.to_dict() for p in predict(model_dir, texts)]
    }
    assert beside.post("/guess", json={"texts": [FRANCE]}).json() == expected(lm, [FRANCE])
    assert beside.get("/healthz").json() == {
        "status": "ok",
        "models": {"rnn": {"path": str(model_dir), "kind": "rnn"}, "lm": {"path": str(lm), "kind": "lm"}},
    }
    inspect = CliRunner().invoke(cli, ["inspect", "--json", "--model", str(model_dir)]).output
    assert beside.get("/model").json() == json.loads(inspect)
    assert beside.get("/model/lm").json()["path"] == str(lm)


def test_a_classifier_alone_has_no_guesses(model_dir):
    client = TestClient(create_app(model_dir))
    for response in (client.post("/guess", json={"texts": [FRANCE]}), client.get("/model/lm")):
        assert (response.status_code, response.json()) == (404, {"error": NO_LANGUAGE_MODEL})


BAD_GUESSES = [
    ("no-texts", b'{"k": 3}', 400, 'The body has no "texts": send {"texts": ["the people speak the ___ language"]}.'),
    ("unknown-key", b'{"texts": ["a"], "top": 3}', 400, "Unknown key 'top' in the body: the keys are texts, k."),
    (
        "malformed-json",
        b'{"texts": [',
        400,
        'The body is not valid JSON (Expecting value): send e.g. {"texts": ["the people speak the ___ language"]}.',
    ),
    ("empty-list", b'{"texts": []}', 400, '"texts" is empty: send at least one text.'),
    ("non-string", b'{"texts": ["the", 3]}', 400, '"texts"[1] is a JSON number: every text must be a string.'),
    (
        "no-words",
        b'{"texts": ["the phone", "   "]}',
        400,
        '"texts"[1] has no words: send a sentence, with ___ where a word is missing.',
    ),
    (
        "empty-text",
        b'{"texts": [""]}',
        400,
        '"texts"[0] has no words: send a sentence, with ___ where a word is missing.',
    ),
    ("k-zero", b'{"texts": ["the"], "k": 0}', 400, f'"k" is 0, not a whole number from 1 to {MAX_K}: send e.g. 5.'),
    ("k-too-many", b'{"texts": ["the"], "k": 101}', 400, '"k" is 101, not a whole number from 1 to 100: send e.g. 5.'),
    ("k-fraction", b'{"texts": ["the"], "k": 2.5}', 400, '"k" is 2.5, not a whole number from 1 to 100: send e.g. 5.'),
    ("k-nan", b'{"texts": ["the"], "k": NaN}', 400, '"k" is nan, not a whole number from 1 to 100: send e.g. 5.'),
    (
        "k-huge-integer",
        b'{"texts": ["the"], "k": 1' + b"0" * 309 + b"}",
        400,
        f'"k" is {10**309}, not a whole number from 1 to 100: send e.g. 5.',
    ),
    (
        "k-infinite",
        b'{"texts": ["the"], "k": -Infinity}',
        400,
        '"k" is -inf, not a whole number from 1 to 100: send e.g. 5.',
    ),
    ("k-a-string", b'{"texts": ["the"], "k": "5"}', 400, '"k" is a JSON string: send a whole number from 1 to 100.'),
    ("k-a-boolean", b'{"texts": ["the"], "k": true}', 400, '"k" is a JSON boolean: send a whole number from 1 to 100.'),
    (
        "too-many-texts",
        b'{"texts": ["a", "b", "c", "d"]}',
        413,
        '"texts" holds 4 texts, more than the server\'s limit of 3 (--max-texts): split them over several requests.',
    ),
    (
        "huge-text",
        b'{"texts": ["' + b"a" * 51 + b'"]}',
        413,
        '"texts"[0] has 51 characters, more than the server\'s limit of 50 (--max-chars): send a shorter text, or '
        "split it.",
    ),
    (
        "too-many-bytes",
        b'{"texts": ["' + b"a " * 100_000 + b'"]}',
        413,
        "The body has 200,015 bytes, more than the server's limit of 200,000 (--max-bytes): send fewer or shorter texts "
        "per request.",
    ),
]


@pytest.mark.parametrize("case", BAD_GUESSES, ids=[case[0] for case in BAD_GUESSES])
def test_a_bad_guess_request_gets_a_json_error_and_the_next_request_works(lm, case):
    _, body, status, message = case
    client = TestClient(create_app(lm, limits=Limits(max_texts=3, max_bytes=200_000, max_chars=50)))
    response = client.post("/guess", content=body, headers={"content-type": "application/json"})
    assert (response.status_code, response.json()) == (status, {"error": message})
    assert client.post("/guess", json={"texts": [NEXT]}).json() == expected(lm, [NEXT])


def test_the_work_of_a_guess_is_counted_before_the_model_runs(lm, monkeypatch):
    from sentiment_rnn.serve.api import Models

    # "the phone is": 3 tokens read, 1 step scored; "the ___ language .": 1 read, 1 step scored (the candidates),
    # then each of the 1,000 candidates scores itself, "language", "." and the text's end (4 steps)
    next_word, blank = 3 + GUESS_STEP_COST, 1 + GUESS_STEP_COST * (1 + 1000 * 4)
    texts = [NEXT, "the ___ language ."]
    client = TestClient(create_app(lm, limits=Limits(max_tokens=next_word + blank)))
    assert client.post("/guess", json={"texts": texts}).json() == expected(lm, texts)
    monkeypatch.setattr(Models, "guess", lambda self, request: pytest.fail("the model ran"))
    client = TestClient(create_app(lm, limits=Limits(max_tokens=next_word + blank - 1)))
    response = client.post("/guess", json={"texts": texts})
    assert (response.status_code, response.json()) == (
        413,
        {
            "error": f'"texts" cost {next_word + blank:,} tokens of work (each word guessed over the vocabulary counts '
            f"{GUESS_STEP_COST}; a blank's 1,000 candidates are each read with the words after it), more than the "
            f"server's limit of {next_word + blank - 1:,} (--max-tokens): send fewer texts, or fewer words after the "
            "blank."
        },
    )


def test_openapi_describes_guess(alone):
    schema = alone.get("/openapi.json").json()
    body = schema["paths"]["/guess"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["texts"]
    assert body["properties"]["k"] == {"type": "integer", "minimum": 1, "maximum": MAX_K, "default": 5}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--model", "{model}", "--lm-model", "{model}"],
            "{model} holds a recurrent model, not a language model: pass --lm-model one written by "
            "`sentiment-rnn pretrain` (or reviews-lm, the bundled one).",
        ),
        (
            ["--model", "{lm}", "--bow-model", "{model}"],
            "{lm} is a language model, and --bow-model answers beside a classifier: pass --model a classifier and "
            "--lm-model {lm}, or drop --bow-model.",
        ),
        (
            ["--model", "{lm}", "--lm-model", "{lm}"],
            "{lm} is a language model, and --lm-model answers beside a classifier: pass --model a classifier and "
            "--lm-model {lm}, or drop --lm-model.",
        ),
        (
            ["--model", "{model}", "--bow-model", "{lm}"],
            "{lm} holds a language model, not a bag of words: pass --bow-model a model trained with --set "
            "model.kind=bow.",
        ),
    ],
    ids=["lm-model-a-classifier", "bow-beside-a-language-model", "two-language-models", "bow-model-a-language-model"],
)
def test_a_model_of_the_wrong_kind_is_refused_before_listening(model_dir, lm, args, message):
    paths = {"model": model_dir, "lm": lm}
    result = CliRunner().invoke(cli, ["serve", *(arg.format(**paths) for arg in args)])
    assert (result.exit_code, result.output) == (1, f"Error: {message.format(**paths)}\n")


def test_guessing_never_imports_tensorflow(lm):
    script = (
        "import sys\n"
        "from starlette.testclient import TestClient\n"
        "from sentiment_rnn.serve import create_app\n"
        f"client = TestClient(create_app({str(lm)!r}))\n"
        f"response = client.post('/guess', json={{'texts': [{FRANCE!r}, {NEXT!r}]}})\n"
        "assert response.status_code == 200, response.text\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert result.stdout == "[]\n"
