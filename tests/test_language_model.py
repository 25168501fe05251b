"""The language model: pretrain on text without labels, guess words, and start a classifier from it."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import TINY_LM, interrupt_at, lock_held_elsewhere, tiny_split, toy_texts, write_csv
from sentiment_rnn.cli import cli
from sentiment_rnn.config import load_config
from sentiment_rnn.data.unlabelled import Corpus, TextFiles, count_corpus, windows
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.guessing import guess, sorted_words
from sentiment_rnn.training.language import pretrain

# The notes' word-guessing sentence, the one word every text of the toy corpus puts in its blank.
FRANCE = "i went to france , there the people speak the ___ language ."


def test_pretrain_writes_a_language_model_directory_and_says_so(tiny_lm):
    out, output = tiny_lm
    assert sorted(p.name for p in out.iterdir()) == [
        "config.toml",
        "engine.json",
        "history.csv",
        "manifest.json",
        "meta.json",
        "metrics.json",
        "model.keras",
        "training.png",
        "vocabulary.json",
        "weights.npz",
    ]
    assert re.fullmatch(
        rf"Saved language model to {re.escape(str(out))}: held-out perplexity \d+\.\d on 570 tokens of 30 texts "
        r"\(best epoch [123] of 3; trained on 5,130 tokens, 27 words, [\d,]+ tokens/s\)\.\n",
        output,
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert (metrics["texts"], metrics["tokens"]) == (30, 570)  # one text in 10, of 18 tokens and a boundary each
    assert metrics["perplexity"] == pytest.approx(np.exp(metrics["loss"]), rel=1e-5)
    assert metrics["perplexity"] < 5  # 29 words; the toy texts are nearly all predictable
    history = (out / "history.csv").read_text().splitlines()
    assert history[0] == "epoch,loss,perplexity,tokens_per_second,val_loss,val_perplexity" and len(history) == 4
    vocabulary = json.loads((out / "vocabulary.json").read_text())
    assert vocabulary[:2] == ["", "[UNK]"] and "french" in vocabulary and len(vocabulary) == 27
    meta = json.loads((out / "meta.json").read_text())
    assert meta["model_kind"] == "lm"
    assert {k: meta["data"][k] for k in ("train_texts", "heldout_texts", "heldout_every")} == {
        "train_texts": 270,
        "heldout_texts": 30,
        "heldout_every": 10,
    }


def test_the_vocabulary_is_counted_on_training_texts_only_ties_by_token(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("held out only\nb a a\nc b\n", encoding="utf-8")  # text 0 is held out (every = 2)
    corpus = count_corpus(TextFiles((str(path),)), max_tokens=4, every=2)
    assert corpus == Corpus(["", "[UNK]", "a", "b"], 1, 4, 2, 7, 0.0, 4, 7)  # windows of 1 lane x 1 step
    small = count_corpus(TextFiles((str(path),)), max_tokens=3, every=3)  # "a" and "b" twice each: "a" first
    assert small.vocabulary == ["", "[UNK]", "a"] and small.unknown_share == pytest.approx(3 / 5)


def test_windows_deal_texts_into_lanes_that_continue_from_batch_to_batch():
    texts = [[5, 6, 7], [8, 9], [10, 11, 12, 13], [14]]
    got = list(windows(texts, lanes=2, steps=3))
    # each text goes to the shorter lane: lane 0 reads 0 5 6 7 0 14 0, lane 1 reads 0 8 9 0 10 11 12 13 0
    assert [w.tolist() for w in got] == [[[0, 5, 6, 7], [0, 8, 9, 0]], [[7, 0, 14, 0], [0, 10, 11, 12]]]
    assert all(w.dtype == np.int32 and w.shape == (2, 4) for w in got)


def assert_same_guesses(theirs, mine, atol: float = 1e-5) -> None:
    """Two engines' guesses: probabilities equal to ``atol`` (the engines' promise: float32 products summed
    in another order), words in the same order but where two of them tie to that precision and may swap."""
    np.testing.assert_allclose([g.probability for g in theirs], [g.probability for g in mine], atol=atol)
    by_word = {g.word: g.probability for g in mine}
    for a, b in zip(theirs, mine):
        # a word ranked elsewhere, or just below the k shown, must tie with the one ranked here
        assert a.word == b.word or abs(by_word.get(a.word, mine[-1].probability) - b.probability) <= 2 * atol, (
            [g.word for g in theirs],
            [g.word for g in mine],
        )


def test_guess_fills_the_blank_in_both_engines_alike(tiny_lm):
    out, _ = tiny_lm
    numpy_guesses = guess(out, FRANCE, k=3)
    keras_guesses = guess(out, FRANCE, k=3, engine="keras")
    assert numpy_guesses.blank and numpy_guesses.guesses[0].word == "french"
    assert_same_guesses(keras_guesses.guesses, numpy_guesses.guesses)
    assert sum(g.probability for g in guess(out, FRANCE, k=27).guesses) == pytest.approx(1.0)
    following = guess(out, "the people speak the french", k=2)
    assert not following.blank and following.guesses[0].word == "language"
    assert guess(out, "the zyzzyva speak the ___ language", k=1).unknown == ["zyzzyva"]


def test_sorted_words_keep_the_blank_in_place():
    assert sorted_words("I like Thai food so it is ___") == "food i is it like so thai ___"
    assert sorted_words("speak the ___ language, please") == ", language ___ please speak the"
    assert sorted_words("no blank here") == "blank here no"


def test_guess_command_prints_json_and_the_bag_of_words_view(tiny_lm):
    out, _ = tiny_lm
    result = CliRunner().invoke(cli, ["guess", "--model", str(out), "--k", "2", "--bow", FRANCE])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == FRANCE and re.fullmatch(r"  1\. french +0\.\d{4}", lines[1])
    assert lines[3:6] == ["", "The same words sorted, as a bag of words has them:", sorted_words(FRANCE)]
    as_json = json.loads(CliRunner().invoke(cli, ["guess", "--model", str(out), "--json", "--k", "1", FRANCE]).output)
    assert as_json["blank"] is True and as_json["guesses"][0]["word"] == "french"
    assert as_json["unknown_words"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["guess", "--model", "{lm}", "   "],
            "Error: The text is empty: give a sentence, with ___ where a word is missing.\n",
        ),
        (["guess", "--model", "{clf}", "a ___"], None),
    ],
)
def test_guess_refuses_with_one_line(args, message, tiny_lm, model_dir):
    out, _ = tiny_lm
    args = [a.format(lm=out, clf=model_dir) for a in args]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    expected = message or (
        f"Error: {model_dir} is a rnn classifier, not a language model: guess needs one written by "
        "`sentiment-rnn pretrain` (or --model reviews-lm).\n"
    )
    assert result.output == expected


def test_pretrain_refuses_bad_input_in_one_line(tmp_path):
    few = tmp_path / "few.txt"
    few.write_text("one text\n", encoding="utf-8")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine\n\xff broken\n")
    runner = CliRunner()
    base = ["pretrain", "--out", str(tmp_path / "lm"), *(item for o in TINY_LM for item in ("--set", o))]
    result = runner.invoke(cli, [*base, "--data", str(few)])
    assert (result.exit_code, result.output) == (
        1,
        f"Error: {few} holds 1 non-blank text(s): a language model needs at least 10 (one in 10 is held out to "
        "measure it); pass more text.\n",
    )
    result = runner.invoke(cli, [*base, "--data", str(bad)])
    assert result.exit_code == 1 and result.output.startswith(f"Error: {bad}, line 2 (byte 0xff): not valid utf-8;")
    result = runner.invoke(cli, [*base, "--data", str(few), "--set", 'model.kind="rnn"'])
    assert result.output == (
        'Error: pretrain trains a language model, but the config says model.kind = "rnn": set model.kind = "lm" '
        "(configs/lm.toml is one).\n"
    )
    assert not (tmp_path / "lm").exists()


def test_pretrain_reads_tables_with_their_text_column(tmp_path):
    table = tmp_path / "reviews.csv"
    rows = ["body,stars"] + [f"{text},5" for text in toy_texts(40)]
    table.write_text("\n".join(rows) + "\n", encoding="utf-8")
    config = load_config(overrides=[*TINY_LM, 'model.kind="lm"', "train.epochs=1"])
    result = pretrain(config, TextFiles((str(table),), text_column="body"), tmp_path / "lm", verbose=0)
    assert (result.corpus.train_texts, result.corpus.heldout_texts) == (36, 4)
    with pytest.raises(SentimentError, match="text"):
        pretrain(config, TextFiles((str(table),)), tmp_path / "lm2", verbose=0)


def test_a_classifier_starts_from_the_language_model(tiny_lm, tmp_path):
    from sentiment_rnn.artifact.model_directory import open_model_dir
    from sentiment_rnn.models import EMBEDDING_LAYER, build_training_model, make_tokenizer, recurrent_layer_name
    from sentiment_rnn.pretrained import start_from_language_model
    from sentiment_rnn.training.pipeline import adapt_tokenizer

    out, _ = tiny_lm
    lm = open_model_dir(out).numpy_engine
    overrides = ["model.cell=gru", "model.units=24", "model.output_dim=12", "tokenizer.max_tokens=64"]
    config = load_config(overrides=[*overrides, f'model.init_from="{out}"'])
    tokenizer = make_tokenizer(config)
    adapt_tokenizer(tokenizer, None, config)
    assert list(tokenizer.get_vocabulary()) == lm.vocabulary.tokens
    model = build_training_model(config, tokenizer)
    start_from_language_model(model, config)
    np.testing.assert_array_equal(model.get_layer(EMBEDDING_LAYER).get_weights()[0], lm.embedding)
    kernel, recurrent_kernel, bias = model.get_layer(recurrent_layer_name(0)).get_weights()
    np.testing.assert_array_equal(recurrent_kernel, lm.layers[0].forward.recurrent_kernel)
    trained = CliRunner().invoke(
        cli,
        ["train", "--init-from", str(out), "--out", str(tmp_path / "clf"), "--epochs", "1"]
        + [item for o in overrides for item in ("--set", o)],
    )
    assert trained.exit_code == 0, trained.output
    inspected = CliRunner().invoke(cli, ["inspect", "--model", str(tmp_path / "clf")])
    assert f"Started from     the language model {out} (model.init_from)\n" in inspected.output


def test_init_from_names_the_keys_to_set(tiny_lm, tmp_path):
    out, _ = tiny_lm
    result = CliRunner().invoke(cli, ["train", "--init-from", str(out), "--out", str(tmp_path / "clf")])
    assert (result.exit_code, result.output) == (
        1,
        f"Error: The classifier's architecture differs from the language model in {out}: set "
        'model.cell = "gru", model.units = 24, model.output_dim = 12 (--set), or use the finetune preset '
        "(--config configs/finetune.toml).\n",
    )


def test_pretrain_init_from_goes_on_training_the_language_model(tiny_lm, toy_corpus, tmp_path):
    out, _ = tiny_lm
    config = load_config(
        overrides=[*TINY_LM, 'model.kind="lm"', "model.cell=gru", "train.epochs=1", f'model.init_from="{out}"']
    )
    result = pretrain(config, TextFiles((str(toy_corpus),)), tmp_path / "more", verbose=0)
    assert json.loads((tmp_path / "more" / "vocabulary.json").read_text()) == json.loads(
        (out / "vocabulary.json").read_text()
    )
    first_epoch = float((out / "history.csv").read_text().splitlines()[1].split(",")[-1])  # val_perplexity, epoch 1
    assert result.metrics["perplexity"] < first_epoch  # it started where the first run ended, not from scratch


def test_pretrain_resumes_after_ctrl_c_even_when_the_corpus_was_copied_again(toy_corpus, tmp_path):
    corpus = Path(shutil.copy(toy_corpus, tmp_path / "texts.txt.gz"))
    config = load_config(overrides=[*TINY_LM, 'model.kind="lm"', "model.cell=gru", "train.epochs=2"])
    out = tmp_path / "lm"
    with pytest.raises(KeyboardInterrupt):
        pretrain(config, TextFiles((str(corpus),)), out, verbose=0, callbacks=[interrupt_at(1)])
    assert not out.exists()  # nothing half-written; epoch 1 waits in the backup
    moved = tmp_path / "elsewhere.txt.gz"
    corpus.rename(moved)  # a new session: the same bytes, copied again (a new path, a new modification time)
    os.utime(moved, (1, 1))
    result = pretrain(config, TextFiles((str(moved),)), out, verbose=0, resume=True)
    assert [line.split(",")[0] for line in (out / "history.csv").read_text().splitlines()[1:]] == ["0", "1"]
    assert result.metrics["perplexity"] > 0
    other = tmp_path / "other.txt.gz"
    other.write_bytes(gzip.compress("".join(f"{text} again\n" for text in toy_texts()).encode()))
    with pytest.raises(KeyboardInterrupt):
        pretrain(config, TextFiles((str(other),)), tmp_path / "again", verbose=0, callbacks=[interrupt_at(1)])
    with pytest.raises(SentimentError, match="the training data changed since the interrupted run"):
        pretrain(config, TextFiles((str(moved),)), tmp_path / "again", verbose=0, resume=True)  # other bytes


REAL_LM = Path(__file__).resolve().parent.parent / "sentiment_rnn" / "bundled" / "reviews-lm"
needs_the_real_language_model = pytest.mark.skipif(
    not (REAL_LM / "meta.json").is_file(),
    reason="sentiment_rnn/bundled/reviews-lm is absent: build it with benchmarks/build_reviews_en.py --model reviews-lm",
)


@needs_the_real_language_model
def test_the_bundled_language_model_guesses_by_name_in_both_engines(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the name, not a path
    numpy_guesses = guess("reviews-lm", "The battery died after a ___", k=5)
    keras_guesses = guess("reviews-lm", "The battery died after a ___", k=5, engine="keras")
    assert_same_guesses(keras_guesses.guesses, numpy_guesses.guesses)
    result = CliRunner().invoke(cli, ["inspect", "--model", "reviews-lm"])
    assert result.exit_code == 0 and "language model (the next word after every token)" in result.output


@needs_the_real_language_model
def test_the_bundled_language_model_fits_in_the_wheel():
    assert sum(p.stat().st_size for p in REAL_LM.rglob("*") if p.is_file()) <= 25_000_000


def test_pretrain_runs_under_the_mirrored_strategy(toy_corpus, tmp_path):
    config = load_config(overrides=[*TINY_LM, 'model.kind="lm"', "train.epochs=1", 'train.distribute="mirrored"'])
    result = pretrain(config, TextFiles((str(toy_corpus),)), tmp_path / "lm", verbose=0)
    assert result.epochs_run == 1 and np.isfinite(result.metrics["perplexity"])
    assert json.loads((tmp_path / "lm" / "meta.json").read_text())["data"]["train_tokens"] == 5130


# ---------------------------------------------------------------- issue 29: the language model's files read and
# written as a classifier's are (safe_read, manifests, the lock)

PRETRAIN = ["pretrain", *(item for o in TINY_LM for item in ("--set", o))]


def one_line(result) -> str:
    """The output of a refused command: one line, exit code 1, no traceback."""
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    return result.output


def test_pretrain_reads_regular_files_only_and_caps_their_lines(tmp_path):
    out = tmp_path / "lm"
    fifo = tmp_path / "texts.txt"
    os.mkfifo(fifo)  # opened as open() does, this would wait for a writer forever
    fix = "pass one text a line, plain or gzip-compressed"
    assert one_line(CliRunner().invoke(cli, [*PRETRAIN, "--data", str(fifo), "--out", str(out)])) == (
        f"Error: {fifo} is a FIFO (named pipe), not a regular file: {fix}.\n"
    )
    assert one_line(CliRunner().invoke(cli, [*PRETRAIN, "--data", "/dev/zero", "--out", str(out)])) == (
        f"Error: /dev/zero is a device, not a regular file: {fix}.\n"
    )
    endless = tmp_path / "endless.txt.gz"  # 16 KB on disk: one line of 16 MiB and 10 bytes once decompressed
    endless.write_bytes(gzip.compress(b"a short text\n" + b"a" * (16 * 1024 * 1024 + 10)))
    assert one_line(CliRunner().invoke(cli, [*PRETRAIN, "--data", str(endless), "--out", str(out)])) == (
        f"Error: {endless}, line 2 is longer than 16 MiB, the most one line of a data file may hold: shorten it, "
        "or check that this is the file you meant.\n"
    )
    assert sorted(os.listdir(tmp_path)) == ["endless.txt.gz", "texts.txt"]  # no lock, backup or staging left


def test_the_resume_digest_reads_what_the_readers_read_and_never_waits_on_a_fifo(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "train" / "unsup").mkdir(parents=True)
    (corpus / "train" / "unsup" / "0_0.txt").write_text("a text without a label", encoding="utf-8")
    before = TextFiles((str(corpus),)).digest()
    outside = tmp_path / "outside.txt"
    outside.write_text("not in the dataset", encoding="utf-8")
    (corpus / "train" / "unsup" / "1_0.txt").symlink_to(outside)  # the IMDB reader skips links: so does the digest
    os.mkfifo(corpus / "train" / "unsup" / "2_0.txt")  # and FIFOs
    assert TextFiles((str(corpus),)).digest() == before
    (corpus / "train" / "unsup" / "0_0.txt").write_text("another text", encoding="utf-8")
    assert TextFiles((str(corpus),)).digest() != before  # the bytes count
    fifo = tmp_path / "texts.txt"
    os.mkfifo(fifo)
    with pytest.raises(SentimentError, match=re.escape(f"{fifo} is a FIFO (named pipe), not a regular file: ")):
        TextFiles((str(fifo),)).digest()


@pytest.mark.parametrize("name", ["engine.json", "weights.npz", "vocabulary.json"])
def test_a_fifo_or_a_link_in_a_language_model_directory_is_refused_never_waited_on(tiny_lm, toy_corpus, tmp_path, name):
    out, _ = tiny_lm
    model = shutil.copytree(out, tmp_path / "lm")
    commands = [  # guess reads the NumPy engine; pretrain --init-from takes its vocabulary and weights
        ["guess", "--model", str(model), FRANCE],
        [*PRETRAIN, "--data", str(toy_corpus), "--init-from", str(model), "--out", str(tmp_path / "more")],
    ]
    (model / name).unlink()
    os.mkfifo(model / name)
    for args in commands:
        output = one_line(CliRunner().invoke(cli, args))
        assert output.startswith(f"Error: {model / name} is a FIFO (named pipe), not a regular file: "), output
    (model / name).unlink()
    (model / name).symlink_to(out / name)  # the same bytes, through a link: not this directory's file
    for args in commands:
        output = one_line(CliRunner().invoke(cli, args))
        assert output.startswith(
            f"Error: {model / name} is a symlink, and no link is followed inside a model directory: "
        ), output
    assert sorted(os.listdir(tmp_path)) == ["lm"]  # pretrain wrote nothing


def test_a_damaged_language_model_says_to_retrain_it_with_pretrain_not_train(tiny_lm, toy_corpus, tmp_path):
    out, _ = tiny_lm
    model = shutil.copytree(out, tmp_path / "lm")
    (model / "weights.npz").write_bytes((out / "weights.npz").read_bytes()[:100])  # cut short: no zip directory
    (model / "model.keras").write_bytes(b"not a zip archive")
    classifier = ["model.cell=gru", "model.units=24", "model.output_dim=12", "tokenizer.max_tokens=64"]
    readers = [  # every command that reads a language model's NumPy engine
        ["guess", "--model", str(model), FRANCE],
        ["inspect", "--model", str(model)],
        [
            "train",
            "--init-from",
            str(model),
            "--out",
            str(tmp_path / "clf"),
            *(i for o in classifier for i in ("--set", o)),
        ],
        [*PRETRAIN, "--data", str(toy_corpus), "--init-from", str(model), "--out", str(tmp_path / "more")],
    ]
    for args in readers:
        assert one_line(CliRunner().invoke(cli, args)) == (
            f"Error: {model / 'weights.npz'} is damaged (File is not a zip file): retrain the language model with "
            "`sentiment-rnn pretrain`.\n"
        ), args
    assert one_line(CliRunner().invoke(cli, ["guess", "--model", str(model), "--engine", "keras", FRANCE])) == (
        f"Error: Cannot load {model / 'model.keras'}: the file is damaged or not a sentiment-rnn model; retrain it "
        "with `sentiment-rnn pretrain`.\n"
    )
    shutil.copy(out / "weights.npz", model / "weights.npz")
    (model / "vocabulary.json").write_text('{"the": 2}')
    assert one_line(CliRunner().invoke(cli, ["guess", "--model", str(model), FRANCE])) == (
        f"Error: {model / 'vocabulary.json'} is not a vocabulary (it is not a list of strings): retrain the language "
        "model with `sentiment-rnn pretrain`.\n"
    )
    assert sorted(os.listdir(tmp_path)) == ["lm"]  # train and pretrain wrote nothing


@pytest.mark.parametrize(
    "vocabulary, problem",
    [
        ([], "is not a vocabulary (it does not start with ['', '[UNK]'])"),
        (["", "[UNK]", "the"], "holds 3 tokens, but the embedding of {model}/model.keras has 27 rows"),
        (["", "[UNK]", "the", "the"], "is not a vocabulary (it lists a token twice)"),
        ("reordered", "is not the vocabulary the model was trained with (its digest differs from engine.json's)"),
    ],
    ids=["empty", "shorter", "twice", "reordered"],
)
def test_guess_with_keras_checks_the_vocabulary_it_names_the_ids_with(tiny_lm, tmp_path, vocabulary, problem):
    """model.keras reads token ids and vocabulary.json names them: a vocabulary that cannot was an IndexError."""
    out, _ = tiny_lm
    model = shutil.copytree(out, tmp_path / "lm")
    if vocabulary == "reordered":  # the same tokens, two swapped: every id of theirs would name the other word
        vocabulary = json.loads((model / "vocabulary.json").read_text())
        vocabulary[2], vocabulary[3] = vocabulary[3], vocabulary[2]
    (model / "vocabulary.json").write_text(json.dumps(vocabulary))
    if "rows" in problem:  # as a directory written before engine.json recorded the vocabulary's digest
        recorded = json.loads((model / "engine.json").read_text())
        (model / "engine.json").write_text(json.dumps({k: v for k, v in recorded.items() if k != "vocabulary_sha256"}))
    assert one_line(CliRunner().invoke(cli, ["guess", "--model", str(model), "--engine", "keras", FRANCE])) == (
        f"Error: {model / 'vocabulary.json'} {problem.format(model=model)}: "
        + ("restore it, or " if "rows" in problem else "restore it, " if "digest" in problem else "")
        + "retrain the language model with `sentiment-rnn pretrain`.\n"
    )


def snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_pretrain_replaces_only_what_its_manifest_lists_and_refuses_before_reading(tiny_lm, toy_corpus, tmp_path):
    import hashlib

    out, _ = tiny_lm
    manifest = json.loads((out / "manifest.json").read_text())
    files = {p.name: p.read_bytes() for p in out.iterdir() if p.name != "manifest.json"}
    assert {name: entry["sha256"] for name, entry in manifest["entries"].items()} == {
        name: hashlib.sha256(data).hexdigest() for name, data in files.items()
    }
    fifo = tmp_path / "texts.txt"
    os.mkfifo(fifo)  # were the corpus read before --out is checked, this would be the error
    mine = tmp_path / "mydata"
    mine.mkdir()
    (mine / "notes.txt").write_text("my notes, not a model\n")
    copy = shutil.copytree(out, tmp_path / "lm")
    (copy / "notes.txt").write_text("my notes, not a model\n")
    before = snapshot(tmp_path)
    assert one_line(CliRunner().invoke(cli, [*PRETRAIN, "--data", str(fifo), "--out", str(mine)])) == (
        f"Error: {mine} already exists and is not a sentiment-rnn model directory: pass a new path to --out "
        "(nothing in it was changed).\n"
    )
    assert one_line(CliRunner().invoke(cli, [*PRETRAIN, "--data", str(fifo), "--out", str(copy)])) == (
        f"Error: {copy} holds files sentiment-rnn did not write (notes.txt): move them out or pass a new path to "
        "--out (nothing was changed).\n"
    )
    assert snapshot(tmp_path) == before and sorted(os.listdir(tmp_path)) == ["lm", "mydata", "texts.txt"]
    (copy / "notes.txt").unlink()  # now all of it is the tool's: a new run replaces it
    result = CliRunner().invoke(cli, [*PRETRAIN, "--data", str(toy_corpus), "--out", str(copy), "--epochs", "1"])
    assert result.exit_code == 0, result.output
    assert sorted(os.listdir(tmp_path)) == ["lm", "mydata", "texts.txt"]  # no lock, backup or staging left
    assert len((copy / "history.csv").read_text().splitlines()) == 2  # the new run's one epoch
    assert sorted(json.loads((copy / "manifest.json").read_text())["entries"]) == sorted(files)


def test_a_second_pretrain_into_a_locked_out_is_refused_naming_the_pid(toy_corpus, tmp_path):
    out = tmp_path / "lm"
    with lock_held_elsewhere(out) as holder:
        result = CliRunner().invoke(cli, [*PRETRAIN, "--data", str(toy_corpus), "--out", str(out)])
        assert one_line(result) == (
            f"Error: Another sentiment-rnn run (pid {holder.pid}) is writing {out}: "
            "wait for it to finish or choose another --out.\n"
        )
    assert sorted(os.listdir(tmp_path)) == []  # the holder's lock is gone with it; pretrain left nothing


FINETUNE = ["model.cell=gru", "model.units=24", "model.output_dim=12", "tokenizer.max_tokens=64", "train.patience=5"]


def weights_after_each_epoch(config, split) -> list[dict[str, list[np.ndarray]]]:
    """Fit ``config`` on ``split``; the head's, recurrent layer's and embedding's weights as each epoch ended."""
    import keras

    from sentiment_rnn.models import EMBEDDING_LAYER, HEAD_LAYER, recurrent_layer_name
    from sentiment_rnn.training.fit import fit

    layers = {"head": HEAD_LAYER, "recurrent": recurrent_layer_name(0), "embedding": EMBEDDING_LAYER}
    seen = []

    class Recorder(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):  # self.model: the token-id model fit trains
            seen.append(
                {key: [w.copy() for w in self.model.get_layer(name).get_weights()] for key, name in layers.items()}
            )

    fit(config, split, verbose=0, callbacks=[Recorder()])
    return seen


