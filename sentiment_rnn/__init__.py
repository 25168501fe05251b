"""sentiment-rnn: train recurrent-network sentiment classifiers and see why word order matters.

The public API::

    from sentiment_rnn import load_config, train, predict, read_dataset, SentimentError

    result = train(load_config(overrides=["train.epochs=5"]), "my-model")
    for p in predict("my-model", ["No, this phone is good"]):
        print(p.label, p.probability)

TensorFlow is imported only when a function needs it.
"""

__version__ = "0.1.0"

from sentiment_rnn.config import Config, load_config  # noqa: E402
from sentiment_rnn.data import Dataset, read_dataset  # noqa: E402
from sentiment_rnn.errors import SentimentError  # noqa: E402
from sentiment_rnn.inference import Prediction, predict  # noqa: E402
from sentiment_rnn.training import train  # noqa: E402

__all__ = [
    "Config",
    "Dataset",
    "Prediction",
    "SentimentError",
    "__version__",
    "load_config",
    "predict",
    "read_dataset",
    "train",
]
