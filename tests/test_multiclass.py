"""More than two classes: labels learned or named, a softmax head, both engines, predict, evaluate, calibration.

The toy corpus has three classes (negative, neutral, positive) of six short
sentences each, repeated: a tiny model learns it in a few seconds.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from click.testing import CliRunner
from model_factory import randomized_model, write_model_dir

from conftest import THREE, TINY_OVERRIDES, TOY, TOY_OVERRIDES, toy_rows, write_csv
from sentiment_rnn.artifact.engine_files import architecture_of, engine_from_keras, weight_names, weights_of
from sentiment_rnn.cli import cli
from sentiment_rnn.config import load_config
from sentiment_rnn.data.formats import dataset_from_config, read_dataset
from sentiment_rnn.data.labels import DEFAULT_CLASSES, learned_classes
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.text import stream_tokens, token_chunks, tokenize_py

STARS = {"negative": (1, 2), "neutral": (3,), "positive": (4, 5)}
LABELS = 'data.labels="negative,neutral,positive"'


@pytest.fixture(scope="module")
def toy_csv(tmp_path_factory):
    return write_csv(tmp_path_factory.mktemp("toy") / "three.csv", toy_rows())


@pytest.fixture(scope="module")
def toy_model(toy_csv, tmp_path_factory):
    """A SimpleRNN trained on the three-class toy corpus, once per module: the TrainResult."""
    from sentiment_rnn.training.run import train

    config = load_config(overrides=[f"data.path={json.dumps(str(toy_csv))}", *TOY_OVERRIDES])
    return train(config, tmp_path_factory.mktemp("models") / "three", verbose=0)


def run(*args):
    return CliRunner().invoke(cli, [str(arg) for arg in args])


# ---------------------------------------------------------------- labels and classes


def test_learned_classes_keep_the_built_in_two_and_order_the_rest():
    assert learned_classes(["0", "1"]) == learned_classes(["pos", "negative", "true"]) == DEFAULT_CLASSES
    assert learned_classes(["neutral", "positive", "negative"]) == THREE
    assert learned_classes(["10", "2", "1", "3"]) == ("1", "2", "3", "10")  # numbers in numeric order, first
    assert learned_classes(["b", "2", "a"]) == ("2", "a", "b")


def test_three_labels_are_learned_from_the_data(toy_csv):
    dataset = read_dataset(toy_csv)
    assert dataset.classes == THREE
    assert dataset.label_counts() == {"negative": 24, "neutral": 24, "positive": 24}
    assert [dataset.classes[label] for label in dataset.labels[:3]] == ["positive", "negative", "neutral"]


def test_star_labels_keep_their_numeric_order_and_spellings_meet(tmp_path):
    spellings = {1: "1", 2: "2.0", 3: " 3 ", 4: "+4", 5: "5"}
    path = write_csv(tmp_path / "stars.csv", [(f"text {i}", spellings[i % 5 + 1]) for i in range(20)])
    dataset = read_dataset(path)
    assert dataset.classes == ("1", "2", "3", "4", "5")
    assert dataset.labels.tolist() == [i % 5 for i in range(20)]


def test_labels_fix_the_order_and_refuse_others(toy_csv, tmp_path):
    config = load_config(overrides=[f"data.path={json.dumps(str(toy_csv))}", 'data.labels="Positive,neutral,negative"'])
    dataset = dataset_from_config(config.data)
    assert dataset.classes == ("positive", "neutral", "negative")
    assert dataset.labels[:3].tolist() == [0, 2, 1]
    odd = write_csv(tmp_path / "odd.csv", [("a", "negative"), ("b", "mixed")])
    config = load_config(overrides=[f"data.path={json.dumps(str(odd))}", LABELS])
    with pytest.raises(SentimentError) as error:
        dataset_from_config(config.data)
    assert str(error.value) == (
        f"{odd}, row 2: label 'mixed' is not one of the classes negative, neutral, positive; "
        "name every class with --labels, or group labels with --label-map."
    )


def test_a_label_map_groups_stars_and_skips_the_rest(tmp_path):
    stars = [(text, STARS[name][index % len(STARS[name])]) for name in THREE for index, text in enumerate(TOY[name])]
    path = write_csv(tmp_path / "stars.csv", [*stars, ("no rating", 0)], header=("text", "stars"))
    keys = [f"data.path={json.dumps(str(path))}", "data.label_column='stars'"]
    config = load_config(overrides=[*keys, "data.label_map='1,2=negative;3=neutral;4,5=positive'"])
    dataset = dataset_from_config(config.data)
    assert (dataset.classes, dataset.other_labels, len(dataset)) == (THREE, 1, 18)
    assert dataset.label_counts() == {"negative": 6, "neutral": 6, "positive": 6}
    ordered = load_config(overrides=[*keys, "data.label_map='4,5=pos;1,2=neg;3=neu'", 'data.labels="neg,neu,pos"'])
    assert dataset_from_config(ordered.data).labels.tolist() == dataset.labels.tolist()


@pytest.mark.parametrize(
    "overrides, message",
    [
        (['data.labels="a,,b"'], "--labels 'a,,b' has an empty class: list classes separated by commas, "),
        (['data.labels="a,b,A"'], "--labels 'a,b,A' names 'a' twice: name each class once."),
        (['data.labels="a"'], "--labels 'a' names one class: a classifier needs at least two."),
        (["data.label_map='1,2'"], "--label-map '1,2': '1,2' is not LABELS=CLASS; write e.g. "),
        (["data.label_map='1=a;1=b'"], "--label-map '1=a;1=b' puts label '1' in 'a' and 'b': put each label in one"),
        (["data.label_map='1,2=a'"], "--label-map '1,2=a' names 1 class: a classifier needs at least two, "),
        (
            ["data.label_map='1=a;2=b'", 'data.labels="a,c"'],
            "--label-map '1=a;2=b' makes the classes a, b, but --labels names a, c: name the same classes in both",
        ),
        (
            ["data.label_map='1=a;2=b'", "data.positive='1'", "data.negative='2'"],
            "Config sets data.positive/negative and data.label_map: both group labels into classes; ",
        ),
        (
            ['data.labels="a,b,c"', "data.positive='1'", "data.negative='2'"],
            "Config sets data.positive/negative with data.labels = 'a,b,c': --positive and --negative ",
        ),
    ],
)
def test_bad_class_options_are_one_line_errors(overrides, message):
    with pytest.raises(SentimentError) as error:
        load_config(overrides=overrides)
    assert str(error.value).startswith(message)


def test_a_named_class_without_examples_is_refused_for_training(toy_csv):
    config = load_config(
        overrides=[f"data.path={json.dumps(str(toy_csv))}", 'data.labels="negative,neutral,positive,mixed"']
    )
    with pytest.raises(SentimentError) as error:
        dataset_from_config(config.data)
    assert str(error.value) == (
        f"{toy_csv} has no examples of the class 'mixed' (of negative, neutral, positive, mixed): give it examples, "
        "or leave it out of --labels and --label-map."
    )
    one = write_csv(toy_csv.parent / "one.csv", [("a", "neutral"), ("b", "neutral")])
    with pytest.raises(SentimentError) as error:
        read_dataset(one)
    assert (
        str(error.value)
        == f"{one} holds only examples of the class 'neutral': a classifier needs at least two classes."
    )


# ---------------------------------------------------------------- both engines

MULTICLASS = [
    ("model.cell=simple", LABELS),
    ("model.cell=gru", "model.layers=2", "model.bidirectional=true", LABELS),
    ("model.cell=lstm", "model.pooling=max", 'data.labels="1,2,3,4,5"'),
    ("model.cell=gru", "model.pooling=mean", "tokenizer.output_sequence_length=5", LABELS),
    ("model.kind=bow", "model.ngrams=2", "model.hidden_layers=2", LABELS),
    ("model.kind=bow", "model.hidden_layers=0", 'data.labels="1,2,3,4,5"'),
    ("model.kind=hybrid", "model.cell=gru", "model.ngrams=2", LABELS),
    ("model.kind=hybrid", "model.bidirectional=true", "model.pooling=max", 'data.labels="1,2,3,4,5"'),
]
VARIED = [
    "",
    "good",
    "no, this phone is good",
    "écran très bien 👍 super " * 3,
    "the battery is not bad at all " * 40,
    "I don't like the screen; it's awful!",
    "great sound and a fair price. " * 7,
    "\u2028\t phone \u0085",
]


@pytest.mark.parametrize("overrides", MULTICLASS, ids=" ".join)
def test_numpy_engine_matches_keras_for_every_class(overrides):
    from sentiment_rnn.inference import keras_predict_proba

    model, config = randomized_model(*overrides)
    classes = len(config.data.labels.split(","))
    engine = engine_from_keras(model, config)
    texts = VARIED * 3
    expected = keras_predict_proba(model, texts, batch_size=7)
    actual = engine.predict_proba(texts)
    assert actual.shape == (len(texts), classes) and actual.dtype == np.float64
    np.testing.assert_allclose(actual.sum(axis=1), 1.0, atol=1e-6)  # a softmax: each row sums to 1
    assert expected.std(axis=0).max() > 0.01  # the weights make the answers differ from text to text
    np.testing.assert_allclose(actual, expected, atol=1e-5, rtol=0)
    alone = np.array([engine.predict_proba([text])[0] for text in VARIED])
    np.testing.assert_allclose(alone, actual[: len(VARIED)], atol=1e-6, rtol=0)
    assert sorted(weights_of(model, config.model)) == sorted(weight_names(architecture_of(config)))
    assert architecture_of(config)["classes"] == config.data.labels.split(",")


@pytest.mark.parametrize(
    "overrides", [m for m in MULTICLASS if "model.kind=bow" not in m and "model.kind=hybrid" not in m]
)
def test_per_token_view_matches_keras_for_every_class(overrides):
    import tensorflow as tf

    from sentiment_rnn.models import with_view

    model, config = randomized_model(*overrides)
    engine = engine_from_keras(model, config)
    texts = [text for text in VARIED if 0 < len(tokenize_py(text)) < 60]
    steps = np.asarray(with_view(model, config.model, return_sequences=True).predict_on_batch(tf.constant(texts)))
    for row, text in zip(steps, texts):
        tokens, probabilities = engine.per_token(text)
        assert probabilities.shape == (len(tokens), steps.shape[-1])
        np.testing.assert_allclose(probabilities, row[: len(tokens)], atol=1e-5, rtol=0)


def test_a_hybrid_of_many_classes_reads_per_token_and_streams_in_both_engines(tmp_path):
    from sentiment_rnn.artifact.model_directory import open_model_dir
    from sentiment_rnn.engine.hybrid import answer_of
    from sentiment_rnn.inference import predict, predict_per_token, predict_stream

    write_model_dir(*randomized_model("model.kind=hybrid", "model.cell=gru", "model.ngrams=2", LABELS), tmp_path / "m")
    directory = open_model_dir(tmp_path / "m")
    texts = ["no, this phone is good", "the battery is not bad at all, great sound " * 4]
    whole = predict(directory, texts)
    parts = directory.numpy_engine.per_token_parts(texts[1])  # every term a vector of the classes' logits
    assert parts.recurrent.shape == parts.ngrams.shape == (len(parts.tokens), 3) and parts.bias.shape == (3,)
    np.testing.assert_allclose(answer_of(parts.recurrent + parts.ngrams + parts.bias, 3), parts.probabilities)
    for engine in ("numpy", "keras"):
        for view, answer in zip(predict_per_token(directory, texts, engine=engine), whole):
            assert view.bias is None and view.recurrent == ()  # the logit terms are shown for two classes only
            assert view.token_labels[-1] == answer.label
            for name in THREE:  # the last token's answer is the whole text's (1e-5 across engines)
                assert view.token_probabilities[-1][name] == pytest.approx(answer.probabilities[name], abs=1e-5)
        streamed = predict_stream(directory, io.StringIO(texts[1]), chunk_tokens=3, engine=engine)
        assert streamed.parts is None and streamed.label == whole[1].label and streamed.chunks > 3
        for name in THREE:  # chunks carried, the n-grams seen included = one reading of the whole
            assert streamed.probabilities[name] == pytest.approx(whole[1].probabilities[name], abs=1e-5)


def test_numpy_stream_equals_one_shot_for_every_class():
    model, config = randomized_model("model.cell=lstm", "model.layers=2", LABELS)
    engine = engine_from_keras(model, config)
    text = "the battery is not bad at all, no. " * 30
    one_shot = engine.predict_proba([text])[0]
    chunks = token_chunks(stream_tokens(io.StringIO(text), 64), 13)
    probabilities, count = engine.stream(engine.vocabulary.encode(chunk) for chunk in chunks)
    assert count == len(tokenize_py(text)) and probabilities.shape == (3,)
    np.testing.assert_allclose(probabilities, one_shot, atol=1e-6, rtol=0)


def test_a_two_class_model_keeps_its_sigmoid_head_and_engine_format():
    model, config = randomized_model("model.cell=gru")
    assert model.output.shape[-1] == 1 and config.data.labels == ""
    assert architecture_of(config)["format_version"] == 3 and "classes" not in architecture_of(config)
    assert engine_from_keras(model, config).predict_proba(VARIED).shape == (len(VARIED),)


def test_the_model_directory_refuses_a_config_naming_other_classes(tmp_path):
    from sentiment_rnn.artifact.model_directory import open_model_dir

    model, config = randomized_model("model.cell=simple", LABELS)
    directory = write_model_dir(model, config, tmp_path / "m")
    text = (directory / "config.toml").read_text()
    (directory / "config.toml").write_text(text.replace('labels = "negative,neutral,positive"', 'labels = "a,b,c,d"'))
    with pytest.raises(SentimentError) as error:
        _ = open_model_dir(directory).model
    assert str(error.value) == (
        f"{directory / 'config.toml'} does not match {directory / 'model.keras'}: the config names 4 classes "
        "(a, b, c, d), a head of 4 outputs, but the model's head has 3; restore the config.toml it was trained "
        "with, or retrain the model."
    )
    with pytest.raises(SentimentError) as error:
        _ = open_model_dir(directory).numpy_engine
    assert "the config says data.labels = 'a,b,c,d' but engine.json has 'negative,neutral,positive'" in str(error.value)


# ---------------------------------------------------------------- training, predict, evaluate


def test_train_writes_a_softmax_model_naming_its_classes(toy_model):
    out = toy_model.out_dir
    assert toy_model.classes == THREE
    assert toy_model.class_counts == {"negative": 24, "neutral": 24, "positive": 24}
    assert toy_model.model.output.shape[-1] == 3
    assert '\nlabels = "negative,neutral,positive"\n' in (out / "config.toml").read_text()
    engine = json.loads((out / "engine.json").read_text())
    assert (engine["format_version"], engine["classes"]) == (4, list(THREE))
    metrics = json.loads((out / "metrics.json").read_text())
    assert "auc" not in metrics and metrics["calibration"] == "temperature" and metrics["temperature"] > 0
    assert metrics["accuracy"] == 1.0  # the toy corpus is learned
    assert set(json.loads((out / "meta.json").read_text())["data"]["labels"]) == set(THREE)


def test_predict_gives_the_top_class_and_every_probability_in_both_engines(toy_model):
    model = toy_model.out_dir
    texts = ["I love this phone", "it arrived on tuesday", "the battery is terrible"]
    result = run("predict", "--model", model, *texts)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == ["positive", "neutral", "negative"]
    numpy_json = [json.loads(line) for line in run("predict", "--model", model, "--json", *texts).output.splitlines()]
    keras_json = run("predict", "--model", model, "--json", "--engine", "keras", *texts).output.splitlines()
    for mine, theirs in zip(numpy_json, map(json.loads, keras_json)):
        assert list(mine) == ["text", "label", "probability", "probabilities", "oov_rate", "model"]
        assert list(mine["probabilities"]) == list(THREE)
        assert mine["probability"] == max(mine["probabilities"].values())
        assert sum(mine["probabilities"].values()) == pytest.approx(1.0, abs=1e-6)
        assert mine["label"] == theirs["label"]
        for name in THREE:  # the two engines agree to 1e-5
            assert mine["probabilities"][name] == pytest.approx(theirs["probabilities"][name], abs=1e-5)
    assert lines[0].endswith(f"  {numpy_json[0]['probability']:.4f}  I love this phone")


def test_threshold_is_refused_for_more_than_two_classes(toy_model):
    result = run("predict", "--model", toy_model.out_dir, "--threshold", "0.7", "good")
    assert result.exit_code == 1
    assert result.output == (
        "Error: --threshold applies to two-class models; this one has 3 classes (negative, neutral, positive) "
        "and answers with the most probable: drop --threshold.\n"
    )


def test_predict_data_adds_a_probability_column_per_class(toy_model, toy_csv, tmp_path):
    out = tmp_path / "scored.csv"
    result = run("predict", "--model", toy_model.out_dir, "--data", toy_csv, "--output", out)
    assert result.exit_code == 0, result.output
    import pandas as pd

    scored = pd.read_csv(out)
    columns = ["text", "label", "predicted_label", "predicted_probability"]
    every = [f"predicted_probability_{name}" for name in THREE]
    assert list(scored.columns) == [*columns, *every, "predicted_oov_rate"]
    assert (scored["predicted_label"] == scored["label"]).all()
    np.testing.assert_allclose(scored[[f"predicted_probability_{n}" for n in THREE]].sum(axis=1), 1.0, atol=1e-5)


def test_evaluate_reports_classwise_figures(toy_model, toy_csv):
    result = run("evaluate", "--model", toy_model.out_dir, "--data", toy_csv, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["classes"], report["n"], report["accuracy"], report["average_recall"]) == (list(THREE), 72, 1.0, 1.0)
    assert report["confusion"] == [[24, 0, 0], [0, 24, 0], [0, 0, 24]]
    assert report["per_class"]["neutral"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "roc_auc": 1.0, "support": 24}
    assert report["roc_auc"] == 1.0  # each class's probability ranks its texts above the rest's
    assert report["mae"] is None  # named classes have no distance
    table = run("evaluate", "--model", toy_model.out_dir, "--data", toy_csv).output.splitlines()
    assert table[:3] == ["n               72", "accuracy        1.0000", "average_recall  1.0000"]
    assert "confusion (rows: true class, columns: predicted)" in table
    assert table[-3:] == [
        "negative        24         0         0",
        "neutral          0        24         0",
        "positive         0         0        24",
    ]


def test_evaluate_reads_labels_as_the_model_does_and_refuses_other_classes(toy_model, tmp_path):
    stars = [(text, STARS[name][0]) for name in THREE for text in TOY[name]]
    path = write_csv(tmp_path / "stars.csv", stars, header=("text", "stars"))
    mapped = run(
        "evaluate", "--model", toy_model.out_dir, "--data", path, "--label-column", "stars", "--json",
        "--label-map", "1,2=negative;3=neutral;4,5=positive",
    )  # fmt: skip
    assert mapped.exit_code == 0, mapped.output
    assert json.loads(mapped.output)["accuracy"] == 1.0
    other = run(
        "evaluate", "--model", toy_model.out_dir, "--data", path, "--label-column", "stars", "--labels", "a,b,c"
    )
    assert other.exit_code == 1
    assert other.output == (
        "Error: The data's classes (a, b, c) are not the model's (negative, neutral, positive): name the model's "
        "classes, in its order, with --labels (or drop --labels and --label-map).\n"
    )


# ---------------------------------------------------------------- metrics and calibration by hand


def test_class_metrics_by_hand():
    from sentiment_rnn.evaluation.class_metrics import class_metrics

    labels = np.array([0, 0, 1, 2, 2, 2])
    probabilities = np.array(
        [[0.7, 0.2, 0.1], [0.3, 0.6, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.5, 0.1, 0.4], [0.0, 0.1, 0.9]]
    )  # predicted: 0, 1, 1, 2, 0, 2
    result = class_metrics(labels, probabilities, ("1", "2", "3"))
    assert result.confusion == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    assert result.accuracy == pytest.approx(4 / 6)
    # ROC AUC of class "1" against the rest: its texts score 0.7 and 0.3, the others' 0.1 0.2 0.5 0.0;
    # 0.7 ranks above all four, 0.3 above three of them: 7 of 8 pairs. "2" and "3" rank above every other text.
    first = {"precision": 0.5, "recall": 0.5, "f1": 0.5, "roc_auc": 7 / 8, "support": 2}
    assert result.per_class["1"] == pytest.approx(first)
    second = {"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "roc_auc": 1.0, "support": 1}
    assert result.per_class["2"] == pytest.approx(second)
    third = {"precision": 1.0, "recall": 2 / 3, "f1": 0.8, "roc_auc": 1.0, "support": 3}
    assert result.per_class["3"] == pytest.approx(third)
    assert result.roc_auc == pytest.approx((7 / 8 + 1 + 1) / 3)
    assert result.average_recall == pytest.approx((0.5 + 1.0 + 2 / 3) / 3)
    assert result.macro_f1 == pytest.approx((0.5 + 2 / 3 + 0.8) / 3)
    assert result.mae == pytest.approx((0 + 1 + 0 + 0 + 2 + 0) / 6)  # stars 1-3: |predicted - true|
    squared = [0.09 + 0.04 + 0.01, 0.49 + 0.36 + 0.01, 0.01 + 0.04 + 0.01, 0.04 + 0.04 + 0.16, 0.25 + 0.01 + 0.36]
    assert result.brier == pytest.approx((sum(squared) + 0.01 + 0.01) / 6)
    # top class: confidences 0.7 (right), 0.6 (wrong), 0.8, 0.6, 0.5 (wrong), 0.9; bins 5, 6, 7, 8, 9
    assert result.ece == pytest.approx((abs(0 - 0.5) + abs(1 - 1.2) + abs(1 - 0.7) + abs(1 - 0.8) + abs(1 - 0.9)) / 6)


def test_softmax_temperature_scales_logits_without_changing_a_decision():
    from sentiment_rnn.calibration import fit_softmax_temperature, smoothed_targets, softmax

    rng = np.random.default_rng(0)
    logits = rng.normal(0, 1.5, (2000, 3))
    labels = np.array([rng.choice(3, p=row) for row in softmax(logits)])  # calibrated logits ...
    over = 4.0 * logits  # ... made four times too confident
    assert fit_softmax_temperature(logits, labels) == pytest.approx(1.0, abs=0.1)
    temperature = fit_softmax_temperature(over, labels)
    assert temperature == pytest.approx(4.0, abs=0.4)
    assert (softmax(over / temperature).argmax(axis=1) == over.argmax(axis=1)).all()
    targets = smoothed_targets(np.array([0, 0, 1]), 3)
    expected = [[0.75, 0.125, 0.125], [0.75, 0.125, 0.125], [1 / 6, 2 / 3, 1 / 6]]  # n_0 = 2, n_1 = 1
    np.testing.assert_allclose(targets, expected, atol=1e-12)
    assert fit_softmax_temperature(np.zeros((4, 3)), np.array([0, 1, 2, 0])) == 1.0


def test_star_ratings_are_ordinal_and_evaluate_gives_their_mae(tmp_path):
    from sentiment_rnn.evaluation import evaluate
    from sentiment_rnn.training.run import train

    stars = {"1": TOY["negative"][:3], "2": TOY["negative"][3:], "3": TOY["neutral"], "4": TOY["positive"][:3]}
    stars["5"] = TOY["positive"][3:]
    rows = [(text, star) for _ in range(4) for star, texts in stars.items() for text in texts]
    path = write_csv(tmp_path / "stars.csv", rows, header=("review", "stars"))
    keys = [f"data.path={json.dumps(str(path))}", "data.text_column='review'", "data.label_column='stars'"]
    balanced = [*keys, *TOY_OVERRIDES, 'train.class_weight="balanced"']  # the loss weighs the five classes alike
    result = train(load_config(overrides=balanced), tmp_path / "stars-model", verbose=0)
    assert result.classes == ("1", "2", "3", "4", "5") and result.model.output.shape[-1] == 5
    measured = evaluate(result.out_dir, dataset_from_config(load_config(overrides=keys).data))
    assert measured.classes == result.classes and measured.n == len(rows)
    wrong_by = np.abs(np.subtract.outer(np.arange(5), np.arange(5)))  # |true - predicted| in stars
    assert measured.mae == pytest.approx(float((np.array(measured.confusion) * wrong_by).sum()) / len(rows))
    shown = run("evaluate", "--model", result.out_dir, "--data", path).output.splitlines()
    assert any(line.startswith("mae             ") for line in shown)


# ---------------------------------------------------------------- every other door


def test_per_token_and_stream_name_a_class_at_every_step(toy_model, tmp_path):
    model = toy_model.out_dir
    result = run("predict", "--model", model, "--per-token", "--json", "it arrived on tuesday")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert [step["token"] for step in answer["tokens"]] == ["it", "arrived", "on", "tuesday"]
    for step in answer["tokens"]:
        assert list(step) == ["token", "label", "probability", "probabilities", "unknown"]
        assert step["probability"] == max(step["probabilities"].values())
        assert step["label"] == max(step["probabilities"], key=step["probabilities"].get)
    assert answer["tokens"][-1]["probabilities"] == pytest.approx(answer["probabilities"], abs=1e-6)
    shown = run("predict", "--model", model, "--per-token", "it arrived on tuesday").output.splitlines()
    assert shown[0].startswith("neutral   ") and shown[-1].startswith(f"  tuesday  {answer['tokens'][-1]['label']}")
    document = tmp_path / "doc.txt"
    document.write_text("the battery is terrible, " * 40)
    streamed = [
        json.loads(run("predict", "--model", model, "--stream", document, "--json", "--engine", engine).output)
        for engine in ("numpy", "keras")
    ]
    whole = json.loads(run("predict", "--model", model, "--json", document.read_text()).output)
    for answer in streamed:
        assert answer["label"] == whole["label"] == "negative"
        for name in THREE:  # chunks carried through both engines = one reading of the whole (1e-5)
            assert answer["probabilities"][name] == pytest.approx(whole["probabilities"][name], abs=1e-5)


def test_serve_answers_every_class_and_refuses_a_threshold(toy_model):
    pytest.importorskip("starlette", reason="the serve extra is not installed")
    from starlette.testclient import TestClient

    from sentiment_rnn.serve import create_app

    client = TestClient(create_app(toy_model.out_dir))
    response = client.post("/predict", json={"texts": ["I love this phone"], "per_token": True})
    assert response.status_code == 200
    (answer,) = response.json()["predictions"]
    expected = json.loads(
        run("predict", "--model", toy_model.out_dir, "--json", "--per-token", "I love this phone").output
    )
    assert answer == expected
    refused = client.post("/predict", json={"texts": ["good"], "threshold": 0.7})
    assert refused.status_code == 400
    assert refused.json()["error"] == (
        f'"threshold" applies to two-class models; {toy_model.out_dir} has 3 classes (negative, neutral, positive) '
        "and answers with the most probable: drop threshold."
    )
    assert client.get("/model").json()["classes"] == list(THREE)


def test_the_estimator_fits_any_number_of_classes(tmp_path):
    from sentiment_rnn import SentimentClassifier

    rows = toy_rows(lambda name, index: {"negative": -1, "neutral": 0, "positive": 1}[name])
    texts, labels = [text for text, _ in rows], np.array([label for _, label in rows])
    overrides = [override for override in TOY_OVERRIDES if not override.startswith("train.epochs")]
    clf = SentimentClassifier(overrides=overrides, epochs=40, seed=1).fit(texts, labels)
    assert clf.classes_.tolist() == [-1, 0, 1]
    proba = clf.predict_proba(["I love this phone", "it arrived on tuesday"])
    assert proba.shape == (2, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    assert clf.predict(["I love this phone", "it arrived on tuesday", "I hate this phone"]).tolist() == [1, 0, -1]
    assert clf.score(texts, labels) == 1.0
    clf.save(tmp_path / "saved")
    loaded = SentimentClassifier.load(tmp_path / "saved")
    assert loaded.classes_.tolist() == [-1, 0, 1]
    np.testing.assert_allclose(loaded.predict_proba(["I love this phone"]), proba[:1], atol=1e-12)
    with pytest.raises(SentimentError) as error:
        SentimentClassifier().fit(["a", "b", "c"], ["x", "X", "y"])
    assert str(error.value).startswith("y's labels 'X', 'x', 'y'... cannot name classes")


def test_both_exports_answer_for_every_class(toy_model, tmp_path):
    import tensorflow as tf

    from sentiment_rnn.inference import keras_predict_proba, predict_proba

    texts = ["I love this phone", "it has a screen", "awful screen and slow", ""]
    expected = keras_predict_proba(toy_model.model, texts)
    assert run("export", "--model", toy_model.out_dir, "--out", tmp_path / "served").exit_code == 0
    served = tf.saved_model.load(str(tmp_path / "served"))
    np.testing.assert_allclose(served.serve(tf.constant(texts)).numpy(), expected, rtol=1e-5, atol=1e-6)
    assert run("export", "--model", toy_model.out_dir, "--format", "numpy", "--out", tmp_path / "bundle").exit_code == 0
    np.testing.assert_allclose(predict_proba(tmp_path / "bundle", texts), expected, rtol=0, atol=1e-5)
    from test_export import documented_numpy_forward_pass

    documented = documented_numpy_forward_pass()
    by_documented_code = [documented(str(tmp_path / "bundle"), text) for text in texts]
    assert [list(answer) for answer in by_documented_code] == [list(THREE)] * len(texts)
    np.testing.assert_allclose([list(a.values()) for a in by_documented_code], expected, rtol=0, atol=1e-5)


def test_inspect_names_the_classes(toy_model):
    shown = run("inspect", "--model", toy_model.out_dir).output
    assert "a softmax head over 3 classes" in shown
    assert "\nLabels           negative, neutral, positive (3 classes)\n" in shown
    assert "\nRows             72 (24 negative, 24 neutral, 24 positive), 0 skipped\n" in shown
    assert "AUC" not in shown
    description = json.loads(run("inspect", "--model", toy_model.out_dir, "--json").output)
    assert description["classes"] == list(THREE)
    head = next(layer for layer in description["layers"] if layer["name"] == "head")
    assert head["output_shape"] == [None, 3]


def test_compare_bow_trains_both_models_with_every_class(toy_csv):
    args = ["compare-bow", "--data", toy_csv, "--json"]
    for override in [*TINY_OVERRIDES, "train.epochs=3"]:
        args += ["--set", override]
    result = run(*args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["classes"] == list(THREE)
    (validation,) = report["heldout"]
    assert validation["n"] == 18 and 0.0 <= validation["rnn"] <= 1.0
    seed = report["seed_example"]
    assert seed["bags_equal"] and seed["bow_difference"] == 0.0  # the same bag, the same place among the classes


def test_balanced_class_weights_make_every_class_weigh_the_same():
    from sentiment_rnn.data.dataset import Dataset
    from sentiment_rnn.training.fit import class_weights

    config = load_config(overrides=[LABELS, 'train.class_weight="balanced"'])
    train = Dataset(["a"] * 6, np.array([0, 0, 0, 1, 2, 2]), "counts", classes=THREE)
    assert class_weights(config, train) == pytest.approx({0: 6 / 9, 1: 2.0, 2: 1.0})
    assert class_weights(load_config(overrides=[LABELS]), train) is None
    with pytest.raises(SentimentError) as error:
        load_config(overrides=['train.class_weight="balanced"', "data.streaming=true"])
    assert str(error.value) == (
        'Config sets train.class_weight = "balanced" with data.streaming = true: the classes are weighed by their '
        'counts in an in-memory training split on one device. Set train.class_weight = "none".'
    )
