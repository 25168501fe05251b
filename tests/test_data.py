"""Reading datasets: formats, labels and every user error."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import write_csv
from sentiment_rnn.data.formats import read_dataset
from sentiment_rnn.data.labels import DEFAULT_CLASSES, fixed_scheme
from sentiment_rnn.errors import SentimentError


def test_reads_csv_tsv_and_jsonl_alike(tmp_path):
    rows = [("good, really good", "1"), ("bad", "0"), ('say "no"', "1")]
    csv_path = write_csv(tmp_path / "d.csv", rows)
    tsv_path = tmp_path / "d.tsv"
    tsv_path.write_text("text\tlabel\n" + "".join(f"{t}\t{lab}\n" for t, lab in rows), encoding="utf-8")
    jsonl_path = tmp_path / "d.jsonl"
    jsonl_path.write_text("".join(json.dumps({"text": t, "label": int(lab)}) + "\n" for t, lab in rows))
    for path in (csv_path, tsv_path, jsonl_path):
        dataset = read_dataset(path)
        assert dataset.texts == [t for t, _ in rows]
        np.testing.assert_array_equal(dataset.labels, [1, 0, 1])


@pytest.mark.parametrize(
    ("positive", "negative"),
    [("1", "0"), ("true", "false"), ("TRUE", "False"), ("pos", "neg"), ("Positive", "NEGATIVE"), ("1.0", "0.0")],
)
def test_accepted_label_spellings(tmp_path, positive, negative):
    path = write_csv(tmp_path / "d.csv", [("a", positive), ("b", negative)])
    np.testing.assert_array_equal(read_dataset(path).labels, [1, 0])


def test_jsonl_booleans_are_labels(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"text": "a", "label": true}\n{"text": "b", "label": false}\n')
    np.testing.assert_array_equal(read_dataset(path).labels, [1, 0])


def test_custom_columns_and_encoding(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes("review,stars\nna\u00efve caf\u00e9,pos\nbad,neg\n".encode("cp1252"))
    dataset = read_dataset(path, text_column="review", label_column="stars", encoding="cp1252")
    assert dataset.texts == ["na\u00efve caf\u00e9", "bad"]


def test_blank_texts_are_skipped_and_counted_or_refused(tmp_path):
    path = write_csv(tmp_path / "d.csv", [("a", 1), ("", 0), ("  ", 1), ("b", 0)])
    dataset = read_dataset(path)
    assert (dataset.texts, dataset.skipped) == (["a", "b"], 2)
    assert error_of(path, on_empty="error") == (
        f"{path}, row 2: the text is empty; remove the row, or pass --on-empty skip to skip such rows."
    )
    jsonl = tmp_path / "d.jsonl"
    jsonl.write_text('{"text": null, "label": 1}\n{"text": "a", "label": 1}\n{"text": "b", "label": 0}\n')
    assert read_dataset(jsonl).skipped == 1


def error_of(path, **kwargs) -> str:
    with pytest.raises(SentimentError) as info:
        read_dataset(path, **kwargs)
    return str(info.value)


def test_missing_file_and_directory(tmp_path):
    assert error_of(tmp_path / "nope.csv") == f"Data file {tmp_path / 'nope.csv'} does not exist: check the path."
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    assert error_of(folder) == (
        f"Data path {folder} is a directory but not in the IMDB layout (train/pos, train/neg, test/pos, test/neg): "
        "pass a data file, or that layout."
    )
    assert error_of(folder, format="csv") == (
        f"Data path {folder} is a directory: pass a csv file, or --format imdb for the IMDB layout."
    )


def test_empty_file_and_header_only(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert error_of(empty) == f"{empty} is empty: give a file with a header and at least one row."
    header = tmp_path / "header.csv"
    header.write_text("text,label\n")
    assert error_of(header) == f"{header} has a header but no rows: give at least one labelled example."
    blank = write_csv(tmp_path / "blank.csv", [("", 1), (" ", 0)])
    assert error_of(blank) == f"{blank} has no rows with text (all 2 are empty): give at least one labelled example."


def test_missing_column_names_the_flag(tmp_path):
    path = write_csv(tmp_path / "d.csv", [("a", 1)], header=("review", "label"))
    assert (
        error_of(path)
        == f"{path} has no text column 'text' (columns: review, label): name the right one with --text-column."
    )
    path = write_csv(tmp_path / "e.csv", [("a", 1)], header=("text", "stars"))
    assert (
        error_of(path)
        == f"{path} has no label column 'label' (columns: text, stars): name the right one with --label-column."
    )


def test_a_third_label_makes_a_third_class_unless_the_classes_are_named(tmp_path):
    path = write_csv(tmp_path / "d.csv", [("a", 1), ("b", 0), ("c", 3)])
    dataset = read_dataset(path)
    assert (dataset.classes, dataset.labels.tolist()) == (("0", "1", "3"), [1, 0, 2])
    assert (
        error_of(path, labels=fixed_scheme(DEFAULT_CLASSES))
        == f"{path}, row 3: label '3' is not binary; use 0/1, true/false, pos/neg or positive/negative, or map labels with --positive and --negative (e.g. --positive 4,5 --negative 1,2)."
    )


def test_single_class_is_refused(tmp_path):
    path = write_csv(tmp_path / "d.csv", [("a", 1), ("b", "pos")])
    assert error_of(path) == f"{path} holds only positive examples: a classifier needs both positive and negative ones."


def test_undecodable_bytes_suggest_encoding(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b"text,label\ncaf\xe9,1\nb,0\n")
    assert error_of(path) == (
        f"{path}, line 2 (byte 0xe9): not valid utf-8; pass the file's encoding, e.g. --encoding cp1252."
    )


def test_ragged_csv(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("text,label\na,1\nb,0,extra,more\n")
    assert error_of(path) == (
        f"{path}, line 3: expected 2 fields, saw 4; put texts that contain commas in double quotes, or fix the row."
    )
    short = tmp_path / "short.csv"
    short.write_text("text,label\na,1\nb\n")
    assert error_of(short) == (
        f"{short}, row 2: the label is missing; give every row a label (0/1, true/false, pos/neg or positive/negative)."
    )


def test_unknown_suffix_and_encoding(tmp_path):
    path = tmp_path / "d.txt"
    path.write_text("x")
    assert error_of(path) == (
        f"Cannot tell the format of {path} from its name or first line: pass --format "
        "(csv, tsv, jsonl, glue, fasttext, label-text, imdb) or name it .csv, .tsv or .jsonl."
    )
    good = write_csv(tmp_path / "d.csv", [("a", 1), ("b", 0)])
    assert (
        error_of(good, encoding="klingon")
        == "Unknown encoding 'klingon': use a Python codec name such as utf-8 or cp1252."
    )


def test_a_nan_label_and_a_blank_one_are_missing(tmp_path):
    path = tmp_path / "nan.csv"
    path.write_text("text,label\ngood phone,NaN\nbad phone,0\n", encoding="utf-8")
    with pytest.raises(SentimentError) as raised:
        read_dataset(path)
    assert str(raised.value) == (
        f"{path}, row 1: the label is missing; give every row a label (0/1, true/false, pos/neg or positive/negative)."
    )
    blank = tmp_path / "blank.csv"
    blank.write_text("text,label\ngood phone,\nbad phone,0\n", encoding="utf-8")
    with pytest.raises(SentimentError) as raised:
        read_dataset(blank)
    assert "row 1: the label is missing" in str(raised.value)
