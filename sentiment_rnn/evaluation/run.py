"""Run saved models over labelled data and measure them: in memory, streamed, several models at once.

The data is read once, a batch at a time, and each batch goes through every
model (``inference.predict_proba``); each model's ``MetricsAccumulator``
(``ClassMetricsAccumulator`` for a model of more than two classes) counts what
it answered. The data options a model was trained with (encoding, columns,
format, classes) are the defaults for reading the data it is measured on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from sentiment_rnn.data.dataset import Dataset
from sentiment_rnn.data.labels import DEFAULT_THRESHOLD, classes_of
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.evaluation.class_metrics import ClassEvaluation, ClassMetricsAccumulator
from sentiment_rnn.evaluation.metrics import Evaluation, MetricsAccumulator


def accumulator_for(classes: tuple[str, ...], threshold: float, errors: int):
    """The metrics of a model with ``classes``: two-class (``MetricsAccumulator``) or N-class."""
    from sentiment_rnn.inference import check_threshold

    check_threshold(threshold, classes)
    if len(classes) > 2:
        return ClassMetricsAccumulator(classes, errors)
    return MetricsAccumulator(threshold, errors, classes)


def evaluate(
    model_dir, dataset: Dataset, errors: int = 0, threshold: float = DEFAULT_THRESHOLD
) -> Evaluation | ClassEvaluation:
    """Predict every text of ``dataset`` with the model in ``model_dir`` and measure the result.

    Args:
        model_dir: a model directory (path or opened ``ModelDirectory``).
        dataset: the labelled texts; its classes are matched to the model's by name.
        errors: how many of the most confidently wrong examples to keep in ``errors``.
        threshold: probabilities at or above it count as positive (two-class models only).

    Returns:
        ``Evaluation`` for a two-class model, ``class_metrics.ClassEvaluation`` for more classes.
    """
    from sentiment_rnn import inference
    from sentiment_rnn.artifact.model_directory import as_model_directory

    if errors < 0:
        raise SentimentError(f"--errors must be 0 or more, got {errors}.")
    directory = as_model_directory(model_dir)
    dataset = dataset.with_classes(directory.classes)
    metrics = accumulator_for(directory.classes, threshold, errors)
    for start in range(0, len(dataset), EVALUATE_BATCH):
        texts = dataset.texts[start : start + EVALUATE_BATCH]
        metrics.add(dataset.labels[start : start + EVALUATE_BATCH], inference.predict_proba(directory, texts), texts)
        metrics.add_tokens(*unknown_token_counts(directory.numpy_engine, texts))
    return metrics.result()


EVALUATE_BATCH = 8192  # texts per batch through the model


def evaluate_data(
    model_dir: str | Path,
    data_config,
    errors: int = 0,
    threshold: float = DEFAULT_THRESHOLD,
    on_progress: Callable[[int], None] | None = None,
) -> Evaluation | ClassEvaluation:
    """Stream the data a ``[data]`` config section names through the model and measure it.

    The data is read, predicted and counted a batch at a time
    (``sentiment_rnn.data.batches``), so memory stays flat however large it
    is. One class only is allowed here (ROC AUC is then None). Labels are read
    as the model's classes (a section naming other classes is refused).

    Args:
        on_progress: called with the bytes of input read since the last call
            (for a bar of length ``batches.input_size(data_config)``).
    """
    (result,) = evaluate_models([model_dir], data_config, errors, threshold, on_progress).values()
    return result


def evaluate_models(
    model_dirs: Sequence[str | Path],
    data_config,
    errors: int = 0,
    threshold: float = DEFAULT_THRESHOLD,
    on_progress: Callable[[int], None] | None = None,
) -> dict[str, Evaluation | ClassEvaluation]:
    """Measure several models on the same data, read once: :func:`evaluate_data` for each.

    Every batch of the data goes through each model in turn, so the data is
    read (and its bytes reported to ``on_progress``) once, however many models.
    The labels are read as the models' classes, which must be the same for all.

    Returns:
        Each model's name (``str`` of its entry in ``model_dirs``) and its evaluation, in the order given.

    Raises:
        SentimentError: no data, no model, a model given twice, a bad model directory or models of different
            classes (before any data is read), or the data's own errors.
    """
    from sentiment_rnn import inference
    from sentiment_rnn.artifact.model_directory import open_model_dir
    from sentiment_rnn.data.batches import read_batches

    if not (data_config.path or data_config.pos or data_config.neg or data_config.sources):
        raise SentimentError("No data to evaluate: pass --data PATH, or --pos FILE and --neg FILE.")
    check_model_names(model_dirs)
    directories = [open_model_dir(model_dir) for model_dir in model_dirs]  # fail before reading big data
    classes = check_same_classes(classes_of_models(model_dirs, directories))
    named = classes_of(data_config)
    if (data_config.labels or data_config.label_map) and named != classes:
        raise SentimentError(
            f"The data's classes ({', '.join(named)}) are not the model's ({', '.join(classes)}): "
            "name the model's classes, in its order, with --labels (or drop --labels and --label-map)."
        )
    metrics = [accumulator_for(classes, threshold, errors) for _ in directories]
    done = 0
    for batch in read_batches(data_config, labelled=True, classes=classes):
        texts = [batch.texts[i] for i in batch.kept]
        for directory, accumulator in zip(directories, metrics):
            accumulator.add(batch.labels, inference.predict_proba(directory, texts), texts)
            accumulator.add_tokens(*unknown_token_counts(directory.numpy_engine, texts))
        if on_progress is not None:
            on_progress(batch.bytes_read - done)
        done = batch.bytes_read
    return {str(model_dir): accumulator.result() for model_dir, accumulator in zip(model_dirs, metrics)}


def check_model_names(model_dirs: Sequence[str | Path]) -> None:
    """Refuse an empty list of models, or one model named twice (its columns could not be told apart)."""
    if not model_dirs:
        raise SentimentError("No model to evaluate: pass --model DIR (or several, each with --model).")
    seen: set[str] = set()
    for model_dir in model_dirs:
        if str(model_dir) in seen:
            raise SentimentError(f"--model {model_dir} is given twice: name each model once.")
        seen.add(str(model_dir))


def check_same_classes(models: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The classes of the models (each model's name and its classes), refused unless the same, in the same order.

    Several models are measured on data read once, its labels read as their
    classes, and laid out side by side (a table, a report's figures); a
    two-class model beside one of more classes (or of other classes) cannot
    be, and is refused in one line.
    """
    (first, classes), *others = models.items()
    for name, theirs in others:
        if theirs != classes:
            raise SentimentError(
                f"--model {first} and --model {name} have different classes ({', '.join(classes)} and "
                f"{', '.join(theirs)}): evaluate them one at a time."
            )
    return classes


