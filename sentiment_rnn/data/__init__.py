"""Labelled data: its format told from the path (``detect``), read in its native formats (``formats``),
checked row by row (``checks``, ``labels``), held in memory (``dataset``) or streamed from disk as
``tf.data`` (``stream``)."""

from sentiment_rnn.lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(  # imported on first use: reading data pulls in pandas, csv, tarfile
    __name__,
    {
        "Dataset": "sentiment_rnn.data.dataset",
        "corpus_file": "sentiment_rnn.data.dataset",
        "builtin_corpus": "sentiment_rnn.data.formats",
        "dataset_from_config": "sentiment_rnn.data.formats",
        "read_dataset": "sentiment_rnn.data.formats",
    },
)

__all__ = ["Dataset", "builtin_corpus", "corpus_file", "dataset_from_config", "read_dataset"]
