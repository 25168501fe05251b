"""Bag of words against the RNN: the demonstration that word order matters.

A bag-of-words model sees a text as the set of its n-grams (a multi-hot
vector over the vocabulary), so two texts with the same set get the same
vector and therefore exactly the same probability, whatever their order.
A recurrent network reads the tokens in order and can tell them apart.

``compare_bow`` trains both models on the same split with the same seed (or
takes two model directories) and measures:

1. the seed example: the multi-hot table of "This phone is no good" and
   "No this phone is good", whether the two vectors are identical, and both
   models' probabilities for the two sentences;
2. accuracy on the held-out split (and on ``eval_data`` if given);
3. a contrast set of sentence pairs with the same words and opposite labels:
   sentence accuracy and pair accuracy (both sentences of a pair right);
4. for every pair the baseline does not get right, why: the same n-grams,
   differing n-grams all outside its vocabulary, or a difference too weak.

Every "identical" here is computed from the baseline's own tokenizer layer,
and every baseline probability is the model's own output, never assumed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sentiment_rnn.config import Config, replace
from sentiment_rnn.data import Dataset, corpus_file, parse_label, read_dataset
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.text import tokenize_py

SEED_SENTENCES = (("This phone is no good", 0), ("No this phone is good", 1))
LECTURE_SENTENCE = ("No, this phone is good", 1)  # the lecture's spelling: "," is a token of its own
CONTRAST_FILE = "contrast_pairs.csv"
HELDOUT_FILE = "heldout.csv"
PAIR_COLUMNS = ("pair_id", "text", "label")
VALIDATION_SPLIT = "validation split"  # held out from fitting; it chooses the early-stopping epoch
THRESHOLD = 0.5  # a probability at or above it counts as positive, as in `predict`
OOV_INDEX = 0  # where a multi-hot vectorizer puts every n-gram outside its vocabulary ("[UNK]")

# Why a bag-of-words model does not separate a pair (see ``why_not_separated``).
SAME_NGRAMS = "same_ngrams"
UNSEEN_NGRAMS = "unseen_ngrams"
TOO_WEAK = "too_weak"


# ---------------------------------------------------------------- contrast pairs


@dataclass(frozen=True)
class ContrastPair:
    """Two sentences with opposite labels; ``texts[i]`` has label ``labels[i]`` (0 or 1)."""

    pair_id: str
    texts: tuple[str, str]
    labels: tuple[int, int]


def read_pairs(path: str | Path, encoding: str = "utf-8") -> list[ContrastPair]:
    """Read a contrast set: a CSV with columns ``pair_id,text,label``, two rows per pair.

    Rows are numbered from 1 after the header, as in every message of
    sentiment-rnn. Pairs keep the order of their first row.

    Raises:
        SentimentError: unreadable file, a missing column, an empty text, a
            non-binary label, a pair_id without exactly two rows, or two rows
            of a pair with the same label; the message names the file and row.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        what = "is a directory" if path.is_dir() else "does not exist"
        raise SentimentError(f"Pairs file {path} {what}: pass a CSV with columns pair_id,text,label to --pairs.")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
    except UnicodeDecodeError:
        raise SentimentError(f"{path} is not valid {encoding}: save the pairs file as UTF-8.") from None
    except pd.errors.EmptyDataError:
        raise SentimentError(f"{path} is empty: give a header pair_id,text,label and two rows per pair.") from None
    except pd.errors.ParserError as exc:
        first_line = str(exc).strip().splitlines()[0]
        raise SentimentError(f"{path} is not well-formed CSV ({first_line}): fix the file.") from None
    columns = [str(c).strip() for c in frame.columns]
    frame.columns = columns
    missing = [c for c in PAIR_COLUMNS if c not in columns]
    if missing:
        raise SentimentError(
            f"{path} has no column {', '.join(missing)} (columns: {', '.join(columns)}): "
            "a pairs file needs the columns pair_id,text,label."
        )
    rows_by_pair: dict[str, list[tuple[int, str, int]]] = {}
    for row, (pair_id, text, label) in enumerate(zip(frame["pair_id"], frame["text"], frame["label"]), start=1):
        pair_id = pair_id.strip()
        if not pair_id:
            raise SentimentError(f"{path}, row {row}: pair_id is empty: give every row the id of its pair.")
        if not text.strip():
            raise SentimentError(f"{path}, row {row}: text is empty: give every row of a pair a sentence.")
        rows_by_pair.setdefault(pair_id, []).append((row, text, parse_label(label, row, str(path))))
    if not rows_by_pair:
        raise SentimentError(f"{path} has no pairs: give two rows per pair_id, one positive and one negative.")
    pairs = []
    for pair_id, rows in rows_by_pair.items():
        numbers = ", ".join(str(row) for row, _, _ in rows)
        if len(rows) != 2:
            raise SentimentError(
                f"{path}, row{'s' if len(rows) > 1 else ''} {numbers}: pair_id {pair_id!r} has {len(rows)} "
                f"row{'s' if len(rows) > 1 else ''}; a pair needs exactly 2 (one positive, one negative)."
            )
        if rows[0][2] == rows[1][2]:
            polarity = "positive" if rows[0][2] == 1 else "negative"
            raise SentimentError(
                f"{path}, rows {numbers}: both sentences of pair {pair_id!r} are {polarity}; "
                "a pair needs one positive and one negative sentence."
            )
        pairs.append(ContrastPair(pair_id, (rows[0][1], rows[1][1]), (rows[0][2], rows[1][2])))
    return pairs


