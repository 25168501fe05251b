"""The Starlette application: routes, body limits, JSON errors, the page and its static files.

Routes: ``GET /`` (the page), ``GET /static/...`` (its script and style, from
this package only), ``POST /predict`` (a classifier's labels), ``POST /guess``
(a language model's guesses), ``GET /model`` (what ``inspect --json`` prints
for ``--model``; ``/model/bow`` for the baseline, ``/model/lm`` for the
language model), ``GET /healthz`` and ``GET /openapi.json``. Every error, including 404 and 405, is JSON
``{"error": "..."}``; no traceback reaches a client, and none is logged:
:class:`FailureLog` writes one line on stderr per request that fails (a 4xx or
5xx answer, or a client that went away), and nothing for the others.

The models run in a worker thread, one request at a time, so the event loop
stays free: ``/healthz`` answers while a long prediction runs. A body over
``--max-bytes`` is read to its end (up to :data:`DRAIN_BYTES`) and discarded
before the 413 answer, so the client reads the answer instead of a reset
connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.schemas import SchemaGenerator
from starlette.staticfiles import StaticFiles

from sentiment_rnn import finite
from sentiment_rnn.artifact.model_directory import ModelDirectory
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.inspection import describe
from sentiment_rnn.serve.api import (
    NO_LANGUAGE_MODEL,
    Limits,
    Models,
    RequestError,
    read_guess_request,
    read_predict_request,
    too_large,
)

STATIC = Path(__file__).resolve().parent / "static"
ROUTES_HELP = "the server has GET /, /healthz, /model, /model/bow, /model/lm, /openapi.json and POST /predict, /guess"
SERVER_ERROR = "The server failed on this request; the error is in its log. Other requests are unaffected."
DRAIN_BYTES = 64 * 1024 * 1024  # of a body over the limit, read and dropped before answering 413; then the line closes


class JSONResponse(JSONResponse):
    """Starlette's JSON response, rendered by ``finite.dumps``: RFC 8259 JSON whatever the numbers (NaN as null)."""

    def render(self, content: Any) -> bytes:
        return finite.dumps(content, separators=(",", ":")).encode("utf-8")


