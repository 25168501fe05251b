"""Training: the data pipeline (``pipeline``), fitting one model (``fit``), checkpoints and resume
(``checkpoint``), the distributed loop (``distributed``) and a whole run into a model directory (``run``)."""

from sentiment_rnn.training.run import TrainResult, train

__all__ = ["TrainResult", "train"]
