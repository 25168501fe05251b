"""compare-bow: the bag-of-words baseline against the RNN, exactly."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import NEGATIVE, POSITIVE, TINY_OVERRIDES, write_csv
from sentiment_rnn.cli import cli
from sentiment_rnn.compare.bags import (
    SAME_NGRAMS,
    TOO_WEAK,
    UNSEEN_NGRAMS,
    bag_indices,
    multi_hot,
    ngrams_of,
    pair_accuracy,
    predict_one_by_one,
    sentence_accuracy,
    why_not_separated,
)
from sentiment_rnn.compare.experiment import SEED_SENTENCES, compare_bow
from sentiment_rnn.compare.pairs import ContrastPair, read_pairs
from sentiment_rnn.compare.plot import write_contrast_plot
from sentiment_rnn.compare.report import render
from sentiment_rnn.config import load_config
from sentiment_rnn.data.dataset import corpus_file
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.text import tokenize_py

PAIRS = [
    ("seed", "This phone is no good", 0),
    ("seed", "No this phone is good", 1),
    ("camera", "the camera is not good", 0),
    ("camera", "not the camera is good", 1),
    ("comma", "the screen is no good", 0),
    ("comma", "no, the screen is good", 1),  # "," makes this pair's bags differ
]


def run(*args):
    return CliRunner().invoke(cli, list(args))


def assert_user_error(result, message: str):
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.output == f"Error: {message}\n"


def tiny_rows() -> list[tuple[str, int]]:
    """The tiny sentences twice, so that every seed word is in the training part of the split."""
    return ([(t, 1) for t in POSITIVE] + [(t, 0) for t in NEGATIVE]) * 2


@pytest.fixture(scope="module")
def pairs_csv(tmp_path_factory) -> Path:
    return write_csv(tmp_path_factory.mktemp("pairs") / "pairs.csv", PAIRS, header=("pair_id", "text", "label"))


@pytest.fixture(scope="module")
def twice_csv(tmp_path_factory) -> Path:
    return write_csv(tmp_path_factory.mktemp("data") / "twice.csv", tiny_rows())


@pytest.fixture(scope="module")
def directories(twice_csv, tmp_path_factory) -> dict[str, Path]:
    """An RNN and unigram and bigram baselines, trained by `train` on the same data and split with tiny configs."""
    root = tmp_path_factory.mktemp("models")
    kinds = {"rnn": ["model.kind=rnn"], "bow": ["model.kind=bow"], "bow2": ["model.kind=bow", "model.ngrams=2"]}
    for name, overrides in kinds.items():
        args = ["train", "--data", str(twice_csv), "--out", str(root / name), "--quiet"]
        for override in [*TINY_OVERRIDES, *overrides]:
            args += ["--set", override]
        result = run(*args)
        assert result.exit_code == 0, result.output
    return {name: root / name for name in kinds}


@pytest.fixture(scope="module")
def unigram(directories, pairs_csv):
    return compare_bow(load_config(), rnn_dir=directories["rnn"], bow_dir=directories["bow"], pairs_path=pairs_csv)


# ---------------------------------------------------------------- arithmetic


def test_sentence_and_pair_accuracy_arithmetic():
    labels = np.array([[0, 1], [1, 0], [0, 1], [1, 0]])
    probabilities = np.array(
        [
            [0.2, 0.9],  # both right
            [0.7, 0.7],  # first right, second wrong
            [0.5, 0.5],  # 0.5 counts as positive: first wrong, second right
            [0.1, 0.8],  # both wrong
        ]
    )
    assert sentence_accuracy(labels, probabilities) == 4 / 8
    assert pair_accuracy(labels, probabilities) == 1 / 4
    assert pair_accuracy(labels[:1], probabilities[:1]) == 1.0
    assert pair_accuracy(labels[3:], probabilities[3:]) == 0.0
    equal_outputs = np.array([[0.3, 0.3], [0.9, 0.9], [0.5, 0.5]])
    assert pair_accuracy(labels[:3], equal_outputs) == 0.0  # equal outputs, opposite labels: never both right
    assert sentence_accuracy(labels[:3], equal_outputs) == 0.5  # ...and exactly one of each pair right


# ---------------------------------------------------------------- bags of n-grams


def test_ngrams_follow_the_tokenizer():
    assert ngrams_of("No, this phone is good", 1) == {"no", ",", "this", "phone", "is", "good"}
    assert ngrams_of("This phone is no good", 2) == {
        *("this", "phone", "is", "no", "good"),
        *("this phone", "phone is", "is no", "no good"),
    }
    assert ngrams_of("", 2) == set()


def test_why_bigrams_cannot_separate_a_pair():
    vocabulary = {"[UNK]": 0, "good": 1, "not": 2, "bad": 3, "is": 4, "not bad": 5, "is good": 6, "not good": 7}
    # The same sets of words and of bigrams (a multi-hot bag is binary: repeats do not count).
    same = why_not_separated("good is good", "is good is good", vocabulary, 2)
    assert same.reason == SAME_NGRAMS
    assert same.explain(2) == "same words and bigrams: identical bags, so identical probabilities"
    unseen = why_not_separated("bad is", "is bad", vocabulary, 2)
    assert (unseen.reason, unseen.unseen) == (UNSEEN_NGRAMS, ("bad is", "is bad"))
    assert bag_indices("bad is", vocabulary, 2) == bag_indices("is bad", vocabulary, 2) == frozenset({0, 3, 4})
    weak = why_not_separated("is not good", "not is good", vocabulary, 2)
    assert (weak.reason, weak.only_first, weak.only_second) == (TOO_WEAK, ("not good",), ("is good",))
    assert weak.explain(2) == 'bags differ ("not good" / "is good") but not enough to flip the label'


# ---------------------------------------------------------------- contrast pairs files


def test_read_pairs(pairs_csv):
    pairs = read_pairs(pairs_csv)
    assert pairs[0] == ContrastPair("seed", ("This phone is no good", "No this phone is good"), (0, 1))
    assert [p.pair_id for p in pairs] == ["seed", "camera", "comma"]


@pytest.mark.parametrize(
    ("rows", "header", "message"),
    [
        (
            [("a", "good", 1)],
            ("id", "text", "label"),
            "{f} has no column pair_id (columns: id, text, label): a pairs file needs the columns pair_id,text,label.",
        ),
        (
            [("a", "good", 1), ("a", "bad", 0), ("b", "fine", 1)],
            None,
            "{f}, row 3: pair_id 'b' has 1 row; a pair needs exactly 2 (one positive, one negative).",
        ),
        (
            [("a", "good", 1), ("a", "bad", 0), ("a", "meh", 0)],
            None,
            "{f}, rows 1, 2, 3: pair_id 'a' has 3 rows; a pair needs exactly 2 (one positive, one negative).",
        ),
        (
            [("a", "good", 1), ("a", "not bad", "pos")],
            None,
            "{f}, rows 1, 2: both sentences of pair 'a' are positive; a pair needs one positive and one negative "
            "sentence.",
        ),
        (
            [("a", "good", 1), ("a", "bad", "meh")],
            None,
            "{f}, row 2: label 'meh' is not binary; use 0/1, true/false, pos/neg or positive/negative.",
        ),
        ([("a", "good", 1), ("a", " ", 0)], None, "{f}, row 2: text is empty: give every row of a pair a sentence."),
        ([("", "good", 1)], None, "{f}, row 1: pair_id is empty: give every row the id of its pair."),
    ],
)
def test_bad_pairs_files_give_one_line_errors(tmp_path, rows, header, message):
    path = write_csv(tmp_path / "pairs.csv", rows, header=header or ("pair_id", "text", "label"))
    message = message.format(f=path)
    with pytest.raises(SentimentError) as error:
        read_pairs(path)
    assert str(error.value) == message
    # The command fails the same way before training anything, and writes nothing.
    assert_user_error(run("compare-bow", "--pairs", str(path), "--plot", str(tmp_path / "p.png")), message)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pairs.csv"]


def test_missing_pairs_file(tmp_path):
    assert_user_error(
        run("compare-bow", "--pairs", str(tmp_path / "none.csv")),
        f"Pairs file {tmp_path / 'none.csv'} does not exist: pass a CSV with columns pair_id,text,label to --pairs.",
    )


# ---------------------------------------------------------------- the facts, exactly


def test_seed_example_identical_vectors_give_identical_probabilities(unigram):
    seed = unigram.seed
    assert [s.text for s in seed.sentences] == [text for text, _ in SEED_SENTENCES]
    assert seed.columns == ["this", "phone", "is", "no", "good"]
    assert seed.bags == [[1, 1, 1, 1, 1], [1, 1, 1, 1, 1]]
    assert seed.bags_equal is True
    assert seed.sentences[0].bow == seed.sentences[1].bow
    assert seed.bow_difference == 0.0
    assert seed.lecture.text == "No, this phone is good"


def test_identical_vectors_in_the_contrast_set_give_identical_outputs(unigram):
    pairs = unigram.contrast.pairs
    assert [p.bags_equal for p in pairs] == [True, True, False]  # "," is a token: the comma pair's bags differ
    for pair in pairs[:2]:
        first, second = pair.sentences
        assert first.bow == second.bow
        assert pair.unseparated is not None and pair.unseparated.reason == SAME_NGRAMS
    assert unigram.contrast.pair_accuracy("bow") in (0.0, 1 / 3)  # only the comma pair can be right


def test_python_bags_match_the_model_tokenizer(directories):
    """``bag_indices`` (used to explain) agrees with the baseline's own multi-hot vectors (used to decide)."""
    from sentiment_rnn.artifact.model_directory import open_model_dir
    from sentiment_rnn.compare.bags import vocabulary_index

    bow = open_model_dir(directories["bow2"]).model
    vocabulary = vocabulary_index(bow)
    texts = [text for _, text, _ in PAIRS] + ["", "zzz unseen words", "the battery is great, the battery is great"]
    vectors = multi_hot(bow, texts)
    for text, vector in zip(texts, vectors):
        assert frozenset(np.flatnonzero(vector).tolist()) == bag_indices(text, vocabulary, 2), text
    alone = predict_one_by_one(bow, texts)
    batched = np.asarray(bow(np.array(texts, dtype=object)))[:, 0]
    np.testing.assert_allclose(alone, batched, atol=1e-6)


