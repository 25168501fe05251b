"""The Starlette application: routes, body limits, JSON errors, the page and its static files.

Routes: ``GET /`` (the page), ``GET /static/...`` (its script and style, from
this package only), ``POST /predict``, ``GET /model`` (what ``inspect --json``
prints; ``/model/bow`` for the baseline), ``GET /healthz`` and
``GET /openapi.json``. Every error, including 404 and 405, is JSON
``{"error": "..."}``; no traceback reaches a client.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.schemas import SchemaGenerator
from starlette.staticfiles import StaticFiles

from sentiment_rnn.artifact.model_directory import ModelDirectory
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.inspection import describe
from sentiment_rnn.serve.api import Limits, Models, RequestError, read_predict_request, too_large

STATIC = Path(__file__).resolve().parent / "static"
ROUTES_HELP = "the server has GET /, /healthz, /model, /model/bow, /openapi.json and POST /predict"


def build_app(model_dir: str | Path, bow_model_dir: str | Path | None = None, limits: Limits = Limits()) -> Starlette:
    """The ASGI app serving ``model_dir`` (and ``bow_model_dir`` beside it), models loaded once, now.

    Raises:
        SentimentError: a model directory is missing or corrupt.
    """
    models = Models(model_dir, bow_model_dir)
    descriptions = {"rnn": Description(models.rnn), "bow": Description(models.bow) if models.bow else None}
    page = (STATIC / "index.html").read_bytes()

    async def index(request: Request) -> Response:
        return HTMLResponse(page)

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
          413: {description: 'Too many texts, bytes or characters: {"error": "..."}'}
        """
        try:
            body = await read_body(request, limits)
            return JSONResponse(models.answer(read_predict_request(body, limits)))
        except RequestError as exc:
            return error(exc.status, exc.message)

    async def model(request: Request) -> Response:
        """What `sentiment-rnn inspect --json` prints for the served model.
        ---
        summary: Describe the model
        responses:
          200: {description: The description of the model directory.}
        """
        return await descriptions["rnn"].response()

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

    async def healthz(request: Request) -> Response:
        """Liveness: the models served.
        ---
        summary: Health
        responses:
          200: {description: '{"status": "ok", "models": {"rnn": {"path", "kind"}, "bow"?: ...}}'}
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
        return error(500, "The server failed on this request; the error is in its log. Other requests are unaffected.")

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/predict", predict, methods=["POST"]),
            Route("/model", model),
            Route("/model/bow", bow_model),
            Route("/healthz", healthz),
            Route("/openapi.json", openapi, include_in_schema=False),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    app.state.models = models
    return app


def error(status: int, message: str, headers=None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def read_body(request: Request, limits: Limits) -> bytes:
    """The request body, refused (413) as soon as it is known to exceed ``limits.max_bytes``."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limits.max_bytes:
        raise too_large(int(length), limits)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limits.max_bytes:
            raise too_large(size, limits)
        chunks.append(chunk)
    return b"".join(chunks)


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
