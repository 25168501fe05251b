"""Every size bounded before it is paid: memory a config needs, tokens a training text may hold, lines and
tokens of a text read for prediction, and the work one request to the server may ask for.

The caps on files (how large a model's file, a data line, a review may be)
are per kind of file, in ``safe_read``; the caps on config values that are
not sizes (seeds, depths) are in ``config.validate``. What is here is the
arithmetic of the sizes that cost memory or time:

- :func:`check_fits_in_memory`: the parameters a config gives (with a full
  vocabulary) and, once the longest text is known (or set by
  ``tokenizer.output_sequence_length``), the activations of a batch, against
  the free memory, before anything is built;
- :data:`MAX_TRAINING_TOKENS`: training reads at most this many tokens of a
  text (unless ``tokenizer.output_sequence_length`` says otherwise), and
  says so on stderr whether or not it is a terminal (:func:`cap_training_texts`);
- :data:`MAX_TEXT_CHARS`: a line of ``predict --file`` (a token of ``predict
  --stream``: ``text.MAX_TOKEN_CHARS``, where streams are cut into tokens);
- :func:`request_tokens`: what a server request costs, in tokens, checked
  against ``--max-tokens`` before any model runs.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

from sentiment_rnn.errors import SentimentError

TRAINING_BYTES_PER_PARAMETER = 16  # float32 weights, their gradients and Adam's two moments
MAX_TRAINING_TOKENS = 10_000  # tokens of one text training reads when tokenizer.output_sequence_length is 0
MAX_TEXT_CHARS = 16 * 1024 * 1024  # characters of one line of predict --file
KERAS_BATCH_SIZE = 256  # texts per forward pass of the Keras model when predicting
GATES = {"simple": 1, "gru": 3, "lstm": 4}  # pre-activations a cell keeps per unit and step


def free_memory() -> int:
    """Bytes of memory free now (``sysconf``); a huge number where it cannot be told (only absurd sizes refused)."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # no sysconf (Windows)
        return 1 << 50


def parameter_count(config) -> int:
    """The parameters of the model ``config`` describes, with a full vocabulary of ``tokenizer.max_tokens``."""
    from sentiment_rnn.artifact.engine_files import expected_shapes

    return sum(math.prod(shape) for shape in expected_shapes(config, config.tokenizer.max_tokens).values())


def activation_bytes(config, sequence_length: int, batch_size: int, training: bool = True) -> int:
    """Bytes of the activations of one batch of ``batch_size`` texts of ``sequence_length`` tokens (float32).

    A recurrent layer keeps, per text, step and unit, its output and its gates'
    pre-activations (for the backward pass, and as much again for their
    gradients when ``training``); the embedding its vectors; a bag of words
    (and the hybrid's wide branch) a multi-hot row of its vocabulary.
    """
    m = config.model
    kept = 2 if training else 1
    values = 0
    if m.kind != "bow":
        directions = 2 if m.bidirectional else 1
        per_step = m.output_dim + m.layers * m.units * directions * (1 + GATES.get(m.cell, 4))
        values += batch_size * sequence_length * per_step * kept
    if m.kind in ("bow", "hybrid"):
        width = config.tokenizer.max_tokens if m.kind == "bow" else m.wide_max_tokens
        values += batch_size * (width + m.hidden_layers * m.hidden_units) * kept
    return 4 * values