def changed(before: list[np.ndarray], after: list[np.ndarray]) -> bool:
    return any(not np.array_equal(a, b) for a, b in zip(before, after))


def test_gradual_unfreezing_thaws_one_layer_group_per_epoch_from_the_top(tiny_lm):
    from sentiment_rnn.artifact.model_directory import open_model_dir

    out, _ = tiny_lm
    lm = open_model_dir(out).numpy_engine
    config = load_config(
        overrides=[*FINETUNE, f'model.init_from="{out}"', "train.gradual_unfreezing=true", "train.epochs=3"]
    )
    first, second, third = weights_after_each_epoch(config, tiny_split())
    pretrained_recurrent = [lm.layers[0].forward.kernel, lm.layers[0].forward.recurrent_kernel]
    # epoch 1: the head alone learned; the language model's layers are exactly as it left them
    np.testing.assert_array_equal(first["embedding"][0], lm.embedding)
    np.testing.assert_array_equal(first["recurrent"][0], pretrained_recurrent[0])
    np.testing.assert_array_equal(first["recurrent"][1], pretrained_recurrent[1])
    # epoch 2: the recurrent layer thawed too, the embedding not yet; epoch 3: everything learns
    assert changed(first["head"], second["head"]) and changed(first["recurrent"], second["recurrent"])
    np.testing.assert_array_equal(second["embedding"][0], lm.embedding)
    assert changed(second["embedding"], third["embedding"])


