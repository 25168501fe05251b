"""A NumPy forward pass of a trained model: the same probabilities as Keras (to 1e-5), without TensorFlow.

Loading TensorFlow costs about 3 s; the forward pass of a trained recurrent
model is a few matrix products per token. This module does that pass in NumPy
from two plain files that ``train`` writes beside ``model.keras``
(``weights.npz``, ``engine.json``) and the vocabulary (``vocabulary.json``).

There is one implementation of the recurrence, :func:`recurrence`, and one
step function per cell, in the Keras 3 weight layout (``kernel`` (input, k),
``recurrent_kernel`` (units, k), ``bias``):

    SimpleRNN  s(t) = tanh(U x(t) + W s(t-1) + b)                       k = units
    GRU        z, r = sigmoid(...), h~ = tanh(x_h + r * (W_h s + b_h)),  k = 3 units,
               s(t) = z * s(t-1) + (1 - z) * h~  (``reset_after=True``, bias (2, 3 units))
    LSTM       i, f, o = sigmoid(...), c(t) = f c(t-1) + i tanh(...),    k = 4 units,
               s(t) = o * tanh(c(t))

Everything else (stacked layers, bidirectional merging, the sigmoid head, the
per-token view, streaming with a carried state, the ``forward-demo``) calls
these. Padding is handled as Keras masks it: a text's state stops changing
after its last token, so each text in a batch is read over exactly its own
tokens (rows sorted by length, the loop at step t updates only the rows still
running).

The bag-of-words baseline has its NumPy twin too (:class:`NumpyBagOfWordsEngine`), and so
has the hybrid model (:class:`NumpyHybridEngine`: the recurrent engine plus a wide n-gram branch, read
whole, per token or streamed with the n-grams seen carried beside the state), and
so has the language model (:class:`NumpyLanguageModel`: the same recurrence, a softmax over the vocabulary).
Arrays are float32, as in Keras; probabilities are returned as float64. A call's
batches and encoding chunks run on several threads (``engine.threads``), each
writing its own rows of the same batches, so the answers do not depend on the
number of threads (to float32 rounding).
"""

from sentiment_rnn.engine.cells import RecurrentLayer, recurrence
from sentiment_rnn.engine.hybrid import NumpyHybridEngine
from sentiment_rnn.engine.language import NumpyLanguageModel
from sentiment_rnn.engine.models import NumpyBagOfWordsEngine, NumpyEngine, NumpyRecurrentEngine, Vocabulary

__all__ = [
    "NumpyBagOfWordsEngine",
    "NumpyEngine",
    "NumpyHybridEngine",
    "NumpyLanguageModel",
    "NumpyRecurrentEngine",
    "RecurrentLayer",
    "Vocabulary",
    "recurrence",
]
