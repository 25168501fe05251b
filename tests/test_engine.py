"""The NumPy engine: same probabilities as Keras, streaming, the per-token view and the worked example."""

from __future__ import annotations

import io
import random
import sys
import unicodedata

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from model_factory import randomized_model

from conftest import PATHS_ATOL
from sentiment_rnn.artifact.engine_files import architecture_of, engine_from_keras, weight_names, weights_of
from sentiment_rnn.demo import DEMO_B, DEMO_U, DEMO_V, DEMO_W, forward_demo
from sentiment_rnn.engine.cells import SimpleRNNCell, recurrence, reverse_each
from sentiment_rnn.engine.models import BIDIRECTIONAL_STREAM_ERROR
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.text import (
    SEPARATOR_CATEGORIES,
    SEPARATORS,
    last_separator,
    standardize,
    stream_tokens,
    text_blocks,
    token_chunks,
    tokenize_py,
)

EDGE_CASES = [
    "",
    " ",
    "\t\n\r",
    "good",
    "GOOD",
    "no",
    "No, this phone is good",
    "This phone is no good",
    "this phone is no good.",
    "I don't like it!!",
    "'quoted' words and 'edges' ''",
    "rock'n'roll isn't dead'",
    "ÉCRAN Très BIEN, İstanbul ΣΟΦΙΑ ΟΔΟΣ σοφός",
    "Σ ΟΔΟΣ. ΟΔΟΣ.Α ΟΔΟΣ'Α ΟΔΟΣ,Α ΟΔΟΣ\u2028Α ΆΣ",
    "emoji 👍🏽 and 👨‍👩‍👧 family 🙂🙂",
    "👍",
    "record\u001cgroup\u001dunit\u001esep next\u0085line\u2028ls\u2029ps",
    "\u001c\u001d\u001e\u0085\u2028\u2029",
    "nul\x00bell\x07del\x7fc1\x9f",
    "nbsp\u00a0ideographic\u3000space\u2009thin\u202fnarrow",
    "price: $5.99 (cheap) [really] {yes} <no> a/b a\\b a|b ~x ^y `z` @me #tag %50 &more *star* _under_ +plus",
    "!!!???...,,,;;;",
    "ünïcödé ‘curly’ “quotes” — dash … ellipsis",
    "unknownword anotherone zzz",
    "x" * 3000,
    "the battery is not bad at all, " * 80,
    "no " * 300 + "good",
]
WORDS = [
    *"this phone is no good not bad at all the battery i don't like screen it's awful écran très bien super".split(),
    "great",
    "sound",
    "fair",
    "price",
    "unknown",
    "Phone",
    "GOOD",
    "İstanbul",
    "ΣΟΦΙΑ",
    "naïve",
    "'tis",
    "it''s",
    "👍",
    "🙂",
    "👨‍👩‍👧",
    "123",
    "$5",
]
GLUE = [
    " ",
    " ",
    " ",
    "  ",
    "",
    ",",
    ", ",
    ".",
    "!",
    "?",
    "'",
    "\t",
    "\n",
    "-",
    "\u00a0",
    *"\u001c\u001d\u001e\u0085\u2028\u2029",
]


def varied_strings(n: int = 200, seed: int = 7) -> list[str]:
    """``n`` seeded random strings of words, punctuation and separators, then the edge cases."""
    rng = random.Random(seed)
    strings = []
    for _ in range(n):
        pieces = []
        for _ in range(rng.choice([0, 1, 2, 3, 5, 8, 13, 21, 40])):
            pieces += [rng.choice(WORDS), rng.choice(GLUE)]
        strings.append("".join(pieces))
    return strings + EDGE_CASES


STRINGS = varied_strings()

RECURRENT = [
    ("model.cell=simple",),
    ("model.cell=gru",),
    ("model.cell=lstm",),
    ("model.cell=simple", "model.layers=2"),
    ("model.cell=gru", "model.layers=2", "model.bidirectional=true", "model.merge_mode=concat"),
    ("model.cell=lstm", "model.layers=2", "model.bidirectional=true", "model.merge_mode=sum"),
    ("model.cell=simple", "model.bidirectional=true", "model.merge_mode=mul"),
    ("model.cell=gru", "model.bidirectional=true", "model.merge_mode=ave"),
    ("model.cell=lstm", "tokenizer.output_sequence_length=5"),
    ("model.cell=gru", "model.pooling=max"),
    ("model.cell=simple", "model.layers=2", "model.bidirectional=true", "model.pooling=max"),
    ("model.cell=lstm", "model.pooling=mean", "tokenizer.output_sequence_length=5"),
    ("model.cell=gru", "model.pooling=concat"),
    ("model.cell=lstm", "model.bidirectional=true", "model.pooling=concat", "tokenizer.output_sequence_length=5"),
]
BAG_OF_WORDS = [
    ("model.kind=bow", "model.ngrams=2", "model.hidden_layers=2"),
    ("model.kind=bow", "model.hidden_layers=0"),
]


