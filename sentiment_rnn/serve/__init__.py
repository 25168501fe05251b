"""The HTTP server of ``sentiment-rnn serve``: a JSON API and a page, on Starlette and uvicorn.

Optional: it needs ``pip install 'sentiment-rnn[serve]'``. The models run in
the NumPy engine, so the server never imports TensorFlow.

- ``api``: request checks, limits and answers, without the web framework
- ``app``: the Starlette routes, the page and its static files
- ``server``: uvicorn, the socket and graceful shutdown

Example:
    >>> from sentiment_rnn.serve import create_app
    >>> app = create_app("my-model")  # an ASGI app: uvicorn, or starlette.testclient.TestClient(app)
    >>> app = create_app("reviews-en", lm_model_dir="reviews-lm")  # labels and, beside them, guessed words
"""

from __future__ import annotations

from pathlib import Path

from sentiment_rnn.errors import SentimentError
from sentiment_rnn.serve.api import Limits

MISSING_HINT = "serve needs Starlette and uvicorn: install them with pip install 'sentiment-rnn[serve]'."

__all__ = ["MISSING_HINT", "Limits", "create_app", "require_serve_extra", "serve"]


def require_serve_extra() -> None:
    """Raise SentimentError with :data:`MISSING_HINT` unless Starlette and uvicorn can be imported."""
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise SentimentError(MISSING_HINT) from None


def create_app(
    model_dir: str | Path,
    bow_model_dir: str | Path | None = None,
    limits: Limits = Limits(),
    lm_model_dir: str | Path | None = None,
):
    """The ASGI app serving ``model_dir`` (see ``sentiment_rnn.serve.app.build_app``)."""
    require_serve_extra()
    from sentiment_rnn.serve.app import build_app

    return build_app(model_dir, bow_model_dir, limits, lm_model_dir)


def serve(model_dir: str | Path, bow_model_dir: str | Path | None = None, **options) -> None:
    """Serve until SIGTERM or Ctrl-C (see ``sentiment_rnn.serve.server.run`` for the options)."""
    require_serve_extra()
    from sentiment_rnn.serve.server import run

    run(model_dir, bow_model_dir, **options)
