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


def parse_label(value: object, row: int, source: str, unit: str = "row") -> int:
    """Map one label to 1 (positive) or 0 (negative); other values raise, naming the row (or line).

    A label is missing when it is None, blank, or a float NaN (what pandas puts
    in a JSON Lines record without the key); the text "NaN" is a label that is not binary.
    """
    key = str(value).strip().lower()
    if value is None or key == "" or (isinstance(value, float) and value != value):
        raise SentimentError(
            f"{source}, {unit} {row}: the label is missing; give every {unit} a label "
            "(0/1, true/false, pos/neg or positive/negative)."
        )
    if key in LABEL_VALUES:
        return LABEL_VALUES[key]
    raise SentimentError(
        f"{source}, {unit} {row}: label {value!r} is not binary; use 0/1, true/false, pos/neg or positive/negative."
    )