def test_bigrams_tell_the_seed_pair_apart(directories, pairs_csv):
    comparison = compare_bow(
        load_config(), rnn_dir=directories["rnn"], bow_dir=directories["bow2"], pairs_path=pairs_csv
    )
    assert comparison.ngrams == 2
    seed = comparison.seed
    # "phone is" and "no this" never occur in the tiny data: both become [UNK].
    words, bigrams = ["this", "phone", "is", "no", "good"], ["this phone", "is no", "no good", "is good"]
    assert seed.columns == [*words, *bigrams, "[UNK]"]
    assert seed.bags == [[1, 1, 1, 1, 1, 1, 1, 1, 0, 1], [1, 1, 1, 1, 1, 1, 0, 0, 1, 1]]
    assert seed.bags_equal is False
    report = render(comparison)
    assert "4. What unigrams and bigrams still cannot separate:" in report


# ---------------------------------------------------------------- the command


def test_json_shape(twice_csv, pairs_csv):
    """The command trains both models itself (same split, same seed) and prints one JSON object."""
    args = ["compare-bow", "--data", str(twice_csv), "--pairs", str(pairs_csv), "--json"]
    for override in TINY_OVERRIDES:
        args += ["--set", override]
    result = run(*args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report) == {"classes", "ngrams", "models", "training", "seed_example", "heldout", "contrast", "notes"}
    assert report["ngrams"] == 1 and report["notes"] == []
    assert report["models"] == {"rnn": "trained here", "bow": "trained here"}
    assert report["training"] == {
        "source": str(twice_csv),
        "rows": 24,
        "train_rows": 18,
        "validation_rows": 6,
        "seed": 42,
    }
    seed = report["seed_example"]
    assert set(seed) == {
        "columns",
        "vocabulary_size",
        "sentences",
        "bags_equal",
        "bow_difference",
        "rnn_difference",
        "rnn_both_right",
        "lecture",
    }
    assert seed["bags_equal"] is True and seed["bow_difference"] == 0.0
    assert [set(s) for s in seed["sentences"]] == [{"text", "label", "bow", "rnn", "bag"}] * 2
    assert set(seed["lecture"]) == {"text", "label", "bow", "rnn"}
    [heldout] = report["heldout"]
    assert set(heldout) == {"source", "n", "bow", "rnn"} and heldout["n"] == 6
    contrast = report["contrast"]
    assert set(contrast) == {"source", "n_pairs", "equal_bags", "bow", "rnn", "pairs"}
    assert (contrast["source"], contrast["n_pairs"], contrast["equal_bags"]) == (str(pairs_csv), 3, 2)
    assert set(contrast["bow"]) == set(contrast["rnn"]) == {"sentence_accuracy", "pair_accuracy"}
    pair = contrast["pairs"][0]
    assert set(pair) == {"pair_id", "sentences", "bags_equal", "bag_difference", "bow_unseparated"}
    assert pair["bag_difference"] == [] and contrast["pairs"][2]["bag_difference"] == [","]
    assert pair["pair_id"] == "seed" and pair["bags_equal"] is True
    assert pair["sentences"][0]["bow"] == pair["sentences"][1]["bow"]
    assert pair["bow_unseparated"] == {"reason": "same_ngrams", "only_first": [], "only_second": [], "unseen": []}
    for member in pair["sentences"]:
        assert set(member) == {"text", "label", "bow", "rnn"} and 0.0 <= member["rnn"] <= 1.0
    labels = np.array([[s["label"] for s in p["sentences"]] for p in contrast["pairs"]])
    rnn = np.array([[s["rnn"] for s in p["sentences"]] for p in contrast["pairs"]])
    assert contrast["rnn"]["pair_accuracy"] == pair_accuracy(labels, rnn)


