"""The tokenizer: one standardization, in TensorFlow and in pure Python.

``standardize`` runs inside the saved Keras model (``TextVectorization``);
``standardize_py`` and ``tokenize_py`` are its pure-Python twin, used where
TensorFlow is not loaded. Both apply the same steps, in this order:

1. control characters (Unicode category Cc) and separators (Zs, Zl, Zp) become
   spaces, so no token can contain a line or record separator, which would
   corrupt the vocabulary file on reload;
2. lowercase, Unicode-aware (full case mapping: "İ" becomes "i" + U+0307);
3. every ASCII punctuation character except the apostrophe becomes a token of
   its own ("no, good" -> ``no , good``);
4. apostrophes are kept inside words ("don't") and dropped at the edges of a
   token ("'good'" -> ``good``).

Tokens are then the runs of characters between spaces.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Sequence

# ASCII punctuation without the apostrophe, as a regex character class that
# RE2 (TensorFlow) and Python's re read the same way.
PUNCTUATION_CLASS = r"""[!"#$%&()*+,\-./:;<=>?@\[\\\]^_`{|}~]"""
LEADING_APOSTROPHES = r"(^| )'+"
TRAILING_APOSTROPHES = r"'+( |$)"
SEPARATOR_CATEGORIES = frozenset({"Cc", "Zs", "Zl", "Zp"})

MAX_TOKEN_CHARS = 1024 * 1024  # characters of one token (a run without a separator) read from a stream
PADDING_TOKEN = ""  # id 0, masked
OOV_TOKEN = "[UNK]"  # id 1


def _register(fn):
    import keras

    return keras.saving.register_keras_serializable(package="sentiment_rnn", name=fn.__name__)(fn)


def standardize(texts):
    """TensorFlow standardization used by ``TextVectorization``.

    Args:
        texts: a string tensor of any shape.

    Returns:
        A string tensor of the same shape, standardized as the module says.
    """
    import tensorflow as tf

    # Separators first: tf.strings.lower with an encoding stops at a NUL character
    # and drops the rest of the string; as a space, NUL splits tokens like any other.
    texts = tf.strings.regex_replace(texts, r"[\p{Cc}\p{Zs}\p{Zl}\p{Zp}]", " ")
    texts = tf.strings.lower(texts, encoding="utf-8")
    texts = tf.strings.regex_replace(texts, "(" + PUNCTUATION_CLASS + ")", r" \1 ")
    texts = tf.strings.regex_replace(texts, LEADING_APOSTROPHES, r"\1")
    texts = tf.strings.regex_replace(texts, TRAILING_APOSTROPHES, r"\1")
    return texts


def register_tokenizer_objects() -> None:
    """Register the tokenizer's Keras objects, ``standardize`` and ``AtLeastOneStep``, so saved models load.

    Safe mode stays on: Keras finds these by their registered names instead of
    running code stored in the model file. Called by every vectorizer built
    here and by ``models.register_keras_objects``; idempotent.
    """
    _registered_standardize()
    at_least_one_step_layer()


@functools.cache
def _registered_standardize():
    return _register(standardize)


@functools.cache
def at_least_one_step_layer():
    """The Keras layer class that pads token ids (B, T) to (B, max(T, 1)).

    A batch of texts that all tokenize to nothing (empty strings, only spaces)
    would give T = 0, on which recurrent layers fail; one padding step, masked
    like all padding, gives the same answer as an empty sequence: the head
    applied to the initial state.
    """
    import keras

    @keras.saving.register_keras_serializable(package="sentiment_rnn")
    class AtLeastOneStep(keras.layers.Layer):
        def call(self, token_ids):
            missing = keras.ops.maximum(0, 1 - keras.ops.shape(token_ids)[1])
            return keras.ops.pad(token_ids, [[0, 0], [0, missing]])

        def compute_output_shape(self, input_shape):
            return input_shape

    return AtLeastOneStep


# Every character of Unicode category Cc, Zs, Zl or Zp (tests/test_engine.py
# checks this against unicodedata over all code points).
SEPARATORS = (
    "".join(map(chr, range(0x00, 0x21)))
    + "".join(map(chr, range(0x7F, 0xA1)))
    + "\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000"
)
PUNCTUATION = "".join(c for c in map(chr, range(0x21, 0x7F)) if re.fullmatch(PUNCTUATION_CLASS, c))
_SEPARATOR_SET = frozenset(SEPARATORS)
_TO_SPACE = dict.fromkeys(map(ord, SEPARATORS), " ")
_SPACED_PUNCTUATION = {ord(char): f" {char} " for char in PUNCTUATION}
_LEADING_RE = re.compile(LEADING_APOSTROPHES)
_PIECES_RE = re.compile(f"[^{re.escape(PUNCTUATION)}]+|[{re.escape(PUNCTUATION)}]")
_TRAILING_RE = re.compile(TRAILING_APOSTROPHES)
TEXT_END = "\n"  # ends each text in tokenize_batch's output; never a token (separators split tokens)
_WORD_CHARS = f"[^{re.escape(SEPARATORS + PUNCTUATION)}']"
_BATCH_TOKEN_RE = re.compile(f"{_WORD_CHARS}+(?:'+{_WORD_CHARS}+)*|[{re.escape(PUNCTUATION)}]|\n")


def token_counts(texts):
    """Number of tokens of each text (B,) string -> (B,) int32, as the model's tokenizer splits it."""
    import tensorflow as tf

    return tf.cast(tf.strings.split(standardize(texts)).row_lengths(), tf.int32)


def standardize_py(text: str) -> str:
    """Pure-Python twin of :func:`standardize` for one string.

    ``str.lower`` lowercases the whole string at once, as TensorFlow does, so
    a word-final capital sigma becomes the final form "ς" in both.
    """
    text = text.translate(_TO_SPACE).lower().translate(_SPACED_PUNCTUATION)
    if "'" in text:
        text = _LEADING_RE.sub(r"\1", text)
        text = _TRAILING_RE.sub(r"\1", text)
    return text


def tokenize_py(text: str) -> list[str]:
    """Standardize and split one string into tokens, as ``TextVectorization`` does.

    The same tokens as ``standardize_py(text).split()``, found faster: after
    separators become spaces and the text is lowercased, each space-delimited
    word is a token as it is when it is all letters and digits (most words);
    otherwise it splits into single punctuation characters and the runs
    between them, each stripped of apostrophes at its ends. (Every character
    ``str.isspace`` accepts is a separator, so ``str.split`` splits exactly at
    the spaces.)
    """
    tokens = []
    for word in text.translate(_TO_SPACE).lower().split():
        if word.isalnum():
            tokens.append(word)
            continue
        for piece in _PIECES_RE.findall(word):
            piece = piece.strip("'")
            if piece:
                tokens.append(piece)
    return tokens


def tokenize_batch(texts: list[str]) -> list[str] | None:
    """The tokens of many texts at once, each text's followed by ``TEXT_END``: [tokens of 0, END, tokens of 1, END, ...].

    The same tokens as :func:`tokenize_py` on each text, found by one
    compiled regular expression over the texts joined by newlines and
    lowercased at once (instead of Python work per word): a token is a run of
    characters that are neither separators nor punctuation, apostrophes at
    its ends left out, or a single punctuation character; each joining
    newline is matched as ``TEXT_END``. None when a text holds a newline
    itself: tokenize such texts one by one.
    """
    if not texts:
        return []
    joined = "\n".join(texts) + "\n"
    if joined.count("\n") != len(texts):
        return None
    return _BATCH_TOKEN_RE.findall(joined.lower())


def last_separator(text: str) -> int:
    """Index of the last character that standardizing turns into a space, or -1.

    Cutting a text just after such a character splits no token: tokenizing
    both parts gives the tokens of the whole.
    """
    for index in range(len(text) - 1, -1, -1):
        if text[index] in _SEPARATOR_SET:
            return index
    return -1


def make_vectorizer(max_tokens: int, output_sequence_length: int = 0, **kwargs):
    """Build an unadapted ``TextVectorization`` layer with the project's standardize.

    Args:
        max_tokens: vocabulary size including padding and ``[UNK]``.
        output_sequence_length: pad or truncate to this many tokens; 0 means
            pad each batch to its longest text. Only for ``output_mode="int"``.
        **kwargs: passed to ``TextVectorization`` (e.g. ``output_mode``, ``ngrams``).
    """
    import keras

    register_tokenizer_objects()
    return keras.layers.TextVectorization(
        max_tokens=max_tokens,
        standardize=_registered_standardize(),
        split="whitespace",
        output_sequence_length=output_sequence_length or None,
        **kwargs,
    )


def text_blocks(source, block_chars: int = 1 << 16) -> Iterator[str]:
    """Read a text file object in blocks that end at a token boundary.

    Each block but the last ends just after a separator (a character the
    tokenizer turns into a space), so tokenizing the blocks one by one gives
    the same tokens as tokenizing the whole text. A block longer than
    ``block_chars`` is only ever held when the text has no separator for that
    long (one giant token).
    """
    from sentiment_rnn.errors import SentimentError

    carry: list[str] = []  # text read since the last separator
    carried = 0  # its characters
    while True:
        block = source.read(block_chars)
        if not block:
            break
        cut = last_separator(block) + 1
        if cut == 0:
            carry.append(block)
            carried += len(block)
            if carried > MAX_TOKEN_CHARS:  # one token that never ends: nothing to read but memory to fill
                name = getattr(source, "name", "the document")
                raise SentimentError(
                    f"{name} holds a run of over {MAX_TOKEN_CHARS:,} characters without a space or punctuation: "
                    "that is no text to read; check that it is the file you meant."
                )
            continue
        yield "".join(carry) + block[:cut]
        carry = [block[cut:]]
        carried = len(carry[0])
    if any(carry):
        yield "".join(carry)


def token_chunks(tokens: Iterable[str], chunk_tokens: int, limit: int = 0) -> Iterator[list[str]]:
    """Group tokens into lists of ``chunk_tokens``; stop after ``limit`` tokens if it is positive."""
    chunk: list[str] = []
    count = 0
    for token in tokens:
        if limit and count >= limit:
            break
        chunk.append(token)
        count += 1
        if len(chunk) == chunk_tokens:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def stream_tokens(source, block_chars: int = 1 << 16) -> Iterator[str]:
    """The tokens of a text file object, read block by block (see :func:`text_blocks`)."""
    for block in text_blocks(source, block_chars):
        yield from tokenize_py(block)


def token_ngrams(tokens: Sequence[str], n: int) -> list[str]:
    """The 1- to ``n``-grams of ``tokens``, as ``TextVectorization(ngrams=n)`` forms them.

    Unigrams first, then bigrams, ..., each in reading order; an n-gram is its
    tokens joined by one space: ``["no", "good", "no good"]`` for n = 2.
    """
    return [" ".join(tokens[i : i + size]) for size in range(1, n + 1) for i in range(len(tokens) - size + 1)]


def ngram_name(ngrams: int, unigrams: str = "unigrams", name_bigrams: bool = True) -> str:
    """How reports name the 1- to ``ngrams``-grams of a bag of words.

    ``unigrams`` for 1 (or what ``unigrams`` says, e.g. "words"); "unigrams and
    bigrams" for 2, or "1- to 2-grams" without ``name_bigrams``; "1- to 3-grams" for 3.
    """
    if ngrams == 1:
        return unigrams
    if ngrams == 2 and name_bigrams:
        return f"{unigrams} and bigrams"
    return f"1- to {ngrams}-grams"