def build_app(
    model_dir: str | Path,
    bow_model_dir: str | Path | None = None,
    limits: Limits = Limits(),
    lm_model_dir: str | Path | None = None,
) -> FailureLog:
    """The ASGI app serving ``model_dir`` (a classifier, with ``bow_model_dir`` and ``lm_model_dir`` beside it,
    or a language model alone), models loaded once, now: the Starlette app inside :class:`FailureLog`.

    Raises:
        SentimentError: a model directory is missing or corrupt, or of the wrong kind (see ``api.Models``).
    """
    models = Models(model_dir, bow_model_dir, lm_model_dir)
    descriptions = {
        "main": Description(models.main),
        "bow": Description(models.bow) if models.bow else None,
        "lm": Description(models.lm) if models.lm else None,
    }
    model_lock = asyncio.Lock()  # one prediction at a time, in a worker thread
    page = (STATIC / "index.html").read_bytes()

    async def index(request: Request) -> Response:
        return HTMLResponse(page)

    async def answered(request: Request, read, answer) -> Response:
        """The body read and checked by ``read(body, limits)``, answered by ``answer`` (one request at a time
        on the models), or the RequestError's JSON error."""
        try:
            checked = read(await read_body(request, limits), limits)
            async with model_lock:
                return JSONResponse(await run_in_threadpool(answer, checked))
        except RequestError as exc:
            return error(exc.status, exc.message)

    async def predict(request: Request) -> Response:
        """Label texts, naming the model that answers; with per_token, the probability after each token.
        ---
        summary: Predict
        requestBody:
          content:
            application/json:
              schema:
                type: object
                required: [texts]
                properties:
                  texts: {type: array, items: {type: string}, minItems: 1}
                  per_token: {type: boolean, default: false}
                  threshold: {type: number, minimum: 0, maximum: 1, default: 0.5}
        responses:
          200:
            description: >-
              {"predictions": [{"text", "label", "probability", "probabilities"?, "oov_rate", "model", "bias"?,
              "tokens"?}], "bow"?: [...]}, one object per text, in order; oov_rate is the share of its words
              outside the vocabulary; model is {"name", "kind", "bundled", "path", "members"?}; tokens are
              {"token", "label"?, "probability", "probabilities"?, "unknown"}, and for a two-class hybrid model
              also {"recurrent", "ngrams"}, the terms of the logit sigmoid(recurrent + ngrams + bias);
              "probabilities" (every class's) and a token's "label" for models of more than two classes.
          400: {description: 'A malformed request: {"error": "..."}'}
          404: {description: 'The server serves only a language model: {"error": "..."}'}
          413: {description: 'Too many texts, bytes, characters or tokens: {"error": "..."}'}
        """
        return await answered(request, read_predict_request, models.answer)

    async def guess(request: Request) -> Response:
        """Guess the missing word (___) of each text, or the next word, with the language model.
        ---
        summary: Guess words
        requestBody:
          content:
            application/json:
              schema:
                type: object
                required: [texts]
                properties:
                  texts: {type: array, items: {type: string}, minItems: 1}
                  k: {type: integer, minimum: 1, maximum: 100, default: 5}
        responses:
          200:
            description: >-
              {"guesses": [{"text", "blank", "guesses", "unknown_words", "model"}]}, one object per text, in
              order: what `guess --json` prints (blank is true when the guesses are for the ___, false for the
              next word; guesses are {"word", "probability"}, the k most probable first; unknown_words the
              text's words outside the vocabulary) and the model that answers, {"name", "kind", "bundled", "path"}.
          400: {description: 'A malformed request: {"error": "..."}'}
          404: {description: 'The server has no language model: {"error": "..."}'}
          413: {description: 'Too many texts, bytes, characters or tokens of work: {"error": "..."}'}
        """
        return await answered(request, read_guess_request, models.guess)

    async def model(request: Request) -> Response:
        """What `sentiment-rnn inspect --json` prints for the served model (--model).
        ---
        summary: Describe the model
        responses:
          200: {description: The description of the model directory.}
        """
        return await descriptions["main"].response()

    async def bow_model(request: Request) -> Response:
        """What `sentiment-rnn inspect --json` prints for the bag-of-words model.
        ---
        summary: Describe the bag-of-words model
        responses:
          200: {description: The description of the model directory.}
          404: {description: The server runs without --bow-model.}
        """
        if descriptions["bow"] is None:
            return error(404, "This server has no bag-of-words model: start it with --bow-model DIR.")
        return await descriptions["bow"].response()

    async def lm_model(request: Request) -> Response:
        """What `sentiment-rnn inspect --json` prints for the language model that answers POST /guess.
        ---
        summary: Describe the language model
        responses:
          200: {description: The description of the model directory.}
          404: {description: The server has no language model.}
        """
        if descriptions["lm"] is None:
            return error(404, NO_LANGUAGE_MODEL)
        return await descriptions["lm"].response()

    async def healthz(request: Request) -> Response:
        """Liveness: the models served.
        ---
        summary: Health
        responses:
          200: {description: '{"status": "ok", "models": {"rnn"?: {"path", "kind"}, "bow"?: ..., "lm"?: ...}}'}
        """
        return JSONResponse(models.health())

    schemas = SchemaGenerator({"openapi": "3.0.0", "info": {"title": "sentiment-rnn", "version": "1"}})

    async def openapi(request: Request) -> Response:
        return JSONResponse(schemas.get_schema(routes=app.routes))

    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404:
            return error(404, f"Nothing at {request.url.path}: {ROUTES_HELP}.")
        if exc.status_code == 405:
            allowed = ", ".join(sorted((exc.headers or {}).get("Allow", "GET").split(", ")))  # a set: sort it
            return error(405, f"{request.method} {request.url.path} is not allowed: use {allowed}.", exc.headers)
        return error(exc.status_code, f"{exc.detail}.")

    async def server_error(request: Request, exc: Exception) -> Response:
        return error(500, SERVER_ERROR)

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/predict", predict, methods=["POST"]),
            Route("/guess", guess, methods=["POST"]),
            Route("/model", model),
            Route("/model/bow", bow_model),
            Route("/model/lm", lm_model),
            Route("/healthz", healthz),
            Route("/openapi.json", openapi, include_in_schema=False),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    app.state.models = models
    return FailureLog(app)


