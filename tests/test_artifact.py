"""Model directories: atomic replacement, round trip in a fresh process, damaged directories."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

from sentiment_rnn.artifact.atomic import current_umask, staged_directory
from sentiment_rnn.artifact.files import FORMAT_VERSION
from sentiment_rnn.inference import predict

TEXTS = ["I like this phone", "This phone is no good", "", "🙂 unknownword"]


OLD_META = '{"format_version": 1, "package_version": "0.1.0"}'


def old_model_directory(target):
    """A model directory as train leaves it, as far as replacing it goes: its marker and config."""
    target.mkdir()
    (target / "meta.json").write_text(OLD_META)
    (target / "config.toml").write_text("")
    return target


def test_failed_save_keeps_the_previous_directory(tmp_path):
    target = old_model_directory(tmp_path / "model")
    with pytest.raises(KeyboardInterrupt):
        with staged_directory(target) as staging:
            (staging / "meta.json").write_text("new, half written")
            raise KeyboardInterrupt
    assert (target / "meta.json").read_text() == OLD_META
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_successful_save_replaces_the_directory(tmp_path):
    target = old_model_directory(tmp_path / "model")
    (target / "history.csv").write_text("old")
    with staged_directory(target) as staging:
        (staging / "meta.json").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == ["meta.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


@pytest.mark.parametrize("umask, mode", [(0o022, 0o755), (0o027, 0o750), (0o077, 0o700)])
def test_staged_directory_follows_the_umask_like_mkdir(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        with staged_directory(tmp_path / "model") as staging:
            (staging / "meta.json").write_text("{}")
        (tmp_path / "made-by-mkdir").mkdir()
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "model").stat().st_mode) == mode
    assert stat.S_IMODE((tmp_path / "made-by-mkdir").stat().st_mode) == mode


def test_trained_model_directory_is_readable_by_others(model_dir):
    # the session's model was trained under the test runner's umask (022 in CI): drwxr-xr-x, not drwx------
    expected = 0o777 & ~current_umask()
    assert stat.S_IMODE(model_dir.stat().st_mode) == expected


def test_round_trip_in_a_fresh_process(tiny_run):
    model_dir = tiny_run.model_dir
    in_process = [p.probability for p in predict(model_dir, TEXTS)]
    fitted = tiny_run.result.model.predict(__import__("tensorflow").constant(TEXTS), verbose=0)[:, 0]
    assert max(abs(a - b) for a, b in zip(in_process, fitted)) < 1e-6
    code = (
        "import json, sys\nfrom sentiment_rnn.inference import predict\n"
        f"print(json.dumps([p.probability for p in predict(sys.argv[1], {TEXTS!r})]))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(model_dir)], capture_output=True, text=True, check=True)
    fresh = json.loads(out.stdout.strip().splitlines()[-1])
    assert max(abs(a - b) for a, b in zip(in_process, fresh)) < 1e-6


def test_directory_records_versions_and_vocabulary(model_dir):
    meta = json.loads((model_dir / "meta.json").read_text())
    assert meta["format_version"] == FORMAT_VERSION
    assert meta["package_version"] == __import__("sentiment_rnn").__version__
    text = (model_dir / "vocabulary.json").read_text()
    vocabulary = json.loads(text)
    assert vocabulary[:2] == ["", "[UNK]"] and "phone" in vocabulary
    assert text == json.dumps(vocabulary, separators=(",", ":")) + "\n"  # one line: no 5 bytes of indent a token


# Damaged, truncated, newer-format and mismatched directories: see docs/errors.md and test_errors_table.py.


def test_model_keras_holds_weights_but_no_optimizer_state(model_dir):
    # Adam's two moments per weight would triple the file; predicting and --resume never read them
    import io
    import zipfile

    import h5py

    with zipfile.ZipFile(model_dir / "model.keras") as archive:
        weights = h5py.File(io.BytesIO(archive.read("model.weights.h5")))
        config = json.loads(archive.read("config.json"))
    assert sorted(weights.keys()) == ["layers", "vars"]
    assert config["compile_config"] == {}  # no optimizer, loss or metrics to rebuild on load