def test_discriminative_rates_move_the_lower_layers_less(tiny_lm):
    from sentiment_rnn.artifact.model_directory import open_model_dir

    out, _ = tiny_lm
    base = [*FINETUNE, f'model.init_from="{out}"', "train.epochs=1"]
    [plain] = weights_after_each_epoch(load_config(overrides=base), tiny_split())
    [slowed] = weights_after_each_epoch(load_config(overrides=[*base, "train.discriminative=1000"]), tiny_split())
    lm = open_model_dir(out).numpy_engine

    def moved(weights):
        return float(np.abs(weights["embedding"][0] - lm.embedding).max())

    # Adam steps about learning_rate per weight whatever the gradient's size: the embedding, two groups
    # below the head, steps a millionth of that with the factor 1000
    assert moved(plain) > 1e-3
    assert moved(slowed) < moved(plain) * 1e-4
    # the head, the top group, is not slowed: its weights grow about as large either way
    assert np.abs(slowed["head"][0]).max() == pytest.approx(np.abs(plain["head"][0]).max(), rel=0.5)


def test_the_one_cycle_schedule_warms_up_then_falls():
    from sentiment_rnn.training.optimizer import learning_rate, make_optimizer

    config = load_config(overrides=["train.schedule=one-cycle", "train.learning_rate=0.01", "train.epochs=10"])
    schedule = learning_rate(config, steps_per_epoch=100)  # 1,000 steps, 100 warming up
    rates = [float(schedule(step)) for step in (0, 50, 100, 550, 1000)]
    np.testing.assert_allclose(rates, [0.0004, 0.0052, 0.01, 0.00505, 0.0001], rtol=1e-5)
    assert float(make_optimizer(load_config()).learning_rate) == pytest.approx(0.003)  # constant by default


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["train.schedule=linear"], "Config key train.schedule must be one of constant, one-cycle, got 'linear'."),
        (["train.discriminative=0.5"], "Config key train.discriminative must be at least 1, got 0.5."),
        (
            ["train.gradual_unfreezing=true", "train.distribute=mirrored"],
            'Config sets train.gradual_unfreezing with train.distribute = "mirrored": the distributed loop does '
            'not thaw layers epoch by epoch. Set train.gradual_unfreezing = false or train.distribute = "none".',
        ),
        (
            ['model.kind="lm"', "train.discriminative=2.6"],
            'Config sets train.discriminative with model.kind = "lm": a language model reads its text forwards '
            "as one stream (always streamed, never an ensemble) and guesses the next word. Drop train.discriminative.",
        ),
    ],
)
def test_fine_tuning_keys_are_checked(overrides, message):
    with pytest.raises(SentimentError) as info:
        load_config(overrides=overrides)
    assert str(info.value) == message


@pytest.mark.parametrize(
    "args",
    [["predict", "the film is good"], ["predict", "--per-token", "the film"], ["predict", "--engine", "keras", "good"]],
    ids=["predict", "per-token", "keras"],
)
def test_predict_refuses_a_language_model_with_one_line(tiny_lm, args):
    out, _ = tiny_lm
    result = CliRunner().invoke(cli, [*args, "--model", str(out)])
    assert one_line(result) == (
        f"Error: {out} is a language model: it guesses words, not sentiment. Ask it with "
        f'`sentiment-rnn guess --model {out} "text"`, or give a classifier (e.g. --model reviews-en).\n'
    )


def test_evaluate_refuses_a_language_model_with_one_line(tiny_lm, tmp_path):
    out, _ = tiny_lm
    data = write_csv(tmp_path / "d.csv", [("a good film", 1), ("a bad film", 0)])
    result = CliRunner().invoke(cli, ["evaluate", "--model", str(out), "--data", str(data)])
    assert one_line(result).startswith(f"Error: {out} is a language model: it guesses words, not sentiment.")