# ---------------------------------------------------------------- accuracy arithmetic


def sentence_accuracy(labels: np.ndarray, probabilities: np.ndarray, threshold: float = THRESHOLD) -> float:
    """Fraction of sentences labelled right.

    Args:
        labels: 0/1 labels, any shape.
        probabilities: probabilities of positive, the same shape.
    """
    labels, probabilities = np.asarray(labels), np.asarray(probabilities)
    return float(np.mean((probabilities >= threshold) == (labels == 1)))


def pair_accuracy(labels: np.ndarray, probabilities: np.ndarray, threshold: float = THRESHOLD) -> float:
    """Fraction of pairs with both sentences labelled right.

    Args:
        labels: 0/1 labels, shape (pairs, 2).
        probabilities: probabilities of positive, shape (pairs, 2).
    """
    labels, probabilities = np.asarray(labels), np.asarray(probabilities)
    right = (probabilities >= threshold) == (labels == 1)
    return float(np.mean(np.all(right, axis=1)))


# ---------------------------------------------------------------- bags of n-grams


def ngrams_of(text: str, ngrams: int) -> set[str]:
    """The set of 1- to ``ngrams``-grams of a text, as the baseline's ``TextVectorization`` forms them.

    The tokens come from the project's tokenizer (``tokenize_py``, the twin of
    the model's own standardize); an n-gram is its tokens joined by one space.
    """
    tokens = tokenize_py(text)
    return {" ".join(tokens[i : i + n]) for n in range(1, ngrams + 1) for i in range(len(tokens) - n + 1)}


def bag_indices(text: str, vocabulary: dict[str, int], ngrams: int) -> frozenset[int]:
    """The indices set to 1 in the text's multi-hot vector (out-of-vocabulary n-grams set index 0)."""
    return frozenset(vocabulary.get(gram, OOV_INDEX) for gram in ngrams_of(text, ngrams))


@dataclass(frozen=True)
class Unseparated:
    """Why the baseline did not label both sentences of a pair right.

    ``reason`` is SAME_NGRAMS (the two texts have the same set of n-grams),
    UNSEEN_NGRAMS (every n-gram that differs is outside the vocabulary, so both
    become [UNK] and the vectors are identical) or TOO_WEAK (the vectors differ,
    in ``only_first``/``only_second`` in-vocabulary n-grams, but not enough to
    put the two probabilities on opposite sides of 0.5).
    """

    reason: str
    only_first: tuple[str, ...] = ()
    only_second: tuple[str, ...] = ()
    unseen: tuple[str, ...] = ()

    def explain(self, ngrams: int) -> str:
        grams = "words" if ngrams == 1 else ("words and bigrams" if ngrams == 2 else f"1- to {ngrams}-grams")
        if self.reason == SAME_NGRAMS:
            return f"same {grams}: identical bags, so identical probabilities"
        if self.reason == UNSEEN_NGRAMS:
            return f"differ only in {_quoted(self.unseen)}, never seen in training ([UNK]): identical bags"
        return (
            f"bags differ ({_quoted(self.only_first)} / {_quoted(self.only_second)}) but not enough to flip the label"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "only_first": list(self.only_first),
            "only_second": list(self.only_second),
            "unseen": list(self.unseen),
        }


