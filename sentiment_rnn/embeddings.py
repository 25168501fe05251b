"""Initialise the Embedding layer from pretrained word vectors (GloVe or word2vec text format).

The file holds one word a line followed by its vector, separated by spaces:
``the 0.418 0.24968 -0.41242 ...``. The word2vec text format adds a first line
``<count> <dimension>``, which is recognised and skipped. Only the words in the
model's vocabulary are kept; the others are never stored, so a large file
costs reading time but little memory.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from sentiment_rnn import safe_read
from sentiment_rnn.errors import SentimentError


def read_vectors(path: str | Path, vocabulary: list[str], dimension: int) -> tuple[np.ndarray, np.ndarray]:
    """Read the vectors of the words in ``vocabulary`` from a GloVe/word2vec text file.

    Args:
        path: the vectors file (UTF-8).
        vocabulary: the tokenizer's vocabulary; index = token id.
        dimension: the expected vector size (``model.output_dim``).

    Returns:
        (vectors, found): float32 array (len(vocabulary), dimension) with zero
        rows for words not in the file, and a bool array (len(vocabulary),)
        saying which rows came from the file.

    Raises:
        SentimentError: missing file, wrong dimension, a malformed line (naming it).
    """
    path = Path(path)
    index = {word: i for i, word in enumerate(vocabulary) if word}
    vectors = np.zeros((len(vocabulary), dimension), dtype=np.float32)
    found = np.zeros(len(vocabulary), dtype=bool)
    if not os.path.lexists(path):
        raise SentimentError(f"Embeddings file {path} does not exist: check the --embeddings path.")
    raw = safe_read.open_file(path, safe_read.EMBEDDINGS, "pass a GloVe or word2vec text file to --embeddings")
    with io.TextIOWrapper(raw, encoding="utf-8", errors="strict") as handle:
        try:
            for number, line in enumerate(handle, start=1):
                parts = line.rstrip().split(" ")
                if number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                    continue  # word2vec header: <count> <dimension>
                if len(parts) < 2:
                    continue
                if len(parts) - 1 != dimension:
                    raise SentimentError(
                        f"{path}, line {number}: a vector of {len(parts) - 1} numbers, but model.output_dim is "
                        f"{dimension}: set model.output_dim={len(parts) - 1} to match the file."
                    )
                row = index.get(parts[0])
                if row is None:
                    continue
                try:
                    vectors[row] = np.asarray(parts[1:], dtype=np.float32)
                except ValueError:
                    raise SentimentError(
                        f"{path}, line {number}: the vector of {parts[0]!r} holds something that is not a number: "
                        "give a GloVe or word2vec text file."
                    ) from None
                found[row] = True
        except UnicodeDecodeError:
            raise SentimentError(
                f"Embeddings file {path} is not valid UTF-8: give a GloVe or word2vec text file."
            ) from None
    return vectors, found


def initialise_embedding(embedding_layer, vocabulary: list[str], path: str | Path) -> int:
    """Overwrite the rows of the words found in ``path``; the others keep their random start.

    Returns:
        How many vocabulary words got a pretrained vector.
    """
    (weights,) = embedding_layer.get_weights()  # (vocabulary size, output_dim)
    vectors, found = read_vectors(path, vocabulary, weights.shape[1])
    weights[found] = vectors[found]
    embedding_layer.set_weights([weights])
    return int(found.sum())
