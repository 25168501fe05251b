"""sentiment-rnn serve: the API in-process through Starlette's test client, and real server processes.

Expected bodies are computed with the library (``inference.predict``,
``inspection.describe``): the server must answer exactly what ``predict
--json`` and ``inspect --json`` print.
"""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from model_factory import randomized_model, write_model_dir

from sentiment_rnn.cli import cli
from sentiment_rnn.inference import predict, predict_per_token
from sentiment_rnn.serve import create_app
from sentiment_rnn.serve.api import Limits

pytest.importorskip("starlette", reason="the serve extra is not installed")
from starlette.testclient import TestClient  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEED_PAIR = ["This phone is no good", "No, this phone is good"]
ROUTES = "the server has GET /, /healthz, /model, /model/bow, /model/lm, /openapi.json and POST /predict, /guess"
SMALL_LIMITS = Limits(max_texts=3, max_bytes=200_000, max_chars=50)


@pytest.fixture(scope="module")
def bow_dir(tmp_path_factory) -> Path:
    model, config = randomized_model("model.kind=bow")
    return write_model_dir(model, config, tmp_path_factory.mktemp("serve") / "bow")


@pytest.fixture(scope="module")
def client(model_dir) -> TestClient:
    return TestClient(create_app(model_dir))


@pytest.fixture(scope="module")
def small(model_dir) -> TestClient:
    """A server with small limits, for the 413 cases."""
    return TestClient(create_app(model_dir, limits=SMALL_LIMITS))


def expected(model_dir, texts, threshold=0.5) -> list[dict]:
    return [p.to_dict() for p in predict(model_dir, texts, threshold)]


def test_predict_answers_what_predict_json_prints(client, model_dir):
    response = client.post("/predict", json={"texts": SEED_PAIR + [""]})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"predictions": expected(model_dir, SEED_PAIR + [""])}
    labels = [p["label"] for p in response.json()["predictions"][:2]]
    assert labels == ["negative", "positive"]
    assert [p["oov_rate"] for p in response.json()["predictions"]] == [0.0, 0.0, 0.0]  # "" has no words
    model = {"name": model_dir.name, "kind": "rnn", "bundled": False, "path": str(model_dir)}
    assert [p["model"] for p in response.json()["predictions"]] == [model] * 3  # each answer names its model


@pytest.fixture(scope="module")
def hybrid_dir(tmp_path_factory) -> Path:
    model, config = randomized_model("model.kind=hybrid", "model.ngrams=2", "model.cell=gru")
    return write_model_dir(model, config, tmp_path_factory.mktemp("serve") / "hybrid")


def test_per_token_on_a_hybrid_gives_each_steps_recurrent_and_ngram_terms(hybrid_dir):
    client = TestClient(create_app(hybrid_dir))
    response = client.post("/predict", json={"texts": SEED_PAIR, "per_token": True})
    assert response.status_code == 200
    assert response.json() == {"predictions": [p.to_dict() for p in predict_per_token(hybrid_dir, SEED_PAIR)]}
    answer = response.json()["predictions"][1]
    assert answer["model"] == {"name": "hybrid", "kind": "hybrid", "bundled": False, "path": str(hybrid_dir)}
    assert [list(token) for token in answer["tokens"][:1]] == [
        ["token", "probability", "unknown", "recurrent", "ngrams"]
    ]
    last = answer["tokens"][-1]
    assert 1 / (1 + math.exp(-(last["recurrent"] + last["ngrams"] + answer["bias"]))) == pytest.approx(
        answer["probability"],
        abs=1e-6,  # the last step is the whole text's answer, in float32
    )
    assert client.get("/healthz").json() == {
        "status": "ok",
        "models": {"rnn": {"path": str(hybrid_dir), "kind": "hybrid"}},
    }


def test_threshold_moves_the_decision(client, model_dir):
    response = client.post("/predict", json={"texts": SEED_PAIR, "threshold": 1.0})
    assert response.json() == {"predictions": expected(model_dir, SEED_PAIR, 1.0)}
    assert [p["label"] for p in response.json()["predictions"]] == ["negative", "negative"]


def test_per_token_gives_the_probability_after_each_token_and_marks_unknown_words(client, model_dir):
    texts = ["No, this phone is zorblaxian good"]
    response = client.post("/predict", json={"texts": texts, "per_token": True})
    assert response.status_code == 200
    (prediction,) = predict_per_token(model_dir, texts)
    body = prediction.to_dict()
    for token in body["tokens"]:
        token["unknown"] = token["token"] == "zorblaxian"
    assert response.json() == {"predictions": [body]}
    assert [t["token"] for t in body["tokens"]] == ["no", ",", "this", "phone", "is", "zorblaxian", "good"]
    assert response.json()["predictions"][0]["oov_rate"] == pytest.approx(1 / 7)  # the share of unknown words