def classes_of_models(model_dirs: Sequence[str | Path], directories=None) -> dict[str, tuple[str, ...]]:
    """Each model's name (``str`` of its entry) and its classes; ``directories`` are the models opened, if they are."""
    from sentiment_rnn.artifact.model_directory import open_model_dir

    directories = directories or [open_model_dir(model_dir) for model_dir in model_dirs]
    return {str(model_dir): directory.classes for model_dir, directory in zip(model_dirs, directories)}


def data_options_of_model(model_dir: str | Path, given: dict) -> list[str]:
    """Config overrides for the data options the user did not give, taken from the model's own ``[data]``.

    ``given`` maps ``data.<key>`` to what the user passed (None when not
    given). The model's encoding, columns, empty-text rule, classes (--labels)
    and label map (--positive/--negative or --label-map, unless one of them is
    given) are used unless given, and its format too unless --pos/--neg are
    given (they read lines, whatever the training format was).
    """
    from sentiment_rnn.artifact.model_directory import open_model_dir
    from sentiment_rnn.config import options_as_overrides

    trained = open_model_dir(model_dir).config.data
    inherited = ["encoding", "text_column", "label_column", "on_empty", "labels"]
    if not (given.get("pos") or given.get("neg")):
        inherited.append("format")
        if all(given.get(key) is None for key in ("positive", "negative", "label_map")):
            inherited += ["positive", "negative", "label_map"]
    return options_as_overrides({f"data.{key}": getattr(trained, key) for key in inherited if given.get(key) is None})


DATA_OPTION_NAMES = {
    "encoding": "--encoding",
    "text_column": "--text-column",
    "label_column": "--label-column",
    "on_empty": "--on-empty",
    "format": "--format",
    "positive": "--positive",
    "negative": "--negative",
    "labels": "--labels",
    "label_map": "--label-map",
}


def data_options_of_models(model_dirs: Sequence[str | Path], given: dict) -> list[str]:
    """:func:`data_options_of_model` for models read on the same data: the options they all inherit.

    Raises:
        SentimentError: models of different classes (:func:`check_same_classes`); two models were trained with
            different values of an option the user did not give, naming the option to pass.
    """
    check_model_names(model_dirs)
    check_same_classes(classes_of_models(model_dirs))  # before the options: --labels would not help
    first, *others = model_dirs
    options = data_options_of_model(first, given)
    for other in others:
        theirs = data_options_of_model(other, given)
        if theirs != options:
            ours, differing = dict(o.split("=", 1) for o in options), dict(o.split("=", 1) for o in theirs)
            key = next(k for k in [*ours, *differing] if ours.get(k) != differing.get(k))
            option = DATA_OPTION_NAMES[key.removeprefix("data.")]
            raise SentimentError(
                f"--model {first} and --model {other} were trained on data read differently ({key} "
                f"{ours.get(key, 'not set')} and {differing.get(key, 'not set')}): pass {option} to say how to "
                "read the data."
            )
    return options


def unknown_token_counts(engine, texts) -> tuple[int, int]:
    """(tokens outside the vocabulary, tokens read) of the NumPy ``engine`` over ``texts``."""
    unknown = total = 0
    for text in texts:
        flags = engine.vocabulary.unknown(engine.tokens(text))
        unknown += sum(flags)
        total += len(flags)
    return unknown, total


def data_name(data_config) -> str:
    """The data a ``[data]`` section reads, in a few words: ``test.csv``, ``a.pos + a.neg``, ``aclImdb (test)``."""
    if data_config.sources:
        return " + ".join(data_name(source) for source in data_config.sources)
    if data_config.pos or data_config.neg:
        return f"{data_config.pos} + {data_config.neg}"
    return f"{data_config.path} ({data_config.split})" if data_config.split else str(data_config.path)