def _quoted(grams: tuple[str, ...]) -> str:
    return ", ".join(f'"{g}"' for g in grams) if grams else "nothing"


def why_not_separated(first: str, second: str, vocabulary: dict[str, int], ngrams: int) -> Unseparated:
    """Explain, from the tokenizer's output, why a bag-of-words model gave a pair one label.

    Args:
        first, second: the pair's texts.
        vocabulary: n-gram -> index of the baseline's multi-hot vectorizer.
        ngrams: the largest n the vectorizer forms.
    """
    grams_first, grams_second = ngrams_of(first, ngrams), ngrams_of(second, ngrams)
    if grams_first == grams_second:
        return Unseparated(SAME_NGRAMS)
    differing = grams_first ^ grams_second
    seen = sorted(g for g in differing if g in vocabulary)
    if bag_indices(first, vocabulary, ngrams) == bag_indices(second, vocabulary, ngrams):
        return Unseparated(UNSEEN_NGRAMS, unseen=tuple(sorted(differing - set(seen))))
    return Unseparated(
        TOO_WEAK,
        only_first=tuple(g for g in seen if g in grams_first),
        only_second=tuple(g for g in seen if g in grams_second),
    )


# ---------------------------------------------------------------- the models' side


def multi_hot(bow_model, texts: list[str]) -> np.ndarray:
    """The baseline tokenizer's multi-hot vectors, shape (len(texts), vocabulary) float32."""
    import tensorflow as tf

    from sentiment_rnn.models import TOKENIZER_LAYER

    return np.asarray(bow_model.get_layer(TOKENIZER_LAYER)(tf.constant(texts, dtype=tf.string)))


def predict_one_by_one(model, texts: list[str]) -> np.ndarray:
    """Probabilities of positive, shape (n,) float64, each text run alone through the model.

    Alone, equal inputs go through exactly the same arithmetic, so equal
    multi-hot vectors give bit-for-bit equal probabilities (in a batch, a row's
    position can change the order of floating-point sums).
    """
    import tensorflow as tf

    return np.array([float(np.asarray(model(tf.constant([text]), training=False))[0, 0]) for text in texts])


def vocabulary_index(bow_model) -> dict[str, int]:
    from sentiment_rnn.models import TOKENIZER_LAYER

    return {str(gram): index for index, gram in enumerate(bow_model.get_layer(TOKENIZER_LAYER).get_vocabulary())}


# ---------------------------------------------------------------- results


@dataclass
class SentenceResult:
    """One sentence under both models: probabilities of positive in [0, 1]."""

    text: str
    label: int
    bow: float
    rnn: float

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "label": self.label, "bow": self.bow, "rnn": self.rnn}


@dataclass
class SeedExample:
    """The seed pair's multi-hot table: ``columns`` are the vocabulary entries present in either sentence."""

    columns: list[str]
    bags: list[list[int]]  # one row of 0/1 per sentence, under ``columns``
    vocabulary_size: int
    bags_equal: bool  # the whole vectors, not only the columns shown
    sentences: list[SentenceResult]
    lecture: SentenceResult  # "No, this phone is good": shown for the RNN; its bag has ","

    @property
    def bow_difference(self) -> float:
        return abs(self.sentences[0].bow - self.sentences[1].bow)

    @property
    def rnn_difference(self) -> float:
        return abs(self.sentences[0].rnn - self.sentences[1].rnn)

    def rnn_both_right(self) -> bool:
        return all((s.rnn >= THRESHOLD) == (s.label == 1) for s in self.sentences)

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": self.columns,
            "vocabulary_size": self.vocabulary_size,
            "sentences": [dict(s.to_dict(), bag=bag) for s, bag in zip(self.sentences, self.bags)],
            "bags_equal": self.bags_equal,
            "bow_difference": self.bow_difference,
            "rnn_difference": self.rnn_difference,
            "rnn_both_right": self.rnn_both_right(),
            "lecture": self.lecture.to_dict(),
        }