def test_report_text(directories, pairs_csv, tmp_path):
    plot = tmp_path / "compare.png"
    rnn, bow = str(directories["rnn"]), str(directories["bow"])
    result = run("compare-bow", "--rnn-model", rnn, "--bow-model", bow, "--pairs", str(pairs_csv), "--plot", str(plot))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:6] == [
        "Bag of words (unigrams) against the RNN",
        "",
        "1. The seed example: what the bag-of-words baseline sees",
        "                       this  phone  is  no  good",
        "This phone is no good     1      1   1   1     1",
        "No this phone is good     1      1   1   1     1",
    ]
    assert re.fullmatch(
        r"The two multi-hot vectors are identical \(the other \d+ vocabulary entries are 0 in both\),", lines[6]
    )
    assert lines[7] == "so the baseline must give both sentences the same probability."
    assert re.fullmatch(
        r"Difference between the two probabilities: bag of words exactly 0\.0, RNN \d\.\d{4} \((both|not both) right\)\.",
        lines[12],
    )
    assert lines[13].startswith("The course lecture notes this tool grew from write ")  # says what "the lecture" is
    assert re.fullmatch(
        r'The course lecture notes this tool grew from write "No, this phone is good", with a comma: "," is a token '
        r'of its own, so its bag also holds ",". Bag of words \d\.\d{4} (right|WRONG), RNN \d\.\d{4} (right|WRONG)\.',
        " ".join(lines[13:15]),
    )
    assert lines[15:17] == ["", "2. Accuracy on held-out texts (probability >= 0.5 counts as positive)"]
    prose = " ".join(lines)  # wrapped lines break at single spaces
    assert f"Models from {rnn} (RNN) and {bow} (bag of words)." in prose
    table = lines.index(" " * len("validation split (metrics.json)") + "       n  bag of words     RNN")
    assert re.fullmatch(r"validation split \(metrics\.json\)       6         \d\.\d{3}   \d\.\d{3}", lines[table + 1])
    assert lines[table + 2] == "The validation split is held out from fitting, but it chooses the early-stopping epoch."
    assert lines[table + 3 : table + 5] == [
        "",
        "3. Contrast set: 3 pairs of sentences with opposite labels (pairs.csv)",
    ]
    assert lines[table + 5] == "              sentence accuracy  pair accuracy"  # a --pairs file: no note on it
    assert (
        "The baseline's multi-hot vectors are identical within 2 of 3 pairs: there its two probabilities are "
        "equal, so it labels exactly one sentence of each such pair right." in prose
    )
    assert (
        'In the other 1 pair the bags differ, in "," (1 pair): those tokens, not the order of the words, '
        "are what the baseline can tell the two sentences apart by." in prose
    )
    assert max(len(line) for line in lines) <= 100
    assert "0 by construction" not in result.output  # the comma pair's bags differ
    assert "4. What" not in result.output  # only with --ngrams 2 or more
    assert lines[-1] == f"Wrote {plot}."
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["compare.png"]  # no temporary file left


