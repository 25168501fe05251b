"""The wide n-gram table (engine.ngrams): exactly the columns of token_ngrams + the dict, text by text."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sentiment_rnn.engine import encoding, hybrid
from sentiment_rnn.engine.hybrid import NumpyHybridEngine, WideVocabulary
from sentiment_rnn.engine.models import NumpyRecurrentEngine, Vocabulary
from sentiment_rnn.engine.ngrams import IntTable, NgramTable
from sentiment_rnn.text import OOV_TOKEN, PUNCTUATION, SEPARATORS, token_ngrams, tokenize_py

LONG = "abcdefghijklmnopq"  # 17 bytes: three 8-byte words
TRICKY = SEPARATORS + PUNCTUATION + "'''\n\nΣσςΟΔİIKaé👍" + LONG
characters = st.one_of(st.characters(), st.characters(categories=["Cs"]), st.sampled_from(TRICKY))
words = st.one_of(st.sampled_from(["a", "b", "good", "no", "don't", LONG, ",", "!"]), st.text(characters, max_size=6))
texts_strategy = st.lists(st.lists(words, max_size=8).map(" ".join) | st.text(characters, max_size=20), max_size=8)
ODD_ENTRIES = ["a  b", " a", "a ", "", "a b c d e", "good good", "no good", f"{LONG} {LONG}", "b a", "A", "a\tb"]


def dict_pairs(vocabulary: Vocabulary, texts: list[str], ngrams: int) -> set[tuple[int, int]]:
    """The reference: each text's distinct columns of its n-gram strings in the dict."""
    return {
        (row, column)
        for row, text in enumerate(texts)
        for column in vocabulary.encode(token_ngrams(tokenize_py(text), ngrams))
    }


def table_pairs(table: NgramTable, texts: list[str]) -> list[tuple[int, int]]:
    pairs = []
    for start, stop, rows, columns in table.columns(texts):
        assert rows.dtype == columns.dtype == np.int64
        assert np.all(np.diff(rows) >= 0) and np.all((rows >= 0) & (rows < stop - start))
        keys = rows * (columns.max(initial=0) + 1) + columns
        assert np.all(np.diff(keys) > 0)  # text by text, columns ascending, each once
        pairs += zip((rows + start).tolist(), columns.tolist())
    return pairs


def wide_vocabulary_for(texts: list[str], ngrams: int) -> Vocabulary:
    """[UNK], every other distinct n-gram of the texts (some known, some not), and entries no n-gram equals."""
    grams = sorted({gram for text in texts for gram in token_ngrams(tokenize_py(text), ngrams)})
    return Vocabulary([OOV_TOKEN, *dict.fromkeys([*grams[::2], *ODD_ENTRIES])])


@settings(max_examples=300, deadline=None)
@given(texts_strategy, st.sampled_from([1, 2, 3]))
def test_the_table_gives_the_dicts_columns_on_any_texts(texts, ngrams):
    vocabulary = wide_vocabulary_for(texts, ngrams)
    table = NgramTable.build(vocabulary.tokens, ngrams, vocabulary.oov_id)
    pairs = table_pairs(table, texts)
    assert len(pairs) == len(set(pairs))
    assert set(pairs) == dict_pairs(vocabulary, texts, ngrams)


@settings(max_examples=100, deadline=None)
@given(texts_strategy, st.sampled_from([1, 3, 40]))
def test_chunk_boundaries_change_no_column(texts, chunk_chars):
    vocabulary = wide_vocabulary_for(texts, 2)
    table = NgramTable.build(vocabulary.tokens, 2, vocabulary.oov_id)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(encoding, "CHUNK_CHARS", chunk_chars)
        assert set(table_pairs(table, texts)) == dict_pairs(vocabulary, texts, 2)


def test_ngrams_do_not_cross_texts_and_a_prefix_alone_is_unknown():
    vocabulary = Vocabulary([OOV_TOKEN, "a", "b", "a b c", "c"])  # "a b" is only the prefix of "a b c"
    table = NgramTable.build(vocabulary.tokens, 3, vocabulary.oov_id)
    # "a" then "b" in the next text: no bigram; "a b" in one text: unknown ([UNK], column 0).
    assert table_pairs(table, ["a", "b", "a b", "x a b c"]) == [(0, 1), (1, 2), (2, 0), (2, 1), (2, 2)] + [
        (3, 0),
        (3, 1),
        (3, 2),
        (3, 3),
        (3, 4),
    ]


