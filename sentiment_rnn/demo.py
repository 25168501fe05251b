"""The worked forward pass of the lecture: a 3-unit SimpleRNN reading one-hot letters from {h, e, l, o}.

``sentiment-rnn forward-demo`` prints it; the numbers come from the engine's own cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sentiment_rnn.engine.cells import SimpleRNNCell, dense, softmax
from sentiment_rnn.errors import SentimentError

DEMO_LETTERS = ("h", "e", "l", "o")
DEMO_U = np.array(
    [
        [0.287027, 0.84606, 0.572392, 0.486813],
        [0.902874, 0.871522, 0.691079, 0.18998],
        [0.537524, 0.09224, 0.558159, 0.491528],
    ]
)  # (units 3, letters 4): column j is U x for the j-th letter
DEMO_W = 0.427043  # the scalar recurrent weight: W s = 0.427043 * s, i.e. W = 0.427043 * I
DEMO_B = 0.567001  # the same bias for every unit
DEMO_V = np.array(
    [
        [0.37168, 0.974829459, 0.830034886],
        [0.39141, 0.282585823, 0.659835709],
        [0.64985, 0.09821557, 0.334287084],
        [0.91266, 0.32581642, 0.144630018],
    ]
)  # (letters 4, units 3)


@dataclass(frozen=True)
class DemoStep:
    """One step of the worked example; every vector has shape (3,)."""

    letter: str
    previous_state: np.ndarray
    input_term: np.ndarray  # U x(t)
    recurrent_term: np.ndarray  # W s(t-1) + b
    state: np.ndarray  # s(t)


@dataclass(frozen=True)
class Demo:
    """The worked example: the steps, then the scores V s(T) (4,) and their softmax (4,)."""

    steps: list[DemoStep]
    scores: np.ndarray
    probabilities: np.ndarray


def demo_cell() -> SimpleRNNCell:
    """The worked example's SimpleRNN cell in Keras layout: kernel U^T (4, 3), W * I (3, 3), bias (3,)."""
    return SimpleRNNCell(DEMO_U.T, DEMO_W * np.eye(3), np.full(3, DEMO_B))


def forward_demo(letters: str = "he") -> Demo:
    """Read one-hot letters from {h, e, l, o} with the engine's SimpleRNN cell, one step at a time.

    Raises:
        SentimentError: an empty text or a letter outside {h, e, l, o}.
    """
    unknown = sorted(set(letters) - set(DEMO_LETTERS))
    if not letters or unknown:
        raise SentimentError(f"The demo reads letters from {{h, e, l, o}}, got {letters!r}: pass e.g. --text hell.")
    cell = demo_cell()
    one_hot = np.eye(len(DEMO_LETTERS), dtype=np.float32)
    state = cell.initial_state(1)
    steps = []
    for letter in letters:
        x = one_hot[DEMO_LETTERS.index(letter)][None, :]  # (1, 4)
        input_term = cell.project(x, with_bias=False)
        new_state = cell.step(cell.project(x), state)
        steps.append(DemoStep(letter, state[0][0], input_term[0], cell.recurrent_term(state[0])[0], new_state[0][0]))
        state = new_state
    scores = dense(state[0], DEMO_V.T.astype(np.float32), np.zeros(4, np.float32))[0]
    return Demo(steps, scores, softmax(scores))
