"""sentiment-rnn: train recurrent-network sentiment classifiers and see why word order matters.

The public API::

    from sentiment_rnn import load_config, train, train_config, predict, read_dataset, SentimentError

    result = train(load_config(overrides=["train.epochs=5"]), "my-model")
    for p in predict("my-model", ["No, this phone is good"]):
        print(p.label, p.probability)
    config, notice = train_config(overrides=["data.path='my.csv'"])  # the config `train --data my.csv` uses

TensorFlow is imported only when a function needs it.
"""

from sentiment_rnn.lazy import lazy_exports
from sentiment_rnn.version import __version__

# Imported on first use, so `import sentiment_rnn` and `sentiment-rnn predict`
# do not pay for the training and data-reading modules.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "Config": "sentiment_rnn.config",
        "load_config": "sentiment_rnn.config",
        "Dataset": "sentiment_rnn.data.dataset",
        "read_dataset": "sentiment_rnn.data.formats",
        "SentimentError": "sentiment_rnn.errors",
        "SentimentClassifier": "sentiment_rnn.estimator",
        "Prediction": "sentiment_rnn.inference",
        "predict": "sentiment_rnn.inference",
        "train": "sentiment_rnn.training.run",
        "train_config": "sentiment_rnn.presets",
    },
)

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
    "train_config",
]