def check_fits_in_memory(config, sequence_length: int = 0) -> None:
    """Refuse, before building anything, a config whose training would not fit in the free memory.

    Counts the parameters (each held :data:`TRAINING_BYTES_PER_PARAMETER`
    times) and, when the length of a batch is known (``sequence_length``, the
    longest text read, or ``tokenizer.output_sequence_length``, to which every
    text is padded), the activations of one batch of ``train.batch_size``.

    Raises:
        SentimentError: naming the count, the bytes needed and the bytes free.
    """
    length = config.tokenizer.output_sequence_length or sequence_length
    parameters = parameter_count(config)
    needed = parameters * TRAINING_BYTES_PER_PARAMETER
    if length:
        needed += activation_bytes(config, length, config.train.batch_size)
    free = free_memory()
    if needed > free:
        m = config.model
        batches = (
            f" and batches of {config.train.batch_size:,} texts of {length:,} tokens (train.batch_size, "
            "tokenizer.output_sequence_length)"
            if length
            else ""
        )
        raise SentimentError(
            f"This config needs {parameters:,} parameters (model.units = {m.units}, model.output_dim = "
            f"{m.output_dim}, model.layers = {m.layers}, tokenizer.max_tokens = {config.tokenizer.max_tokens})"
            f"{batches}: about {needed / 2**30:,.1f} GiB to train, but {free / 2**30:,.1f} GiB of memory is free; "
            "lower those keys."
        )


def check_prediction_fits(config, batch_size: int, file) -> None:
    """Refuse to load a model whose padded batches (``tokenizer.output_sequence_length``) would not fit in memory.

    Only the Keras model pads every text to that length; ``file`` is named in the message.
    """
    length = config.tokenizer.output_sequence_length
    if not length:
        return
    needed = activation_bytes(config, length, batch_size, training=False)
    free = free_memory()
    if needed > free:
        raise SentimentError(
            f"{file} pads every text to tokenizer.output_sequence_length = {length:,} tokens: about "
            f"{needed / 2**30:,.1f} GiB for a batch, but {free / 2**30:,.1f} GiB of memory is free; "
            "retrain the model with a shorter tokenizer.output_sequence_length, or drop --engine keras."
        )


def training_token_cap(config) -> int:
    """The most tokens of one text training reads: ``tokenizer.output_sequence_length``, else the default cap."""
    return config.tokenizer.output_sequence_length or MAX_TRAINING_TOKENS


def token_id_cap(config) -> int | None:
    """The token ids of a text the training input keeps after the tokenizer: None (all) when
    ``tokenizer.output_sequence_length`` already cuts them, else ``MAX_TRAINING_TOKENS`` (a stream's texts
    are not cut in memory)."""
    return None if config.tokenizer.output_sequence_length else MAX_TRAINING_TOKENS


def cap_training_texts(texts: Sequence[str], cap: int) -> tuple[list[str], int, int]:
    """``texts`` with each one over ``cap`` tokens cut to its first ``cap`` tokens (joined by spaces, which the
    tokenizer splits back into the same tokens); also how many were cut and the longest one's token count.

    A text of at most ``cap`` characters has at most ``cap`` tokens, so only longer ones are tokenized here.
    """
    from sentiment_rnn.text import tokenize_py

    capped, cut, longest = list(texts), 0, 0
    for index, text in enumerate(capped):
        if len(text) <= cap:
            continue
        tokens = tokenize_py(text)
        if len(tokens) > cap:
            capped[index] = " ".join(tokens[:cap])
            cut += 1
            longest = max(longest, len(tokens))
    return capped, cut, longest


def cap_warning(cut: int, longest: int, cap: int, median_words: float) -> str:
    """The warning that ``cut`` texts were cut to ``cap`` tokens (shown on stderr, terminal or not)."""
    texts = "1 text is" if cut == 1 else f"{cut:,} texts are"
    suggestion = max(100, round(20 * median_words))
    return (
        f"Warning: {texts} longer than {cap:,} tokens (the longest has {longest:,}, the median text about "
        f"{median_words:,.0f} words): training reads the first {cap:,} tokens of each, and every batch holding one "
        f"is padded to that length, which is slow; choose the cap with --set tokenizer.output_sequence_length="
        f"{suggestion}."
    )


def request_tokens(texts: Sequence[str]) -> int:
    """What a request's texts cost the server: their tokens, counted by one regular expression (runs of word
    characters, and each other visible character), about what the model reads."""
    import re

    return sum(len(re.findall(r"[\w']+|[^\w\s']", text)) for text in texts)
