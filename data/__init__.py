"""The built-in corpus, installed as the package ``sentiment_rnn.corpus``.

``reviews.csv`` (training), ``heldout.csv`` (sentences in the same spirit, not in
training) and ``contrast_pairs.csv`` (same words, opposite labels) are written
by ``generate_corpus.py`` beside this file; run it to rebuild them.
"""