@dataclass
class Accuracy:
    """Both models' accuracy on ``n`` labelled sentences from ``source``."""

    source: str
    n: int
    bow: float
    rnn: float

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "n": self.n, "bow": self.bow, "rnn": self.rnn}


@dataclass
class PairResult:
    pair_id: str
    sentences: tuple[SentenceResult, SentenceResult]
    bags_equal: bool
    unseparated: Unseparated | None  # why the baseline got it wrong; None when it got both right
    bag_difference: tuple[str, ...] = ()  # vocabulary entries set in one sentence's vector only

    def to_dict(self) -> dict[str, Any]:
        return {
            "pair_id": self.pair_id,
            "sentences": [s.to_dict() for s in self.sentences],
            "bags_equal": self.bags_equal,
            "bag_difference": list(self.bag_difference),
            "bow_unseparated": None if self.unseparated is None else self.unseparated.to_dict(),
        }


@dataclass
class ContrastResult:
    source: str
    pairs: list[PairResult]

    def _arrays(self, model: str) -> tuple[np.ndarray, np.ndarray]:
        labels = np.array([[s.label for s in p.sentences] for p in self.pairs])
        probabilities = np.array([[getattr(s, model) for s in p.sentences] for p in self.pairs])
        return labels, probabilities

    def sentence_accuracy(self, model: str) -> float:
        return sentence_accuracy(*self._arrays(model))

    def pair_accuracy(self, model: str) -> float:
        return pair_accuracy(*self._arrays(model))

    @property
    def equal_bags(self) -> int:
        return sum(p.bags_equal for p in self.pairs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "n_pairs": len(self.pairs),
            "equal_bags": self.equal_bags,
            "bow": {"sentence_accuracy": self.sentence_accuracy("bow"), "pair_accuracy": self.pair_accuracy("bow")},
            "rnn": {"sentence_accuracy": self.sentence_accuracy("rnn"), "pair_accuracy": self.pair_accuracy("rnn")},
            "pairs": [p.to_dict() for p in self.pairs],
        }


@dataclass
class Comparison:
    """Everything ``compare_bow`` measured; ``to_dict`` is the ``--json`` output."""

    ngrams: int
    models: dict[str, str]  # how each model came to be: "trained here" or its directory
    training: dict[str, Any]  # source and rows of the data, or None for model directories
    seed: SeedExample
    heldout: list[Accuracy]
    contrast: ContrastResult
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ngrams": self.ngrams,
            "models": self.models,
            "training": self.training,
            "seed_example": self.seed.to_dict(),
            "heldout": [a.to_dict() for a in self.heldout],
            "contrast": self.contrast.to_dict(),
            "notes": self.notes,
        }


# ---------------------------------------------------------------- the comparison


@dataclass(frozen=True)
class TrainedPair:
    """The two models to compare, with where they came from."""

    rnn: Any
    bow: Any
    ngrams: int
    models: dict[str, str]
    training: dict[str, Any] | None
    heldout: list[Accuracy]
    notes: list[str]
    builtin_corpus: bool  # both trained on the built-in corpus, so data/heldout.csv is unseen by both


def bow_config(config: Config) -> Config:
    """The baseline's config: the same keys (data, tokenizer, training, ``model.ngrams``), ``model.kind = "bow"``."""
    return replace(config, model={"kind": "bow"})


