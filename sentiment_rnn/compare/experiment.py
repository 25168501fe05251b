"""The experiment: train (or load) both models and run them on the seed pair, held-out data and a contrast set."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sentiment_rnn.compare.bags import (
    OOV_INDEX,
    class_accuracy,
    labelled_right,
    multi_hot,
    positive_score,
    predict_one_by_one,
    vocabulary_index,
    why_not_separated,
)
from sentiment_rnn.compare.pairs import CONTRAST_FILE, ContrastPair, read_pairs
from sentiment_rnn.compare.results import (
    VALIDATION_SPLIT,
    Accuracy,
    Comparison,
    ContrastResult,
    PairResult,
    SeedExample,
    SentenceResult,
)
from sentiment_rnn.config import Config, DataConfig, replace, with_classes
from sentiment_rnn.data.dataset import Dataset, corpus_file
from sentiment_rnn.data.formats import dataset_from_config, names_no_data, read_dataset
from sentiment_rnn.data.labels import DEFAULT_CLASSES, classes_of
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.text import ngram_name, token_ngrams, tokenize_py

SEED_SENTENCES = (("This phone is no good", 0), ("No this phone is good", 1))
# The spelling of the course lecture notes this tool grew from; "," is a token of its own, so its bag differs.
LECTURE_SENTENCE = ("No, this phone is good", 1)

HELDOUT_FILE = "heldout.csv"


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
    classes: tuple[str, ...] = DEFAULT_CLASSES  # the models' classes (more than two: softmax heads)


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
    from sentiment_rnn.training.fit import fit
    from sentiment_rnn.training.pipeline import split_dataset

    progress = progress or (lambda message: None)
    config = with_classes(config, dataset.classes)  # more than two: both models get a softmax head over them
    rnn_config = replace(config, model={"kind": "rnn"})
    baseline_config = bow_config(config)
    split = split_dataset(dataset, config.train.validation_split, config.train.seed)
    where = f"{len(split.train)} texts of {dataset.source} ({len(split.validation)} held out, seed {config.train.seed})"
    progress(f"Training the RNN on {where}...")
    rnn = fit(rnn_config, split, verbose=verbose).model
    progress(f"Training the bag-of-words baseline ({ngram_name(baseline_config.model.ngrams)}) on the same split...")
    bow = fit(baseline_config, split, verbose=verbose).model
    heldout = evaluate_both(rnn, bow, split.validation, source=VALIDATION_SPLIT)
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
        classes=classes_of(config.data),
    )


def load_both(rnn_dir: str | Path, bow_dir: str | Path) -> TrainedPair:
    """Open two model directories; their validation accuracies come from their metrics.json."""
    from sentiment_rnn.artifact.model_directory import open_model_dir

    rnn, bow = open_model_dir(rnn_dir), open_model_dir(bow_dir)
    if rnn.classes != bow.classes:
        raise SentimentError(
            f"{rnn.path} has the classes {', '.join(rnn.classes)} and {bow.path} {', '.join(bow.classes)}: "
            "compare models of the same classes."
        )
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
            f"{bow_metrics['n']}): pass --eval-data to compare them on the same texts."
        )
    return TrainedPair(
        rnn.model,
        bow.model,
        bow.config.model.ngrams,
        {"rnn": str(rnn.path), "bow": str(bow.path)},
        None,
        heldout,
        notes,
        builtin_corpus=names_no_data(rnn.config.data) and names_no_data(bow.config.data),
        classes=rnn.classes,
    )


def seed_example(rnn, bow) -> SeedExample:
    """Run the seed pair (and the lecture notes' comma spelling, :data:`LECTURE_SENTENCE`) through both models."""
    from sentiment_rnn.inference import keras_predict_proba

    texts = [text for text, _ in SEED_SENTENCES]
    vectors = multi_hot(bow, texts)
    vocabulary = vocabulary_index(bow)
    nonzero = np.flatnonzero(vectors.any(axis=0)).tolist()
    present = [i for i in _reading_order(texts, vocabulary) if i in nonzero]
    present += [i for i in nonzero if i not in present]  # none, unless the two tokenizers disagree
    names = list(vocabulary)
    all_texts = texts + [LECTURE_SENTENCE[0]]
    bow_p = predict_one_by_one(bow, all_texts)
    rnn_p = positive_score(keras_predict_proba(rnn, all_texts))
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
    grams = [gram for text in texts for gram in token_ngrams(tokenize_py(text), ngrams)]
    order: list[int] = []
    for gram in sorted(grams, key=lambda gram: gram.count(" ")):  # stable: by n, then by text and position
        index = vocabulary.get(gram, OOV_INDEX)
        if index != OOV_INDEX and index not in order:
            order.append(index)
    return order + [OOV_INDEX]


def contrast(rnn, bow, pairs: list[ContrastPair], ngrams: int, source: str, builtin: bool = False) -> ContrastResult:
    """Both models on every pair; for the baseline's failures, the reason from its tokenizer."""
    from sentiment_rnn.inference import keras_predict_proba

    texts = [text for pair in pairs for text in pair.texts]
    vectors = multi_hot(bow, texts).reshape(len(pairs), 2, -1)
    bow_p = predict_one_by_one(bow, texts).reshape(len(pairs), 2)
    rnn_p = positive_score(keras_predict_proba(rnn, texts)).reshape(len(pairs), 2)
    vocabulary = vocabulary_index(bow)
    names = list(vocabulary)
    results = []
    for pair, pair_vectors, bows, rnns in zip(pairs, vectors, bow_p, rnn_p):
        sentences = tuple(
            SentenceResult(text, label, float(b), float(r))
            for text, label, b, r in zip(pair.texts, pair.labels, bows, rnns)
        )
        both_right = bool(labelled_right(pair.labels, bows).all())
        results.append(
            PairResult(
                pair.pair_id,
                sentences,
                bool(np.array_equal(pair_vectors[0], pair_vectors[1])),
                None if both_right else why_not_separated(*pair.texts, vocabulary, ngrams),
                tuple(names[i] for i in np.flatnonzero(pair_vectors[0] != pair_vectors[1])),
            )
        )
    return ContrastResult(source, results, builtin)


def evaluate_both(rnn, bow, dataset: Dataset, source: str | None = None) -> Accuracy:
    """Both models' accuracy on ``dataset``, reported as from ``source`` (default: the dataset's)."""
    from sentiment_rnn.inference import keras_predict_proba

    return Accuracy(
        dataset.source if source is None else source,
        len(dataset),
        class_accuracy(dataset.labels, keras_predict_proba(bow, dataset.texts)),
        class_accuracy(dataset.labels, keras_predict_proba(rnn, dataset.texts)),
    )


def compare_bow(
    config: Config,
    *,
    dataset: Dataset | None = None,
    pairs_path: str | Path | None = None,
    eval_data: str | Path | None = None,
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
        eval_data: a file of extra labelled data to measure both models on, read
            like ``config.data`` (see :func:`read_eval_data`). Default: the
            built-in ``heldout.csv`` when both models learn from the built-in corpus.
        rnn_dir, bow_dir: two model directories to compare instead of training.
        verbose: Keras ``fit`` verbosity; progress: called with one-line status messages.
    """
    from sentiment_rnn.training.pipeline import load_training_data

    evaluation = None
    if eval_data is not None:  # read first: a bad file is refused before anything trains
        evaluation = read_eval_data(config.data, eval_data)
    if (rnn_dir is None) != (bow_dir is None):
        raise SentimentError(
            "Pass both --rnn-model and --bow-model to compare trained models, or neither to train both."
        )
    builtin_pairs = pairs_path is None
    pairs_source = str(corpus_file(CONTRAST_FILE)) if builtin_pairs else str(pairs_path)
    pairs = read_pairs(pairs_source)
    if rnn_dir is not None:
        both = load_both(rnn_dir, bow_dir)
    else:
        builtin = dataset is None and names_no_data(config.data)
        dataset = load_training_data(config) if dataset is None else dataset
        both = train_both(config, dataset, verbose=verbose, progress=progress, builtin_corpus=builtin)
    if evaluation is None and both.builtin_corpus:
        evaluation = read_dataset(corpus_file(HELDOUT_FILE))
    classes = both.classes
    if evaluation is not None and eval_data is not None and evaluation.classes != classes:
        import dataclasses

        named = dataclasses.replace(config.data, labels=",".join(classes))  # read as the models' classes
        evaluation = read_eval_data(named, eval_data)
    heldout = list(both.heldout)
    if evaluation is not None:
        heldout.append(evaluate_both(both.rnn, both.bow, evaluation.with_classes(classes)))
    return Comparison(
        ngrams=both.ngrams,
        models=both.models,
        training=both.training,
        seed=seed_example(both.rnn, both.bow),
        heldout=heldout,
        contrast=contrast(both.rnn, both.bow, pairs, both.ngrams, pairs_source, builtin_pairs),
        notes=both.notes,
        builtin_corpus=both.builtin_corpus,
        classes=classes,
    )


def read_eval_data(data: DataConfig, path: str | Path) -> Dataset:
    """The labelled file ``path``, read like the training data ``data`` names it.

    The format, columns, encoding, label mapping and empty-text rule are
    ``data``'s; an IMDB layout gives its test split, whatever split ``data``
    trains on. One class only is allowed.
    """
    import dataclasses

    from sentiment_rnn.data.checks import check_encoding, check_exists
    from sentiment_rnn.data.detect import resolve_format

    check_exists(Path(path))
    check_encoding(data.encoding)
    split = "test" if resolve_format(Path(path), data.format, data.encoding) == "imdb" else ""
    options = dataclasses.replace(
        data, path=str(path), pos="", neg="", sources=(), split=split, skip_every=0, streaming=False, test_path=""
    )
    return dataset_from_config(options, require_both_classes=False)
