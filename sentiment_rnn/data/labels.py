"""The classes: how a label read from a file becomes a class index, and how the classes are named.

A model has two classes (``("negative", "positive")`` unless named otherwise; a
sigmoid head gives the probability of class 1) or more (a softmax head over
all of them). The classes come from the config (``data.labels``,
``data.label_map``, ``data.positive``/``data.negative``) or, when it names
none, from the labels the data holds (:func:`learned_classes`).

Labels are compared stripped and lowercased, and a label that is an integral
number is written without a fraction (``"4.0"`` is ``"4"``): :func:`label_key`.
NumPy is imported only by the functions on arrays: the command line starts without it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sentiment_rnn.errors import SentimentError

POSITIVE_LABELS = frozenset({"1", "1.0", "true", "pos", "positive"})
NEGATIVE_LABELS = frozenset({"0", "0.0", "false", "neg", "negative"})
# The one label table of two-class data, read by parse_label here and by the streaming reader:
# a label, stripped and lowercased -> 1 or 0.
LABEL_VALUES = {**dict.fromkeys(sorted(POSITIVE_LABELS), 1), **dict.fromkeys(sorted(NEGATIVE_LABELS), 0)}
BUILT_IN_LABELS = "0/1, true/false, pos/neg or positive/negative"
DEFAULT_CLASSES = ("negative", "positive")  # a two-class model's classes when none are named; 1 = positive
POSITIVE_NEGATIVE = "--positive or --negative"  # how messages name the two-class label map
DEFAULT_THRESHOLD = 0.5  # a probability of positive at or above it counts as positive


def is_positive(probability, threshold: float = DEFAULT_THRESHOLD):
    """Whether a probability of positive (a float, or an array of them, element-wise) counts as positive."""
    return probability >= threshold


def label_name(label: int, classes: tuple[str, ...] = DEFAULT_CLASSES) -> str:
    """The name of class ``label``: ``"positive"`` for 1 and ``"negative"`` for 0 unless ``classes`` says otherwise."""
    return classes[label]


def label_for(probability: float, threshold: float = DEFAULT_THRESHOLD, classes=DEFAULT_CLASSES) -> str:
    """The name of the class a probability of class 1 gets: class 1 (``"positive"``) at or above ``threshold``."""
    return label_name(1 if is_positive(probability, threshold) else 0, classes)


def predicted_classes(probabilities, threshold: float = DEFAULT_THRESHOLD):
    """The class index of each row, (n,) int: (n,) probabilities of class 1 against ``threshold``, or (n, N) by the largest."""
    import numpy as np

    probabilities = np.asarray(probabilities)
    if probabilities.ndim == 2:
        return np.argmax(probabilities, axis=1)
    return is_positive(probabilities, threshold).astype(np.int64)


def top_probability(probabilities):
    """What ``predict`` prints beside the label, (n,): probabilities (n,) of class 1 as they are, or of (n, N) the top."""
    import numpy as np

    probabilities = np.asarray(probabilities)
    return probabilities.max(axis=1) if probabilities.ndim == 2 else probabilities


def output_units(classes: tuple[str, ...]) -> int:
    """The width of a model's head: 1 (a sigmoid) for two classes, one unit per class (a softmax) for more."""
    return 1 if len(classes) == 2 else len(classes)


def label_key(value: object) -> str:
    """A label as labels are compared: stripped, lowercased, an integral number without its fraction (``"4.0"`` -> ``"4"``)."""
    key = str(value).strip().lower()
    try:
        number = float(key)
    except ValueError:
        return key
    return str(int(number)) if number.is_integer() else key


def is_ordinal(classes: tuple[str, ...]) -> bool:
    """Whether every class is a number (star ratings, SST-5's 0 to 4): then their order and distance mean something."""
    try:
        [float(name) for name in classes]
    except ValueError:
        return False
    return True


def class_order(name: str) -> tuple:
    """The sort key of learned classes: numbers first, in numeric order, then names alphabetically."""
    try:
        return (0, float(name), name)
    except ValueError:
        return (1, 0.0, name)


def learned_classes(keys: Iterable[str]) -> tuple[str, ...]:
    """The classes of data holding the label keys ``keys`` (see :func:`label_key`), none named in the config.

    Labels all of the built-in two-class table (0/1, true/false, ...) give
    ``("negative", "positive")``; any other set gives its labels themselves,
    numbers in numeric order and names in alphabetical order.
    """
    keys = set(keys)
    if keys <= LABEL_VALUES.keys():
        return DEFAULT_CLASSES
    return tuple(sorted(keys, key=class_order))