def train_both(
    config: Config, dataset: Dataset, verbose: int | str = 0, progress=None, builtin_corpus: bool = False
) -> TrainedPair:
    """Fit the RNN and the baseline on the same seeded split of ``dataset``.

    Args:
        config: the RNN's config; the baseline takes the same keys with ``model.kind = "bow"``.
        dataset: all labelled data; ``config.train.validation_split`` of it is held out.
        verbose: Keras ``fit`` verbosity.
        progress: called with a one-line status before each model trains.
        builtin_corpus: ``dataset`` is the built-in corpus.
    """
    from sentiment_rnn.inference import predict_proba
    from sentiment_rnn.training import fit, split_dataset

    progress = progress or (lambda message: None)
    rnn_config = replace(config, model={"kind": "rnn"})
    baseline_config = bow_config(config)
    split = split_dataset(dataset, config.train.validation_split, config.train.seed)
    where = (
        f"{len(split.train)} sentences of {dataset.source} ({len(split.validation)} held out, seed {config.train.seed})"
    )
    progress(f"Training the RNN on {where}...")
    rnn, _ = fit(rnn_config, split, verbose=verbose)
    progress(f"Training the bag-of-words baseline ({ngram_name(baseline_config.model.ngrams)}) on the same split...")
    bow, _ = fit(baseline_config, split, verbose=verbose)
    labels = split.validation.labels
    heldout = Accuracy(
        VALIDATION_SPLIT,
        len(split.validation),
        sentence_accuracy(labels, predict_proba(bow, split.validation.texts)),
        sentence_accuracy(labels, predict_proba(rnn, split.validation.texts)),
    )
    training = {
        "source": dataset.source,
        "rows": len(dataset),
        "train_rows": len(split.train),
        "validation_rows": len(split.validation),
        "seed": config.train.seed,
    }
    return TrainedPair(
        rnn,
        bow,
        baseline_config.model.ngrams,
        {"rnn": "trained here", "bow": "trained here"},
        training,
        [heldout],
        [],
        builtin_corpus=builtin_corpus,
    )


def load_both(rnn_dir: str | Path, bow_dir: str | Path) -> TrainedPair:
    """Open two model directories; their validation accuracies come from their metrics.json."""
    from sentiment_rnn.artifact import open_model_dir

    rnn, bow = open_model_dir(rnn_dir), open_model_dir(bow_dir)
    for directory, kind, flag in ((rnn, "rnn", "--rnn-model"), (bow, "bow", "--bow-model")):
        if directory.config.model.kind != kind:
            raise SentimentError(
                f"{directory.path} holds a {directory.config.model.kind} model, but {flag} needs a {kind} model: "
                f"train one with `sentiment-rnn train --set model.kind={kind}`."
            )
    if rnn.config.model.stateful or rnn.config.model.return_sequences:
        raise SentimentError(
            f"{rnn.path} holds a stateful or per-token model: compare-bow needs the plain many-to-one view; "
            "train one with model.stateful and model.return_sequences false."
        )
    notes = []
    heldout = []
    data_keys = ("source", "rows", "labels", "train_rows", "validation_rows")  # as meta.json records the data
    same_split = (
        rnn.config.data == bow.config.data
        and all(
            getattr(rnn.config.train, key) == getattr(bow.config.train, key) for key in ("seed", "validation_split")
        )
        and all(rnn.meta.get("data", {}).get(key) == bow.meta.get("data", {}).get(key) for key in data_keys)
    )
    rnn_metrics, bow_metrics = rnn.metrics(), bow.metrics()
    if same_split and rnn_metrics.get("n") == bow_metrics.get("n"):
        heldout.append(
            Accuracy(
                f"{VALIDATION_SPLIT} (metrics.json)",
                int(rnn_metrics["n"]),
                float(bow_metrics["accuracy"]),
                float(rnn_metrics["accuracy"]),
            )
        )
    else:
        notes.append(
            f"The two models were trained on different data or splits (RNN: validation accuracy "
            f"{rnn_metrics['accuracy']:.3f} on {rnn_metrics['n']}; baseline: {bow_metrics['accuracy']:.3f} on "
            f"{bow_metrics['n']}): pass --eval-data to compare them on the same sentences."
        )
    return TrainedPair(
        rnn.model,
        bow.model,
        bow.config.model.ngrams,
        {"rnn": str(rnn.path), "bow": str(bow.path)},
        None,
        heldout,
        notes,
        builtin_corpus=not rnn.config.data.path and not bow.config.data.path,
    )


def seed_example(rnn, bow) -> SeedExample:
    """Run the seed pair (and the lecture's comma spelling) through both models."""
    from sentiment_rnn.inference import predict_proba

    texts = [text for text, _ in SEED_SENTENCES]
    vectors = multi_hot(bow, texts)
    vocabulary = vocabulary_index(bow)
    nonzero = np.flatnonzero(vectors.any(axis=0)).tolist()
    present = [i for i in _reading_order(texts, vocabulary) if i in nonzero]
    present += [i for i in nonzero if i not in present]  # none, unless the two tokenizers disagree
    names = list(vocabulary)
    all_texts = texts + [LECTURE_SENTENCE[0]]
    bow_p = predict_one_by_one(bow, all_texts)
    rnn_p = predict_proba(rnn, all_texts)
    results = [
        SentenceResult(text, label, float(b), float(r))
        for (text, label), b, r in zip([*SEED_SENTENCES, LECTURE_SENTENCE], bow_p, rnn_p)
    ]
    return SeedExample(
        columns=[names[i] for i in present],
        bags=[[int(v) for v in row[present]] for row in vectors],
        vocabulary_size=vectors.shape[1],
        bags_equal=bool(np.array_equal(vectors[0], vectors[1])),
        sentences=results[:2],
        lecture=results[2],
    )


