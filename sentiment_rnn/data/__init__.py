"""Labelled data: its format told from the path (``detect``), read in its native formats (``formats``),
checked row by row (``checks``, ``labels``), held in memory (``dataset``) or streamed from disk as
``tf.data`` (``stream``)."""

from sentiment_rnn.data.dataset import Dataset, corpus_file
from sentiment_rnn.data.formats import builtin_corpus, dataset_from_config, read_dataset

__all__ = ["Dataset", "builtin_corpus", "corpus_file", "dataset_from_config", "read_dataset"]
