"""Evaluation: metrics checked by hand on tiny inputs, and the evaluate command's exact output."""

from __future__ import annotations

import itertools
import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from conftest import NEGATIVE, PATHS_ATOL, POSITIVE, assert_close, assert_printed_close, write_csv
from sentiment_rnn.cli import cli
from sentiment_rnn.data.dataset import Dataset
from sentiment_rnn.data.formats import read_dataset
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.evaluation import binary_metrics, evaluate, most_confident_mistakes, roc_auc
from sentiment_rnn.inference import predict


def test_metrics_by_hand():
    # predicted at 0.5: 1 1 0 1 0 against 1 1 1 0 0 -> tp 2, fn 1, fp 1, tn 1
    result = binary_metrics(np.array([1, 1, 1, 0, 0]), np.array([0.9, 0.6, 0.2, 0.7, 0.1]))
    assert result.confusion == [[1, 1], [1, 2]]
    assert (result.n, result.accuracy) == (5, 0.6)
    assert result.precision == pytest.approx(2 / 3)
    assert result.recall == pytest.approx(2 / 3)
    assert result.f1 == pytest.approx(2 / 3)
    # (positive, negative) pairs ranked right: 0.9 > 0.7, 0.9 > 0.1, 0.6 > 0.1, 0.2 > 0.1; 4 of 6
    assert result.roc_auc == pytest.approx(4 / 6)
    assert result.wrong == 2


def test_threshold_is_inclusive_and_undefined_ratios_are_zero():
    at_threshold = binary_metrics(np.array([1, 0]), np.array([0.5, 0.49]))
    assert (at_threshold.accuracy, at_threshold.confusion) == (1.0, [[1, 0], [0, 1]])
    nothing_positive = binary_metrics(np.array([1, 0, 0]), np.array([0.1, 0.2, 0.3]))
    assert (nothing_positive.precision, nothing_positive.recall, nothing_positive.f1) == (0.0, 0.0, 0.0)
    assert nothing_positive.roc_auc == 0.0
    one_class = binary_metrics(np.array([0, 0]), np.array([0.1, 0.9]))
    assert one_class.roc_auc is None and one_class.to_dict()["roc_auc"] is None


def test_roc_auc_ties_count_one_half():
    # pairs (pos, neg): (0.5, 0.5) -> 1/2, (0.5, 0.2) -> 1, (0.9, 0.5) -> 1, (0.9, 0.2) -> 1
    assert roc_auc(np.array([0, 1, 0, 1]), np.array([0.5, 0.5, 0.2, 0.9])) == 0.875
    assert roc_auc(np.array([1, 0, 1, 0]), np.full(4, 0.3)) == 0.5
    assert roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == 0.75


@given(st.lists(st.tuples(st.booleans(), st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0])), min_size=2, max_size=30))
def test_roc_auc_equals_the_pairwise_definition(pairs):
    labels = np.array([label for label, _ in pairs], dtype=int)
    scores = np.array([score for _, score in pairs])
    positives, negatives = scores[labels == 1], scores[labels == 0]
    if len(positives) == 0 or len(negatives) == 0:
        assert roc_auc(labels, scores) is None
        return
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(positives, negatives))
    assert roc_auc(labels, scores) == pytest.approx(wins / (len(positives) * len(negatives)))


def test_most_confident_mistakes_surest_first_ties_in_data_order():
    dataset = Dataset(["a", "b", "c", "d", "e"], np.array([1, 0, 0, 1, 0]), "x")
    probabilities = np.array([0.1, 0.8, 0.2, 0.2, 0.9])
    mistakes = most_confident_mistakes(dataset, probabilities, count=3)
    assert [(m.text, m.label, m.probability) for m in mistakes] == [("a", 1, 0.1), ("e", 0, 0.9), ("b", 0, 0.8)]
    assert [m.text for m in most_confident_mistakes(dataset, probabilities, count=10)] == ["a", "e", "b", "d"]


def test_evaluate_agrees_with_predict(model_dir, tiny_csv):
    dataset = read_dataset(tiny_csv)
    result = evaluate(model_dir, dataset, errors=2)
    probabilities = decisive(np.array([p.probability for p in predict(model_dir, dataset.texts)]), dataset.labels)
    expected = binary_metrics(dataset.labels, probabilities)
    # every word of the data is in the vocabulary; evaluate and predict are two paths (see PATHS_ATOL)
    assert_close(result.to_dict(), {**expected.to_dict(), "oov_rate": 0.0})
    assert_close(
        [m.to_dict() for m in result.errors], [m.to_dict() for m in most_confident_mistakes(dataset, probabilities, 2)]
    )
    with pytest.raises(SentimentError, match=r"^--errors must be 0 or more, got -1\.$"):
        evaluate(model_dir, dataset, errors=-1)


def run(*args):
    return CliRunner().invoke(cli, list(args))


