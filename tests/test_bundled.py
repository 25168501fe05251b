"""Bundled models: `--model reviews-en`, the default when ./sentiment-model is absent, and what inspect says.

Every test but the last two puts the session's tiny model where the package keeps
its bundled models (``bundled_root`` patched to a temporary directory), so they
run whether or not the real reviews-en is installed. The last two check the real
one and are skipped without it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import NEGATIVE, NUMPY_EXPORT_FILES, POSITIVE, README_SENTENCES, TINY_OVERRIDES, write_csv
from sentiment_rnn import bundled
from sentiment_rnn.cli import cli

NOTICE = (
    "Using the bundled model reviews-en (general English reviews); run sentiment-rnn train to make "
    "./sentiment-model, which is used from then on, or pass --model DIR."
)
NOT_A_MODEL_HINT = (
    "train one with `sentiment-rnn train --out DIR`, or pass --model DIR or --model reviews-en (the bundled model)."
)
BUILD = {
    "command": "sentiment-rnn train --config configs/reviews-en.toml --out sentiment_rnn/bundled/reviews-en",
    "config": "configs/reviews-en.toml",
    "wall_seconds": 1523.4,
    "machine": "x86_64, 2 CPUs, Linux",
    "load_average_at_start": [1.02, 1.1, 1.05],
    "date": "2026-12-01",
}


@pytest.fixture(scope="session")
def other_model(tmp_path_factory) -> Path:
    """A model directory with random weights: its answers differ from the tiny model's."""
    from model_factory import randomized_model, write_model_dir

    return write_model_dir(*randomized_model(), tmp_path_factory.mktemp("other") / "model")


@pytest.fixture
def package(tiny_run, tmp_path, monkeypatch) -> Path:
    """The bundled models' directory, holding the tiny model as reviews-en; the cwd is an empty directory."""
    root = tmp_path / "package"
    shutil.copytree(tiny_run.model_dir, root / "reviews-en")
    monkeypatch.setattr(bundled, "bundled_root", lambda: root)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return root


def invoke(*args, env=None):
    return CliRunner().invoke(cli, list(args), env=env)


def answer(model: Path, *texts: str) -> str:
    """What `predict --model MODEL TEXTS` prints on stdout."""
    result = invoke("predict", "--model", str(model), *texts)
    assert (result.exit_code, result.stderr) == (0, ""), result.output
    return result.stdout


def test_the_bundled_name_is_the_bundled_model(package):
    result = invoke("predict", "--model", "reviews-en", "the battery is good", "This phone is no good")
    assert (result.exit_code, result.stderr) == (0, ""), result.output
    assert result.stdout == answer(package / "reviews-en", "the battery is good", "This phone is no good")


def test_an_existing_path_wins_over_the_bundled_name(package, other_model):
    shutil.copytree(other_model, Path("reviews-en"))
    mine = invoke("predict", "--model", "reviews-en", "good")
    assert (mine.exit_code, mine.stderr) == (0, "")
    assert mine.stdout == answer(other_model, "good")
    assert mine.stdout != answer(package / "reviews-en", "good")


def test_without_model_and_without_sentiment_model_the_bundled_model_answers_and_says_so(package):
    result = invoke("predict", "good", "bad")
    assert result.exit_code == 0, result.output
    assert result.stderr == NOTICE + "\n"
    assert result.stdout == answer(package / "reviews-en", "good", "bad")


def test_quiet_drops_the_notice_and_json_keeps_its_keys(package):
    quiet = invoke("predict", "--quiet", "good")
    assert (quiet.exit_code, quiet.stderr) == (0, "")
    as_json = invoke("predict", "--json", "good")
    assert as_json.stderr == NOTICE + "\n"
    assert list(json.loads(as_json.stdout)) == ["text", "label", "probability", "oov_rate", "model"]
    assert json.loads(as_json.stdout)["model"] == {
        "name": "reviews-en",
        "kind": "rnn",
        "bundled": True,
        "path": str(package / "reviews-en"),
    }


def test_once_sentiment_model_exists_it_answers_silently(package, other_model):
    shutil.copytree(other_model, Path("sentiment-model"))
    result = invoke("predict", "good")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == answer(other_model, "good")


def test_the_environment_variable_may_name_the_bundled_model(package, other_model):
    shutil.copytree(other_model, Path("sentiment-model"))
    result = invoke("predict", "good", env={"SENTIMENT_RNN_MODEL": "reviews-en"})
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == answer(package / "reviews-en", "good")


def test_without_any_model_the_error_names_the_default_directory(package):
    shutil.rmtree(package / "reviews-en")
    result = invoke("predict", "good")
    assert (result.exit_code, result.output) == (
        1,
        f"Error: Model directory sentiment-model does not exist: {NOT_A_MODEL_HINT}\n",
    )


