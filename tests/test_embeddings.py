"""Pretrained word vectors: reading GloVe/word2vec text files and starting the embedding from them."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import TINY_OVERRIDES
from sentiment_rnn.cli import cli
from sentiment_rnn.config import load_config
from sentiment_rnn.embeddings import read_vectors
from sentiment_rnn.errors import SentimentError

VOCABULARY = ["", "[UNK]", "phone", "good", "bad"]


def test_reads_glove_and_word2vec_text(tmp_path):
    glove = tmp_path / "glove.txt"
    glove.write_text("good 1 2\nunrelated 9 9\nbad -1 -0.5\n", encoding="utf-8")
    word2vec = tmp_path / "w2v.txt"
    word2vec.write_text("3 2\ngood 1 2\nunrelated 9 9\nbad -1 -0.5\n", encoding="utf-8")
    for path in (glove, word2vec):
        vectors, found = read_vectors(path, VOCABULARY, 2)
        np.testing.assert_array_equal(found, [False, False, False, True, True])
        np.testing.assert_array_equal(vectors, [[0, 0], [0, 0], [0, 0], [1, 2], [-1, -0.5]])


def test_vector_file_errors(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("good 1 2\nbad 1 2 3\n", encoding="utf-8")
    with pytest.raises(SentimentError) as info:
        read_vectors(path, VOCABULARY, 2)
    assert str(info.value) == (
        f"{path}, line 2: a vector of 3 numbers, but model.output_dim is 2: set model.output_dim=3 to match the file."
    )
    path.write_text("good 1 x\n", encoding="utf-8")
    with pytest.raises(SentimentError) as info:
        read_vectors(path, VOCABULARY, 2)
    assert str(info.value) == (
        f"{path}, line 1: the vector of 'good' holds something that is not a number: give a GloVe or word2vec text file."
    )
    with pytest.raises(SentimentError, match="does not exist: check the --embeddings path"):
        read_vectors(tmp_path / "none.txt", VOCABULARY, 2)
    with pytest.raises(SentimentError, match=r"^Config sets model.embeddings for the bag-of-words model"):
        load_config(overrides=["model.kind=bow", "model.embeddings=v.txt"])


def test_train_starts_the_embedding_from_the_file(tiny_csv, tmp_path):
    from sentiment_rnn.artifact.model_directory import open_model_dir
    from sentiment_rnn.models import EMBEDDING_LAYER

    vectors = {"the": [0.5] * 8, "is": [-0.25] * 8, "zzz-not-in-data": [9.0] * 8}
    path = tmp_path / "vectors.txt"
    path.write_text("".join(f"{w} {' '.join(map(str, v))}\n" for w, v in vectors.items()), encoding="utf-8")
    out = tmp_path / "model"
    tiny = [arg for override in [*TINY_OVERRIDES, "train.epochs=1"] for arg in ("--set", override)]
    args = ["train", "--data", str(tiny_csv), "--embeddings", str(path), "--out", str(out), "-q", *tiny]
    # learning rate 0: the trained embedding is exactly its starting point
    result = CliRunner().invoke(cli, [*args, "--set", "train.learning_rate=1e-12"])
    assert result.exit_code == 0, result.output
    directory = open_model_dir(out)
    vocabulary = directory.vocabulary()
    (weights,) = directory.model.get_layer(EMBEDDING_LAYER).get_weights()
    np.testing.assert_allclose(weights[vocabulary.index("the")], vectors["the"], atol=1e-6)
    np.testing.assert_allclose(weights[vocabulary.index("is")], vectors["is"], atol=1e-6)
    other = next(i for i, word in enumerate(vocabulary) if i > 1 and word not in vectors)
    assert np.abs(weights[other]).max() < 0.1  # not in the file: the small random start is kept
    wrong_size = CliRunner().invoke(cli, [*args, "--set", "model.output_dim=4"])
    assert wrong_size.exit_code == 1
    assert wrong_size.output == (
        f"Error: {path}, line 1: a vector of 8 numbers, but model.output_dim is 4: "
        "set model.output_dim=8 to match the file.\n"
    )
