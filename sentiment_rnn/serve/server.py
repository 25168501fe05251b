"""Running the app on uvicorn: bind the socket, serve until SIGTERM or Ctrl-C, finish what is in flight, exit.

uvicorn's own signal handling re-raises the signal after its graceful
shutdown, so the process would end "killed by SIGTERM"; :class:`GracefulServer`
stops the same way and then returns normally, so the command exits 0.
"""

from __future__ import annotations

import errno
import signal
import socket
from collections.abc import Callable
from pathlib import Path

import uvicorn

from sentiment_rnn.errors import SentimentError
from sentiment_rnn.serve.api import Limits
from sentiment_rnn.serve.app import build_app

GRACEFUL_SECONDS = 30  # at most this long to finish the requests in flight after a stop signal


class GracefulServer(uvicorn.Server):
    """A uvicorn server that, on SIGTERM or the first Ctrl-C, finishes in-flight requests and returns.

    A second Ctrl-C stops at once.
    """

    def handle_exit(self, sig: int, frame) -> None:
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        else:
            self.should_exit = True


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: any free port).

    Raises:
        SentimentError: the port is taken or the address cannot be bound.
    """
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror:
        raise SentimentError(f"Cannot resolve --host {host}: pass an address such as 127.0.0.1.") from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise SentimentError(
                f"Port {port} on {host} is in use: pass another --port, or --port 0 for a free one."
            ) from None
        raise SentimentError(
            f"Cannot listen on {host}:{port} ({exc.strerror}): pass another --host or --port."
        ) from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def run(
    model_dir: str | Path,
    bow_model_dir: str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    limits: Limits = Limits(),
    on_ready: Callable[[str], None] = print,
    lm_model_dir: str | Path | None = None,
) -> None:
    """Load the models, listen on ``host:port`` and serve until stopped; ``on_ready`` gets the URL first.

    Raises:
        SentimentError: a bad model directory, or an address that cannot be bound.
    """
    app = build_app(model_dir, bow_model_dir, limits, lm_model_dir)
    sock = bind(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
        lifespan="off",
    )
    on_ready(f"http://{shown}:{bound_port}/")
    GracefulServer(config).run(sockets=[sock])
