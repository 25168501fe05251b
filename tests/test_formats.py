"""Dataset formats beyond CSV: fastText, label-text, pos/neg files, GLUE TSV, the IMDB layout."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import TINY_OVERRIDES
from sentiment_rnn.cli import cli
from sentiment_rnn.config import load_config
from sentiment_rnn.data.formats import dataset_from_config, read_dataset
from sentiment_rnn.data.labels import DEFAULT_CLASSES, fixed_scheme
from sentiment_rnn.errors import SentimentError

IMDB_REVIEWS = {
    "aclImdb/train/pos/0_9.txt": "A great film.<br /><br />Loved it.",
    "aclImdb/train/pos/1_8.txt": "Wonderful acting.",
    "aclImdb/train/neg/0_2.txt": "Dull.<br />Boring<BR/>and long.",
    "aclImdb/test/pos/0_10.txt": "Superb.",
    "aclImdb/test/neg/0_1.txt": "Awful.",
    "aclImdb/test/neg/1_3.txt": "Bad plot.",
    "aclImdb/README": "not a review",
    "aclImdb/train/unsup/0_0.txt": "unlabelled, ignored",
}
IMDB_TRAIN = (
    ["Dull. Boring and long.", "A great film.  Loved it.", "Wonderful acting."],
    [0, 1, 1],
)


def error_of(*args, **kwargs) -> str:
    with pytest.raises(SentimentError) as info:
        read_dataset(*args, **kwargs)
    return str(info.value)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def make_imdb_tarball(path: Path, reviews: dict[str, str] = IMDB_REVIEWS) -> Path:
    """A gzipped tar in the aclImdb layout, members in a shuffled (non-sorted) order."""
    with tarfile.open(path, "w:gz") as archive:
        for name in reversed(list(reviews)):
            data = reviews[name].encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def make_imdb_directory(root: Path, reviews: dict[str, str] = IMDB_REVIEWS) -> Path:
    for name, text in reviews.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def assert_dataset(dataset, texts, labels):
    assert dataset.texts == texts
    np.testing.assert_array_equal(dataset.labels, labels)


def test_fasttext_lines(tmp_path):
    path = write(tmp_path / "train.ft", "__label__1 good phone\n\n__label__0  bad  screen\n__label__pos fine\n")
    dataset = read_dataset(path, format="fasttext")
    assert_dataset(dataset, ["good phone", "bad  screen", "fine"], [1, 0, 1])


def test_label_text_lines_like_stsa_binary(tmp_path):
    path = write(tmp_path / "stsa.binary.train", "1 a stirring , funny film \n0 apparently reassembled .\r\n")
    assert_dataset(read_dataset(path), ["a stirring , funny film", "apparently reassembled ."], [1, 0])


def test_formats_guessed_from_the_first_line(tmp_path):
    fasttext = write(tmp_path / "data.txt", "__label__0 no\n__label__1 yes\n")
    label_text = write(tmp_path / "data.train", "0 no\n1 yes\n")
    for path in (fasttext, label_text):
        assert_dataset(read_dataset(path), ["no", "yes"], [0, 1])


def test_pos_neg_files_positives_first_with_encoding(tmp_path):
    pos = write(tmp_path / "rt.pos", "a caf\u00e9 gem \u2026 really\n\nfun\n", encoding="cp1252")
    neg = write(tmp_path / "rt.neg", "dull\n", encoding="cp1252")
    dataset = read_dataset(pos=pos, neg=neg, encoding="cp1252")
    assert_dataset(dataset, ["a caf\u00e9 gem \u2026 really", "fun", "dull"], [1, 1, 0])
    assert (dataset.source, dataset.skipped) == (f"{pos} + {neg}", 1)
    assert error_of(pos=pos, neg=neg) == (
        f"{pos}, line 1 (byte 0xe9): not valid utf-8; pass the file's encoding, e.g. --encoding cp1252."
    )


def test_line_splitting_is_on_newlines_only(tmp_path):
    pos = write(tmp_path / "p.txt", "one\u2028still one\x0cand one\nsecond\n")
    neg = write(tmp_path / "n.txt", "bad")
    assert read_dataset(pos=pos, neg=neg).texts == ["one\u2028still one\x0cand one", "second", "bad"]


def test_glue_tsv_with_sentence_header_and_no_quoting(tmp_path):
    path = write(tmp_path / "train.tsv", 'sentence\tlabel\nit \'s a " charming " film \t1\n"bad\t0\n')
    assert_dataset(read_dataset(path), ['it \'s a " charming " film ', '"bad'], [1, 0])
    text_header = write(tmp_path / "dev.tsv", "text\tlabel\ngood \t1\nbad \t0\n")
    assert_dataset(read_dataset(text_header, format="glue"), ["good ", "bad "], [1, 0])


@pytest.mark.parametrize("layout", ["tarball", "directory", "directory-without-aclImdb"])
def test_imdb_layout_from_tarball_and_directory(tmp_path, layout):
    if layout == "tarball":
        path = make_imdb_tarball(tmp_path / "aclImdb_v1.tar.gz")
    elif layout == "directory":
        path = make_imdb_directory(tmp_path / "imdb")
    else:
        path = make_imdb_directory(tmp_path / "imdb") / "aclImdb"
    train = read_dataset(path, split="train")
    assert_dataset(train, *IMDB_TRAIN)
    assert train.source == f"{path} (train)"
    assert_dataset(read_dataset(path, split="test"), ["Awful.", "Bad plot.", "Superb."], [0, 0, 1])


def test_imdb_needs_a_split_and_the_layout(tmp_path):
    tarball = make_imdb_tarball(tmp_path / "imdb.tgz")
    assert error_of(tarball) == (
        f"{tarball} is in the IMDB layout, which holds train and test reviews, but no split was chosen: "
        "pass --split train or --split test."
    )
    empty = make_imdb_tarball(tmp_path / "other.tar.gz", {"x/README": "hello"})
    assert error_of(empty, split="test") == (
        f"{empty} holds no test/pos/*.txt or test/neg/*.txt reviews: "
        "give the IMDB layout (aclImdb/train/pos/..., as in aclImdb_v1.tar.gz)."
    )
    broken = write(tmp_path / "broken.tar.gz", "this is not gzip")
    assert error_of(broken, split="train").startswith(f"{broken} is not a readable tar archive (")
    csv_path = write(tmp_path / "d.csv", "text,label\na,1\nb,0\n")
    assert (
        error_of(csv_path, split="train") == "--split applies to the IMDB layout only, not to CSV data: drop --split."
    )


def test_malformed_lines_name_file_and_line(tmp_path):
    fasttext = write(tmp_path / "a.ft", "__label__1 fine\nno label here\n")
    assert error_of(fasttext, format="fasttext") == (
        f"{fasttext}, line 2: expected a fastText line such as '__label__1 some text', got 'no label here'."
    )
    two_labels = write(tmp_path / "b.ft", "__label__1 __label__0 both\n")
    assert error_of(two_labels, format="fasttext") == (
        f"{two_labels}, line 1: 2 labels on one line; give each example exactly one."
    )
    bad_label = write(tmp_path / "c.txt", "1 good\n\n3 what\n")
    assert error_of(bad_label, format="label-text", labels=fixed_scheme(DEFAULT_CLASSES)) == (
        f"{bad_label}, line 3: label '3' is not binary; use 0/1, true/false, pos/neg or positive/negative, or map labels with --positive and --negative (e.g. --positive 4,5 --negative 1,2)."
    )
    no_text = write(tmp_path / "d.txt", "1 good\n0\n")
    assert (
        error_of(no_text, format="label-text") == f"{no_text}, line 2: expected a label, a space and a text, got '0'."
    )
    empty = write(tmp_path / "e.txt", "")
    assert error_of(empty, format="label-text") == f"{empty} is empty: give a file with at least one line."


def test_pos_neg_errors(tmp_path):
    pos = write(tmp_path / "p.txt", "good\n")
    assert error_of(pos=pos) == "Only one of --pos and --neg was given: pass both, one file of texts for each label."
    assert error_of(pos, pos=pos, neg=pos) == (
        "Both a data path and --pos/--neg were given: pass either --data or --pos and --neg."
    )
    assert error_of(pos=pos, neg=tmp_path / "missing.txt") == (
        f"Data file {tmp_path / 'missing.txt'} does not exist: check the path."
    )
    assert error_of(pos=pos, neg=pos, format="csv") == (
        "--pos and --neg read one text a line; --format csv does not apply: drop it."
    )
    assert error_of(pos=pos, neg=pos, split="test") == (
        "--split applies to the IMDB layout only, not to --pos/--neg files: drop --split."
    )
    blank = write(tmp_path / "n.txt", "\n \n")
    assert error_of(pos=pos, neg=blank) == (
        f"{pos} + {blank} holds only positive examples: a classifier needs both positive and negative ones."
    )


def test_unknown_format_and_config_keys(tmp_path):
    assert error_of(tmp_path, format="xml") == (
        "Unknown format 'xml': use one of csv, tsv, jsonl, glue, fasttext, label-text, imdb."
    )
    with pytest.raises(SentimentError, match=r"^Config key data.split must be "):
        load_config(overrides=["data.split=dev"])
    config = load_config(overrides=["data.format=label-text", f"data.path={str(tmp_path / 'x')!r}"])
    write(tmp_path / "x", "1 yes\n0 no\n")
    assert_dataset(dataset_from_config(config.data), ["yes", "no"], [1, 0])


def test_train_command_reads_pos_neg_files_and_an_imdb_tarball(tmp_path):
    pos = write(tmp_path / "pos.txt", "good\n")
    blank = write(tmp_path / "neg.txt", "\n")
    one_class = CliRunner().invoke(cli, ["train", "--pos", str(pos), "--neg", str(blank), "--out", str(tmp_path / "m")])
    assert (one_class.exit_code, one_class.output) == (
        1,
        f"Error: {pos} + {blank} holds only positive examples: a classifier needs both positive and negative ones.\n",
    )
    tarball = make_imdb_tarball(tmp_path / "aclImdb_v1.tar.gz")
    missing_split = CliRunner().invoke(cli, ["train", "--data", str(tarball), "--out", str(tmp_path / "m")])
    assert (missing_split.exit_code, missing_split.output) == (
        1,
        f"Error: {tarball} is in the IMDB layout, which holds train and test reviews, but no split was chosen: "
        "pass --split train or --split test.\n",
    )
    assert not (tmp_path / "m").exists()
    tiny = [arg for override in TINY_OVERRIDES for arg in ("--set", override)] + ["--set", "train.epochs=1"]
    out = tmp_path / "m"
    result = CliRunner().invoke(
        cli, ["train", "--data", str(tarball), "--split", "test", "--out", str(out), "-q", *tiny]
    )
    assert result.exit_code == 0, result.output
    assert 'split = "test"' in (out / "config.toml").read_text()
    assert '"rows": 3' in (out / "meta.json").read_text()


def test_several_sources_are_read_each_with_its_options_and_joined(tmp_path):
    (tmp_path / "a.csv").write_text("review,stars\ngood,1\nbad,0\n", encoding="utf-8")
    (tmp_path / "b.tsv").write_text("sentence\tlabel\nfine\t1\n", encoding="utf-8")
    (tmp_path / "p.txt").write_bytes("café p0\np1\np2\n".encode("cp1252"))
    (tmp_path / "n.txt").write_bytes(b"n0\nn1\nn2\n")
    config = load_config(
        overrides=[
            "data.sources=["
            f'{{path = "{tmp_path / "a.csv"}", text_column = "review", label_column = "stars"}}, '
            f'{{path = "{tmp_path / "b.tsv"}", format = "glue"}}, '
            f'{{pos = "{tmp_path / "p.txt"}", neg = "{tmp_path / "n.txt"}", encoding = "cp1252", skip_every = 3}}]'
        ]
    )
    dataset = dataset_from_config(config.data)
    # rows i % 3 == 0 of the pos-then-neg lines are dropped: "café p0" and "n0"
    assert dataset.texts == ["good", "bad", "fine", "p1", "p2", "n1", "n2"]
    assert dataset.labels.tolist() == [1, 0, 1, 1, 1, 0, 0]
    assert [part["rows"] for part in dataset.parts] == [2, 1, 4]
    assert dataset.parts[2]["labels"] == {"positive": 2, "negative": 2}
    assert (
        dataset.source == f"{tmp_path / 'a.csv'} + {tmp_path / 'b.tsv'} + {tmp_path / 'p.txt'} + {tmp_path / 'n.txt'}"
    )


def test_skip_every_drops_the_rows_of_a_single_source(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("text,label\n" + "".join(f"t{i},{i % 2}\n" for i in range(10)), encoding="utf-8")
    dataset = dataset_from_config(load_config(overrides=[f"data.path={str(path)!r}", "data.skip_every=5"]).data)
    assert dataset.texts == ["t1", "t2", "t3", "t4", "t6", "t7", "t8", "t9"]


def test_train_takes_several_data_options_and_records_every_source(tmp_path):
    import json

    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    one.write_text("text,label\ngood phone,1\nbad phone,0\ngreat,1\nawful,0\n", encoding="utf-8")
    two.write_text("text,label\nnice one,1\nterrible one,0\nfine,1\nworse,0\n", encoding="utf-8")
    args = ["train", "--data", str(one), "--data", str(two), "--out", str(tmp_path / "m"), "--quiet"]
    for override in TINY_OVERRIDES:
        args += ["--set", override]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "m" / "meta.json").read_text())["data"]
    assert data["rows"] == 8 and data["source"] == f"{one} + {two}"
    assert data["sources"] == [
        {"source": str(one), "rows": 4, "skipped": 0, "labels": {"positive": 2, "negative": 2}},
        {"source": str(two), "rows": 4, "skipped": 0, "labels": {"positive": 2, "negative": 2}},
    ]
    saved = load_config(tmp_path / "m" / "config.toml")
    assert [source.path for source in saved.data.sources] == [str(one), str(two)]