def test_a_bundled_name_that_is_not_installed_is_one_error(package):
    shutil.rmtree(package / "reviews-en")
    result = invoke("inspect", "--model", "reviews-en")
    assert (result.exit_code, result.output) == (
        1,
        "Error: The bundled model reviews-en is not in this installation of sentiment-rnn (no "
        "sentiment_rnn/bundled/reviews-en/meta.json): reinstall sentiment-rnn, rebuild it with "
        "`python benchmarks/build_reviews_en.py`, or pass --model DIR.\n",
    )


def test_a_missing_path_mentions_the_bundled_model(package):
    result = invoke("evaluate", "--model", "reviews-fr", "--data", "x.csv")
    assert (result.exit_code, result.output) == (
        1,
        f"Error: Model directory reviews-fr does not exist: {NOT_A_MODEL_HINT}\n",
    )


def test_evaluate_and_export_take_the_bundled_name(package):
    data = write_csv(Path("tiny.csv"), [(t, 1) for t in POSITIVE] + [(t, 0) for t in NEGATIVE])
    by_name = invoke("evaluate", "--model", "reviews-en", "--data", str(data), "--json")
    by_path = invoke("evaluate", "--model", str(package / "reviews-en"), "--data", str(data), "--json")
    assert (by_name.exit_code, by_name.stderr) == (0, ""), by_name.output
    assert by_name.stdout == by_path.stdout
    exported = invoke("export", "--model", "reviews-en", "--format", "numpy", "--out", "numpy-copy")
    assert (exported.exit_code, exported.output) == (0, "Exported reviews-en as numpy to numpy-copy.\n")
    assert sorted(p.name for p in Path("numpy-copy").iterdir()) == NUMPY_EXPORT_FILES


def test_compare_bow_and_serve_resolve_the_bundled_name(package):
    from sentiment_rnn.serve.api import Models

    result = invoke("compare-bow", "--rnn-model", "reviews-en", "--bow-model", "reviews-en")
    assert (result.exit_code, result.output) == (
        1,
        f"Error: {package / 'reviews-en'} holds a rnn model, but --bow-model needs a bow model: "
        "train one with `sentiment-rnn train --set model.kind=bow`.\n",
    )
    assert Models("reviews-en").health() == {
        "status": "ok",
        "models": {"rnn": {"path": str(package / "reviews-en"), "kind": "rnn"}},
    }


def test_the_library_takes_the_bundled_name(package):
    from sentiment_rnn import SentimentClassifier, predict

    by_name = predict("reviews-en", ["No, this phone is good"])
    assert by_name == predict(package / "reviews-en", ["No, this phone is good"])
    estimator = SentimentClassifier.load("reviews-en")
    assert estimator.model_dir_ == package / "reviews-en"
    assert estimator.predict_proba(["No, this phone is good"])[0, 1] == pytest.approx(by_name[0].probability)


def test_the_bundled_model_is_read_only(package):
    before = sorted(p.name for p in (package / "reviews-en").iterdir())
    result = invoke("plot", "--model", "reviews-en")
    assert (result.exit_code, result.output) == (
        1,
        "Error: reviews-en is a bundled model, which is read-only: pass --out curve.png to draw it elsewhere.\n",
    )
    assert sorted(p.name for p in (package / "reviews-en").iterdir()) == before


def test_train_out_reviews_en_is_a_path_in_the_cwd(package):
    data = write_csv(Path("tiny.csv"), [(t, 1) for t in POSITIVE] + [(t, 0) for t in NEGATIVE])
    bundled_files = {p.name: p.stat().st_mtime_ns for p in (package / "reviews-en").iterdir()}
    args = ["train", "--data", str(data), "--out", "reviews-en", *(f"--set={o}" for o in TINY_OVERRIDES)]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Saved model to reviews-en: validation accuracy ")
    assert result.stderr.endswith(
        "Note: --out reviews-en is the path ./reviews-en, not the bundled model (read-only); from this "
        "directory, --model reviews-en now means ./reviews-en.\n"
    )
    assert (Path("reviews-en") / "meta.json").is_file()
    assert {p.name: p.stat().st_mtime_ns for p in (package / "reviews-en").iterdir()} == bundled_files
    assert answer(Path("reviews-en"), "good") == invoke("predict", "--model", "reviews-en", "good").stdout


def provenance(directory: Path) -> Path:
    """``directory`` with build.json, calibration figures and two data sources, as the real reviews-en has."""
    (directory / "build.json").write_text(json.dumps(BUILD))
    metrics = {"accuracy": 0.875, "auc": 0.9375, "loss": 0.3125, "n": 8, "ece": 0.03125, "brier": 0.09375}
    (directory / "metrics.json").write_text(json.dumps(metrics))
    meta = json.loads((directory / "meta.json").read_text())
    meta["data"].update(
        source="sst2/train.tsv + data/reviews.csv",
        best_epoch=2,
        epochs_run=2,
        sources=[
            {"source": "sst2/train.tsv", "rows": 8, "skipped": 1, "labels": {"positive": 5, "negative": 3}},
            {"source": "data/reviews.csv", "rows": 4, "skipped": 0, "labels": {"positive": 1, "negative": 3}},
        ],
    )
    (directory / "meta.json").write_text(json.dumps(meta))
    return directory