def test_a_bag_of_words_model_answers_beside_the_rnn(model_dir, bow_dir):
    client = TestClient(create_app(model_dir, bow_dir))
    response = client.post("/predict", json={"texts": SEED_PAIR})
    assert response.json() == {"predictions": expected(model_dir, SEED_PAIR), "bow": expected(bow_dir, SEED_PAIR)}
    assert client.get("/healthz").json() == {
        "status": "ok",
        "models": {"rnn": {"path": str(model_dir), "kind": "rnn"}, "bow": {"path": str(bow_dir), "kind": "bow"}},
    }


def test_bow_model_must_be_a_bag_of_words(model_dir, tmp_path):
    result = CliRunner().invoke(cli, ["serve", "--model", str(model_dir), "--bow-model", str(model_dir)])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {model_dir} holds a recurrent model, not a bag of words: pass --bow-model a model "
        "trained with --set model.kind=bow.\n"
    )


def test_per_token_on_a_bag_of_words_model_is_refused(bow_dir):
    response = TestClient(create_app(bow_dir)).post("/predict", json={"texts": ["good"], "per_token": True})
    assert response.status_code == 400
    assert response.json() == {
        "error": '"per_token" needs a recurrent model; this one is a bag of words: drop per_token.'
    }


def test_healthz(client, model_dir):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "models": {"rnn": {"path": str(model_dir), "kind": "rnn"}}}


def test_model_gives_what_inspect_json_prints(client, model_dir):
    result = CliRunner().invoke(cli, ["inspect", "--json", "--model", str(model_dir)])
    response = client.get("/model")
    assert response.status_code == 200
    assert response.json() == json.loads(result.output)
    assert client.get("/model").json() == response.json()  # computed once, then kept


def test_model_bow_without_a_bow_model_is_404(client):
    response = client.get("/model/bow")
    assert response.status_code == 404
    assert response.json() == {"error": "This server has no bag-of-words model: start it with --bow-model DIR."}


def test_openapi_describes_the_routes(client):
    schema = client.get("/openapi.json").json()
    assert schema["openapi"] == "3.0.0"
    assert sorted(schema["paths"]) == ["/guess", "/healthz", "/model", "/model/bow", "/model/lm", "/predict"]
    assert schema["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"]["required"] == [
        "texts"
    ]


BAD_BODIES = [
    (
        "malformed-json",
        b'{"texts": [',
        400,
        'The body is not valid JSON (Expecting value): send e.g. {"texts": ["great phone"]}.',
    ),
    ("not-an-object", b'["great phone"]', 400, 'The body is a JSON list, not an object: send {"texts": [...]}.'),
    ("no-texts", b"{}", 400, 'The body has no "texts": send {"texts": ["great phone"]}.'),
    (
        "unknown-key",
        b'{"text": ["a"]}',
        400,
        "Unknown key 'text' in the body: the keys are texts, per_token, threshold.",
    ),
    ("texts-a-string", b'{"texts": "great phone"}', 400, '"texts" is a JSON string: send a list of strings.'),
    ("empty-list", b'{"texts": []}', 400, '"texts" is empty: send at least one text.'),
    ("non-string", b'{"texts": ["good", 3]}', 400, '"texts"[1] is a JSON number: every text must be a string.'),
    ("null-text", b'{"texts": [null]}', 400, '"texts"[0] is a JSON null: every text must be a string.'),
    (
        "per-token-a-string",
        b'{"texts": ["a"], "per_token": "yes"}',
        400,
        '"per_token" is a JSON string: send true or false.',
    ),
    (
        "threshold-a-string",
        b'{"texts": ["a"], "threshold": "0.5"}',
        400,
        '"threshold" is a JSON string: send a number in [0, 1].',
    ),
    (
        "threshold-a-boolean",
        b'{"texts": ["a"], "threshold": true}',
        400,
        '"threshold" is a JSON boolean: send a number in [0, 1].',
    ),
    (
        "threshold-out-of-range",
        b'{"texts": ["a"], "threshold": 2}',
        400,
        '"threshold" is 2, outside [0, 1]: send e.g. 0.5.',
    ),
    ("threshold-nan", b'{"texts": ["a"], "threshold": NaN}', 400, '"threshold" is nan, outside [0, 1]: send e.g. 0.5.'),
    (  # an integer too large for a float: compared as it is, never converted
        "threshold-huge-integer",
        b'{"texts": ["a"], "threshold": 1' + b"0" * 309 + b"}",
        400,
        f'"threshold" is {10**309}, outside [0, 1]: send e.g. 0.5.',
    ),
    (
        "invalid-utf8",
        b'{"texts": ["caf\xe9"]}',
        400,
        "The body is not valid UTF-8 (byte 15): send JSON encoded as UTF-8.",
    ),
    (
        "lone-surrogate",
        b'{"texts": ["\\ud800"]}',
        400,
        '"texts"[0] holds a lone surrogate (an unpaired \\ud800-\\udfff escape): send valid Unicode.',
    ),
    (
        "nested-deeply",
        b"[" * 100_000,
        400,
        'The body is not valid JSON (nested deeper than 64 levels): send e.g. {"texts": ["great phone"]}.',
    ),
    (
        "too-many-texts",
        b'{"texts": ["a", "b", "c", "d"]}',
        413,
        '"texts" holds 4 texts, more than the server\'s limit of 3 (--max-texts): split them over several requests.',
    ),
    (
        "too-many-bytes",
        b'{"texts": ["' + b"a " * 100_000 + b'"]}',
        413,
        "The body has 200,015 bytes, more than the server's limit of 200,000 (--max-bytes): send fewer or shorter texts per "
        "request.",
    ),
    (
        "huge-text",
        b'{"texts": ["' + b"a" * 51 + b'"]}',
        413,
        '"texts"[0] has 51 characters, more than the server\'s limit of 50 (--max-chars): send a shorter text, or '
        "split it.",
    ),
]