def parse_classes(text: str, option: str = "--labels") -> tuple[str, ...]:
    """``"negative, neutral,positive"`` -> ``("negative", "neutral", "positive")`` (each a :func:`label_key`).

    Raises:
        SentimentError: an empty entry, a class named twice, fewer than two classes.
    """
    names = tuple(label_key(name) for name in text.split(","))
    if any(not name for name in names):
        raise SentimentError(
            f"{option} {text!r} has an empty class: list classes separated by commas, e.g. {option} negative,neutral,positive."
        )
    twice = next((name for i, name in enumerate(names) if name in names[:i]), None)
    if twice is not None:
        raise SentimentError(f"{option} {text!r} names {twice!r} twice: name each class once.")
    if len(names) < 2:
        raise SentimentError(f"{option} {text!r} names one class: a classifier needs at least two.")
    return names


def parse_label_map(text: str) -> tuple[dict[str, str], tuple[str, ...]]:
    """``"1,2=negative;3=neutral;4,5=positive"`` -> ({label key: class}, the classes in order of appearance).

    Raises:
        SentimentError: a group without ``=``, an empty label or class, a label in two groups, one class only.
    """
    table: dict[str, str] = {}
    classes: list[str] = []
    for group in text.split(";"):
        if not group.strip():
            continue
        labels, equals, name = group.rpartition("=")
        name = label_key(name)
        keys = [label_key(label) for label in labels.split(",")]
        if not equals or not name or any(not key for key in keys):
            raise SentimentError(
                f"--label-map {text!r}: {group.strip()!r} is not LABELS=CLASS; write e.g. "
                "--label-map '1,2=negative;3=neutral;4,5=positive'."
            )
        for key in keys:
            if table.get(key, name) != name:
                raise SentimentError(
                    f"--label-map {text!r} puts label {key!r} in {table[key]!r} and {name!r}: put each label in one class."
                )
            table[key] = name
        if name not in classes:
            classes.append(name)
    if len(classes) < 2:
        raise SentimentError(
            f"--label-map {text!r} names {len(classes)} class{'es' if len(classes) != 1 else ''}: a classifier "
            "needs at least two, e.g. --label-map '1,2=negative;3=neutral;4,5=positive'."
        )
    return table, tuple(classes)


def label_mapping(positive: str, negative: str) -> dict[str, int] | None:
    """The label table of ``--positive 4,5 --negative 1,2``: ``{"4": 1, "5": 1, "1": 0, "2": 0}``; None when both are "".

    Labels are compared as :func:`label_key` makes them; rows whose label is in
    neither list are skipped and counted (see :class:`LabelScheme`).

    Raises:
        SentimentError: only one of the two given, an empty entry, or a label in both.
    """
    if not positive and not negative:
        return None
    if not positive or not negative:
        given, missing = ("--positive", "--negative") if positive else ("--negative", "--positive")
        raise SentimentError(
            f"{given} was given without {missing}: name the labels of both classes, e.g. --positive 4,5 --negative 1,2."
        )
    table: dict[str, int] = {}
    for option, labels, value in (("--positive", positive, 1), ("--negative", negative, 0)):
        keys = [label_key(label) for label in labels.split(",")]
        if any(not key for key in keys):
            raise SentimentError(
                f"{option} {labels!r} has an empty label: list labels separated by commas, e.g. {option} 4,5."
            )
        for key in keys:
            if table.get(key, value) != value:
                raise SentimentError(
                    f"Label {key!r} is in both --positive and --negative: put each label in one of them."
                )
            table[key] = value
    return table


def classes_of(data_config) -> tuple[str, ...]:
    """The classes a ``[data]`` section (of a model's config, or once the data is read) names, index = class.

    ``data.labels`` when set, else the classes of ``data.label_map`` in order, else ``("negative", "positive")``.
    """
    if data_config.labels:
        return parse_classes(data_config.labels)
    if data_config.label_map:
        return parse_label_map(data_config.label_map)[1]
    return DEFAULT_CLASSES