def test_trained_models_from_directories(directories, twice_csv, pairs_csv, tmp_path):
    """The baseline trains and saves through `train`, loads in `predict`, and compare-bow takes both directories."""
    predicted = run("predict", "--model", str(directories["bow"]), "--json", *(t for t, _ in SEED_SENTENCES))
    first, second = (json.loads(line) for line in predicted.output.splitlines())
    # same bag, same output, after save and load: bit for bit within one call (NumpyBagOfWordsEngine)
    assert first["probability"] == second["probability"]
    rnn, bow = str(directories["rnn"]), str(directories["bow"])
    args = ["--pairs", str(pairs_csv), "--eval-data", str(twice_csv), "--json"]
    result = run("compare-bow", "--rnn-model", rnn, "--bow-model", bow, *args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["models"] == {"rnn": rnn, "bow": bow}
    assert report["training"] is None
    assert [(a["source"], a["n"]) for a in report["heldout"]] == [
        ("validation split (metrics.json)", 6),
        (str(twice_csv), 24),
    ]
    # A baseline trained on other data (meta.json says so): its validation accuracy is not comparable.
    other = tmp_path / "other-bow"
    shutil.copytree(bow, other)
    meta = json.loads((other / "meta.json").read_text(encoding="utf-8"))
    meta["data"]["rows"] += 1
    (other / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    report = json.loads(run("compare-bow", "--rnn-model", rnn, "--bow-model", str(other), *args).output)
    assert [(a["source"], a["n"]) for a in report["heldout"]] == [(str(twice_csv), 24)]
    [note] = report["notes"]
    assert note.startswith("The two models were trained on different data or splits (RNN: validation accuracy ")
    assert note.endswith("): pass --eval-data to compare them on the same texts.")
    assert_user_error(
        run("compare-bow", "--rnn-model", bow, "--bow-model", rnn),
        f"{bow} holds a bow model, but --rnn-model needs a rnn model: "
        "train one with `sentiment-rnn train --set model.kind=rnn`.",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--rnn-model", "a"],
            "Pass both --rnn-model and --bow-model to compare trained models, or neither to train both.",
        ),
        (
            ["--rnn-model", "a", "--bow-model", "b", "--data", "x.csv", "--epochs", "2", "--set", "train.seed=1"],
            "--data, --epochs, --set set how to train, but --rnn-model/--bow-model compare models already trained: "
            "drop one or the other (use --eval-data to measure the trained models on a file).",
        ),
        (
            ["--rnn-model", "a", "--bow-model", "b", "--pos", "p.txt", "--neg", "n.txt", "--split", "train"],
            "--pos, --neg, --split set how to train, but --rnn-model/--bow-model compare models already trained: "
            "drop one or the other (use --eval-data to measure the trained models on a file).",
        ),
        (["--plot", "out.jpg"], "--plot writes a PNG image, got out.jpg: name the file with .png, e.g. compare.png."),
        (["--set", "model.ngrams=0"], "Config key model.ngrams must be at least 1, got 0."),
    ],
)
def test_option_errors(args, message):
    assert_user_error(run("compare-bow", *args), message)


