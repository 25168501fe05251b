"""The tokenizer: standardization rules, and the TensorFlow/Python twins agreeing."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sentiment_rnn.text import make_vectorizer, ngram_name, standardize, token_ngrams, tokenize_py

TRICKY = [
    "",
    "   ",
    "No, this phone is good.",
    "This phone is no good",
    "I don't like it!!",
    "'quoted' words and 'edges",
    "rock'n'roll isn't dead'",
    "ÉCRAN Très BIEN, İstanbul ΣΟΦΙΑ",
    "tabs\tand\nnewlines\r\nand\u00a0nbsp",
    "record\u001cgroup\u001dunit\u001esep next\u0085line\u2028ls\u2029ps",
    "emoji 👍🏽 and 👨‍👩‍👧 family",
    "price: $5.99 (cheap) [really] {yes} <no> a/b a\\b a|b ~x ^y `z` @me #tag %50 &more *star* _under_ +plus =eq ?q ;s",
    "ünïcödé ‘curly’ “quotes” — dash … ellipsis",
]


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("No, this phone is good.", ["no", ",", "this", "phone", "is", "good", "."]),
        ("no good", ["no", "good"]),
        ("I don't like it!!", ["i", "don't", "like", "it", "!", "!"]),
        ("'good' isn't 'bad'", ["good", "isn't", "bad"]),
        ("ÉCRAN Très", ["écran", "très"]),
        ("a\u2028b\u001cc\u0085d\u2029e\u001df\u001eg", ["a", "b", "c", "d", "e", "f", "g"]),
        ("", []),
    ],
)
def test_tokenize_py_splits_punctuation_keeps_apostrophes(text, tokens):
    assert tokenize_py(text) == tokens


def test_no_comma_changes_tokens():
    assert tokenize_py("no, good") != tokenize_py("no good")


def test_tensorflow_standardize_matches_python_twin():
    import tensorflow as tf

    tf_tokens = [
        [t.decode("utf-8") for t in row] for row in tf.strings.split(standardize(tf.constant(TRICKY))).to_list()
    ]
    assert tf_tokens == [tokenize_py(text) for text in TRICKY]


def test_vocabulary_with_separator_characters_survives_save_and_load(tmp_path):
    import keras
    import tensorflow as tf

    texts = ["alpha\u001cbeta gamma\u2028delta", "epsilon\u0085zeta\u2029eta \u001dtheta\u001eiota"]
    vectorizer = make_vectorizer(50)
    vectorizer.adapt(tf.constant(texts))
    inputs = keras.Input(shape=(), dtype="string")
    model = keras.Model(inputs, vectorizer(inputs))
    model.save(tmp_path / "m.keras")
    reloaded = keras.saving.load_model(tmp_path / "m.keras")
    assert reloaded.layers[1].get_vocabulary() == vectorizer.get_vocabulary()
    np.testing.assert_array_equal(reloaded(tf.constant(texts)), model(tf.constant(texts)))
    vocabulary = vectorizer.get_vocabulary()
    assert {"alpha", "beta", "delta", "zeta", "iota"} <= set(vocabulary)
    assert json.loads(json.dumps(vocabulary)) == vocabulary


def test_token_ngrams_are_unigrams_then_bigrams_in_reading_order():
    tokens = ["this", "phone", "is", "no", "good"]
    assert token_ngrams(tokens, 1) == tokens
    assert token_ngrams(tokens, 2) == [*tokens, "this phone", "phone is", "is no", "no good"]
    assert token_ngrams(["no", "good"], 3) == ["no", "good", "no good"]
    assert token_ngrams([], 2) == []


def test_ngram_names():
    assert [ngram_name(n) for n in (1, 2, 3)] == ["unigrams", "unigrams and bigrams", "1- to 3-grams"]
    assert [ngram_name(n, unigrams="words") for n in (1, 2)] == ["words", "words and bigrams"]
    assert ngram_name(2, name_bigrams=False) == "1- to 2-grams"