def error(status: int, message: str, headers=None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def read_body(request: Request, limits: Limits) -> bytes:
    """The request body, refused (413) when it exceeds ``limits.max_bytes``.

    A body over the limit is not kept: it is read on to its end and dropped
    (at most :data:`DRAIN_BYTES` of it), so that the client, still sending,
    reads the 413 answer instead of a connection reset under it.
    """
    length = request.headers.get("content-length", "")
    declared = int(length) if length.isdigit() and len(length) < 19 else 0
    chunks, size = [], 0
    over = declared > limits.max_bytes
    async for chunk in request.stream():
        size += len(chunk)
        over = over or size > limits.max_bytes
        if over and size > DRAIN_BYTES:
            break
        if not over:
            chunks.append(chunk)
    if over:
        raise too_large(max(size, declared), limits)
    return b"".join(chunks)


class FailureLog:
    """ASGI middleware: one line on stderr per failed request, never a traceback.

    A 4xx or 5xx answer is logged with its message (``POST /predict 413: The body has ...``);
    an exception in the app (after its JSON 500 answer, if one could be sent) and a
    client that went away mid-request are logged in one line each; nothing else is.
    """

    def __init__(self, app, stream=None):
        self.app = app
        self.stream = stream  # None: sys.stderr as it is when a line is written

    def log(self, scope, what: str) -> None:
        line = f"sentiment-rnn serve: {scope.get('method', '?')} {scope.get('path', '?')} {what}"
        print(" ".join(line.split()), file=self.stream or sys.stderr, flush=True)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        answer = {"status": 0, "body": b""}

        async def logged_send(message):
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            elif message["type"] == "http.response.body" and answer["status"] >= 400:
                answer["body"] += message.get("body", b"")[:4096]
            await send(message)

        try:
            await self.app(scope, receive, logged_send)
        except Exception as exc:  # the app failed, or the client went away: say so in one line
            gone = type(exc).__name__ in ("ClientDisconnect", "ClientDisconnected", "BrokenResourceError")
            gone = gone or isinstance(exc, ConnectionError)
            self.log(scope, "failed: the client went away" if gone else f"failed: {type(exc).__name__}: {exc}")
            if not answer["status"] and not gone:
                with contextlib.suppress(Exception):
                    await error(500, SERVER_ERROR)(scope, receive, send)
            return
        if answer["status"] >= 400:
            try:
                message = json.loads(answer["body"]).get("error", "")
            except (ValueError, AttributeError):
                message = ""
            self.log(scope, f"{answer['status']}: {message}")


class Description:
    """``inspect --json`` for one model directory, computed once, on first request.

    The layer table comes from ``weights.npz`` and ``config.toml`` (no
    TensorFlow), in a worker thread, so the server answers other requests meanwhile.
    """

    def __init__(self, directory: ModelDirectory):
        self.directory = directory
        self.cached: Response | None = None
        self.lock = asyncio.Lock()

    async def response(self) -> Response:
        async with self.lock:
            if self.cached is None:  # a failure is not kept: the next request tries again
                try:
                    self.cached = JSONResponse(await asyncio.to_thread(describe, self.directory))
                except SentimentError as exc:
                    return error(500, str(exc))
            return self.cached