def tiny_settings() -> list[str]:
    return [arg for override in TINY_OVERRIDES for arg in ("--set", override)]


def test_pos_neg_files_in_their_encoding_and_the_built_in_pairs_said_to_be_product_reviews(tmp_path):
    """compare-bow reads data as train does; with the user's data the report says what the built-in pairs are."""
    pos, neg = tmp_path / "mr.pos", tmp_path / "mr.neg"
    pos.write_bytes("\n".join([*POSITIVE, *POSITIVE, "a café with good coffee"]).encode("cp1252"))
    neg.write_bytes("\n".join(NEGATIVE * 2).encode("cp1252"))
    result = run("compare-bow", "--pos", str(pos), "--neg", str(neg), "--encoding", "cp1252", *tiny_settings())
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    prose = " ".join(lines)
    assert "Both models trained on the same 19 texts of mr.pos + mr.neg with seed 42." in prose
    table = lines.index("                       n  bag of words     RNN")
    assert re.fullmatch(r"validation split       6         \d\.\d{3}   \d\.\d{3}", lines[table + 1])
    assert not lines[table + 2].startswith("built-in")  # data/heldout.csv belongs to the built-in corpus only
    n_pairs = len(read_pairs(corpus_file("contrast_pairs.csv")))
    title = lines.index(
        f"3. Contrast set: {n_pairs} pairs of sentences with opposite labels (built-in contrast_pairs.csv)"
    )
    assert lines[title + 1 : title + 4] == [
        "These are the built-in contrast pairs: product reviews (phones, laptops, cameras and the like)",
        "written for this project, not texts from mr.pos + mr.neg; pass --pairs FILE (columns",
        "pair_id,text,label) for pairs like your own data.",
    ]
    assert max(len(line) for line in lines) <= 100
    assert str(corpus_file("contrast_pairs.csv")) not in result.output