def decisive(probabilities, labels):
    """``probabilities``, checked to be clear of the 0.5 threshold, and the mistakes of each other.

    Evaluate and predict reach them along two paths (see PATHS_ATOL), so the counts and the order of
    mistakes the tests compare exactly are only defined when no probability is within the tolerance
    of the threshold and no two mistakes are that close in confidence.
    """
    assert np.all(np.abs(probabilities - 0.5) > 2 * PATHS_ATOL), probabilities
    wrong = probabilities[(probabilities >= 0.5) != (np.asarray(labels) == 1)]
    gaps = np.diff(np.sort(np.abs(wrong - 0.5)))
    assert np.all((gaps == 0) | (gaps > 2 * PATHS_ATOL)), wrong
    return probabilities


def expected_for(model_dir, texts, labels):
    probabilities = decisive(np.array([p.probability for p in predict(model_dir, texts)]), labels)
    dataset = Dataset(texts, np.array(labels), "expected")
    return binary_metrics(dataset.labels, probabilities), dataset, probabilities


def test_evaluate_command_prints_the_metrics_exactly(model_dir, tiny_csv):
    result = run("evaluate", "--model", str(model_dir), "--data", str(tiny_csv))
    assert result.exit_code == 0, result.output
    expected, _, _ = expected_for(model_dir, POSITIVE + NEGATIVE, [1] * 6 + [0] * 6)
    (tn, fp), (fn, tp) = expected.confusion
    # the printed metrics come from evaluate, the expected ones from predict: equal to 4 decimals but for
    # a value of the two paths on either side of a rounding boundary (see assert_printed_close)
    assert_printed_close(
        result.output,
        "n          12\n"
        f"accuracy   {expected.accuracy:.4f}\n"
        f"precision  {expected.precision:.4f}\n"
        f"recall     {expected.recall:.4f}\n"
        f"f1         {expected.f1:.4f}\n"
        f"roc_auc    {expected.roc_auc:.4f}\n"
        f"ece        {expected.ece:.4f}\n"
        f"brier      {expected.brier:.4f}\n"
        "oov_rate   0.0000\n"
        f"confusion  tn {tn}  fp {fp}  fn {fn}  tp {tp}\n",
    )


def test_evaluate_reports_the_share_of_unknown_tokens(model_dir, tmp_path):
    # "zyzzyva" and "quux" are outside the vocabulary; "phone" and "good" are in it: 2 of 5 tokens unknown
    path = write_csv(tmp_path / "oov.csv", [("zyzzyva phone", 1), ("quux good good", 0)])
    result = run("evaluate", "--model", str(model_dir), "--data", str(path), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["oov_rate"] == 2 / 5
    expected, _, _ = expected_for(model_dir, ["zyzzyva phone", "quux good good"], [1, 0])
    assert_close((report["ece"], report["brier"]), (expected.ece, expected.brier))  # two paths: PATHS_ATOL


def test_evaluate_command_json_and_errors(model_dir, tmp_path):
    # labels deliberately inverted so that the model is wrong on most of them
    pos = tmp_path / "pos.txt"
    neg = tmp_path / "neg.txt"
    pos.write_text("\n".join(NEGATIVE) + "\n", encoding="utf-8")
    neg.write_text("\n".join(POSITIVE) + "\n", encoding="utf-8")
    result = run("evaluate", "--model", str(model_dir), "--pos", str(pos), "--neg", str(neg), "--json", "--errors", "3")
    assert result.exit_code == 0, result.output
    expected, dataset, probabilities = expected_for(model_dir, NEGATIVE + POSITIVE, [1] * 6 + [0] * 6)
    mistakes = most_confident_mistakes(dataset, probabilities, 3)
    # evaluate (streamed, summed by an accumulator) and predict + binary_metrics are two paths: PATHS_ATOL
    assert_close(
        json.loads(result.output),
        {
            **expected.to_dict(),
            "oov_rate": 0.0,
            "errors": [{"text": m.text, "label": m.label, "probability": m.probability} for m in mistakes],
        },
    )
    assert len(result.output.splitlines()) == 1
    table = run("evaluate", "--model", str(model_dir), "--pos", str(pos), "--neg", str(neg), "--errors", "3")
    lines = table.output.splitlines()
    assert lines[10] == f"Most confidently wrong ({len(mistakes)} of {expected.wrong}):"
    assert_printed_close(
        "\n".join(lines[11:]),
        "\n".join(
            f"  true {'positive' if m.label else 'negative':<8}  p(positive) {m.probability:.4f}  {m.text}"
            for m in mistakes
        ),
    )


def test_evaluate_one_class_data(model_dir, tmp_path):
    path = write_csv(tmp_path / "pos.csv", [(text, 1) for text in POSITIVE])
    result = run("evaluate", "--model", str(model_dir), "--data", str(path))
    assert result.exit_code == 0, result.output
    assert "roc_auc    n/a (one class only)\n" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "No data to evaluate: pass --data PATH, or --pos FILE and --neg FILE."),
        (["--data", "nowhere.csv"], "Data file nowhere.csv does not exist: check the path."),
        (["--data", "x.csv", "--threshold", "-1"], "Threshold -1.0 is outside [0, 1]: pass e.g. --threshold 0.5."),
    ],
)
def test_evaluate_command_errors(model_dir, args, message):
    result = run("evaluate", "--model", str(model_dir), *args)
    assert (result.exit_code, result.output) == (1, f"Error: {message}\n")