def keras_probabilities(model, texts: list[str]) -> np.ndarray:
    from sentiment_rnn.inference import keras_predict_proba

    return keras_predict_proba(model, texts, batch_size=64)


def test_the_varied_strings_are_varied():
    assert len(STRINGS) >= 200
    assert len(set(STRINGS)) > 190
    lengths = [len(tokenize_py(s)) for s in STRINGS]
    assert min(lengths) == 0 and max(lengths) > 500
    for char in "\u001c\u001d\u001e\u0085\u2028\u2029👍\t":
        assert sum(char in s for s in STRINGS) >= 3, repr(char)


@pytest.mark.parametrize("overrides", RECURRENT + BAG_OF_WORDS, ids=" ".join)
def test_numpy_engine_matches_keras_on_varied_strings(overrides):
    model, config = randomized_model(*overrides)
    engine = engine_from_keras(model, config)
    expected = keras_probabilities(model, STRINGS)
    actual = engine.predict_proba(STRINGS)
    assert actual.shape == (len(STRINGS),) and actual.dtype == np.float64
    assert expected.std() > 0.01  # the weights make the answers differ from text to text
    np.testing.assert_allclose(actual, expected, atol=1e-5, rtol=0)
    # Batching never changes an answer: one text at a time gives the same.
    alone = np.array([engine.predict_proba([text])[0] for text in STRINGS[:40]])
    np.testing.assert_allclose(alone, actual[:40], atol=1e-6, rtol=0)


@pytest.mark.parametrize("overrides", RECURRENT + BAG_OF_WORDS, ids=" ".join)
def test_weights_npz_holds_the_arrays_engine_json_names(overrides):
    model, config = randomized_model(*overrides)
    assert sorted(weights_of(model, config.model)) == sorted(weight_names(architecture_of(config)))


@pytest.mark.parametrize("overrides", RECURRENT, ids=" ".join)
def test_per_token_view_matches_keras_return_sequences(overrides):
    import tensorflow as tf

    from sentiment_rnn.models import with_view

    model, config = randomized_model(*overrides)
    engine = engine_from_keras(model, config)
    texts = [s for s in STRINGS if 0 < len(tokenize_py(s)) < 60][:24]
    steps = np.asarray(with_view(model, config.model, return_sequences=True).predict_on_batch(tf.constant(texts)))
    for row, text in zip(steps, texts):
        tokens, probabilities = engine.per_token(text)
        limit = config.tokenizer.output_sequence_length or None
        assert tokens == tokenize_py(text)[:limit]
        np.testing.assert_allclose(probabilities, row[: len(tokens), 0], atol=1e-5, rtol=0)
        if not config.model.bidirectional:  # the last step is the many-to-one answer (pooled or not)
            assert abs(probabilities[-1] - engine.predict_proba([text])[0]) < 1e-6


def test_tokenizer_twins_agree_on_the_varied_strings():
    import tensorflow as tf

    tf_tokens = [
        [t.decode("utf-8") for t in row] for row in tf.strings.split(standardize(tf.constant(STRINGS))).to_list()
    ]
    assert tf_tokens == [tokenize_py(text) for text in STRINGS]


def test_fast_tokenizer_equals_standardize_then_split():
    from sentiment_rnn.text import standardize_py

    apostrophes = "a'b' 'c ''' x,'y y', z!'w' ''a'' '!' ',' 'don't'"
    for text in [*STRINGS, apostrophes]:
        assert tokenize_py(text) == standardize_py(text).split(), repr(text)
    assert tokenize_py(apostrophes) == ["a'b", "c", "x", ",", "y", "y", ",", "z", "!", "w", "a", "!", ",", "don't"]


def test_token_ids_match_the_keras_vectorizer():
    import tensorflow as tf

    model, config = randomized_model("model.cell=gru")
    engine = engine_from_keras(model, config)
    ids = model.get_layer("tokenizer")(tf.constant(STRINGS)).numpy()
    for row, text in zip(ids, STRINGS):
        expected = engine.token_ids(text)
        assert row[: len(expected)].tolist() == expected
        assert not row[len(expected) :].any()
    assert engine.token_ids("zzzunknown good") == [1, engine.vocabulary.ids["good"]]


def test_separator_table_lists_every_separator_character():
    every = {chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) in SEPARATOR_CATEGORIES}
    assert set(SEPARATORS) == every
    assert {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()} <= every