def _reading_order(texts: list[str], vocabulary: dict[str, int]) -> list[int]:
    """Vocabulary indices of the texts' n-grams: words first, in reading order, then bigrams, ..., [UNK] last."""
    ngrams = max(len(gram.split(" ")) for gram in vocabulary)
    order: list[int] = []
    for n in range(1, ngrams + 1):
        for text in texts:
            tokens = tokenize_py(text)
            for i in range(len(tokens) - n + 1):
                index = vocabulary.get(" ".join(tokens[i : i + n]), OOV_INDEX)
                if index != OOV_INDEX and index not in order:
                    order.append(index)
    return order + [OOV_INDEX]


def contrast(rnn, bow, pairs: list[ContrastPair], ngrams: int, source: str) -> ContrastResult:
    """Both models on every pair; for the baseline's failures, the reason from its tokenizer."""
    from sentiment_rnn.inference import predict_proba

    texts = [text for pair in pairs for text in pair.texts]
    vectors = multi_hot(bow, texts).reshape(len(pairs), 2, -1)
    bow_p = predict_one_by_one(bow, texts).reshape(len(pairs), 2)
    rnn_p = predict_proba(rnn, texts).reshape(len(pairs), 2)
    vocabulary = vocabulary_index(bow)
    names = list(vocabulary)
    results = []
    for pair, pair_vectors, bows, rnns in zip(pairs, vectors, bow_p, rnn_p):
        sentences = tuple(
            SentenceResult(text, label, float(b), float(r))
            for text, label, b, r in zip(pair.texts, pair.labels, bows, rnns)
        )
        both_right = all((b >= THRESHOLD) == (label == 1) for b, label in zip(bows, pair.labels))
        results.append(
            PairResult(
                pair.pair_id,
                sentences,
                bool(np.array_equal(pair_vectors[0], pair_vectors[1])),
                None if both_right else why_not_separated(*pair.texts, vocabulary, ngrams),
                tuple(names[i] for i in np.flatnonzero(pair_vectors[0] != pair_vectors[1])),
            )
        )
    return ContrastResult(source, results)


def evaluate_both(rnn, bow, dataset: Dataset) -> Accuracy:
    from sentiment_rnn.inference import predict_proba

    return Accuracy(
        dataset.source,
        len(dataset),
        sentence_accuracy(dataset.labels, predict_proba(bow, dataset.texts)),
        sentence_accuracy(dataset.labels, predict_proba(rnn, dataset.texts)),
    )


def compare_bow(
    config: Config,
    *,
    dataset: Dataset | None = None,
    pairs_path: str | Path | None = None,
    eval_data: Dataset | None = None,
    rnn_dir: str | Path | None = None,
    bow_dir: str | Path | None = None,
    verbose: int | str = 0,
    progress=None,
) -> Comparison:
    """Train (or load) the RNN and the baseline and run points 1 to 4 of the module docstring.

    Args:
        config: the RNN's config (the baseline takes the same keys with ``model.kind = "bow"``);
            ``config.data`` names the data unless ``dataset`` is given.
        dataset: the data to train both models on.
        pairs_path: a contrast set (see :func:`read_pairs`); default: the built-in one.
        eval_data: extra labelled data to measure both models on. Default: the
            built-in ``heldout.csv`` when both models learn from the built-in corpus.
        rnn_dir, bow_dir: two model directories to compare instead of training.
        verbose: Keras ``fit`` verbosity; progress: called with one-line status messages.
    """
    from sentiment_rnn.training import load_training_data

    if (rnn_dir is None) != (bow_dir is None):
        raise SentimentError(
            "Pass both --rnn-model and --bow-model to compare trained models, or neither to train both."
        )
    pairs_source = str(pairs_path) if pairs_path is not None else str(corpus_file(CONTRAST_FILE))
    pairs = read_pairs(pairs_source)
    if rnn_dir is not None:
        both = load_both(rnn_dir, bow_dir)
    else:
        builtin = dataset is None and not config.data.path
        dataset = load_training_data(config) if dataset is None else dataset
        both = train_both(config, dataset, verbose=verbose, progress=progress, builtin_corpus=builtin)
    if eval_data is None and both.builtin_corpus:
        eval_data = read_dataset(corpus_file(HELDOUT_FILE))
    heldout = list(both.heldout)
    if eval_data is not None:
        heldout.append(evaluate_both(both.rnn, both.bow, eval_data))
    return Comparison(
        ngrams=both.ngrams,
        models=both.models,
        training=both.training,
        seed=seed_example(both.rnn, both.bow),
        heldout=heldout,
        contrast=contrast(both.rnn, both.bow, pairs, both.ngrams, pairs_source),
        notes=both.notes,
    )