def test_an_imdb_split_to_train_on_and_its_test_split_to_measure(pairs_csv, tmp_path):
    imdb = tmp_path / "aclImdb"
    for split, times in (("train", 2), ("test", 1)):
        for label, texts in (("pos", POSITIVE), ("neg", NEGATIVE)):
            (imdb / split / label).mkdir(parents=True)
            for index, text in enumerate(texts * times):
                (imdb / split / label / f"{index}_5.txt").write_text(text, encoding="utf-8")
    assert_user_error(
        run("compare-bow", "--data", str(imdb)),
        f"{imdb} is in the IMDB layout, which holds train and test reviews, but no split was chosen: "
        "pass --split train or --split test.",
    )
    args = ["--data", str(imdb), "--split", "train", "--eval-data", str(imdb), "--pairs", str(pairs_csv), "--json"]
    result = run("compare-bow", *args, *tiny_settings())
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["training"]["source"], report["training"]["rows"]) == (f"{imdb} (train)", 24)
    assert [(a["source"], a["n"]) for a in report["heldout"]] == [("validation split", 6), (f"{imdb} (test)", 12)]
    assert_user_error(
        run("compare-bow", "--data", str(pairs_csv), "--split", "train"),
        "--split applies to the IMDB layout only, not to CSV data: drop --split.",
    )


def test_the_report_names_sources_by_file_name():
    from sentiment_rnn.compare.report import source_name

    assert source_name(str(corpus_file("heldout.csv"))) == "built-in heldout.csv"
    assert source_name("/data/mr/rt-polarity.pos + /data/mr/rt-polarity.neg") == "rt-polarity.pos + rt-polarity.neg"
    assert source_name("/data/aclImdb_v1.tar.gz (test)") == "aclImdb_v1.tar.gz (test)"
    assert source_name("validation split (metrics.json)") == "validation split (metrics.json)"


def test_eval_data_is_a_file_the_library_reads_with_the_config_columns(directories, pairs_csv, tmp_path):
    renamed = write_csv(tmp_path / "renamed.csv", tiny_rows()[4:8], header=("review", "stars"))
    config = load_config(overrides=['data.text_column="review"', 'data.label_column="stars"'])
    comparison = compare_bow(
        config, rnn_dir=directories["rnn"], bow_dir=directories["bow"], pairs_path=pairs_csv, eval_data=renamed
    )
    assert [(a.source, a.n) for a in comparison.heldout][-1] == (str(renamed), 4)