def test_evaluate_command_refuses_a_missing_model(tmp_path, tiny_csv):
    missing = tmp_path / "none"
    result = run("evaluate", "--model", str(missing), "--data", str(tiny_csv))
    assert (result.exit_code, result.output) == (
        1,
        f"Error: Model directory {missing} does not exist: "
        "train one with `sentiment-rnn train --out DIR`, or pass --model DIR or --model reviews-en "
        "(the bundled model).\n",
    )


@given(st.lists(st.tuples(st.integers(0, 1), st.sampled_from([0.1, 0.25, 0.5, 0.75, 0.9])), min_size=1, max_size=40))
def test_score_counts_in_batches_equal_roc_auc_on_the_whole(pairs):
    from sentiment_rnn.evaluation import ScoreCounts

    labels = np.array([label for label, _ in pairs])
    scores = np.array([score for _, score in pairs])
    counts = ScoreCounts(merge_from=5)  # several merges, some with scores pending
    for start in range(0, len(pairs), 3):
        counts.add(labels[start : start + 3], scores[start : start + 3])
    whole = roc_auc(labels, scores)
    assert counts.auc() == whole if whole is None else counts.auc() == pytest.approx(whole, abs=1e-12)


def test_evaluate_streams_in_batches_with_the_in_memory_result(model_dir, tmp_path, monkeypatch):
    from sentiment_rnn.data import batches

    rows = [(f"phone {i} is {'good' if i % 3 else 'bad'}", i % 2) for i in range(11)] + [("", 1)]
    data = write_csv(tmp_path / "many.csv", rows)
    args = ["evaluate", "--model", str(model_dir), "--data", str(data), "--json", "--errors", "3"]
    whole = CliRunner().invoke(cli, args)
    monkeypatch.setattr(batches.read_batches, "__defaults__", (4,))
    chunked = CliRunner().invoke(cli, args)
    assert whole.exit_code == chunked.exit_code == 0
    # batches of 4 and one batch are summed in different orders, and evaluate() is a third path: PATHS_ATOL
    assert_close(json.loads(chunked.stdout), json.loads(whole.stdout))
    dataset = read_dataset(data)
    expected = evaluate(model_dir, dataset, errors=3)
    assert_close(json.loads(whole.stdout), json.loads(json.dumps(expected.to_dict(with_errors=True))))


def test_evaluate_uses_the_data_options_the_model_was_trained_with(model_dir, tmp_path):
    model = tmp_path / "cp1252-model"
    shutil.copytree(model_dir, model)
    config = (model / "config.toml").read_text(encoding="utf-8")
    config = config.replace('encoding = "utf-8"', 'encoding = "cp1252"').replace(
        'text_column = "text"', 'text_column = "review"'
    )
    (model / "config.toml").write_text(config, encoding="utf-8")
    data = tmp_path / "test.csv"
    data.write_bytes("review,label\ncaf\xe9 phone is good,1\nthe battery is terrible,0\n".encode("cp1252"))
    inherited = CliRunner().invoke(cli, ["evaluate", "--model", str(model), "--data", str(data), "--json"])
    assert inherited.exit_code == 0, inherited.output
    assert json.loads(inherited.stdout)["n"] == 2
    refused = CliRunner().invoke(cli, ["evaluate", "--model", str(model), "--data", str(data), "--encoding", "utf-8"])
    assert refused.exit_code == 1
    assert refused.output.startswith(f"Error: {data}, line 2 (byte 0xe9): not valid utf-8;")


def test_evaluate_shows_a_bar_on_a_terminal_only(model_dir, tiny_csv, monkeypatch):
    from sentiment_rnn import progress

    args = ["evaluate", "--model", str(model_dir), "--data", str(tiny_csv)]
    piped = CliRunner().invoke(cli, args)
    assert piped.exit_code == 0 and piped.stderr == ""
    monkeypatch.setattr(progress, "enabled", lambda quiet=False, stream=None: not quiet)  # as if on a terminal
    watched = CliRunner().invoke(cli, args)
    assert watched.stdout == piped.stdout and watched.stderr == "Evaluating\n"
    assert CliRunner().invoke(cli, [*args, "--quiet"]).stderr == ""


def test_score_counts_stay_bounded_and_close_past_their_limit():
    from sentiment_rnn.evaluation import ScoreCounts

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 5000)
    scores = np.clip(rng.normal(0.4 + 0.2 * labels, 0.2), 0, 1)
    counts = ScoreCounts(merge_from=100, max_values=64)
    for start in range(0, len(labels), 100):
        counts.add(labels[start : start + 100], scores[start : start + 100])
    auc = counts.auc()
    assert len(counts.values) <= 65
    assert abs(auc - roc_auc(labels, scores)) < 0.01  # scores rounded down to multiples of 1/64
    # the AUC of the rounded scores, by counting instead of ranking: to float64's rounding
    assert auc == pytest.approx(roc_auc(labels, np.floor(scores * 64) / 64), rel=0, abs=1e-12)