# ---------------------------------------------------------------- the report


def ngram_name(ngrams: int) -> str:
    return "unigrams" if ngrams == 1 else ("unigrams and bigrams" if ngrams == 2 else f"1- to {ngrams}-grams")


def _count(k: int, noun: str) -> str:
    return f"{k} {noun}{'' if k == 1 else 's'}"


def _verdict(probability: float, label: int) -> str:
    return "right" if (probability >= THRESHOLD) == (label == 1) else "WRONG"


def _label_name(label: int) -> str:
    return "positive" if label == 1 else "negative"


def render(comparison: Comparison, max_listed: int = 10) -> str:
    """The terminal report: the seed table, held-out accuracy, the contrast set, what n-grams miss."""
    c = comparison
    seed = c.seed
    lines = [f"Bag of words ({ngram_name(c.ngrams)}) against the RNN", ""]

    lines.append("1. The seed example: what the bag-of-words baseline sees")
    width = max(len(s.text) for s in seed.sentences)
    column_widths = [max(len(name), 1) for name in seed.columns]
    lines.append(" " * (width + 2) + "  ".join(name.rjust(w) for name, w in zip(seed.columns, column_widths)))
    for sentence, bag in zip(seed.sentences, seed.bags):
        cells = "  ".join(str(v).rjust(w) for v, w in zip(bag, column_widths))
        lines.append(f"{sentence.text.ljust(width)}  {cells}")
    others = seed.vocabulary_size - len(seed.columns)
    if seed.bags_equal:
        lines.append(f"The two multi-hot vectors are identical (the other {others} vocabulary entries are 0 in both),")
        lines.append("so the baseline must give both sentences the same probability.")
    else:
        lines.append(f"The two multi-hot vectors differ (the other {others} vocabulary entries are 0 in both):")
        lines.append(f"with {ngram_name(c.ngrams)} the baseline sees some local order.")
    lines.append("")
    lines.append(f"{'':{width}}  {'label':8}  {'bag of words':>12}  {'RNN':>6}")
    for s in seed.sentences:
        lines.append(
            f"{s.text.ljust(width)}  {_label_name(s.label):8}  {s.bow:>6.4f} {_verdict(s.bow, s.label):>5}  "
            f"{s.rnn:.4f} {_verdict(s.rnn, s.label)}"
        )
    rnn_verdict = "both right" if seed.rnn_both_right() else "not both right"
    bow_difference = "exactly 0.0" if seed.bow_difference == 0.0 else f"{seed.bow_difference:.4g}"
    lines.append(
        f"Difference between the two probabilities: bag of words {bow_difference}, "
        f"RNN {seed.rnn_difference:.4f} ({rnn_verdict})."
    )
    lecture = seed.lecture
    lines.append(
        f'The lecture writes "{lecture.text}": "," is a token of its own, so its bag also holds ",". '
        f"Bag of words {lecture.bow:.4f} {_verdict(lecture.bow, lecture.label)}, "
        f"RNN {lecture.rnn:.4f} {_verdict(lecture.rnn, lecture.label)}."
    )
    lines.append("")

    lines.append("2. Accuracy on held-out sentences (probability >= 0.5 counts as positive)")
    if c.training is not None:
        lines.append(
            f"Both models trained on the same {c.training['train_rows']} sentences of {c.training['source']} "
            f"with seed {c.training['seed']}."
        )
    else:
        lines.append(f"Models from {c.models['rnn']} (RNN) and {c.models['bow']} (bag of words).")
    if c.heldout:
        source_width = max(len(a.source) for a in c.heldout)
        lines.append(f"{'':{source_width}}  {'n':>6}  {'bag of words':>12}  {'RNN':>6}")
        for a in c.heldout:
            lines.append(f"{a.source.ljust(source_width)}  {a.n:>6}  {a.bow:>12.3f}  {a.rnn:>6.3f}")
    if any(a.source.startswith(VALIDATION_SPLIT) for a in c.heldout):
        lines.append("The validation split is held out from fitting, but it chooses the early-stopping epoch.")
    lines.extend(c.notes)
    lines.append("")

    contrast = c.contrast
    n = len(contrast.pairs)
    lines.append(f"3. Contrast set: {n} pairs of sentences with opposite labels ({contrast.source})")
    lines.append(f"{'':12}  {'sentence accuracy':>17}  {'pair accuracy':>13}")
    for model, name in (("bow", "bag of words"), ("rnn", "RNN")):
        lines.append(f"{name:12}  {contrast.sentence_accuracy(model):>17.3f}  {contrast.pair_accuracy(model):>13.3f}")
    equal = contrast.equal_bags
    if equal == 0:
        lines.append("The baseline's multi-hot vectors differ within every pair.")
    else:
        lines.append(
            f"The baseline's multi-hot vectors are identical within {equal} of {n} pairs: there its two "
            "probabilities are equal, so it labels exactly one sentence of each such pair right."
        )
    if 0 < n - equal and c.ngrams == 1:
        counts: dict[str, int] = {}
        for pair in contrast.pairs:
            for gram in pair.bag_difference:
                counts[gram] = counts.get(gram, 0) + 1
        ranked = sorted(counts.items(), key=lambda item: -item[1])[:8]
        listed = ", ".join(f'"{gram}" ({_count(k, "pair")})' for gram, k in ranked)
        lines.append(
            f"In the other {_count(n - equal, 'pair')} the bags differ, in {listed}: those tokens, not the order "
            "of the words, are what the baseline can tell the two sentences apart by."
        )
    if equal == n:
        lines.append(
            f"Its pair accuracy is therefore 0 by construction, and measured: {contrast.pair_accuracy('bow'):.3f}."
        )
    rnn_wrong = [p for p in contrast.pairs if any(_verdict(s.rnn, s.label) == "WRONG" for s in p.sentences)]
    if rnn_wrong:
        lines.append(f"Pairs the RNN does not get both right ({len(rnn_wrong)}), as label, RNN probability, text:")
        for p in rnn_wrong[:max_listed]:
            lines.append("  " + "  |  ".join(f"{_label_name(s.label)[:3]} {s.rnn:.2f} {s.text}" for s in p.sentences))
        if len(rnn_wrong) > max_listed:
            lines.append(f"  ... and {len(rnn_wrong) - max_listed} more (--json lists every pair)")

    if c.ngrams >= 2:
        lines.append("")
        unseparated = [p for p in contrast.pairs if p.unseparated is not None]
        lines.append(
            f"4. What {ngram_name(c.ngrams)} still cannot separate: {len(unseparated)} of {n} pairs "
            "not both right under the baseline"
        )
        for reason, title in (
            (SAME_NGRAMS, f"the same {ngram_name(c.ngrams)} in both sentences (order differs only beyond them)"),
            (UNSEEN_NGRAMS, "the n-grams that differ were never seen in training, so both become [UNK]"),
            (TOO_WEAK, "the bags differ, but the learned weights do not flip the label"),
        ):
            group = [p for p in unseparated if p.unseparated.reason == reason]
            if not group:
                continue
            lines.append(f"{len(group)} pairs: {title}")
            for p in group[:max_listed]:
                texts = " / ".join(s.text for s in p.sentences)
                lines.append(f"  {texts}: {p.unseparated.explain(c.ngrams)}")
            if len(group) > max_listed:
                lines.append(f"  ... and {len(group) - max_listed} more (--json lists every pair)")
    return "\n".join(lines)
