"""The array encoder (engine.encoding): exactly the ids of tokenize_py + Vocabulary.encode, text by text."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sentiment_rnn.engine import encoding
from sentiment_rnn.engine.encoding import TokenTable, split_chunk
from sentiment_rnn.engine.models import TOKEN_TABLE_FROM_TEXTS, NumpyRecurrentEngine, Vocabulary
from sentiment_rnn.text import OOV_TOKEN, PADDING_TOKEN, PUNCTUATION, SEPARATORS, tokenize_py

LONG = "abcdefghijklmnopq"  # 17 bytes: three 8-byte words
TRICKY = SEPARATORS + PUNCTUATION + "'''\n\nΣσςΟΔİIKKaxé👍" + LONG
characters = st.one_of(
    st.characters(),  # any code point but surrogates
    st.characters(categories=["Cs"]),  # lone surrogates: str holds them, tokens may too
    st.sampled_from(TRICKY),
)
text_lists = st.lists(st.text(characters, max_size=20), max_size=8)


def old_ids(vocabulary: Vocabulary, texts: list[str], limit: int = 0) -> tuple[list[int], list[int]]:
    """The reference: tokenize_py and the dict, text by text (truncated to ``limit`` tokens if > 0)."""
    per_text = [vocabulary.encode(tokenize_py(text)[: limit or None]) for text in texts]
    return [i for ids in per_text for i in ids], [len(ids) for ids in per_text]


def engine(vocabulary: Vocabulary, limit: int = 0) -> NumpyRecurrentEngine:
    """An engine for encoding only (no layers)."""
    width = np.zeros((len(vocabulary), 2))
    return NumpyRecurrentEngine(vocabulary, width, [], np.zeros((2, 1)), np.zeros(1), output_sequence_length=limit)


def vocabulary_for(texts: list[str]) -> Vocabulary:
    """Every other distinct token of the texts (so some are known, some not), and a few fixed ones."""
    tokens = sorted({token for text in texts for token in tokenize_py(text)})
    return Vocabulary([PADDING_TOKEN, OOV_TOKEN, *tokens[::2], "good", LONG, LONG[:8], LONG[:16], "don't"])


def encode(vocabulary: Vocabulary, texts: list[str], limit: int = 0) -> tuple[list[int], list[int]]:
    """The engine's ids through its table (built first, so it is taken for any number of texts)."""
    _ = vocabulary.table
    flat, lengths = engine(vocabulary, limit).encode(texts)
    assert flat.dtype == lengths.dtype == np.int64
    return flat.tolist(), lengths.tolist()


@settings(max_examples=300, deadline=None)
@given(text_lists, st.sampled_from([0, 1, 3]))
def test_encode_gives_the_ids_of_tokenize_py_on_any_texts(texts, limit):
    vocabulary = vocabulary_for(texts)
    assert vocabulary.table is not None
    assert encode(vocabulary, texts, limit) == old_ids(vocabulary, texts, limit)


@settings(max_examples=100, deadline=None)
@given(text_lists, st.sampled_from([0, 2]))
def test_few_texts_take_the_dict_until_the_table_is_built(texts, limit):
    vocabulary = vocabulary_for(texts)
    flat, lengths = engine(vocabulary, limit).encode(texts)
    assert not vocabulary.has_table
    assert (flat.tolist(), lengths.tolist()) == old_ids(vocabulary, texts, limit)


def test_many_texts_build_the_table():
    vocabulary = vocabulary_for(["bad fine"])
    texts = ["good", "bad fine"] * (TOKEN_TABLE_FROM_TEXTS // 2)
    flat, _ = engine(vocabulary).encode(texts)
    assert vocabulary.has_table and vocabulary.table is not None
    assert flat.tolist() == old_ids(vocabulary, texts)[0]


@settings(max_examples=100, deadline=None)
@given(text_lists, st.sampled_from([1, 2, 5, 40]))
def test_chunk_boundaries_change_no_id(texts, chunk_chars):
    vocabulary = vocabulary_for(texts)
    expected = encode(vocabulary, texts, 2)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(encoding, "CHUNK_CHARS", chunk_chars)
        assert encode(vocabulary, texts, 2) == expected


def test_chunks_cover_the_texts_in_order_and_a_long_text_alone():
    texts = ["ab", "c", "", "x" * 50, "d"]
    assert encoding.chunks(texts, 5) == [(0, 2), (2, 3), (3, 4), (4, 5)]  # a text counts its newline
    assert encoding.chunks(texts, 1000) == [(0, 5)]
    assert encoding.chunks([], 5) == []


@pytest.mark.parametrize("separator", SEPARATORS)
def test_every_separator_splits_and_lowercasing_before_it_is_the_same(separator):
    text = f"ΟΔΟΣ{separator}ΟΔΟΣ'{separator}x{separator}Σ{separator}'a'{separator}b,c{separator}"
    texts = [text, text.upper(), separator, ""]
    vocabulary = Vocabulary([PADDING_TOKEN, OOV_TOKEN, "οδος", "οδοσ", "σ", "ς", "a", "x", "b", ",", "c"])
    assert encode(vocabulary, texts) == old_ids(vocabulary, texts)


def test_newlines_inside_texts_are_separators():
    vocabulary = Vocabulary([PADDING_TOKEN, OOV_TOKEN, "one", "two"])
    assert encode(vocabulary, ["one\ntwo", "two", "\n"]) == ([2, 3, 3], [2, 1, 0])


def test_empty_input():
    assert encode(vocabulary_for([]), []) == ([], [])


def test_a_shared_key_never_gives_a_wrong_id(monkeypatch):
    # A token of at most 8 bytes has its bytes as key: only a longer one can share a key.
    # Without mixing, a long token's key is its last 8-byte word: many share it.
    monkeypatch.setattr(encoding, "_MIX", np.uint64(0))
    table = TokenTable.build([LONG])
    text = f"{LONG} q {LONG[:8]}X{LONG[9:]} {'z' * 16}q {LONG}"
    assert table.lookup(split_chunk([text])).tolist() == [0, -1, -1, -1, 0]


def test_a_vocabulary_with_shared_keys_falls_back_to_the_dict(monkeypatch):
    monkeypatch.setattr(encoding, "_MIX", np.uint64(0))
    vocabulary = Vocabulary([PADDING_TOKEN, OOV_TOKEN, LONG, "q"])  # LONG's key is now that of "q"
    assert vocabulary.table is None
    texts = [f"{LONG} q", "q\nline", ""]
    assert encode(vocabulary, texts) == old_ids(vocabulary, texts)


def test_duplicate_tokens_keep_the_dicts_id():
    vocabulary = Vocabulary([PADDING_TOKEN, OOV_TOKEN, "good", "good"])
    assert vocabulary.table is None
    assert encode(vocabulary, ["good"]) == ([3], [1])


def test_the_table_holds_many_tokens_exactly():
    tokens = [f"w{i}" for i in range(5000)] + [f"{LONG}{i}" for i in range(500)]
    vocabulary = Vocabulary([PADDING_TOKEN, OOV_TOKEN, *tokens])
    texts = [" ".join(tokens[i : i + 7]) + f" w{i}x" for i in range(0, len(tokens), 7)]
    assert encode(vocabulary, texts) == old_ids(vocabulary, texts)