def test_a_bad_eval_data_file_is_refused_before_anything_trains(tmp_path):
    from sentiment_rnn.data.formats import read_dataset

    missing = tmp_path / "missing.csv"
    with pytest.raises(SentimentError) as info:
        read_dataset(missing)
    with pytest.raises(SentimentError, match=re.escape(str(info.value))):
        compare_bow(load_config(), eval_data=missing, progress=pytest.fail)  # progress is called before training
    assert_user_error(run("compare-bow", "--eval-data", str(missing)), str(info.value))


def test_plot_without_matplotlib_is_a_clear_error(monkeypatch, unigram, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    message = "--plot needs matplotlib, which is not installed: pip install 'sentiment-rnn[plot]' (or pip install matplotlib)."
    assert_user_error(run("compare-bow", "--plot", str(tmp_path / "p.png")), message)
    with pytest.raises(SentimentError, match=re.escape(message)):
        write_contrast_plot(unigram, tmp_path / "p.png")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- the shipped corpus and the default model


def test_shipped_contrast_pairs_have_the_same_words_and_are_not_in_training():
    from sentiment_rnn.data.formats import builtin_corpus

    pairs = read_pairs(corpus_file("contrast_pairs.csv"))
    assert len(pairs) >= 100
    training = set(builtin_corpus().texts)
    assert [p.texts for p in pairs if training & set(p.texts)] == []
    different_tokens = [p.texts for p in pairs if Counter(tokenize_py(p.texts[0])) != Counter(tokenize_py(p.texts[1]))]
    # A pair whose tokens differ (even by "," or ".") is not a same-bag pair for the baseline.
    assert different_tokens == [], f"{len(different_tokens)} of {len(pairs)} pairs differ in tokens"


def test_default_model_against_the_unigram_baseline_on_the_shipped_contrast_set(model_dir, tmp_path):
    """The session's default RNN against a baseline trained on the same split: identical bags, identical outputs."""
    from sentiment_rnn.compare.experiment import bow_config
    from sentiment_rnn.training.run import train

    # Two epochs are enough: identical bags give identical outputs whatever the weights.
    train(bow_config(load_config(overrides=["train.epochs=2"])), tmp_path / "bow", verbose=0)
    comparison = compare_bow(load_config(), rnn_dir=model_dir, bow_dir=tmp_path / "bow")
    assert [a.source for a in comparison.heldout] == [
        "validation split (metrics.json)",
        str(corpus_file("heldout.csv")),
    ]
    contrast = comparison.contrast
    same_bags = [p for p in contrast.pairs if p.bags_equal]
    assert same_bags, "the shipped contrast set has no pair with identical unigram bags"
    saved_vocabulary = json.loads((tmp_path / "bow" / "vocabulary.json").read_text(encoding="utf-8"))
    vocabulary = {gram: index for index, gram in enumerate(saved_vocabulary)}
    for pair in contrast.pairs:
        first, second = pair.sentences
        assert pair.bags_equal == (bag_indices(first.text, vocabulary, 1) == bag_indices(second.text, vocabulary, 1))
        if pair.bags_equal:
            assert first.bow == second.bow and pair.unseparated.reason == SAME_NGRAMS
    labels = np.array([[s.label for s in p.sentences] for p in same_bags])
    bow = np.array([[s.bow for s in p.sentences] for p in same_bags])
    assert pair_accuracy(labels, bow) == 0.0 and sentence_accuracy(labels, bow) == 0.5
    assert contrast.pair_accuracy("rnn") >= 0.8
    assert comparison.seed.bow_difference == 0.0 and comparison.seed.rnn_both_right()
    report = render(comparison)
    assert max(len(line) for line in report.splitlines()) <= 100
    assert re.search(r"^built-in heldout\.csv +\d+ +\d\.\d{3} +\d\.\d{3}$", report, re.M)
    assert "These are the built-in contrast pairs" not in report  # the models learned from the built-in corpus
