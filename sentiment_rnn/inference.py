"""Predict with a saved model directory, through the NumPy engine (default) or Keras.

The NumPy engine (``sentiment_rnn.engine``) never imports TensorFlow; the
Keras engine loads ``model.keras``. Both give the same probabilities, to 1e-5
(float32 arithmetic in another order): of positive (class 1), shape (n,), for a
two-class model; of every class, shape (n, N), for a model of N > 2 classes,
whose label is the most probable class.

Longer than 400 lines because each of the three ways to read a text (whole,
per token, streamed) is here for both engines and both kinds of head, the Keras
side of the per-token and streamed views of a hybrid model included; the NumPy
side is in ``engine``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np

from sentiment_rnn.artifact.model_directory import ModelDirectory, ModelIdentity, open_model_dir
from sentiment_rnn.budget import KERAS_BATCH_SIZE
from sentiment_rnn.data.labels import DEFAULT_CLASSES, DEFAULT_THRESHOLD, label_for
from sentiment_rnn.engine.hybrid import TokenParts, answer_of
from sentiment_rnn.engine.models import DEFAULT_BATCH_SIZE
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.text import OOV_TOKEN, tokenize_py

MOSTLY_UNKNOWN = 0.5  # a text with more than this share of its tokens outside the vocabulary: its answer says little


@dataclass(frozen=True)
class Prediction:
    """One text's prediction: ``probability`` of positive in [0, 1], the thresholded label, the ``model`` answering.

    ``oov_rate`` is the share of the text's tokens outside the model's vocabulary
    (read as ``[UNK]``; 0.0 for a text without tokens), or None when not measured.
    For a model of N > 2 classes, ``label`` is the most probable class, ``probability``
    its probability and ``probabilities`` every class's, by name (None for two classes).
    """

    text: str
    probability: float
    label: str
    oov_rate: float | None = None
    model: ModelIdentity | None = field(default=None, compare=False)
    probabilities: dict[str, float] | None = None

    def to_dict(self) -> dict:
        answer = {"text": self.text, "label": self.label, "probability": self.probability}
        if self.probabilities is not None:
            answer["probabilities"] = self.probabilities
        if self.oov_rate is not None:
            answer["oov_rate"] = self.oov_rate
        return answer if self.model is None else {**answer, "model": self.model.to_dict()}


def labelled(probabilities, classes: tuple[str, ...], threshold: float = DEFAULT_THRESHOLD):
    """(label, probability, every class's probability or None) of one answer: a probability of class 1
    (two classes, against ``threshold``) or an (N,) array (the most probable class)."""
    if np.ndim(probabilities) == 0:
        probability = float(probabilities)
        return label_for(probability, threshold, classes), probability, None
    values = [float(p) for p in probabilities]
    top = int(np.argmax(probabilities))
    return classes[top], values[top], dict(zip(classes, values))


@dataclass(frozen=True)
class TokenPrediction(Prediction):
    """A prediction with the probability after each token: ``tokens`` is ((token, probability), ...).

    ``probability`` is the model's answer for the whole text. For a
    unidirectional model it equals the probability after the last token; a
    bidirectional model's per-token view reads the rest of the text backwards,
    so there the two differ (unless it pools over time).

    A two-class hybrid model's view also gives its terms (``engine.hybrid``): after token t,
    probability = sigmoid(``recurrent[t]`` + ``ngrams[t]`` + ``bias``), in logit units;
    for other kinds, and for N > 2 classes, ``recurrent`` and ``ngrams`` are empty and ``bias`` None.
    """

    tokens: tuple[tuple[str, float], ...] = ()
    unknown: tuple[bool, ...] = ()  # for each token, whether it is outside the vocabulary (read as [UNK])
    recurrent: tuple[float, ...] = ()  # hybrid: the recurrent branch's logit after each token, bias apart
    ngrams: tuple[float, ...] = ()  # hybrid: the logit of the n-grams ending at or before each token
    bias: float | None = None  # hybrid: the head's bias
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
            return {**super().to_dict(), "tokens": steps}
        tokens = [
            {"token": token, "probability": probability, "unknown": unknown}
            for (token, probability), unknown in zip(self.tokens, self.unknown)
        ]
        if self.bias is None:
            return {**super().to_dict(), "tokens": tokens}
        for token, recurrent, ngrams in zip(tokens, self.recurrent, self.ngrams):
            token.update(recurrent=recurrent, ngrams=ngrams)
        return {**super().to_dict(), "bias": self.bias, "tokens": tokens}


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


def oov_rates(model_dir: str | Path | ModelDirectory, texts: list[str], engine: str = "numpy") -> np.ndarray:
    """The share of each text's tokens outside the model's vocabulary, (n,) float64 in [0, 1]; 0.0 for no tokens.

    The tokens are those the model reads. The NumPy engine counts them with
    array operations as it encodes; ``engine="keras"``, which needs no
    ``weights.npz``, reads ``vocabulary.json`` and tokenizes with the pure-Python
    twin of the Keras tokenizer (``text.tokenize_py``): the same counts.
    """
    directory = _open(model_dir)
    if engine == "numpy":
        unknown, tokens = directory.numpy_engine.unknown_counts(texts)
    else:
        known = set(directory.vocabulary()) - {OOV_TOKEN}
        limit = directory.config.tokenizer.output_sequence_length if directory.config.model.kind != "bow" else 0
        read = [tokenize_py(text)[: limit or None] for text in texts]
        unknown = np.array([sum(token not in known for token in words) for words in read], dtype=np.int64)
        tokens = np.array([len(words) for words in read], dtype=np.int64)
    return np.divide(unknown, tokens, out=np.zeros(len(texts)), where=tokens > 0)


def mostly_unknown_warning(count: int, total: int, shown_by: str = "--json gives each text's oov_rate") -> str | None:
    """The one warning line for ``count`` of ``total`` texts with most tokens unknown (see ``MOSTLY_UNKNOWN``);
    None when ``count`` is 0. ``shown_by`` says where each text's share is to be seen."""
    if not count:
        return None
    if total == 1:
        who, its, says = "The text has", "its", "its answer says"
    elif count == 1:
        who, its, says = f"1 of {total:,} texts has", "its", "its answer says"
    else:
        who, its, says = f"{count:,} of {total:,} texts have", "their", "their answers say"
    return (
        f"Warning: {who} most of {its} words outside the model's vocabulary (read as [UNK]), so {says} little "
        f"({shown_by}); a model trained on such text (its language, its domain) would know them."
    )


def check_texts_given(texts: Iterable[str]) -> None:
    """Refuse a text argument that is empty or blank: it has no words, so no sentiment.

    Lines of a file and rows of a table are answered instead (an empty row gets an empty answer, counted).
    """
    for number, text in enumerate(texts, start=1):
        if not text.strip():
            raise SentimentError(
                f"Text {number} of the arguments is {'empty' if not text else 'blank'}: it has no words, so no "
                'sentiment to predict; pass some words, e.g. predict "great phone".'
            )


@dataclass(frozen=True)
class StreamPrediction:
    """The prediction for one long document read in chunks: ``tokens`` read, in ``chunks`` pieces.

    For a two-class hybrid model, ``parts`` holds the terms of its logit at the end,
    (recurrent, ngrams, bias) as in :class:`TokenPrediction`; None for other kinds.
    For N > 2 classes, ``probabilities`` holds every class's probability (None for two).
    """

    source: str
    probability: float
    label: str
    tokens: int
    chunks: int
    model: ModelIdentity | None = field(default=None, compare=False)
    parts: tuple[float, float, float] | None = None
    probabilities: dict[str, float] | None = None

    def to_dict(self) -> dict:
        found = {"source": self.source, "label": self.label, "probability": self.probability}
        if self.probabilities is not None:
            found["probabilities"] = self.probabilities
        found.update(tokens=self.tokens, chunks=self.chunks)
        if self.parts is not None:
            found.update(zip(("recurrent", "ngrams", "bias"), self.parts))
        return found if self.model is None else {**found, "model": self.model.to_dict()}


ENGINES = ("numpy", "keras")
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
    """The classifier to predict with: a model directory (or its path); a language model is refused."""
    directory = model_dir if isinstance(model_dir, ModelDirectory) else open_model_dir(model_dir)
    require_classifier(directory)
    return directory


def require_classifier(directory: ModelDirectory) -> None:
    """Refuse a language model where a sentiment is asked for: it guesses words (``sentiment-rnn guess``)."""
    if directory.config.model.kind == "lm":
        raise SentimentError(
            f"{directory.path} is a language model: it guesses words, not sentiment. Ask it with "
            f'`sentiment-rnn guess --model {directory.path} "text"`, or give a classifier (e.g. --model reviews-en).'
        )


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
    """Label texts with the model in ``model_dir``; each prediction says its ``oov_rate`` too.

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
    identity = directory.identity
    classes = directory.classes
    check_threshold(threshold, classes)
    texts = list(texts)
    predictions: list[Prediction] = []
    for start in range(0, len(texts), PREDICT_CHUNK):
        chunk = texts[start : start + PREDICT_CHUNK]
        probabilities = predict_proba(directory, chunk, batch_size, engine)
        rates = oov_rates(directory, chunk, engine)
        for text, answer, rate in zip(chunk, probabilities, rates):
            label, probability, every = labelled(answer, classes, threshold)
            predictions.append(Prediction(text, probability, label, float(rate), identity, every))
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
        probabilities = directory.numpy_engine.predict_proba(texts, batch_size=batch_size or DEFAULT_BATCH_SIZE)
    else:
        check_engine(engine)
        probabilities = keras_predict_proba(keras_model(directory), texts, batch_size=batch_size or KERAS_BATCH_SIZE)
    return checked(probabilities, directory, engine)


def checked(probabilities, directory: ModelDirectory, engine: str) -> np.ndarray:
    """``probabilities`` of ``directory``'s model if all are numbers in [0, 1]; else one line naming its weights."""
    from sentiment_rnn.artifact.files import MODEL_FILE, WEIGHTS_FILE
    from sentiment_rnn.finite import check_probabilities

    file = directory.path / (WEIGHTS_FILE if engine == "numpy" else MODEL_FILE)
    return check_probabilities(probabilities, file, "retrain the model with `sentiment-rnn train`")


def predict_per_token(
    model_dir: str | Path | ModelDirectory,
    texts: Iterable[str],
    threshold: float = DEFAULT_THRESHOLD,
    engine: str = "numpy",
) -> list[TokenPrediction]:
    """Label texts and give the probability after each token (the many-to-many view of the same weights).

    The tokens are those the model reads (standardized; a recurrent model's
    truncated to ``tokenizer.output_sequence_length`` if set, while a hybrid's
    wide branch reads them all). For a two-class hybrid model each token also
    gets the terms of its logit (see :class:`TokenPrediction`); with N > 2 classes,
    the most probable class after each token and every class's probability.

    Raises:
        SentimentError: for a bag-of-words model, which reads no order.
    """
    check_engine(engine)
    directory = _open(model_dir)
    classes = directory.classes
    check_threshold(threshold, classes)
    kind = directory.config.model.kind
    check_reads_order(kind)
    texts = list(texts)
    overall = predict(directory, texts, threshold, engine=engine)
    parts: list[TokenParts | None]
    if kind == "hybrid":
        if engine == "numpy":
            parts = [directory.numpy_engine.per_token_parts(text) for text in texts]
        else:
            parts = keras_per_token_parts(directory, texts)
        views = [(view.tokens, view.probabilities) for view in parts]
    else:
        parts = [None] * len(texts)
        if engine == "numpy":
            views = [directory.numpy_engine.per_token(text) for text in texts]
        else:
            views = keras_per_token(directory, texts)
    views = [(tokens, checked(probabilities, directory, engine)) for tokens, probabilities in views]
    from sentiment_rnn.engine.models import Vocabulary

    vocabulary = Vocabulary(directory.vocabulary())
    many = len(classes) > 2  # each step's label and every class's probability
    predictions = []
    for text, answer, (tokens, probabilities), view in zip(texts, overall, views, parts):
        terms = {}
        if view is not None and not many:
            terms = {"recurrent": tuple(map(float, view.recurrent)), "ngrams": tuple(map(float, view.ngrams))}
            terms["bias"] = view.bias
        steps = [labelled(step, classes, threshold) for step in probabilities]
        if many:
            terms["token_labels"] = tuple(label for label, _, _ in steps)
            terms["token_probabilities"] = tuple(every for _, _, every in steps)
        predictions.append(
            TokenPrediction(
                text,
                answer.probability,
                answer.label,
                answer.oov_rate,
                answer.model,
                answer.probabilities,
                tokens=tuple((token, probability) for token, (_, probability, _) in zip(tokens, steps)),
                unknown=tuple(vocabulary.unknown(tokens)),
                **terms,
            )
        )
    return predictions


def check_reads_order(kind: str) -> None:
    """Refuse a model kind without a per-token or streaming view (the bag of words) with its reason."""
    from sentiment_rnn.engine.models import BOW_VIEW_ERROR

    if kind == "bow":
        raise SentimentError(BOW_VIEW_ERROR)


def keras_per_token(directory: ModelDirectory, texts: list[str]) -> list[tuple[list[str], np.ndarray]]:
    """The Keras per-token view of a recurrent model: (tokens, probability after each, (n_tokens,) or
    (n_tokens, N)) per text."""
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


def keras_per_token_parts(directory: ModelDirectory, texts: list[str]) -> list[TokenParts]:
    """The Keras per-token view of a hybrid model, term by term (the twin of ``NumpyHybridEngine.per_token_parts``).

    The recurrent term comes from a per-token view of the recurrent branch
    (``models.recurrent_view``) and the head's kernel, the n-gram term from the
    model's own wide vectorizer and layer read in order (``wide.RunningWideLogit``).
    """
    if directory.members:
        views = [keras_per_token_parts(member, texts) for member in directory.members]
        return [TokenParts.mean([member[i] for member in views]) for i in range(len(texts))]
    from sentiment_rnn.models import HEAD_LAYER, recurrent_view
    from sentiment_rnn.text import tokenize_py
    from sentiment_rnn.wide import RunningWideLogit

    model = keras_model(directory)
    model_config = directory.config.model
    features = recurrent_view(model, model_config, return_sequences=True)
    import tensorflow as tf  # after loading the model, which imports it quietly

    kernel, bias = (np.asarray(w, dtype=np.float64) for w in model.get_layer(HEAD_LAYER).get_weights())
    units = kernel.shape[1]  # 1, or N > 2 classes
    head_bias = float(bias[0]) if units == 1 else bias
    limit = directory.config.tokenizer.output_sequence_length
    views = []
    for text in texts:
        tokens = tokenize_py(text)
        read = len(tokens[: limit or None])
        steps = np.asarray(features(tf.constant([text]), training=False), dtype=np.float64)[0, :read]  # (L, width)
        recurrent = steps @ kernel  # (L, K)
        last = recurrent[-1:] if read else np.zeros((1, units))  # past the limit the recurrent term stays
        recurrent = np.concatenate([recurrent, np.repeat(last, len(tokens) - read, axis=0)])
        recurrent = recurrent[:, 0] if units == 1 else recurrent
        ngrams = RunningWideLogit(model, model_config.ngrams).read(tokens)
        probabilities = answer_of(recurrent + ngrams + head_bias, units)
        views.append(TokenParts(tokens, probabilities, recurrent, ngrams, head_bias))
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
    or a Keras ``stateful=True`` twin with the same weights), and for a hybrid
    model the n-grams seen so far beside it, so the result equals reading the
    document in one go (to float32 rounding), while memory stays flat: the
    document is never held whole. A tokenizer ``output_sequence_length`` stops
    a recurrent model's reading after that many tokens, as one-shot prediction
    truncates (a hybrid's wide branch reads on to the end).

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
    limit = directory.config.tokenizer.output_sequence_length if model_config.kind == "rnn" else 0
    chunks = _Counter(token_chunks(stream_tokens(source), chunk_tokens, limit))
    reader = directory.numpy_engine.stream_reader() if engine == "numpy" else keras_stream_reader(directory)
    for chunk in chunks:
        reader.read_tokens(chunk)
    answer = checked(np.asarray(reader.probability())[None], directory, engine)[0]  # numbers in [0, 1], or one line
    label, probability, every = labelled(answer, directory.classes, threshold)
    name = name if name is not None else str(getattr(source, "name", "<stream>"))
    parts = reader.parts() if model_config.kind == "hybrid" and every is None else None  # two classes: the terms
    return StreamPrediction(name, probability, label, reader.tokens, chunks.count, directory.identity, parts, every)


class _Counter:
    """Iterate over an iterable, counting the items."""

    def __init__(self, items):
        self.items = items
        self.count = 0

    def __iter__(self):
        for item in self.items:
            self.count += 1
            yield item


def keras_stream_reader(directory: ModelDirectory):
    """A :class:`KerasStreamReader` of the model; for an ensemble, one per member in a ``MeanStreamReader``."""
    if directory.members:
        from sentiment_rnn.engine.ensemble import MeanStreamReader

        return MeanStreamReader([KerasStreamReader(member) for member in directory.members])
    return KerasStreamReader(directory)


class KerasStreamReader:
    """One text read in token chunks through a ``stateful=True`` twin of one model's recurrent branch, state reset.

    The Keras twin of the NumPy engine's stream readers: ``read_tokens``,
    ``probability``, ``tokens`` and, for a hybrid, ``parts``. Each chunk reaches
    the twin's own tokenizer as its tokens joined by spaces, which it splits
    back into the same tokens. The twin's layers run in one compiled
    ``tf.function`` for a batch of exactly one text (calling the model eagerly
    runs the recurrent loop op by op, about 100 times slower); the stateful
    layers keep their state in variables between calls. The head is applied
    to the twin's output; a hybrid's wide branch reads every token in order
    (``wide.RunningWideLogit``), its recurrent branch at most
    ``tokenizer.output_sequence_length`` tokens, if set.
    """

    def __init__(self, directory: ModelDirectory):
        from sentiment_rnn.models import (
            EMBEDDING_LAYER,
            HEAD_LAYER,
            TOKENIZER_LAYER,
            recurrent_layer_name,
            recurrent_view,
            reset_states,
        )
        from sentiment_rnn.wide import RunningWideLogit

        model_config = directory.config.model
        model = keras_model(directory)
        stateful = recurrent_view(model, model_config, stateful=True, batch_size=1)
        import tensorflow as tf  # after loading the model, which imports it quietly

        tokenizer, embedding = (stateful.get_layer(n) for n in (TOKENIZER_LAYER, EMBEDDING_LAYER))
        recurrent = [stateful.get_layer(recurrent_layer_name(i)) for i in range(model_config.layers)]

        @tf.function(input_signature=[tf.TensorSpec((1,), tf.string)])
        def read_chunk(text):
            ids = tf.ensure_shape(tokenizer(text), (1, None))  # (1, T): the stateful layers need the batch size
            mask = tf.not_equal(ids, 0)  # padding up to tokenizer.output_sequence_length, if set
            x = embedding(ids)
            for layer in recurrent:
                x = layer(x, mask=mask)
            return x  # (1, units): what the head reads

        reset_states(stateful)
        self._read_chunk = read_chunk
        self._constant = tf.constant
        kernel, bias = (np.asarray(w, dtype=np.float64) for w in model.get_layer(HEAD_LAYER).get_weights())
        self.kernel = kernel  # (width, K): K is 1, or N > 2 classes
        self.bias = float(bias[0]) if len(bias) == 1 else bias
        self.features = np.zeros(model_config.units)  # the initial state, what the head reads before any token
        self.wide = RunningWideLogit(model, model_config.ngrams) if model_config.kind == "hybrid" else None
        self.limit = directory.config.tokenizer.output_sequence_length
        self.recurrent_tokens = 0  # tokens the recurrent branch read
        self.tokens = 0  # tokens read

    def read_tokens(self, tokens: Sequence[str]) -> None:
        """Read the next chunk of tokens."""
        room = max(self.limit - self.recurrent_tokens, 0) if self.limit else len(tokens)
        if tokens[:room]:
            text = self._constant([" ".join(tokens[:room])])
            self.features = np.asarray(self._read_chunk(text), dtype=np.float64)[0]
            self.recurrent_tokens += len(tokens[:room])
        if self.wide is not None:
            self.wide.read(tokens)
        self.tokens += len(tokens)

    def parts(self) -> tuple:
        """(recurrent, ngrams, bias): the terms of the logit after the tokens read (ngrams 0 but for a hybrid);
        floats, or with N > 2 classes (N,) float64 each."""
        recurrent = self.features @ self.kernel  # (K,)
        recurrent = float(recurrent[0]) if len(recurrent) == 1 else recurrent
        return recurrent, self.wide.logit if self.wide is not None else 0.0, self.bias

    def probability(self) -> float | np.ndarray:
        """The probability of positive after the tokens read so far (with N > 2 classes, of each: (N,))."""
        answer = answer_of(np.asarray(sum(self.parts()), dtype=np.float64), self.kernel.shape[1])
        return float(answer) if np.ndim(answer) == 0 else answer


def keras_predict_proba(model, texts: list[str], batch_size: int = KERAS_BATCH_SIZE) -> np.ndarray:
    """Probabilities of positive, shape (n,) float64, for any view of a trained model (N classes: (n, N)).

    Texts are grouped by length to save padding; padding is masked, so the
    grouping does not change any probability. Several batches go through Keras's
    compiled predict function (``predict_on_batch``), many times faster than
    eager calls once traced; one batch is called eagerly unless the function is
    already traced, since tracing it (0.3-0.5 s) costs more than the eager call.
    A stateful model (fixed batch) is called eagerly, with its state reset
    before each batch; a per-token model (output (B, T, K)) is read at its last
    step, which masking makes the last real token.
    """
    import tensorflow as tf

    from sentiment_rnn.models import reset_states

    units = model.output.shape[-1]
    shape = (len(texts),) if units == 1 else (len(texts), units)
    if not texts:
        return np.zeros(shape)
    fixed_batch = model.inputs[0].shape[0]
    batch_size = fixed_batch or batch_size
    eager = fixed_batch or (len(texts) <= batch_size and getattr(model, "predict_function", None) is None)
    order = np.argsort([len(t) for t in texts], kind="stable")
    result = np.empty(shape)
    for start in range(0, len(texts), batch_size):
        indices = order[start : start + batch_size]
        batch = [texts[i] for i in indices]
        if fixed_batch:
            batch += [""] * (fixed_batch - len(batch))
            reset_states(model)
        if eager:
            output = np.asarray(model(tf.constant(batch, dtype=tf.string), training=False))
        else:
            output = np.asarray(model.predict_on_batch(tf.constant(batch, dtype=tf.string)))
        if output.ndim == 3:  # per-token view: (B, T, K)
            output = output[:, -1, :]
        result[indices] = output[: len(indices), 0] if units == 1 else output[: len(indices)]
    return result