@pytest.mark.parametrize(("body", "status", "message"), [c[1:] for c in BAD_BODIES], ids=[c[0] for c in BAD_BODIES])
def test_bad_input_gets_a_json_error_and_the_next_request_works(small, model_dir, body, status, message):
    response = small.post("/predict", content=body, headers={"content-type": "application/json"})
    assert (response.status_code, response.json()) == (status, {"error": message})
    good = small.post("/predict", json={"texts": ["good"]})
    assert good.json() == {"predictions": expected(model_dir, ["good"])}


def test_a_body_over_the_limit_is_refused_by_its_content_length(small):
    # chunked, without Content-Length: counted while it arrives
    response = small.post("/predict", content=iter([b'{"texts": ["', b"a" * 200_000, b'"]}']))
    assert response.status_code == 413
    assert response.json()["error"].startswith("The body has ")


@pytest.mark.parametrize(
    ("method", "path", "status", "message"),
    [
        ("GET", "/nope", 404, f"Nothing at /nope: {ROUTES}."),
        ("GET", "/predict", 405, "GET /predict is not allowed: use POST."),
        ("DELETE", "/healthz", 405, "DELETE /healthz is not allowed: use GET, HEAD."),
    ],
)
def test_unknown_routes_and_methods_get_json_errors(client, method, path, status, message):
    response = client.request(method, path)
    assert (response.status_code, response.json()) == (status, {"error": message})


def test_the_page_and_its_assets_are_served_locally(client):
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert '<textarea id="text"' in page.text
    assert client.get("/static/app.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/static/style.css").status_code == 200
    for asset in (page.text, client.get("/static/app.js").text, client.get("/static/style.css").text):
        assert "http://" not in asset and "https://" not in asset and "//" + "cdn" not in asset
        assert "@import" not in asset and "url(" not in asset


