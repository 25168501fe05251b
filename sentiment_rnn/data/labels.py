"""The two classes: how a label read from a file becomes 1 (positive) or 0 (negative), and how they are named."""

from __future__ import annotations

from sentiment_rnn.errors import SentimentError

POSITIVE_LABELS = frozenset({"1", "1.0", "true", "pos", "positive"})
NEGATIVE_LABELS = frozenset({"0", "0.0", "false", "neg", "negative"})
# The one label table, read by parse_label here and by the streaming reader's TensorFlow lookup
# (sentiment_rnn.data.stream.label_ids): a label, stripped and lowercased -> 1 or 0.
LABEL_VALUES = {**dict.fromkeys(sorted(POSITIVE_LABELS), 1), **dict.fromkeys(sorted(NEGATIVE_LABELS), 0)}
DEFAULT_THRESHOLD = 0.5  # a probability of positive at or above it counts as positive


def is_positive(probability, threshold: float = DEFAULT_THRESHOLD):
    """Whether a probability of positive (a float, or an array of them, element-wise) counts as positive."""
    return probability >= threshold


def label_name(label: int) -> str:
    """``"positive"`` for the label 1, ``"negative"`` for 0."""
    return "positive" if label == 1 else "negative"


def label_for(probability: float, threshold: float = DEFAULT_THRESHOLD) -> str:
    """The name of the label a probability of positive gets: ``"positive"`` at or above ``threshold``."""
    return label_name(1 if is_positive(probability, threshold) else 0)


def label_mapping(positive: str, negative: str) -> dict[str, int] | None:
    """The label table of ``--positive 4,5 --negative 1,2``: ``{"4": 1, "5": 1, "1": 0, "2": 0}``; None when both are "".

    Labels are compared stripped and lowercased, as the built-in table is; rows
    whose label is in neither list are skipped and counted (see :func:`parse_label`).

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
        keys = [label.strip().lower() for label in labels.split(",")]
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


def parse_label(
    value: object,
    row: int,
    source: str,
    unit: str = "row",
    mapping: dict[str, int] | None = None,
    mappable: bool = False,
) -> int | None:
    """Map one label to 1 (positive) or 0 (negative); other values raise, naming the row (or line).

    With a ``mapping`` (see :func:`label_mapping`) it is the only table, and a
    label outside it gives None: the caller skips and counts that row.
    ``mappable``: the caller takes ``--positive``/``--negative``, so the error says so.
    A label is missing when it is None, blank, or a float NaN (what pandas puts
    in a JSON Lines record without the key); the text "NaN" is a label that is not binary.
    """
    key = str(value).strip().lower()
    if value is None or key == "" or (isinstance(value, float) and value != value):
        wanted = "0/1, true/false, pos/neg or positive/negative" if mapping is None else "one of --positive/--negative"
        raise SentimentError(f"{source}, {unit} {row}: the label is missing; give every {unit} a label ({wanted}).")
    if mapping is not None:
        return mapping.get(key)
    if key in LABEL_VALUES:
        return LABEL_VALUES[key]
    hint = ", or map labels with --positive and --negative (e.g. --positive 4,5 --negative 1,2)" if mappable else ""
    raise SentimentError(
        f"{source}, {unit} {row}: label {value!r} is not binary; use 0/1, true/false, pos/neg or positive/negative"
        f"{hint}."
    )
