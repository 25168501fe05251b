"""Streaming input and length bucketing: same rows and labels as the in-memory reader, grouped batches."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from conftest import TINY_OVERRIDES, write_csv
from sentiment_rnn.config import load_config
from sentiment_rnn.data.formats import dataset_from_config, read_dataset
from sentiment_rnn.data.labels import DEFAULT_CLASSES, LABEL_VALUES, fixed_scheme
from sentiment_rnn.data.stream import open_stream
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.models import make_tokenizer
from sentiment_rnn.text import token_counts, tokenize_py
from sentiment_rnn.training.pipeline import BUCKET_BOUNDARIES, batch_examples

# Label spellings, blank and odd texts, quoting: everything the in-memory reader accepts.
ROWS = [
    ("good, really good", " Pos "),
    ("bad", "0"),
    ('say "no"\nthen "yes"', "TRUE"),
    ("", "1"),
    ("  ", "whatever: skipped rows are not checked"),
    ("na\u00efve caf\u00e9", "negative"),
    ("\u00a0spaced\u2003", "1.0"),
    ("it is no good", "0.0"),
    ("No, this phone is good", "positive"),
    ("meh", "False"),
] * 3


def stream(path, *overrides):
    config = load_config(overrides=[f"data.path={json.dumps(str(path))}", *overrides])
    return open_stream(config, make_tokenizer(config))


def streamed_rows(part) -> list[tuple[str, int]]:
    return [(text.decode("utf-8"), int(label)) for text, label in part.examples().as_numpy_iterator()]


def assert_same_as_in_memory(path, **columns):
    overrides = [f"data.{key}={json.dumps(value)}" for key, value in columns.items()]
    summary, train, validation = stream(path, *overrides)
    expected = read_dataset(path, **columns)
    got = streamed_rows(train) + streamed_rows(validation)
    assert Counter(got) == Counter(zip(expected.texts, expected.labels.tolist()))
    assert (len(summary), summary.skipped, summary.label_counts()) == (
        len(expected),
        expected.skipped,
        expected.label_counts(),
    )
    assert (len(train), len(validation)) == (len(streamed_rows(train)), len(streamed_rows(validation)))


def test_csv_rows_and_labels_match_the_in_memory_reader(tmp_path):
    assert_same_as_in_memory(write_csv(tmp_path / "d.csv", ROWS))


def test_tsv_and_jsonl_match_the_in_memory_reader(tmp_path):
    rows = [(text.replace("\n", " "), label) for text, label in ROWS]
    tsv = tmp_path / "d.tsv"
    tsv.write_text("text\tlabel\n" + "".join(f"{t}\t{lab}\n" for t, lab in rows), encoding="utf-8")
    assert_same_as_in_memory(tsv)
    jsonl = tmp_path / "d.jsonl"
    records = [{"label": lab, "text": t} for t, lab in rows] + [
        {"text": "x", "label": True},
        {"text": None, "label": 1},
    ]
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in records) + "\n", encoding="utf-8")
    assert_same_as_in_memory(jsonl)


def test_columns_in_any_order_and_other_encodings(tmp_path):
    path = tmp_path / "d.csv"
    rows = [(f"caf\u00e9 {i}", "pos") for i in range(20)] + [(f"awful {i}", "neg") for i in range(20)]
    path.write_bytes(
        ("stars,id,review\n" + "".join(f"{lab},{i},{t}\n" for i, (t, lab) in enumerate(rows))).encode("cp1252")
    )
    assert_same_as_in_memory(path, text_column="review", label_column="stars", encoding="cp1252")


def test_split_is_seeded_disjoint_and_near_the_fraction(tmp_path):
    rows = [(f"text number {i}", i % 2) for i in range(2000)]
    path = write_csv(tmp_path / "d.csv", rows)
    _, train, validation = stream(path, "train.validation_split=0.2")
    validation_texts = {text for text, _ in streamed_rows(validation)}
    assert validation_texts.isdisjoint(text for text, _ in streamed_rows(train))
    assert len(validation) + len(train) == 2000 and 340 < len(validation) < 460
    assert validation_texts == {text for text, _ in streamed_rows(stream(path, "train.validation_split=0.2")[2])}
    assert validation_texts != {text for text, _ in streamed_rows(stream(path, "train.seed=7")[2])}


def test_vocabulary_is_adapted_on_the_training_side_in_the_same_pass(tmp_path):
    path = write_csv(tmp_path / "d.csv", [(f"w{i % 7} w{i % 3} shared", i % 2) for i in range(200)])
    config = load_config(overrides=[f"data.path={json.dumps(str(path))}"])
    _, train, _ = open_stream(config, make_tokenizer(config))
    in_memory = make_tokenizer(config)
    in_memory.adapt([text for text, _ in streamed_rows(train)])
    assert train.vocabulary == list(in_memory.get_vocabulary())


def test_vocabulary_sample_is_bounded_and_spread_over_the_file(tmp_path):
    path = write_csv(tmp_path / "d.csv", [(f"word{i}", i % 2) for i in range(2000)])
    _, train, _ = stream(path, "data.vocabulary_sample=100")
    sampled = [int(token[4:]) for token in train.vocabulary[2:]]
    assert 50 < len(sampled) < 200 and max(sampled) > 1500 and min(sampled) < 500


def test_shuffling_is_seeded_and_redrawn_each_epoch(tmp_path):
    path = write_csv(tmp_path / "d.csv", [(f"t{i}", i % 2) for i in range(300)])
    _, train, _ = stream(path, "data.shuffle_buffer=50")
    examples = train.examples(shuffle_seed=1)
    first, second = [[t for t, _ in examples.as_numpy_iterator()] for _ in range(2)]
    file_order = [t for t, _ in train.examples().as_numpy_iterator()]
    assert sorted(first) == sorted(second) == sorted(file_order)
    assert first != second and first != file_order
    assert first == [t for t, _ in train.examples(shuffle_seed=1).as_numpy_iterator()]


def error_of(path, *overrides) -> str:
    with pytest.raises(SentimentError) as info:
        stream(path, *overrides)
    return str(info.value)


def in_memory_error_of(path, **kwargs) -> str:
    with pytest.raises(SentimentError) as info:
        read_dataset(path, **kwargs)
    return str(info.value)


def test_errors_are_the_in_memory_errors(tmp_path):
    bad_label = write_csv(tmp_path / "bad.csv", [("a", 1), ("b", 0), ("c", "maybe")])
    assert error_of(bad_label, 'data.labels="negative,positive"') == in_memory_error_of(
        bad_label, labels=fixed_scheme(DEFAULT_CLASSES)
    )
    missing = write_csv(tmp_path / "missing.csv", [("a", 1), ("b", 0), ("c", "")])
    assert error_of(missing) == in_memory_error_of(missing)
    three = write_csv(tmp_path / "three.csv", [("a", "x"), ("b", "y"), ("c", "z")])
    assert error_of(three, 'data.labels="x,y,w"') == in_memory_error_of(three, labels=fixed_scheme(("x", "y", "w")))
    one_class = write_csv(tmp_path / "one.csv", [("a", 1), ("b", 1)])
    assert error_of(one_class) == in_memory_error_of(one_class)
    wrong_column = write_csv(tmp_path / "col.csv", [("a", 1)], header=("review", "label"))
    assert error_of(wrong_column) == in_memory_error_of(wrong_column)
    blank = write_csv(tmp_path / "blank.csv", [("", 1), (" ", 0)])
    assert error_of(blank) == in_memory_error_of(blank)
    header_only = write_csv(tmp_path / "header.csv", [])
    assert error_of(header_only) == in_memory_error_of(header_only)
    assert error_of(blank, "data.on_empty=error") == in_memory_error_of(blank, on_empty="error")


def test_unknown_encoding_is_the_in_memory_error_for_every_suffix(tmp_path):
    tsv = tmp_path / "d.tsv"  # telling TSV from GLUE decodes the first line
    tsv.write_text("text\tlabel\na\t1\nb\t0\n")
    for path in (write_csv(tmp_path / "d.csv", [("a", 1), ("b", 0)]), tsv):
        assert error_of(path, 'data.encoding="klingon"') == in_memory_error_of(path, encoding="klingon")


@pytest.mark.parametrize(
    "labels, overrides",
    [
        ([*LABEL_VALUES, " Pos ", "TRUE", "\u00a0negative\u2003", "1.00"], ()),  # the built-in table: two classes
        (["1", "2.0", " 3 ", "+4", "5", "02"], ()),  # star ratings: five classes, in numeric order
        (["Negative", "neutral", "POSITIVE", " neutral "], ()),  # named classes, learned
        (["bad", "meh", "good", "BAD"], ('data.labels="good,meh,bad"',)),  # named and ordered
        (["1", "2", "3", "4", "5"], ('data.label_map="1,2=neg;3=neu;4,5=pos"',)),  # grouped
    ],
)
def test_the_stream_labels_rows_as_the_in_memory_reader_does(tmp_path, labels, overrides):
    path = write_csv(tmp_path / "d.csv", [(f"text {i}", label) for i, label in enumerate(labels * 3)])
    config = load_config(overrides=[f"data.path={json.dumps(str(path))}", "train.validation_split=0.3", *overrides])
    summary, train, validation = open_stream(config, make_tokenizer(config))
    expected = dataset_from_config(config.data)
    assert summary.classes == expected.classes
    assert summary.label_counts() == expected.label_counts()
    streamed = sorted(streamed_rows(train) + streamed_rows(validation))
    assert streamed == sorted(zip(expected.texts, expected.labels.tolist()))


def test_streaming_specific_errors(tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"text,label\ngood,1\ncaf\xe9,0\n")
    assert error_of(latin) == f"{latin}, row 2: not valid utf-8; pass the file's encoding, e.g. --encoding cp1252."
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "a", "label": 1}\n\n{"text": "b", "label": 0}\nnot json\n')
    assert error_of(broken) == f"{broken}, line 4 is not valid JSON Lines: one JSON object per line."
    tiny = write_csv(tmp_path / "tiny.csv", [("a", 1), ("b", 0)])
    assert error_of(tiny, "train.validation_split=0.1").startswith(f"{tiny} has ")
    assert error_of(tiny, "train.validation_split=0.1").endswith(
        "after the streaming split: streaming needs at least 2 and 1; read small files in memory "
        "(data.streaming = false)."
    )


def test_bucketed_batches_hold_texts_of_one_length_interval_and_every_text_once():
    import tensorflow as tf

    texts = [" ".join(["word"] * n) for n in range(0, 70)] * 3
    examples = tf.data.Dataset.from_tensor_slices((texts, np.arange(len(texts), dtype=np.float32)))
    seen = []
    edges = (0, *BUCKET_BOUNDARIES, 10**9)
    for batch_texts, batch_labels in batch_examples(examples.shuffle(500, seed=0), 4, bucket_by_length=True):
        lengths = token_counts(batch_texts).numpy()
        intervals = {next(i for i in range(len(edges) - 1) if edges[i] <= n < edges[i + 1]) for n in lengths}
        assert len(intervals) == 1 and len(lengths) <= 4
        assert [len(tokenize_py(t.decode())) for t in batch_texts.numpy()] == lengths.tolist()
        seen.extend(batch_labels.numpy().tolist())
    assert sorted(seen) == list(range(len(texts)))


def test_bucketing_needs_unpadded_sequences():
    with pytest.raises(SentimentError) as info:
        load_config(overrides=["train.bucket_by_length=true", "tokenizer.output_sequence_length=40"])
    assert str(info.value) == (
        "Config sets train.bucket_by_length with tokenizer.output_sequence_length = 40: every batch is padded to "
        "that length, so grouping by length saves nothing. Set tokenizer.output_sequence_length = 0 or "
        "train.bucket_by_length = false."
    )


def test_streaming_bucketed_training_writes_a_model_directory(tmp_path):
    from sentiment_rnn.inference import predict
    from sentiment_rnn.training.run import train

    rows = [
        (f"{word} phone {'really ' * (i % 9)}", label) for i in range(40) for word, label in (("good", 1), ("bad", 0))
    ]
    path = write_csv(tmp_path / "d.csv", rows + [("", 1)])
    overrides = [
        *TINY_OVERRIDES,
        f"data.path={json.dumps(str(path))}",
        "data.streaming=true",
        "train.bucket_by_length=true",
        "train.steps_per_epoch=3",
    ]
    result = train(load_config(overrides=overrides), tmp_path / "model", verbose=0)
    meta = json.loads((tmp_path / "model" / "meta.json").read_text())
    assert meta["data"]["rows"] == 80 and meta["data"]["skipped"] == 1
    assert meta["data"]["labels"] == {"positive": 40, "negative": 40}
    assert meta["data"]["train_rows"] + meta["data"]["validation_rows"] == 80
    assert result.metrics["n"] == meta["data"]["validation_rows"] == len(result.split.validation)
    assert result.epochs_run == 2
    assert [p.label in ("positive", "negative") for p in predict(tmp_path / "model", ["good phone"])] == [True]
