"""Bag of words against the RNN: the demonstration that word order matters.

A bag-of-words model sees a text as the set of its n-grams (a multi-hot
vector over the vocabulary), so two texts with the same set get the same
vector and therefore exactly the same probability, whatever their order.
A recurrent network reads the tokens in order and can tell them apart.

``compare_bow`` trains both models on the same split with the same seed (or
takes two model directories) and measures:

1. the seed example: the multi-hot table of "This phone is no good" and
   "No this phone is good", whether the two vectors are identical, and both
   models' probabilities for the two sentences;
2. accuracy on the held-out split (and on ``eval_data`` if given);
3. a contrast set of sentence pairs with the same words and opposite labels:
   sentence accuracy and pair accuracy (both sentences of a pair right);
4. for every pair the baseline does not get right, why: the same n-grams,
   differing n-grams all outside its vocabulary, or a difference too weak.

Every "identical" here is computed from the baseline's own tokenizer layer,
and every baseline probability is the model's own output, never assumed.
"""

from __future__ import annotations

from sentiment_rnn.compare.experiment import compare_bow
from sentiment_rnn.compare.report import render
from sentiment_rnn.compare.results import Comparison

__all__ = ["Comparison", "compare_bow", "render"]
