"""train.ensemble: several models from different seeds in one model directory, answering with their mean."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import (
    MODEL_DIRECTORY_FILES,
    NEGATIVE,
    NUMPY_EXPORT_FILES,
    PATHS_ATOL,
    POSITIVE,
    TINY_OVERRIDES,
    assert_close,
    assert_printed_close,
    write_csv,
)
from sentiment_rnn.artifact.files import CONFIG_FILE, member_path
from sentiment_rnn.cli import cli
from sentiment_rnn.config import load_config, to_dict
from sentiment_rnn.inference import predict, predict_per_token, predict_proba, predict_stream
from sentiment_rnn.training.ensemble import member_seeds

TEXTS = ["I like this phone", "the battery is terrible", "No, this phone is good", "", "zebra unseen words"]
DOCUMENT = "the battery is terrible but the screen is good and I like this phone " * 5
MEMBERS = 3


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def assert_user_error(result, message: str):
    assert result.exit_code == 1, result.output
    assert result.output == f"Error: {message}\n"


def tiny_options(data: Path) -> list[str]:
    options = ["--data", str(data), "--seed", "7", "-q"]
    for override in TINY_OVERRIDES:
        options += ["--set", override]
    return options


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ensemble-data")
    return write_csv(root / "tiny.csv", [(t, 1) for t in POSITIVE] + [(t, 0) for t in NEGATIVE])


@pytest.fixture(scope="module")
def trained(tmp_path_factory, data) -> tuple[Path, str]:
    """An ensemble of three tiny SimpleRNNs trained through the CLI: (its directory, what train printed)."""
    out = tmp_path_factory.mktemp("ensemble") / "model"
    result = run("train", *tiny_options(data), "--ensemble", MEMBERS, "--out", out)
    assert result.exit_code == 0, result.output
    return out, result.output


@pytest.fixture
def ensemble(trained) -> Path:
    return trained[0]


def test_train_prints_the_ensembles_metrics_and_each_members_best_epoch(trained):
    out, output = trained
    metrics = json.loads((out / "metrics.json").read_text())
    members = json.loads((out / "meta.json").read_text())["data"]["members"]
    best = ", ".join(str(member["best_epoch"]) for member in members)
    assert output == (
        f"Saved model to {out}: validation accuracy {metrics['accuracy']:.3f}, AUC {metrics['auc']:.3f}, "
        f"ECE {metrics['ece']:.3f}, Brier {metrics['brier']:.3f} on {metrics['n']} examples "
        f"(an ensemble of {MEMBERS}; best epochs {best}).\n"
    )
    assert len(metrics["member_accuracy"]) == MEMBERS


def test_the_directory_holds_one_complete_model_directory_per_member(ensemble):
    assert sorted(p.name for p in ensemble.iterdir()) == [
        "config.toml",
        "manifest.json",
        "members",
        "meta.json",
        "metrics.json",
        "vocabulary.json",
    ]
    assert sorted(p.name for p in (ensemble / "members").iterdir()) == ["1", "2", "3"]
    for number in range(1, MEMBERS + 1):
        assert sorted(p.name for p in member_path(ensemble, number).iterdir()) == MODEL_DIRECTORY_FILES
        assert (member_path(ensemble, number) / "vocabulary.json").read_text() == (
            ensemble / "vocabulary.json"
        ).read_text()


def test_members_share_the_config_but_for_their_seeds(ensemble):
    config = load_config(ensemble / CONFIG_FILE)
    assert config.train.ensemble == MEMBERS
    assert config.train.seed == 7
    seeds = [load_config(member_path(ensemble, n) / CONFIG_FILE).train.seed for n in range(1, MEMBERS + 1)]
    assert seeds == member_seeds(7, MEMBERS)
    for number in range(1, MEMBERS + 1):
        member = to_dict(load_config(member_path(ensemble, number) / CONFIG_FILE))
        member["train"].update(seed=7, ensemble=MEMBERS)
        assert member == to_dict(config)


def test_member_seeds_start_at_the_seed_and_nearby_seeds_share_none():
    assert member_seeds(5, 1) == [5]
    ensembles = [member_seeds(seed, 5) for seed in (1, 2, 3)]
    assert [members[0] for members in ensembles] == [1, 2, 3]
    assert len({seed for members in ensembles for seed in members}) == 15
    assert member_seeds(1, 5) == ensembles[0]  # the same seed, the same members


def test_the_numpy_engine_answers_with_the_members_mean_probability(ensemble):
    members = [predict_proba(member_path(ensemble, n), TEXTS) for n in range(1, MEMBERS + 1)]
    # the ensemble's engine and each member's own are two paths: PATHS_ATOL
    np.testing.assert_allclose(predict_proba(ensemble, TEXTS), np.mean(members, axis=0), rtol=0, atol=PATHS_ATOL)
    assert np.ptp(members, axis=0).max() > 0  # the members differ: their seeds gave other weights


def test_both_engines_agree_on_an_ensemble(ensemble):
    np.testing.assert_allclose(
        predict_proba(ensemble, TEXTS, engine="keras"), predict_proba(ensemble, TEXTS), rtol=1e-5, atol=1e-6
    )


def test_per_token_view_is_the_members_mean_in_both_engines(ensemble):
    text = "No, this phone is good"
    views = [predict_per_token(member_path(ensemble, n), [text])[0] for n in range(1, MEMBERS + 1)]
    expected = np.mean([[p for _, p in view.tokens] for view in views], axis=0)
    for engine in ("numpy", "keras"):
        (view,) = predict_per_token(ensemble, [text], engine=engine)
        assert [token for token, _ in view.tokens] == ["no", ",", "this", "phone", "is", "good"]
        np.testing.assert_allclose([p for _, p in view.tokens], expected, rtol=1e-5, atol=1e-6)


def test_streaming_reads_every_member_and_equals_reading_at_once(ensemble):
    whole = predict_proba(ensemble, [DOCUMENT])[0]
    for engine in ("numpy", "keras"):
        streamed = predict_stream(ensemble, io.StringIO(DOCUMENT), chunk_tokens=7, engine=engine)
        assert streamed.tokens == 5 * 14
        assert streamed.probability == pytest.approx(whole, abs=1e-5)


def test_predict_and_evaluate_through_the_cli(ensemble, data):
    probabilities = predict_proba(ensemble, TEXTS[:2])
    result = run("predict", "--model", ensemble, *TEXTS[:2])
    assert result.exit_code == 0, result.output
    labels = ["positive" if p >= 0.5 else "negative" for p in probabilities]
    expected = "".join(f"{label:<8}  {p:.4f}  {t}\n" for label, p, t in zip(labels, probabilities, TEXTS))
    assert_printed_close(result.output, expected)  # the command and predict_proba: two paths
    evaluated = run("evaluate", "--model", ensemble, "--data", data, "--json")
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads(evaluated.output)["n"] == 12


def test_inspect_names_the_ensemble_and_each_members_epochs(ensemble):
    result = run("inspect", "--model", ensemble, "--json")
    assert result.exit_code == 0, result.output
    description = json.loads(result.output)
    assert description["architecture"]["summary"] == (
        "SimpleRNN, 1 layer of 8 units, embedding size 8; an ensemble of 3, mean probability"
    )
    assert [layer["name"] for layer in description["layers"]] == [
        f"member_{number}/{name}" for number in range(1, MEMBERS + 1) for name in ("embedding", "recurrent_0", "head")
    ]
    assert len(description["data"]["members"]) == MEMBERS
    keras = json.loads(run("inspect", "--model", ensemble, "--json", "--engine", "keras").output)
    assert [layer["name"] for layer in keras["layers"]] == [
        "text",
        "member_1",
        "member_2",
        "member_3",
        "mean_probability",
    ]
    assert keras["architecture"] == description["architecture"]


def test_numpy_export_of_an_ensemble_predicts_the_same(ensemble, tmp_path):
    out = tmp_path / "bundle"
    result = run("export", "--model", ensemble, "--format", "numpy", "--out", out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (out / "members" / "2").iterdir()) == NUMPY_EXPORT_FILES
    # the export and its source: two paths (see PATHS_ATOL)
    np.testing.assert_allclose(predict_proba(out, TEXTS), predict_proba(ensemble, TEXTS), rtol=0, atol=PATHS_ATOL)
    described = json.loads(run("inspect", "--model", out, "--json").output)
    assert [layer["name"] for layer in described["layers"]][:3] == [
        "member_1/embedding",
        "member_1/recurrent_0",
        "member_1/head",
    ]


@pytest.mark.parametrize("exported", [False, True], ids=["model-directory", "numpy-export"])
def test_serve_answers_an_ensemble_as_predict_and_inspect_do(ensemble, tmp_path, exported):
    pytest.importorskip("starlette", reason="the serve extra is not installed")
    from starlette.testclient import TestClient

    from sentiment_rnn.serve import create_app

    model = ensemble
    if exported:
        model = tmp_path / "bundle"
        assert run("export", "--model", ensemble, "--format", "numpy", "--out", model).exit_code == 0
    client = TestClient(create_app(model))
    response = client.post("/predict", json={"texts": TEXTS})
    assert response.status_code == 200
    # the server's model (maybe an export) and predict's: two paths (see PATHS_ATOL); each names the directory served
    identity = {"name": model.name, "kind": "rnn", "bundled": False, "path": str(model), "members": MEMBERS}
    expected = [{**p.to_dict(), "model": identity} for p in predict(ensemble, TEXTS)]
    assert_close(response.json(), {"predictions": expected})
    text = "No, this phone is good"
    response = client.post("/predict", json={"texts": [text], "per_token": True})
    assert response.status_code == 200
    (view,) = response.json()["predictions"]
    assert [token["token"] for token in view["tokens"]] == ["no", ",", "this", "phone", "is", "good"]
    expected = [p for _, p in predict_per_token(ensemble, [text])[0].tokens]
    np.testing.assert_allclose([token["probability"] for token in view["tokens"]], expected, rtol=0, atol=PATHS_ATOL)
    assert client.get("/model").json() == json.loads(run("inspect", "--model", model, "--json").output)


def test_a_missing_member_is_an_incomplete_directory(ensemble, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(ensemble, copy)
    shutil.rmtree(member_path(copy, 2))
    assert_user_error(
        run("predict", "--model", copy, "good"),
        f"{copy} is missing members/2: the directory is incomplete; retrain the model.",
    )


def test_a_member_of_another_architecture_is_refused(ensemble, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(ensemble, copy)
    config = member_path(copy, 3) / CONFIG_FILE
    config.write_text(config.read_text().replace("units = 8", "units = 16"))
    assert_user_error(
        run("predict", "--model", copy, "good"),
        f"{member_path(copy, 3)} differs from the ensemble's config (model.units = 16 against 8): the ensemble's "
        "directory was edited or mixed up; retrain the model.",
    )


def test_resume_is_refused_for_an_ensemble(data, tmp_path):
    out = tmp_path / "model"
    result = run("train", *tiny_options(data), "--ensemble", 2, "--out", out, "--resume")
    assert_user_error(
        result,
        "--resume does not work with train.ensemble = 2 (members are not backed up epoch by epoch): "
        "train again without --resume.",
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.ensemble=0", "Config key train.ensemble must be from 1 to 32, got 0."),
        ("train.ensemble=33", "Config key train.ensemble must be from 1 to 32, got 33."),
        (
            "data.streaming=true",
            "Config sets data.streaming = true with train.ensemble = 2: an ensemble is trained one member after "
            "another on one in-memory split and saved as plain models. Set data.streaming = false or "
            "train.ensemble = 1.",
        ),
        (
            "model.stateful=true",
            "Config sets model.stateful = true with train.ensemble = 2: an ensemble is trained one member after "
            "another on one in-memory split and saved as plain models. Set model.stateful = false or "
            "train.ensemble = 1.",
        ),
    ],
)
def test_what_an_ensemble_cannot_do_is_refused_before_training(data, tmp_path, override, message):
    ensemble = [] if override.startswith("train.ensemble") else ["--ensemble", 2]
    result = run("train", *tiny_options(data), *ensemble, "--set", override, "--out", tmp_path / "model")
    assert_user_error(result, message)
    assert not (tmp_path / "model").exists()


def snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("manifest", [True, False], ids=["with-manifests", "older-without-manifests"])
@pytest.mark.parametrize(
    "planted, shown",
    [("members/1/notes.txt", "members/1/notes.txt"), ("members/2/logs/notes.txt", "members/2/logs/")],
    ids=["file-in-a-member", "directory-in-a-member"],
)
def test_train_refuses_a_users_file_inside_a_member_of_the_ensemble_it_would_replace(
    ensemble, data, tmp_path, manifest, planted, shown
):
    """The members are the tool's, but not what the user put inside them: the whole tree is checked."""
    out = shutil.copytree(ensemble, tmp_path / "model")
    if not manifest:  # as written before manifests: the names each member held are the rule
        for file in out.rglob("manifest.json"):
            file.unlink()
    (out / planted).parent.mkdir(exist_ok=True)
    (out / planted).write_text("my notes, not a model\n")
    before = snapshot(tmp_path)
    result = run("train", *tiny_options(data), "--ensemble", 2, "--out", out)
    assert_user_error(
        result,
        f"{out} holds files sentiment-rnn did not write ({shown}): move them out or pass a new path to --out "
        "(nothing was changed).",
    )
    assert snapshot(tmp_path) == before
