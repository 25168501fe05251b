"""The JSON API without the web framework: read a request body, check it, answer it with the models.

``POST /predict`` takes ``{"texts": [str, ...], "per_token": bool, "threshold": float}``
(only ``texts`` is required) and answers ``{"predictions": [...]}``, one
object per text with the keys ``predict --json`` prints (``text``, ``label``,
``probability``, ``oov_rate``: the share of the text's words outside the
vocabulary, ``model``: which model answered, its name, kind, path and
whether it is bundled; with ``per_token`` also ``tokens``, a list of
``{token, probability, unknown}``, where ``unknown`` marks a token outside the
vocabulary, read as ``[UNK]``, and for a hybrid model ``bias`` and each
token's ``recurrent`` and ``ngrams``, the terms of its logit). With a
bag-of-words model beside the main one, ``"bow"`` holds its answers for the
same texts. A model of more than two classes answers as ``predict --json``
does for it: the most probable class, its probability and ``probabilities`` of
every class (per token too, with each token's ``label``, and no logit terms);
``threshold`` is refused for it.

``POST /guess`` takes ``{"texts": [str, ...], "k": int}`` (``k``, the guesses per
text, from 1 to :data:`MAX_K`, default 5) and answers ``{"guesses": [...]}``,
one object per text with the keys ``guess --json`` prints (``text``,
``blank``, ``guesses``: ``[{word, probability}]``, most probable first,
``unknown_words``) and ``model``: the language model's guesses for the blank
(``___``) or, without one, for the next word (``guessing.guess``).

Every problem with a request raises :class:`RequestError`: an HTTP status
(400 for a malformed body, 404 for a route whose model this server does not
serve, 413 for one over the limits) and one sentence saying what to fix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sentiment_rnn import jsondoc
from sentiment_rnn.artifact.model_directory import ModelDirectory, open_model_dir
from sentiment_rnn.budget import request_tokens
from sentiment_rnn.data.labels import DEFAULT_THRESHOLD
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.guessing import BLANK, CANDIDATES, guess, guessable
from sentiment_rnn.inference import predict, predict_per_token

PREDICT_KEYS = ("texts", "per_token", "threshold")
GUESS_KEYS = ("texts", "k")
PREDICT_EXAMPLE = '{"texts": ["great phone"]}'
GUESS_EXAMPLE = '{"texts": ["the people speak the ___ language"]}'
DEFAULT_K = 5  # guesses per text when a request does not say
MAX_K = 100  # the most guesses per text a request may ask for (app.py's OpenAPI text says 100 too)
NO_LANGUAGE_MODEL = "This server has no language model: start it with --lm-model DIR (e.g. --lm-model reviews-lm)."

PER_TOKEN_COST = 8  # a token answered with its own probability (per_token) costs as much as this many read
# A step a language model scores over its whole vocabulary (the next word's softmax) costs as much as this many
# tokens read: measured with the NumPy engine, one such step of reviews-lm (20,000 words, a GRU of 256 units)
# takes about 38 times as long as one token of reviews-en (0.32 ms against 8.3 us on the 2-core test machine).
GUESS_STEP_COST = 32


@dataclass(frozen=True)
class Limits:
    """What one request may hold: ``max_texts`` texts, ``max_bytes`` bytes of body, ``max_chars`` characters a
    text, and ``max_tokens`` tokens of work in all (``budget.request_tokens``; with per_token, each counts
    :data:`PER_TOKEN_COST` times; a guess's, :func:`guess_tokens`): one request never holds the model for long."""

    max_texts: int = 1000
    max_bytes: int = 1_000_000
    max_chars: int = 10_000
    max_tokens: int = 250_000

    def __post_init__(self):
        for name in ("max_texts", "max_bytes", "max_chars", "max_tokens"):
            if getattr(self, name) < 1:
                raise SentimentError(f"--{name.replace('_', '-')} must be at least 1, not {getattr(self, name)}.")


class RequestError(Exception):
    """A request the server refuses: ``status`` (4xx) and ``message``, one sentence saying what to fix."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class PredictRequest:
    texts: list[str]
    per_token: bool = False
    threshold: float = DEFAULT_THRESHOLD


@dataclass(frozen=True)
class GuessRequest:
    texts: list[str]
    k: int = DEFAULT_K


def too_large(size: int, limits: Limits) -> RequestError:
    return RequestError(
        413,
        f"The body has {size:,} bytes, more than the server's limit of {limits.max_bytes:,} (--max-bytes): "
        "send fewer or shorter texts per request.",
    )


def read_predict_request(body: bytes, limits: Limits) -> PredictRequest:
    """Parse and check a ``POST /predict`` body (UTF-8 JSON).

    Raises:
        RequestError: 413 when the body, the list or one text is over ``limits``;
            400 for anything else that is not a valid request.
    """
    document = read_document(body, limits, PREDICT_KEYS, PREDICT_EXAMPLE)
    texts = read_texts(document, limits, PREDICT_EXAMPLE)
    per_token = document.get("per_token", False)
    if not isinstance(per_token, bool):
        raise RequestError(400, f'"per_token" is a JSON {json_type(per_token)}: send true or false.')
    threshold = document.get("threshold", DEFAULT_THRESHOLD)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise RequestError(400, f'"threshold" is a JSON {json_type(threshold)}: send a number in [0, 1].')
    if not 0.0 <= threshold <= 1.0:  # False for NaN too; no float(): an integer of 400 digits has none
        raise RequestError(400, f'"threshold" is {threshold}, outside [0, 1]: send e.g. 0.5.')
    tokens = request_tokens(texts)
    cost = tokens * (PER_TOKEN_COST if per_token else 1)
    if cost > limits.max_tokens:
        each = f" (with per_token, each costs {PER_TOKEN_COST})" if per_token else ""
        raise RequestError(
            413,
            f'"texts" hold {tokens:,} tokens{each}, more than the server\'s limit of {limits.max_tokens:,} '
            "(--max-tokens): send fewer or shorter texts per request.",
        )
    return PredictRequest(texts, per_token, float(threshold))


def read_guess_request(body: bytes, limits: Limits) -> GuessRequest:
    """Parse and check a ``POST /guess`` body (UTF-8 JSON): the same checks and limits as ``/predict``'s, with
    the work counted by :func:`guess_tokens`.

    Raises:
        RequestError: 413 when the body, the list, one text or the work is over ``limits``;
            400 for anything else that is not a valid request (a text without words, ``k`` outside 1 to MAX_K).
    """
    document = read_document(body, limits, GUESS_KEYS, GUESS_EXAMPLE)
    texts = read_texts(document, limits, GUESS_EXAMPLE)
    for index, text in enumerate(texts):
        if not guessable(text):
            raise RequestError(
                400, f'"texts"[{index}] has no words: send a sentence, with ___ where a word is missing.'
            )
    k = document.get("k", DEFAULT_K)
    if isinstance(k, bool) or not isinstance(k, int | float):
        raise RequestError(400, f'"k" is a JSON {json_type(k)}: send a whole number from 1 to {MAX_K}.')
    if not (1 <= k <= MAX_K and k == int(k)):  # in range first: NaN and infinity are not, and have no int()
        raise RequestError(400, f'"k" is {k}, not a whole number from 1 to {MAX_K}: send e.g. {DEFAULT_K}.')
    cost = guess_tokens(texts)
    if cost > limits.max_tokens:
        raise RequestError(
            413,
            f'"texts" cost {cost:,} tokens of work (each word guessed over the vocabulary counts {GUESS_STEP_COST}; '
            f"a blank's {CANDIDATES:,} candidates are each read with the words after it), more than the server's "
            f"limit of {limits.max_tokens:,} (--max-tokens): send fewer texts, or fewer words after the blank.",
        )
    return GuessRequest(texts, int(k))


def guess_tokens(texts: list[str]) -> int:
    """What guessing words in ``texts`` costs the server, in tokens read (as ``budget.request_tokens`` counts them).

    The words before the blank are read once, and every step scored over the whole vocabulary counts
    :data:`GUESS_STEP_COST`: the next word's; with a blank, also, for each of the ``guessing.CANDIDATES``
    candidates, the candidate itself, each word after it and the text's end.
    """
    cost = 0
    for text in texts:
        parts = BLANK.split(text, maxsplit=1)
        steps = 1 if len(parts) == 1 else 1 + CANDIDATES * (request_tokens(parts[1:]) + 2)
        cost += request_tokens(parts[:1]) + GUESS_STEP_COST * steps
    return cost


def read_document(body: bytes, limits: Limits, keys: tuple[str, ...], example: str) -> dict:
    """The body as a JSON object holding no key but ``keys`` (``example`` shows a good body in the messages).

    Raises:
        RequestError: 413 for a body over ``limits.max_bytes``; 400 for one that is not such an object.
    """
    if len(body) > limits.max_bytes:
        raise too_large(len(body), limits)
    try:
        document = jsondoc.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise RequestError(
            400, f"The body is not valid UTF-8 (byte {exc.start}): send JSON encoded as UTF-8."
        ) from None
    except ValueError as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else jsondoc.reason(exc)
        raise RequestError(400, f"The body is not valid JSON ({reason}): send e.g. {example}.") from None
    if not isinstance(document, dict):
        raise RequestError(400, f'The body is a JSON {json_type(document)}, not an object: send {{"texts": [...]}}.')
    unknown = sorted(set(document) - set(keys))
    if unknown:
        raise RequestError(400, f"Unknown key {unknown[0]!r} in the body: the keys are {', '.join(keys)}.")
    return document


def read_texts(document: dict, limits: Limits, example: str) -> list[str]:
    """The body's ``"texts"``: a list of 1 to ``limits.max_texts`` strings, each at most ``limits.max_chars``.

    Raises:
        RequestError: 413 for too many texts or too long a text; 400 for anything else that is not such a list.
    """
    if "texts" not in document:
        raise RequestError(400, f'The body has no "texts": send {example}.')
    texts = document["texts"]
    if not isinstance(texts, list):
        raise RequestError(400, f'"texts" is a JSON {json_type(texts)}: send a list of strings.')
    if not texts:
        raise RequestError(400, '"texts" is empty: send at least one text.')
    if len(texts) > limits.max_texts:
        raise RequestError(
            413,
            f'"texts" holds {len(texts):,} texts, more than the server\'s limit of {limits.max_texts:,} '
            "(--max-texts): split them over several requests.",
        )
    for index, text in enumerate(texts):
        check_text(index, text, limits)
    return texts


def check_text(index: int, text, limits: Limits) -> None:
    if not isinstance(text, str):
        raise RequestError(400, f'"texts"[{index}] is a JSON {json_type(text)}: every text must be a string.')
    if len(text) > limits.max_chars:
        raise RequestError(
            413,
            f'"texts"[{index}] has {len(text):,} characters, more than the server\'s limit of {limits.max_chars:,} '
            "(--max-chars): send a shorter text, or split it.",
        )
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise RequestError(
                400,
                f'"texts"[{index}] holds a lone surrogate (an unpaired \\ud800-\\udfff escape): send valid Unicode.',
            ) from None


def json_type(value) -> str:
    """The JSON name of a parsed value's type: ``string``, ``number``, ``list``, ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "object"


class Models:
    """The models served, opened and loaded once: a classifier (recurrent, hybrid or other) and, optionally, the
    bag-of-words baseline beside it, or a language model (``pretrain``) beside it or alone.

    ``main`` is what ``--model`` names; ``rnn`` the classifier (None when ``--model`` is a language model),
    ``bow`` the baseline and ``lm`` the language model, each None when not served. All run in the NumPy engine,
    so TensorFlow is never imported.

    Raises:
        SentimentError: a missing or corrupt directory, a ``bow_model_dir`` that does not hold a bag-of-words
            model, an ``lm_model_dir`` that does not hold a language model, or either of them beside a language
            model as ``model_dir``.
    """

    def __init__(
        self,
        model_dir: str | Path,
        bow_model_dir: str | Path | None = None,
        lm_model_dir: str | Path | None = None,
    ):
        self.main = load(model_dir)
        is_lm = self.main.config.model.kind == "lm"
        self.rnn: ModelDirectory | None = None if is_lm else self.main
        self.lm: ModelDirectory | None = self.main if is_lm else None
        self.bow: ModelDirectory | None = None
        if is_lm and (bow_model_dir is not None or lm_model_dir is not None):
            option = "--bow-model" if bow_model_dir is not None else "--lm-model"
            raise SentimentError(
                f"{model_dir} is a language model, and {option} answers beside a classifier: pass --model a "
                f"classifier and --lm-model {model_dir}, or drop {option}."
            )
        if bow_model_dir is not None:
            self.bow = load(bow_model_dir)
            if self.bow.config.model.kind != "bow":
                raise SentimentError(
                    f"{bow_model_dir} holds {describe_kind(self.bow)}, not a bag of words: pass --bow-model a model "
                    "trained with --set model.kind=bow."
                )
        if lm_model_dir is not None:
            self.lm = load(lm_model_dir)
            if self.lm.config.model.kind != "lm":
                raise SentimentError(
                    f"{lm_model_dir} holds {describe_kind(self.lm)}, not a language model: pass --lm-model one "
                    "written by `sentiment-rnn pretrain` (or reviews-lm, the bundled one)."
                )

    def answer(self, request: PredictRequest) -> dict:
        """The ``POST /predict`` response for a checked request, as a JSON-ready dict."""
        if self.rnn is None:
            raise RequestError(
                404,
                f"This server has no classifier, only the language model {self.main.identity.name}: POST /guess to "
                f"guess words, or start it with --model a classifier and --lm-model {self.main.identity.name}.",
            )
        if request.per_token and self.rnn.config.model.kind == "bow":
            raise RequestError(400, '"per_token" needs a recurrent model; this one is a bag of words: drop per_token.')
        for directory in (self.rnn, self.bow):
            classes = directory.classes if directory is not None else ()
            if len(classes) > 2 and request.threshold != DEFAULT_THRESHOLD:
                raise RequestError(
                    400,
                    f'"threshold" applies to two-class models; {directory.path} has {len(classes)} classes '
                    f"({', '.join(classes)}) and answers with the most probable: drop threshold.",
                )
        response = {"predictions": self.predictions(self.rnn, request)}
        if self.bow is not None:
            response["bow"] = [p.to_dict() for p in predict(self.bow, request.texts, request.threshold)]
        return response

    def guess(self, request: GuessRequest) -> dict:
        """The ``POST /guess`` response for a checked request: ``guessing.guess`` for each text, naming the model."""
        if self.lm is None:
            raise RequestError(404, NO_LANGUAGE_MODEL)
        model = self.lm.identity.to_dict()
        return {"guesses": [{**guess(self.lm, text, request.k).to_dict(), "model": model} for text in request.texts]}

    def predictions(self, directory: ModelDirectory, request: PredictRequest) -> list[dict]:
        if not request.per_token:
            return [p.to_dict() for p in predict(directory, request.texts, request.threshold)]
        vocabulary = directory.numpy_engine.vocabulary
        answers = []
        for prediction in predict_per_token(directory, request.texts, request.threshold):
            answer = prediction.to_dict()
            ids = vocabulary.encode(token["token"] for token in answer["tokens"])
            for token, token_id in zip(answer["tokens"], ids):
                token["unknown"] = token_id == vocabulary.oov_id
            answers.append(answer)
        return answers

    def health(self) -> dict:
        """``GET /healthz``: the models served, by role (``rnn``: the classifier, ``bow``, ``lm``), path and kind."""
        served = {"rnn": self.rnn, "bow": self.bow, "lm": self.lm}
        models = {role: self.summary(directory) for role, directory in served.items() if directory is not None}
        return {"status": "ok", "models": models}

    @staticmethod
    def summary(directory: ModelDirectory) -> dict:
        return {"path": str(directory.path), "kind": directory.config.model.kind}


def describe_kind(directory: ModelDirectory) -> str:
    """What a model directory holds, for an error: "a recurrent model", "a language model", ..."""
    kinds = {"bow": "a bag of words", "lm": "a language model", "hybrid": "a hybrid model"}
    return kinds.get(directory.config.model.kind, "a recurrent model")


def load(model_dir: str | Path) -> ModelDirectory:
    """Open a model directory and build its NumPy engine now, so no request pays for it."""
    directory = open_model_dir(model_dir)
    directory.numpy_engine  # noqa: B018 (loads weights.npz once)
    return directory