def test_inspect_says_what_the_bundled_model_was_trained_on_its_size_figures_and_build(package):
    directory = provenance(package / "reviews-en")
    size = sum(p.stat().st_size for p in directory.iterdir())
    files = len(list(directory.iterdir()))
    result = invoke("inspect", "--model", "reviews-en")
    assert (result.exit_code, result.stderr) == (0, ""), result.output
    rows = [line for line in result.stdout.split("\n\n")[0].splitlines() if not line.startswith(("Created", "Lib"))]
    assert rows == [
        f"Model directory  {directory}",
        "Bundled model    reviews-en (general English reviews), read-only",
        "Architecture     SimpleRNN, 1 layer of 8 units, embedding size 8",
        "Parameters       337 (337 trainable)",
        f"Size on disk     {size:,} bytes ({size / 1e6:.1f} MB) in {files} files",
        "Vocabulary       24 tokens (tokenizer.max_tokens = 20000)",
        "Sequence length  no limit (each batch padded to its longest text)",
        "Training data    2 sources",
        "                   sst2/train.tsv: 8 rows (5 positive, 3 negative), 1 skipped",
        "                   data/reviews.csv: 4 rows (1 positive, 3 negative), 0 skipped",
        "Labels           0/1, true/false, pos/neg or positive/negative",
        "Rows             12 (6 positive, 6 negative), 0 skipped",
        "Split            9 training, 3 validation; best epoch 2 of 2",
        "Validation       accuracy 0.8750, AUC 0.9375, ECE 0.0312, Brier 0.0938, loss 0.3125 on 8 examples",
        "Built with       sentiment-rnn train --config configs/reviews-en.toml --out sentiment_rnn/bundled/reviews-en",
        "Build time       25.4 minutes (1,523 s) on x86_64, 2 CPUs, Linux, 2026-12-01",
    ]


def test_inspect_json_has_the_bundled_name_size_and_build_for_any_path(package, tmp_path):
    by_path = json.loads(invoke("inspect", "--model", str(package / "reviews-en"), "--json").stdout)
    assert (by_path["bundled"], by_path["build"]) == ("reviews-en", None)
    mine = provenance(shutil.copytree(package / "reviews-en", tmp_path / "mine"))
    description = json.loads(invoke("inspect", "--model", str(mine), "--json").stdout)
    assert (description["bundled"], description["build"]) == (None, BUILD)
    assert description["size"] == {
        "bytes": sum(p.stat().st_size for p in mine.iterdir()),
        "files": len(list(mine.iterdir())),
    }
    assert description["metrics"]["ece"] == 0.03125


REAL = Path(__file__).resolve().parent.parent / "sentiment_rnn" / "bundled" / "reviews-en"
needs_the_real_model = pytest.mark.skipif(
    not (REAL / "meta.json").is_file(),
    reason="sentiment_rnn/bundled/reviews-en/meta.json is absent: build it with benchmarks/build_reviews_en.py",
)
SIZE_LIMIT = 10_000_000  # bytes: 10 MB inside the wheel


@needs_the_real_model
def test_the_real_bundled_model_gets_the_readme_sentences_right(tmp_path, monkeypatch):
    from sentiment_rnn import predict

    monkeypatch.chdir(tmp_path)  # no ./reviews-en here: the name is the bundled model
    predictions = predict("reviews-en", list(README_SENTENCES), engine="numpy")
    assert {p.text: p.label for p in predictions} == README_SENTENCES


@needs_the_real_model
def test_the_real_bundled_model_is_at_most_10_mb():
    assert sum(p.stat().st_size for p in REAL.rglob("*") if p.is_file()) <= SIZE_LIMIT


@needs_the_real_model
def test_the_issues_example_reads_per_token_with_the_real_bundled_hybrid_in_a_fresh_directory(tmp_path, monkeypatch):
    from sentiment_rnn import predict

    monkeypatch.chdir(tmp_path)  # no ./sentiment-model: the bundled reviews-en answers, a hybrid
    text = "No, this phone is good"
    result = invoke("predict", "--per-token", text)
    assert (result.exit_code, result.stderr) == (0, NOTICE + "\n"), result.output
    (whole,) = predict("reviews-en", [text])
    lines = result.stdout.splitlines()
    assert lines[0] == f"positive  {whole.probability:.4f}  {text}"
    assert [line.split()[0] for line in lines[2:8]] == ["no", ",", "this", "phone", "is", "good"]
    row = json.loads(invoke("predict", "--per-token", "--json", text).stdout)
    assert row["model"] == {"name": "reviews-en", "kind": "hybrid", "bundled": True, "path": str(REAL)}
    assert abs(row["tokens"][-1]["probability"] - whole.probability) < 1e-6  # pooled: the last step is the answer