# ---------------------------------------------------------------- the recurrence


def test_recurrence_leaves_finished_rows_alone():
    """Rows sorted by length: a short row's state is what it was after its own last token."""
    rng = np.random.default_rng(1)
    cell = SimpleRNNCell(rng.normal(size=(3, 4)), rng.normal(size=(4, 4)), rng.normal(size=4))
    x = rng.normal(size=(3, 5, 3)).astype(np.float32)
    lengths = np.array([5, 2, 0])
    outputs, (state,) = recurrence(cell, cell.project(x), lengths, cell.initial_state(3), return_sequences=True)
    for row, length in enumerate(lengths):
        alone = cell.initial_state(1)
        for t in range(length):
            alone = cell.step(cell.project(x[row : row + 1, t]), alone)
            np.testing.assert_allclose(outputs[row, t], alone[0][0], atol=1e-6)
        np.testing.assert_allclose(state[row], alone[0][0], atol=1e-6)
        assert not outputs[row, length:].any()


def test_reverse_each_reverses_only_real_steps():
    x = np.arange(8).reshape(2, 4)
    assert reverse_each(x, np.array([4, 2])).tolist() == [[3, 2, 1, 0], [5, 4, 6, 7]]
    np.testing.assert_array_equal(reverse_each(reverse_each(x, np.array([3, 1])), np.array([3, 1])), x)


# ---------------------------------------------------------------- streaming


LONG_TEXT = "".join(
    f"The battery{',' if i % 3 else ''} is 'not' bad\u2028at all; I don't like\u001cthe SCREEN. écran {i % 7} 👍 "
    for i in range(40)
)


@pytest.mark.parametrize("block_chars", [1, 7, 64, 1 << 16])
def test_blocks_cut_between_tokens(block_chars):
    blocks = list(text_blocks(io.StringIO(LONG_TEXT), block_chars))
    assert "".join(blocks) == LONG_TEXT
    assert all(last_separator(block) == len(block) - 1 for block in blocks[:-1])
    assert list(stream_tokens(io.StringIO(LONG_TEXT), block_chars)) == tokenize_py(LONG_TEXT)


def test_a_giant_token_is_one_block():
    text = "y" * 100 + " " + "z" * 50
    assert list(text_blocks(io.StringIO(text), 8)) == ["y" * 100 + " ", "z" * 50]


def test_token_chunks_sizes_and_limit():
    tokens = [str(i) for i in range(10)]
    assert [len(c) for c in token_chunks(tokens, 4)] == [4, 4, 2]
    assert [len(c) for c in token_chunks(tokens, 4, limit=5)] == [4, 1]
    assert list(token_chunks([], 4)) == []


@pytest.mark.parametrize("cell", ["simple", "gru", "lstm"])
def test_numpy_stream_equals_one_shot(cell):
    model, config = randomized_model(f"model.cell={cell}", "model.layers=2")
    engine = engine_from_keras(model, config)
    one_shot = engine.predict_proba([LONG_TEXT])[0]
    for chunk_tokens, block_chars in [(1, 5), (13, 64), (10_000, 1 << 16)]:
        chunks = token_chunks(stream_tokens(io.StringIO(LONG_TEXT), block_chars), chunk_tokens)
        probability, count = engine.stream(engine.vocabulary.encode(chunk) for chunk in chunks)
        assert count == len(tokenize_py(LONG_TEXT))
        assert abs(probability - one_shot) < 1e-6
    assert engine.stream([]) == (pytest.approx(engine.predict_proba([""])[0], abs=1e-7), 0)


def test_numpy_stream_refuses_a_bidirectional_model():
    model, config = randomized_model("model.bidirectional=true")
    with pytest.raises(SentimentError) as info:
        engine_from_keras(model, config).stream([[2, 3]])
    assert str(info.value) == BIDIRECTIONAL_STREAM_ERROR


# ---------------------------------------------------------------- the worked example


def test_forward_demo_reproduces_the_lecture_numbers():
    demo = forward_demo("he")
    np.testing.assert_allclose(demo.steps[0].state, [0.693168, 0.899554, 0.802118], atol=1e-5)
    np.testing.assert_allclose(demo.steps[1].state, [0.936534, 0.949104, 0.762341], atol=1e-5)
    np.testing.assert_allclose(demo.probabilities, [0.419748, 0.194682, 0.162429, 0.223141], atol=1e-5)
    np.testing.assert_allclose(demo.steps[0].input_term, DEMO_U[:, 0], atol=1e-7)  # U x for a one-hot "h"
    np.testing.assert_allclose(demo.steps[1].recurrent_term, DEMO_W * demo.steps[0].state + DEMO_B, atol=1e-6)