@dataclass(frozen=True)
class LabelScheme:
    """How the labels of a file become class indices.

    Attributes:
        classes: the class names, index = class; None: learn them from the data (:func:`learned_classes`).
        table: label key (:func:`label_key`) -> class index; None while the classes are learned.
        mapped: a label map (``--label-map``, ``--positive``/``--negative``): a label outside ``table``
            skips its row (counted); otherwise such a label is an error naming its row.
        option: the options of the map, for messages.
    """

    classes: tuple[str, ...] | None = None
    table: dict[str, int] | None = None
    mapped: bool = False
    option: str = POSITIVE_NEGATIVE

    @property
    def learning(self) -> bool:
        return self.classes is None

    def parse(
        self, value: object, row: int, source: str, unit: str = "row", mappable: bool = False
    ) -> int | str | None:
        """The class index of one label, or while learning its key; None for a label outside a map.

        A label is missing when it is None, blank, or NaN (what pandas puts in a
        JSON Lines record without the key, or the text "NaN"): an error naming the row.
        ``mappable``: the caller takes ``--labels``/``--label-map``, so an error says so.
        """
        key = label_key(value)
        if value is None or key in ("", "nan"):
            raise SentimentError(
                f"{source}, {unit} {row}: the label is missing; give every {unit} a label ({self.wanted()})."
            )
        if self.table is None:
            return key
        if key in self.table:
            return self.table[key]
        if self.mapped:
            return None
        if self.classes == DEFAULT_CLASSES:
            hint = (
                ", or map labels with --positive and --negative (e.g. --positive 4,5 --negative 1,2)"
                if mappable
                else ""
            )
            raise SentimentError(f"{source}, {unit} {row}: label {value!r} is not binary; use {BUILT_IN_LABELS}{hint}.")
        raise SentimentError(
            f"{source}, {unit} {row}: label {value!r} is not one of the classes {', '.join(self.classes)}; "
            "name every class with --labels, or group labels with --label-map."
        )

    def wanted(self) -> str:
        """The labels this scheme takes, for a message."""
        if self.mapped:
            return f"one of {self.option.replace(' or ', '/')}"
        if self.classes is None or self.classes == DEFAULT_CLASSES:
            return BUILT_IN_LABELS
        return ", ".join(self.classes)


LEARNED = LabelScheme()  # the classes of the data, whatever they are


def fixed_scheme(classes: tuple[str, ...]) -> LabelScheme:
    """The scheme of named classes: each class's own name (and for negative/positive the built-in table)."""
    table = dict(LABEL_VALUES) if classes == DEFAULT_CLASSES else {name: index for index, name in enumerate(classes)}
    return LabelScheme(classes, table)


def label_scheme(data_config) -> LabelScheme:
    """The :class:`LabelScheme` of a ``[data]`` section: its label map, its classes, or learned from the data."""
    d = data_config
    mapping = label_mapping(d.positive, d.negative)
    if mapping is not None:
        return LabelScheme(DEFAULT_CLASSES, mapping, mapped=True)
    if d.label_map:
        table, names = parse_label_map(d.label_map)
        classes = parse_classes(d.labels) if d.labels else names
        index = {name: i for i, name in enumerate(classes)}
        return LabelScheme(
            classes, {key: index[name] for key, name in table.items()}, mapped=True, option="--label-map"
        )
    if d.labels:
        return fixed_scheme(parse_classes(d.labels))
    return LEARNED


def parse_label(
    value: object,
    row: int,
    source: str,
    unit: str = "row",
    mapping: dict[str, int] | None = None,
    mappable: bool = False,
) -> int | None:
    """Map one label to 1 (positive) or 0 (negative) by the built-in table or a ``--positive``/``--negative`` map.

    With a ``mapping`` (see :func:`label_mapping`) a label outside it gives None: the caller skips and counts that row.
    """
    scheme = (
        LabelScheme(DEFAULT_CLASSES, mapping, mapped=True) if mapping is not None else fixed_scheme(DEFAULT_CLASSES)
    )
    return scheme.parse(value, row, source, unit, mappable)


def class_counts(labels, classes: tuple[str, ...]) -> dict[str, int]:
    """How many of the class indices ``labels`` (n,) are of each class, by name: ``{"positive": p, "negative": n}``
    for the default two."""
    import numpy as np

    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=len(classes))
    named = {name: int(count) for name, count in zip(classes, counts)}
    return {"positive": named["positive"], "negative": named["negative"]} if classes == DEFAULT_CLASSES else named