@pytest.mark.parametrize(
    "path",
    [
        "/static/../api.py",
        "/static/%2e%2e/api.py",
        "/static/..%2fapi.py",
        "/static/%2e%2e%2f%2e%2e%2f__init__.py",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/../../etc/passwd",
    ],
)
def test_no_file_outside_the_static_assets_is_served(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "error" in response.json()


def test_building_the_app_never_imports_tensorflow(model_dir):
    script = (
        "import sys\n"
        "from starlette.testclient import TestClient\n"
        "from sentiment_rnn.serve import create_app\n"
        f"client = TestClient(create_app({str(model_dir)!r}))\n"
        "response = client.post('/predict', json={'texts': ['good'], 'per_token': True})\n"
        "assert response.status_code == 200, response.text\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert result.stdout == "[]\n"


def test_without_the_serve_extra_one_error_line_says_what_to_install(model_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "starlette", None)  # makes `import starlette` raise ImportError
    result = CliRunner().invoke(cli, ["serve", "--model", str(model_dir)])
    assert result.exit_code == 1
    assert result.output == (
        "Error: serve needs Starlette and uvicorn: install them with pip install 'sentiment-rnn[serve]'.\n"
    )


def test_a_port_in_use_is_refused(model_dir):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--model", str(model_dir), "--port", str(port)])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: Port {port} on 127.0.0.1 is in use: pass another --port, or --port 0 for a free one.\n"
    )


def start_server(model_dir, *options: str, cwd=None) -> tuple[subprocess.Popen, int]:
    """``sentiment-rnn serve --port 0 [options]`` in a child process; (process, port) once it listens.

    ``model_dir`` None serves without ``--model``: the default model (in an empty ``cwd``, the bundled one).
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    model = [] if model_dir is None else ["--model", str(model_dir)]
    process = subprocess.Popen(
        [sys.executable, "-m", "sentiment_rnn", "serve", *model, "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd,
    )
    line = process.stdout.readline()
    served = "reviews-en" if model_dir is None else model_dir
    assert line.startswith(f"Serving {served} at http://127.0.0.1:"), line + process.stderr.read()
    port = int(line.split("http://127.0.0.1:", 1)[1].split("/", 1)[0])
    return process, port


def http_exchange(sock: socket.socket, request: bytes) -> bytes:
    """Send ``request`` on a keep-alive connection; the whole response (headers and body)."""
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(
        next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def wait_until_refused(port: int) -> None:
    """Return once the server no longer accepts connections (it has begun to shut down)."""
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        except ConnectionRefusedError:
            return
        time.sleep(0.05)
    raise AssertionError(f"the server on port {port} still accepts connections")


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_a_stop_signal_finishes_the_request_in_flight_and_exits_0(model_dir, stop):
    process, port = start_server(model_dir)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            assert http_exchange(sock, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 200 ")
            body = json.dumps({"texts": SEED_PAIR}).encode()
            head = f"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n"
            sock.sendall(head.encode())
            assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"  # the app is reading this request's body
            process.send_signal(stop)
            wait_until_refused(port)  # stopping, with the request still in flight
            response = http_exchange(sock, body)
        head, _, answer = response.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 ")
        assert json.loads(answer) == {"predictions": expected(model_dir, SEED_PAIR)}
        stdout, stderr = process.communicate(timeout=60)
        assert (process.returncode, stdout, stderr) == (0, "Stopped.\n", "")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_5_mb_body_gets_its_413_answer_and_one_log_line(model_dir):
    """The body is read to its end and dropped before the answer: the client reads a 413, not a reset."""
    process, port = start_server(model_dir)
    try:
        body = b'{"texts": ["' + b"a" * 5_000_000 + b'"]}'
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            head = f"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            response = http_exchange(sock, head + body)
        head, _, answer = response.partition(b"\r\n\r\n")
        message = (
            f"The body has {len(body):,} bytes, more than the server's limit of 1,000,000 (--max-bytes): "
            "send fewer or shorter texts per request."
        )
        assert head.startswith(b"HTTP/1.1 413 ") and json.loads(answer) == {"error": message}
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
        assert (process.returncode, stderr) == (0, f"sentiment-rnn serve: POST /predict 413: {message}\n")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_request_over_the_token_limit_is_refused_before_the_model_runs(model_dir):
    client = TestClient(create_app(model_dir, limits=Limits(max_tokens=9)))
    assert client.post("/predict", json={"texts": ["good phone, bad screen"]}).status_code == 200  # 5 tokens
    response = client.post("/predict", json={"texts": ["good phone, bad screen"] * 2})
    assert (response.status_code, response.json()) == (
        413,
        {
            "error": '"texts" hold 10 tokens, more than the server\'s limit of 9 (--max-tokens): send fewer or '
            "shorter texts per request."
        },
    )
    response = client.post("/predict", json={"texts": ["good phone"], "per_token": True})
    assert response.status_code == 413
    assert response.json()["error"].startswith('"texts" hold 2 tokens (with per_token, each costs 8), more than')


def test_healthz_answers_while_a_prediction_runs(model_dir, monkeypatch):
    """The models run in a worker thread: the event loop answers /healthz meanwhile."""
    import threading

    from sentiment_rnn.serve.api import Models

    healthy, waited = threading.Event(), []
    answer = Models.answer

    def slow_answer(self, request):
        waited.append(healthy.wait(timeout=120))  # True only if /healthz was answered meanwhile
        return answer(self, request)

    monkeypatch.setattr(Models, "answer", slow_answer)
    client = TestClient(create_app(model_dir))
    with client:
        predicting = threading.Thread(target=lambda: client.post("/predict", json={"texts": ["good"]}))
        predicting.start()
        assert client.get("/healthz").status_code == 200
        healthy.set()
        predicting.join(timeout=120)
    assert waited == [True]


def test_each_failed_request_is_one_log_line_and_no_traceback(model_dir, monkeypatch, capsys):
    from sentiment_rnn.serve.api import Models

    client = TestClient(create_app(model_dir))
    assert client.post("/predict", json={"texts": []}).status_code == 400
    assert client.get("/healthz").status_code == 200  # a success is not logged

    def fail(self, request):
        raise RuntimeError("boom")

    monkeypatch.setattr(Models, "answer", fail)
    response = client.post("/predict", json={"texts": ["good"]})
    assert (response.status_code, response.json()) == (
        500,
        {"error": "The server failed on this request; the error is in its log. Other requests are unaffected."},
    )
    assert capsys.readouterr().err == (
        'sentiment-rnn serve: POST /predict 400: "texts" is empty: send at least one text.\n'
        "sentiment-rnn serve: POST /predict failed: RuntimeError: boom\n"
    )