def test_forward_demo_matches_keras_simple_rnn():
    import keras

    letters = "hello"
    one_hot = np.eye(4, dtype="float32")[["helo".index(c) for c in letters]][None]  # (1, 5, 4)
    rnn = keras.layers.SimpleRNN(3, return_sequences=True)
    rnn.build((1, None, 4))
    rnn.set_weights([DEMO_U.T, DEMO_W * np.eye(3), np.full(3, DEMO_B)])
    states = np.asarray(rnn(one_hot))[0]
    output = keras.layers.Dense(4, activation="softmax")
    output.build((1, 3))
    output.set_weights([DEMO_V.T, np.zeros(4)])
    demo = forward_demo(letters)
    np.testing.assert_allclose([step.state for step in demo.steps], states, atol=1e-6)
    np.testing.assert_allclose(demo.probabilities, np.asarray(output(states[-1:]))[0], atol=1e-6)


def test_forward_demo_refuses_other_letters():
    with pytest.raises(SentimentError, match=r"^The demo reads letters from \{h, e, l, o\}, got 'hex': "):
        forward_demo("hex")


def test_batch_tokenizer_equals_the_one_text_tokenizer():
    from sentiment_rnn.text import TEXT_END, tokenize_batch

    apostrophes = "a'b' 'c ''' x,'y y', z!'w' ''a'' '!' ',' 'don't'"
    texts = [s for s in [*STRINGS, apostrophes, "", "ΣΑΣ ΟΔΟΣ", "'", "x'\t'y"] if "\n" not in s]
    expected = [token for text in texts for token in [*tokenize_py(text), TEXT_END]]
    assert tokenize_batch(texts) == expected
    assert tokenize_batch(["one\ntwo"]) is None  # a newline inside a text: tokenized one by one


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12), max_size=6))
def test_batch_tokenizer_equals_the_one_text_tokenizer_on_any_text(texts):
    from sentiment_rnn.text import TEXT_END, tokenize_batch

    tokens = tokenize_batch(texts)
    if any("\n" in text for text in texts):
        assert tokens is None
    else:
        assert tokens == [token for text in texts for token in [*tokenize_py(text), TEXT_END]]


@pytest.mark.parametrize("limit", [0, 3])
def test_encode_in_one_batch_equals_text_by_text(limit):
    model, config = randomized_model(f"tokenizer.output_sequence_length={limit}")
    engine = engine_from_keras(model, config)
    texts = ["this phone is no good at all, really", "", "good", "écran très bien 👍 super nice phone"]
    flat, lengths = engine.encode(texts)
    expected = [engine.token_ids(text) for text in texts]
    assert lengths.tolist() == [len(ids) for ids in expected]
    assert flat.tolist() == [i for ids in expected for i in ids]
    with_newline, newline_lengths = engine.encode([*texts, "two\nlines"])  # the text-by-text path
    assert with_newline.tolist()[: len(flat)] == flat.tolist() and newline_lengths.tolist()[-1] == 2


@pytest.mark.parametrize("hidden_layers", [0, 1])
def test_bag_of_words_gives_equal_bags_bit_for_bit_equal_answers(hidden_layers):
    """Words in any order are the same bag: the engine sums its kernel rows in one order and runs each bag once."""
    from sentiment_rnn.engine.models import NumpyBagOfWordsEngine, Vocabulary

    words = [f"w{i}" for i in range(200)]
    rng = np.random.default_rng(0)
    sizes = [(len(words) + 2, 16), (16, 1)][: hidden_layers + 1] if hidden_layers else [(len(words) + 2, 1)]
    layers = [(rng.normal(0.0, 0.5, size).astype(np.float32), np.zeros(size[1], np.float32)) for size in sizes]
    engine = NumpyBagOfWordsEngine(Vocabulary(["", "[UNK]", *words]), 1, layers)
    # ids 2 apart by multiples of 32 and 8 share buckets of a small set: its order follows the insertion order
    bag = ["w0", "w32", "w64", "w96", "w8", "w40", "w72", "w1", "w33"]
    orders = [" ".join(rng.permutation(bag)) for _ in range(30)]
    others = [" ".join(rng.choice(words, 5)) for _ in range(30)]
    batch = [text for pair in zip(others, orders) for text in pair]
    answers = engine.predict_proba(batch)[1::2]
    alone = [engine.predict_proba([text])[0] for text in orders]
    assert len(set(answers.tolist())) == 1 and len(set(alone)) == 1  # bit for bit, in one batch and alone
    # a batch of 60 and a batch of 1 are two paths through the hidden layers' matrix products
    np.testing.assert_allclose(alone, answers, rtol=0, atol=PATHS_ATOL)
