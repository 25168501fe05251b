"""What compare-bow measured, as dataclasses; ``to_dict`` of each is its ``--json`` form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sentiment_rnn.compare.bags import Unseparated, labelled_right, pair_accuracy, sentence_accuracy

# ---------------------------------------------------------------- results

VALIDATION_SPLIT = "validation split"  # held out from fitting; it chooses the early-stopping epoch


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
    lecture: SentenceResult  # "No, this phone is good", as the course lecture notes spell it; its bag has ","

    @property
    def bow_difference(self) -> float:
        return abs(self.sentences[0].bow - self.sentences[1].bow)

    @property
    def rnn_difference(self) -> float:
        return abs(self.sentences[0].rnn - self.sentences[1].rnn)

    def rnn_both_right(self) -> bool:
        return bool(labelled_right([s.label for s in self.sentences], [s.rnn for s in self.sentences]).all())

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
    builtin: bool = False  # the built-in pairs (product reviews), not a --pairs file

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
    builtin_corpus: bool = False  # both models learned from the built-in corpus
    # The models' classes; with more than two, the seed example and contrast pairs show each model's
    # expected place among them, 0 (first) to 1 (last) (``bags.positive_score``), as its "probability".
    classes: tuple[str, ...] = ("negative", "positive")

    def to_dict(self) -> dict[str, Any]:
        return {
            "classes": list(self.classes),
            "ngrams": self.ngrams,
            "models": self.models,
            "training": self.training,
            "seed_example": self.seed.to_dict(),
            "heldout": [a.to_dict() for a in self.heldout],
            "contrast": self.contrast.to_dict(),
            "notes": self.notes,
        }
