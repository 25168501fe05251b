"""sentiment-rnn: train recurrent-network sentiment classifiers and see why word order matters.

The public API::

    from sentiment_rnn import load_config, train, predict, read_dataset, SentimentError

    result = train(load_config(overrides=["train.epochs=5"]), "my-model")
    for p in predict("my-model", ["No, this phone is good"]):
        print(p.label, p.probability)

TensorFlow is imported only when a function needs it.
"""

from sentiment_rnn.config import Config, load_config
from sentiment_rnn.data.dataset import Dataset
from sentiment_rnn.data.formats import read_dataset
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.estimator import SentimentClassifier
from sentiment_rnn.inference import Prediction, predict
from sentiment_rnn.training.run import train
from sentiment_rnn.version import __version__

__all__ = [
    "Config",
    "Dataset",
    "Prediction",
    "SentimentClassifier",
    "SentimentError",
    "__version__",
    "load_config",
    "predict",
    "read_dataset",
    "train",
]
