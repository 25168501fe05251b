"""Numbers finite or refused: weights when loaded and exported, probabilities before output, JSON as RFC 8259.

- :func:`check_finite`: every array of a model's weights, when a model is
  loaded (either engine) and before it is exported, and the weights a resumed
  run reads back. A NaN weight is refused with one line naming the file.
- :func:`check_probabilities`: what a model answers, before it is printed,
  served or measured; a probability that is not a number never reaches output.
- :func:`dumps`: the one JSON writer of every ``--json`` output and of the
  server: non-finite numbers become ``null`` (RFC 8259 has no NaN), and
  non-ASCII text is escaped when the output stream cannot carry it
  (:func:`json_text`), so the output is valid JSON whatever the input bytes
  and the stream's encoding.
"""

from __future__ import annotations

import codecs
import json
import math
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from sentiment_rnn.errors import SentimentError


def check_finite(arrays: Mapping[Any, Any], file: Path | str, fix: str) -> None:
    """Refuse weights holding NaN or an infinity: ``FILE holds a value that is not finite in 'NAME': FIX.``"""
    import numpy as np

    for name, array in arrays.items():
        values = np.asarray(array)
        if values.dtype.kind in "fc" and not np.isfinite(values).all():
            raise SentimentError(
                f"{file} holds a value that is not finite (NaN or infinity) in {str(name)!r}: the weights are "
                f"damaged; {fix}."
            )


def check_probabilities(probabilities, file: Path | str, fix: str):
    """``probabilities`` (an array) if every one is a number in [0, 1]; else refuse naming the weights ``file``
    and the text.

    Finite weights can still overflow to infinity and give NaN; such an answer is never printed.
    """
    import numpy as np

    probabilities = np.asarray(probabilities)
    bad = ~np.isfinite(probabilities) | (probabilities < 0) | (probabilities > 1)
    if bad.any():
        index = int(np.flatnonzero(bad.reshape(-1))[0])
        raise SentimentError(
            f"{file} gives a probability that is not a number for text {index + 1:,}: its weights are damaged "
            f"or out of range; {fix}."
        )
    return probabilities


def json_ready(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None and NumPy scalars made Python values."""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    return value


def dumps(value: Any, ascii: bool = False, **options) -> str:
    """JSON text of ``value`` that any RFC 8259 parser reads: non-finite numbers as ``null``."""
    return json.dumps(json_ready(value), ensure_ascii=ascii, allow_nan=False, **options)


def is_unicode_stream(stream: TextIO | None = None) -> bool:
    """Whether ``stream`` (default stdout) encodes every character: a UTF encoding."""
    encoding = getattr(stream if stream is not None else sys.stdout, "encoding", None) or "ascii"
    try:
        return codecs.lookup(encoding).name.startswith("utf")
    except LookupError:
        return False


def json_text(value: Any, stream: TextIO | None = None, **options) -> str:
    """:func:`dumps` for printing on ``stream`` (default stdout): ASCII escapes unless it is UTF-encoded and the
    text encodes (a lone surrogate from undecodable input is escaped as ``\\udcff``, which JSON allows)."""
    if is_unicode_stream(stream):
        text = dumps(value, **options)
        try:
            text.encode("utf-8")
            return text
        except UnicodeEncodeError:
            pass
    return dumps(value, ascii=True, **options)
