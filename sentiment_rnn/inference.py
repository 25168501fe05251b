"""Predict with a saved model directory, through the NumPy engine (default) or Keras.

The NumPy engine (``sentiment_rnn.engine``) never imports TensorFlow; the
Keras engine loads ``model.keras``. Both give the same probabilities, to 1e-5
(float32 arithmetic in another order): of positive (class 1), shape (n,), for a
two-class model; of every class, shape (n, N), for a model of N > 2 classes,
whose label is the most probable class.

Longer than 400 lines because every view (one text, per token, streamed) is answered here
for both engines and both kinds of head, so that a caller never picks an engine itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from sentiment_rnn.artifact.model_directory import ModelDirectory, open_model_dir
from sentiment_rnn.data.labels import DEFAULT_CLASSES, DEFAULT_THRESHOLD, label_for
from sentiment_rnn.engine.models import DEFAULT_BATCH_SIZE
from sentiment_rnn.errors import SentimentError


@dataclass(frozen=True)
class Prediction:
    """One text's prediction: ``probability`` of positive in [0, 1] and the thresholded label.

    For a model of N > 2 classes, ``label`` is the most probable class, ``probability``
    its probability and ``probabilities`` every class's, by name (None for two classes).
    """

    text: str
    probability: float
    label: str
    probabilities: dict[str, float] | None = None

    def to_dict(self) -> dict:
        answer = {"text": self.text, "label": self.label, "probability": self.probability}
        return answer if self.probabilities is None else {**answer, "probabilities": self.probabilities}


def labelled(probabilities, classes: tuple[str, ...], threshold: float = DEFAULT_THRESHOLD):
    """(label, probability, every class's probability or None) of one answer: a probability of class 1
    (two classes, against ``threshold``) or an (N,) array (the most probable class)."""
    if np.ndim(probabilities) == 0:
        probability = float(probabilities)
        return label_for(probability, threshold, classes), probability, None
    values = [float(p) for p in probabilities]
    top = int(np.argmax(probabilities))
    return classes[top], values[top], dict(zip(classes, values))


def prediction_of(text: str, probabilities, classes: tuple[str, ...], threshold: float = DEFAULT_THRESHOLD):
    """The :class:`Prediction` of one text from the model's answer (see :func:`labelled`)."""
    label, probability, every = labelled(probabilities, classes, threshold)
    return Prediction(text, probability, label, every)


@dataclass(frozen=True)
class TokenPrediction(Prediction):
    """A prediction with the probability after each token: ``tokens`` is ((token, probability), ...).

    ``probability`` is the model's answer for the whole text. For a
    unidirectional model it equals the probability after the last token; a
    bidirectional model's per-token view reads the rest of the text backwards,
    so there the two differ.
    """

    tokens: tuple[tuple[str, float], ...] = ()
    unknown: tuple[bool, ...] = ()  # for each token, whether it is outside the vocabulary (read as [UNK])
    # N > 2 classes: after each token, the most probable class (its probability is the token's in ``tokens``)
    # and every class's probability; empty for two classes, whose token probabilities are of positive.
    token_labels: tuple[str, ...] = ()
    token_probabilities: tuple[dict[str, float], ...] = ()

    def to_dict(self) -> dict:
        if self.token_labels:  # N > 2 classes: the top class after each token, and every class's probability
            steps = [
                {"token": token, "label": label, "probability": p, "probabilities": every, "unknown": unknown}
                for (token, p), unknown, label, every in zip(
                    self.tokens, self.unknown, self.token_labels, self.token_probabilities
                )
            ]
        else:
            steps = [
                {"token": token, "probability": probability, "unknown": unknown}
                for (token, probability), unknown in zip(self.tokens, self.unknown)
            ]
        return {**super().to_dict(), "tokens": steps}


def unknown_words(model_dir: str | Path | ModelDirectory, texts: Iterable[str]) -> list[dict]:
    """For each text, the tokens the model reads that are outside its vocabulary and their share.

    Returns:
        One ``{"oov_rate": share in [0, 1] (0.0 for no tokens), "unknown_tokens": [token, ...]}`` per text.
    """
    from sentiment_rnn.engine.models import Vocabulary

    directory = _open(model_dir)
    vocabulary = Vocabulary(directory.vocabulary())
    engine = directory.numpy_engine
    results = []
    for text in texts:
        tokens = engine.tokens(text)
        unknown = [token for token, flag in zip(tokens, vocabulary.unknown(tokens)) if flag]
        results.append({"oov_rate": len(unknown) / len(tokens) if tokens else 0.0, "unknown_tokens": unknown})
    return results


@dataclass(frozen=True)
class StreamPrediction:
    """The prediction for one long document read in chunks: ``tokens`` read, in ``chunks`` pieces."""

    source: str
    probability: float
    label: str
    tokens: int
    chunks: int
    probabilities: dict[str, float] | None = None  # N > 2 classes: every class's probability

    def to_dict(self) -> dict:
        answer = {"source": self.source, "label": self.label, "probability": self.probability}
        answer.update(tokens=self.tokens, chunks=self.chunks)
        return answer if self.probabilities is None else {**answer, "probabilities": self.probabilities}


ENGINES = ("numpy", "keras")
KERAS_BATCH_SIZE = 256  # texts per forward pass of the Keras model
DEFAULT_CHUNK_TOKENS = 1000


def check_threshold(threshold: float, classes: tuple[str, ...] = DEFAULT_CLASSES) -> None:
    """Refuse a threshold outside [0, 1], or any but the default for a model of more than two classes."""
    if not 0.0 <= threshold <= 1.0:
        raise SentimentError(f"Threshold {threshold} is outside [0, 1]: pass e.g. --threshold 0.5.")
    if len(classes) > 2 and threshold != DEFAULT_THRESHOLD:
        raise SentimentError(
            f"--threshold applies to two-class models; this one has {len(classes)} classes "
            f"({', '.join(classes)}) and answers with the most probable: drop --threshold."
        )


def check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise SentimentError(f"Unknown engine {engine!r}: pass one of {', '.join(ENGINES)}.")


def _open(model_dir: str | Path | ModelDirectory) -> ModelDirectory:
    return model_dir if isinstance(model_dir, ModelDirectory) else open_model_dir(model_dir)


def keras_model(directory: ModelDirectory):
    """The Keras model of ``directory``, for ``--engine keras``; a NumPy export, which has none, is refused."""
    from sentiment_rnn.artifact.model_directory import numpy_export_error

    if directory.numpy_export:
        raise numpy_export_error(
            directory.path, "drop --engine keras, or pass the model directory it was exported from"
        )
    return directory.model


PREDICT_CHUNK = 1024  # texts labelled between two calls of predict's on_progress


def predict(
    model_dir: str | Path | ModelDirectory,
    texts: Iterable[str],
    threshold: float = DEFAULT_THRESHOLD,
    batch_size: int | None = None,
    engine: str = "numpy",
    on_progress: Callable[[int], None] | None = None,
) -> list[Prediction]:
    """Label texts with the model in ``model_dir``.

    Args:
        model_dir: a model directory (path or opened), or a bundled model's name
            (``"reviews-en"``); an existing path wins over a name.
        texts: the texts; any string, including empty ones.
        threshold: probabilities at or above it are ``positive``.
        batch_size: texts per forward pass; None takes the engine's own
            (1024 for the NumPy engine, 256 for Keras).
        engine: ``"numpy"`` (no TensorFlow) or ``"keras"`` (loads ``model.keras``).
        on_progress: called with the number of texts just labelled, after
            every ``PREDICT_CHUNK`` texts (e.g. a progress bar's ``update``).
    """
    check_threshold(threshold)
    check_engine(engine)
    if batch_size is not None and batch_size < 1:
        raise SentimentError(f"Batch size {batch_size} is too small: pass 1 or more.")
    directory = _open(model_dir)
    classes = directory.classes
    check_threshold(threshold, classes)
    texts = list(texts)
    predictions: list[Prediction] = []
    for start in range(0, len(texts), PREDICT_CHUNK):
        chunk = texts[start : start + PREDICT_CHUNK]
        probabilities = predict_proba(directory, chunk, batch_size, engine)
        predictions.extend(prediction_of(t, p, classes, threshold) for t, p in zip(chunk, probabilities))
        if on_progress is not None:
            on_progress(len(chunk))
    return predictions


def predict_proba(
    model_dir: str | Path | ModelDirectory, texts: list[str], batch_size: int | None = None, engine: str = "numpy"
) -> np.ndarray:
    """Probabilities of positive, (n,) float64, for a list of texts (any strings), through either engine.

    For a model of N > 2 classes, every class's probability: (n, N), columns in ``ModelDirectory.classes`` order.

    ``batch_size`` texts per forward pass at most; None takes the engine's own
    (1024 for the NumPy engine, 256 for Keras).
    """
    directory = _open(model_dir)
    if engine == "numpy":
        return directory.numpy_engine.predict_proba(texts, batch_size=batch_size or DEFAULT_BATCH_SIZE)
    check_engine(engine)
    return keras_predict_proba(keras_model(directory), texts, batch_size=batch_size or KERAS_BATCH_SIZE)


def predict_per_token(
    model_dir: str | Path | ModelDirectory,
    texts: Iterable[str],
    threshold: float = DEFAULT_THRESHOLD,
    engine: str = "numpy",
) -> list[TokenPrediction]:
    """Label texts and give the probability after each token (the many-to-many view of the same weights).

    The tokens are those the model reads (standardized, truncated to
    ``tokenizer.output_sequence_length`` if set).

    Raises:
        SentimentError: for a bag-of-words model, which reads no order.
    """
    check_engine(engine)
    directory = _open(model_dir)
    classes = directory.classes
    check_threshold(threshold, classes)
    check_reads_order(directory.config.model.kind)
    texts = list(texts)
    overall = predict(directory, texts, threshold, engine=engine)
    if engine == "numpy":
        views = [directory.numpy_engine.per_token(text) for text in texts]
    else:
        views = keras_per_token(directory, texts)
    from sentiment_rnn.engine.models import Vocabulary

    vocabulary = Vocabulary(directory.vocabulary())
    answers = []
    for whole, (tokens, probabilities) in zip(overall, views):
        steps = [labelled(step, classes, threshold) for step in probabilities]
        many = len(classes) > 2  # each step's label and every class's probability
        answers.append(
            TokenPrediction(
                whole.text,
                whole.probability,
                whole.label,
                whole.probabilities,
                tuple((token, probability) for token, (_, probability, _) in zip(tokens, steps)),
                tuple(vocabulary.unknown(tokens)),
                tuple(label for label, _, _ in steps) if many else (),
                tuple(every for _, _, every in steps) if many else (),
            )
        )
    return answers


def check_reads_order(kind: str) -> None:
    """Refuse a model kind without a per-token or streaming view (bag of words, hybrid) with its reason."""
    from sentiment_rnn.engine.hybrid import HYBRID_VIEW_ERROR
    from sentiment_rnn.engine.models import BOW_VIEW_ERROR

    if kind != "rnn":
        raise SentimentError(HYBRID_VIEW_ERROR if kind == "hybrid" else BOW_VIEW_ERROR)


def keras_per_token(directory: ModelDirectory, texts: list[str]) -> list[tuple[list[str], np.ndarray]]:
    """The Keras per-token view: (tokens, probability after each, (n_tokens,) or (n_tokens, N)) per text."""
    if directory.members:
        views = [keras_per_token(member, texts) for member in directory.members]
        return [(view[0], np.mean([member[i][1] for member in views], axis=0)) for i, view in enumerate(views[0])]
    from sentiment_rnn.models import with_view
    from sentiment_rnn.text import tokenize_py

    per_token = with_view(keras_model(directory), directory.config.model, return_sequences=True)
    import tensorflow as tf  # after loading the model, which imports it quietly

    limit = directory.config.tokenizer.output_sequence_length
    views = []
    for text in texts:
        tokens = tokenize_py(text)[: limit or None]
        steps = np.asarray(per_token(tf.constant([text]), training=False))[0]  # (T, K)
        steps = steps[:, 0] if steps.shape[-1] == 1 else steps
        views.append((tokens, steps[: len(tokens)].astype(np.float64)))
    return views


def predict_stream(
    model_dir: str | Path | ModelDirectory,
    source: TextIO,
    chunk_tokens: int = DEFAULT_CHUNK_TOKENS,
    threshold: float = DEFAULT_THRESHOLD,
    engine: str = "numpy",
    name: str | None = None,
) -> StreamPrediction:
    """Label one long document, read incrementally in chunks of ``chunk_tokens`` tokens.

    The hidden state is carried from chunk to chunk (through the NumPy engine,
    or a Keras ``stateful=True`` model with the same weights), so the result
    equals reading the document in one go (to float32 rounding), while memory
    stays flat: the document is never held whole. A tokenizer
    ``output_sequence_length`` stops the reading after that many tokens, as
    one-shot prediction truncates.

    Args:
        source: a text file object, read with ``source.read(n)``.
        name: how to name the source in the result (default: ``source.name``).

    Raises:
        SentimentError: bidirectional, pooled or bag-of-words models, which cannot stream.
    """
    from sentiment_rnn.engine.models import BIDIRECTIONAL_STREAM_ERROR, POOLING_STREAM_ERROR
    from sentiment_rnn.text import stream_tokens, token_chunks

    check_threshold(threshold)
    check_engine(engine)
    if chunk_tokens < 1:
        raise SentimentError(f"Chunk size {chunk_tokens} is too small: pass --chunk-tokens 1 or more.")
    directory = _open(model_dir)
    check_threshold(threshold, directory.classes)
    model_config = directory.config.model
    check_reads_order(model_config.kind)
    if model_config.bidirectional:
        raise SentimentError(BIDIRECTIONAL_STREAM_ERROR)
    if model_config.pooling != "last":
        raise SentimentError(POOLING_STREAM_ERROR)
    chunks = token_chunks(stream_tokens(source), chunk_tokens, directory.config.tokenizer.output_sequence_length)
    counted = _Counter(chunks)
    if engine == "numpy":
        vocabulary = directory.numpy_engine.vocabulary
        probability, tokens = directory.numpy_engine.stream(vocabulary.encode(chunk) for chunk in counted)
    else:
        probability, tokens = keras_stream(directory, counted)
    name = name if name is not None else str(getattr(source, "name", "<stream>"))
    label, top, every = labelled(probability, directory.classes, threshold)
    return StreamPrediction(name, top, label, tokens, counted.count, every)


class _Counter:
    """Iterate over an iterable, counting the items."""

    def __init__(self, items):
        self.items = items
        self.count = 0

    def __iter__(self):
        for item in self.items:
            self.count += 1
            yield item


def keras_stream(directory: ModelDirectory, chunks: Iterable[list[str]]) -> tuple[float | np.ndarray, int]:
    """Feed token chunks to a Keras ``stateful=True`` twin of the model; (last probability, tokens read).

    The probability is of positive (a float), or for N > 2 classes of each, (N,).

    An ensemble feeds each chunk to every member's twin and answers with their
    mean probability.
    """
    readers = [keras_chunk_reader(member) for member in directory.members or (directory,)]
    probabilities, tokens = None, 0
    for chunk in chunks:
        probabilities = [read(chunk) for read in readers]
        tokens += len(chunk)
    if probabilities is None:
        empty = keras_predict_proba(keras_model(directory), [""])[0]
        return (float(empty) if np.ndim(empty) == 0 else empty), 0
    mean = np.mean(probabilities, axis=0)
    return (float(mean) if np.ndim(mean) == 0 else mean), tokens


def keras_chunk_reader(directory: ModelDirectory) -> Callable[[list[str]], float | np.ndarray]:
    """A reader of one text in token chunks through a ``stateful=True`` twin of one model, its state reset.

    The reader takes the next chunk's tokens and returns the probability after
    them (of positive, or for N > 2 classes of each, (N,)). Each chunk reaches the twin's own tokenizer as its tokens joined by
    spaces, which it splits back into the same tokens. The twin's layers run
    in one compiled ``tf.function`` for a batch of exactly one text (calling
    the model eagerly runs the recurrent loop op by op, about 100 times
    slower); the stateful layers keep their state in variables between calls.
    """
    from sentiment_rnn.models import (
        EMBEDDING_LAYER,
        HEAD_LAYER,
        TOKENIZER_LAYER,
        recurrent_layer_name,
        reset_states,
        with_view,
    )

    model_config = directory.config.model
    stateful = with_view(keras_model(directory), model_config, stateful=True, batch_size=1)
    import tensorflow as tf  # after loading the model, which imports it quietly

    tokenizer, embedding, head = (stateful.get_layer(n) for n in (TOKENIZER_LAYER, EMBEDDING_LAYER, HEAD_LAYER))
    recurrent = [stateful.get_layer(recurrent_layer_name(i)) for i in range(model_config.layers)]

    @tf.function(input_signature=[tf.TensorSpec((1,), tf.string)])
    def read_chunk(text):
        ids = tf.ensure_shape(tokenizer(text), (1, None))  # (1, T): the stateful layers need the batch size
        mask = tf.not_equal(ids, 0)  # padding up to tokenizer.output_sequence_length, if set
        x = embedding(ids)
        for layer in recurrent:
            x = layer(x, mask=mask)
        return head(x)  # (1, K)

    reset_states(stateful)

    def read(chunk: list[str]) -> float | np.ndarray:
        answer = np.asarray(read_chunk(tf.constant([" ".join(chunk)]))[0], dtype=np.float64)  # (K,)
        return float(answer[0]) if len(answer) == 1 else answer

    return read


def keras_predict_proba(model, texts: list[str], batch_size: int = KERAS_BATCH_SIZE) -> np.ndarray:
    """Probabilities of positive, shape (n,) float64, for any view of a trained model (N classes: (n, N)).

    Texts are grouped by length to save padding; padding is masked, so the
    grouping does not change any probability. Batches go through Keras's
    compiled predict function (``predict_on_batch``), many times faster than
    eager calls. A stateful model (fixed batch) is called eagerly, with its
    state reset before each batch; a per-token model (output (B, T, K)) is
    read at its last step, which masking makes the last real token.
    """
    import tensorflow as tf

    from sentiment_rnn.models import reset_states

    units = model.output.shape[-1]
    shape = (len(texts),) if units == 1 else (len(texts), units)
    if not texts:
        return np.zeros(shape)
    fixed_batch = model.inputs[0].shape[0]
    batch_size = fixed_batch or batch_size
    order = np.argsort([len(t) for t in texts], kind="stable")
    result = np.empty(shape)
    for start in range(0, len(texts), batch_size):
        indices = order[start : start + batch_size]
        batch = [texts[i] for i in indices]
        if fixed_batch:
            batch += [""] * (fixed_batch - len(batch))
            reset_states(model)
        if fixed_batch:
            output = np.asarray(model(tf.constant(batch, dtype=tf.string), training=False))
        else:
            output = np.asarray(model.predict_on_batch(tf.constant(batch, dtype=tf.string)))
        if output.ndim == 3:  # per-token view: (B, T, K)
            output = output[:, -1, :]
        result[indices] = output[: len(indices), 0] if units == 1 else output[: len(indices)]
    return result