def test_duplicate_entries_take_the_dict():
    assert NgramTable.build([OOV_TOKEN, "good", "good"], 2, 0) is None


def test_int_table_finds_every_key_and_nothing_else():
    keys = np.arange(0, 30000, 3, dtype=np.int64) * 7919  # many keys: probing runs
    table = IntTable(keys, np.arange(len(keys)) + 5)
    queries = np.concatenate([keys, keys + 1, np.array([0, 1, 2**40])])
    expected = np.concatenate([np.arange(len(keys)) + 5, np.full(len(keys), -1), [5, -1, -1]])
    assert table.lookup(queries).tolist() == expected.tolist()
    assert IntTable(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)).lookup(keys[:3]).tolist() == [-1] * 3


def hybrid_engine(entries: list[str], ngrams: int) -> NumpyHybridEngine:
    """A hybrid engine for the wide branch only: random weights, a recurrent branch with no layers."""
    recurrent = NumpyRecurrentEngine(Vocabulary(["", OOV_TOKEN]), np.zeros((2, 2)), [], np.zeros((2, 1)), np.zeros(1))
    kernel = np.random.default_rng(0).normal(size=(len(entries), 1))
    return NumpyHybridEngine(recurrent, WideVocabulary.from_grams(entries), ngrams, kernel)


@settings(max_examples=50, deadline=None)
@given(texts_strategy)
def test_a_texts_wide_logit_is_the_same_in_any_batch(texts):
    engine = hybrid_engine(wide_vocabulary_for(texts, 2).tokens, 2)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(hybrid, "SEARCH_UP_TO_NGRAMS", 10**9)
        searched = engine.wide_logits(texts)
        one_by_one = [engine.wide_logits([text])[0] for text in texts]
        assert not engine.wide_vocabulary.has_dict
        patch.setattr(hybrid, "NGRAM_TABLE_FROM_TEXTS", 0)
        from_table = engine.wide_logits(texts)
        patch.setattr(hybrid, "NGRAM_TABLE_FROM_TEXTS", 10**9)
        from_dict = engine.wide_logits(texts, batch_size=3)
    assert from_table.dtype == searched.dtype == np.float32
    assert from_table.tolist() == from_dict.tolist() == searched.tolist() == one_by_one  # bit for bit


@settings(max_examples=200, deadline=None)
@given(texts_strategy, st.sampled_from([1, 2, 3]))
def test_searching_the_lines_gives_the_dicts_columns(texts, ngrams):
    vocabulary = wide_vocabulary_for(texts, ngrams)
    lines = WideVocabulary.from_grams(vocabulary.tokens)
    grams = [gram for text in texts for gram in token_ngrams(tokenize_py(text), ngrams)]
    queries = [*grams, *vocabulary.tokens[1:], "a", "b", "good", "x y", "[UNK]"]
    assert len(lines) == len(vocabulary)
    assert lines.oov_id == vocabulary.oov_id == 0
    assert lines.search(queries) == vocabulary.encode(queries)
    assert lines.vocabulary.tokens == vocabulary.tokens


def test_a_search_matches_whole_lines_only():
    lines = WideVocabulary.from_grams(["good good", OOV_TOKEN, "no good", "good"])
    assert lines.oov_id == 1  # [UNK] not first: found by its line
    assert lines.search(["good", "no", "good good", "od", "no good", "good no"]) == [3, 1, 0, 1, 2, 1]
    assert lines.search(["no"], default=-1) == [-1]
    assert WideVocabulary.from_grams(["x"]).oov_id == 1  # no [UNK]: id 1, as Vocabulary gives
    empty = WideVocabulary(b"")
    assert len(empty) == 0 and empty.search(["a"]) == [1] and empty.vocabulary.tokens == []


def test_the_wide_logit_sums_each_distinct_column_once():
    engine = hybrid_engine([OOV_TOKEN, "good", "good good", "no"], 2)
    kernel = engine.wide_kernel[:, 0].astype(np.float64)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(hybrid, "NGRAM_TABLE_FROM_TEXTS", 0)
        logits = engine.wide_logits(["good good good zzz", "", "no no"])
    assert logits.tolist() == np.float32([kernel[0] + kernel[1] + kernel[2], 0, kernel[0] + kernel[3]]).tolist()
