"""Build the recurrent model and the bag-of-words baseline from config.

Both are end-to-end Keras models: a batch of raw strings in, the probability
of the positive class out (for two classes: a sigmoid head of one unit), or
of each of N > 2 classes (a softmax head of N units, ``data.labels``). The
tokenizer (``TextVectorization``) is the first layer, so the saved model is
all a user needs.

Shapes, for a batch of B texts padded to T tokens (K = 1 head unit for two classes, N for N > 2):
    text (B,) string -> token ids (B, T) -> embeddings (B, T, output_dim)
    -> recurrent stack -> state (B, units) -> probability (B, K)
With ``model.pooling = "max"`` or ``"mean"``, the top layer returns every step
(B, T, units) and a masked pooling over time gives the (B, units) the head reads
(``"concat"``: the last step's output, the maximum and the mean, (B, 3 units)).
With ``return_sequences`` on the top layer, the stack returns (B, T, units)
and the head gives (B, T, K): the probability after every token (for a pooled
model, of the pooling over the tokens so far).

Longer than 400 lines because it builds every model kind (recurrent, bag of
words, hybrid) and the token-id view training fits, which shares their layers.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

from sentiment_rnn.config import Config, ModelConfig
from sentiment_rnn.data.labels import classes_of, output_units
from sentiment_rnn.errors import SentimentError

TOKENIZER_LAYER = "tokenizer"
EMBEDDING_LAYER = "embedding"
HEAD_LAYER = "head"
LOGIT_LAYER = "logit"  # hybrid: the sum of the recurrent head's and the wide branch's logits
PROBABILITY_LAYER = "probability"  # hybrid: the sigmoid (or softmax) of that sum
POOLING_LAYER = "pooling"
PROJECTION_LAYER = "projection"  # language model: the top state mapped to the embedding's size
TEXT_BOUNDARY_ID = 0  # language model: the id between two texts of its stream (the classifiers' padding id)
KERAS_CELL_NAMES = {"simple": "SimpleRNN", "gru": "GRU", "lstm": "LSTM"}  # model.cell -> its keras.layers class


def head_units(config: Config) -> int:
    """The width of the head the config's classes need: 1 (sigmoid) for two, N (softmax) for N > 2."""
    return output_units(classes_of(config.data))


def head_activation(units: int) -> str:
    """The activation of a head of ``units`` units: ``"sigmoid"`` for one, ``"softmax"`` over more."""
    return "sigmoid" if units == 1 else "softmax"


def recurrent_layer_name(index: int) -> str:
    """The name of the recurrent layer ``index`` (0 = bottom) of the stack."""
    return f"recurrent_{index}"


def bidirectional_layer_name(index: int) -> str:
    """The name of the ``Bidirectional`` wrapper of recurrent layer ``index`` in a bidirectional model."""
    return f"bidirectional_{index}"


def hidden_layer_name(index: int) -> str:
    """The name of the bag-of-words baseline's dense hidden layer ``index``."""
    return f"hidden_{index}"


def recurrent_stack(model) -> list:
    """A built or loaded model's recurrent layers, bottom to top: each a ``Bidirectional`` wrapper or a plain layer."""
    return _numbered_layers(model, bidirectional_layer_name, recurrent_layer_name)


def hidden_layers(model) -> list:
    """A built or loaded bag-of-words model's dense hidden layers, first to last."""
    return _numbered_layers(model, hidden_layer_name)


def _numbered_layers(model, *names) -> list:
    """The layers at index 0, 1, ... up to the first index with none; at each, the first of ``names(index)`` present."""
    layers = {layer.name: layer for layer in model.layers}
    found = []
    for index in itertools.count():
        present = [layers[name(index)] for name in names if name(index) in layers]
        if not present:
            return found
        found.append(present[0])


def build_model(config: Config, vectorizer, wide_vectorizer=None, **view):
    """Build the model ``config.model.kind`` names around an adapted vectorizer.

    Args:
        config: the full config.
        vectorizer: an adapted ``TextVectorization`` layer (see ``text.make_vectorizer``).
        wide_vectorizer: for the hybrid model, its adapted n-gram vectorizer (see :func:`make_wide_tokenizer`).
        **view: for the recurrent model, ``stateful``, ``batch_size`` and
            ``return_sequences`` (see :func:`build_rnn`).
    """
    units = head_units(config)
    if config.model.kind == "bow":
        if any(view.values()):
            raise SentimentError("The bag-of-words model has no stateful or per-token view: it reads no order.")
        return build_bow(config.model, vectorizer, units)
    if config.model.kind == "hybrid":
        if any(view.values()):
            raise SentimentError(
                "A hybrid model is built whole-text only: its per-token and streamed views are read through "
                "recurrent_view and wide.RunningWideLogit (predict --per-token, --stream)."
            )
        return build_hybrid(config.model, vectorizer, wide_vectorizer, units=units)
    return build_rnn(config.model, vectorizer, units=units, **view)


def build_rnn(
    model_config: ModelConfig,
    vectorizer,
    *,
    stateful: bool | None = None,
    batch_size: int | None = None,
    return_sequences: bool | None = None,
    units: int = 1,
):
    """The recurrent classifier: tokenizer, masked embedding, recurrent stack, sigmoid (or softmax) head.

    Args:
        model_config: the ``[model]`` section.
        vectorizer: an adapted ``TextVectorization`` with ``output_mode="int"``.
        stateful: carry the state across calls until ``reset_state()``; the model
            then takes a fixed batch of ``batch_size`` texts. Defaults to the config.
        batch_size: the fixed batch size of a stateful model; defaults to
            ``model_config.stateful_batch_size``.
        return_sequences: make the top layer return every step, so the model
            outputs (B, T, units). Defaults to the config.
        units: the head's width: 1 (a sigmoid, two classes) or the number of classes (a softmax).

    Every layer below the top returns sequences, as a stacked RNN needs.
    Padding (token id 0) is masked, so a prediction does not depend on it.
    With ``model_config.pooling`` other than ``"last"``, the top layer returns
    every step and :func:`time_pooling_layer` reduces them (running, in the
    per-token view).
    """
    import keras

    stateful = model_config.stateful if stateful is None else stateful
    return_sequences = model_config.return_sequences if return_sequences is None else return_sequences
    if stateful and model_config.bidirectional:
        raise SentimentError(
            "A stateful model cannot be bidirectional: the backward pass needs the whole text at once. "
            "Set model.stateful or model.bidirectional to false."
        )
    if stateful and model_config.pooling != "last":
        raise SentimentError(STATEFUL_POOLING_ERROR)
    inputs = text_input(batch_size or model_config.stateful_batch_size if stateful else None)
    x = recurrent_features(model_config, vectorizer, inputs, stateful=stateful, return_sequences=return_sequences)
    outputs = keras.layers.Dense(units, activation=head_activation(units), name=HEAD_LAYER)(x)
    return keras.Model(inputs, outputs, name="sentiment_rnn")


def text_input(batch_size: int | None = None):
    """The models' input: a batch of strings (B,), of exactly ``batch_size`` texts if given (a stateful model)."""
    import keras

    if batch_size:
        return keras.Input(batch_shape=(batch_size,), dtype="string", name="text")
    return keras.Input(shape=(), dtype="string", name="text")


def recurrent_features(model_config: ModelConfig, vectorizer, inputs, *, stateful=False, return_sequences=False):
    """The recurrent branch on ``inputs`` (B,) string: what the head reads, (B, width) (or (B, T, width) per token).

    ``width`` is ``units``, or ``2 * units`` for a bidirectional ``concat``; three times that with
    ``pooling = "concat"``.
    """
    import keras

    from sentiment_rnn.text import at_least_one_step_layer

    pooled = model_config.pooling != "last"
    cell_class = getattr(keras.layers, KERAS_CELL_NAMES[model_config.cell])
    x = vectorizer(inputs)  # (B, T) int64
    x = at_least_one_step_layer()(name="at_least_one_step")(x)  # (B, max(T, 1))
    x = keras.layers.Embedding(
        vectorizer.vocabulary_size(), model_config.output_dim, mask_zero=True, name=EMBEDDING_LAYER
    )(x)  # (B, T, output_dim)
    for index in range(model_config.layers):
        is_top = index == model_config.layers - 1
        layer = cell_class(
            model_config.units,
            dropout=model_config.dropout,
            recurrent_dropout=model_config.recurrent_dropout,
            return_sequences=return_sequences or pooled if is_top else True,
            stateful=stateful,
            name=recurrent_layer_name(index),
        )
        if model_config.bidirectional:
            layer = keras.layers.Bidirectional(
                layer, merge_mode=model_config.merge_mode, name=bidirectional_layer_name(index)
            )
        x = layer(x)  # (B, T, units) or, on top without return_sequences or pooling, (B, units)
    if pooled:
        pooling = time_pooling_layer()(model_config.pooling, running=bool(return_sequences), name=POOLING_LAYER)
        x = pooling(x)  # (B, units), or with return_sequences the running pooling (B, T, units)
    return x


STATEFUL_POOLING_ERROR = (
    "A stateful model cannot pool over time: it carries only the recurrent state from call to call. "
    'Set model.stateful to false or model.pooling to "last".'
)


@functools.cache
def time_pooling_layer():
    """The Keras layer class that pools recurrent outputs over the unmasked time steps.

    ``TimePooling(mode, running)`` takes x (B, T, W) and its mask (B, T):
    ``mode`` is ``"max"`` (element-wise maximum), ``"mean"``, or ``"concat"``
    (ULMFiT's concat pooling: the output at the last token, the maximum and the
    mean side by side, width 3W). It returns (B, W) (or (B, 3W)), or with
    ``running`` (B, T, W), the pooling over steps 0..t at each step t (padding
    steps repeat the value of the last real one). A text with no unmasked step
    pools to zeros. Keras's GlobalMaxPooling1D ignores the mask, so padding
    would change the maximum.
    """
    import keras

    @keras.saving.register_keras_serializable(package="sentiment_rnn")
    class TimePooling(keras.layers.Layer):
        def __init__(self, mode: str, running: bool = False, **kwargs):
            super().__init__(**kwargs)
            self.mode = mode
            self.running = running
            self.supports_masking = True

        def call(self, x, mask=None):
            import tensorflow as tf

            valid = tf.ones(tf.shape(x)[:2], dtype=tf.bool) if mask is None else tf.cast(mask, tf.bool)
            if self.mode == "concat":
                return tf.concat([self.pool(x, valid, mode) for mode in ("last", "max", "mean")], axis=-1)
            return self.pool(x, valid, self.mode)

        def pool(self, x, valid, mode: str):
            import tensorflow as tf

            steps = tf.shape(x)[1]
            weights = tf.cast(valid, x.dtype)[..., None]  # (B, T, 1)
            if mode == "last":  # the output at the last unmasked step (the mask is a prefix: padding at the end)
                lengths = tf.reduce_sum(tf.cast(valid, tf.int32), axis=1)  # (B,)
                last = tf.maximum(lengths - 1, 0)[:, None]  # (B, 1)
                index = tf.minimum(tf.range(steps)[None, :], last) if self.running else last  # (B, T) or (B, 1)
                picked = tf.gather(x, index, batch_dims=1)  # (B, T, W) or (B, 1, W)
                present = tf.cast(lengths > 0, x.dtype)[:, None, None]  # a text of no step pools to zeros
                return picked * present if self.running else (picked * present)[:, 0]
            if mode == "mean":
                if self.running:
                    return tf.math.cumsum(x * weights, axis=1) / tf.maximum(tf.math.cumsum(weights, axis=1), 1.0)
                return tf.reduce_sum(x * weights, axis=1) / tf.maximum(tf.reduce_sum(weights, axis=1), 1.0)
            filled = tf.where(valid[..., None], x, tf.constant(-float("inf"), x.dtype))
            if self.running:
                by_time = tf.transpose(filled, [1, 0, 2])  # (T, B, W)
                pooled = tf.transpose(tf.scan(tf.maximum, by_time), [1, 0, 2])
                pooled = tf.reshape(pooled, [-1, steps, x.shape[-1]])
            else:
                pooled = tf.reduce_max(filled, axis=1)
            return tf.where(tf.math.is_finite(pooled), pooled, tf.zeros_like(pooled))

        def compute_mask(self, x, mask=None):
            return mask if self.running else None

        def compute_output_shape(self, input_shape):
            width = input_shape[2] * (3 if self.mode == "concat" else 1)
            return (*input_shape[:2], width) if self.running else (input_shape[0], width)

        def get_config(self):
            return {**super().get_config(), "mode": self.mode, "running": self.running}

    return TimePooling


def register_keras_objects() -> None:
    """Register every custom object a saved model may hold, so ``load_model`` finds it in safe mode."""
    from sentiment_rnn.text import register_tokenizer_objects

    register_tokenizer_objects()
    time_pooling_layer()
    tied_embedding_layer()


@functools.cache
def tied_embedding_layer():
    """The Keras layer class of a language model's embedding, which is also its output layer (tied weights).

    ``TiedEmbedding(input_dim, output_dim)`` holds ``embeddings`` E (V, D) and
    ``output_bias`` b (V,). Called on token ids (B, T) it looks their rows up,
    (B, T, D); called with ``reverse=True`` on states h (B, T, D) it gives the
    next word's logits ``h E^T + b`` (B, T, V). Tying the two (Press & Wolf
    2017; Inan et al. 2017) halves the parameters of a large vocabulary and
    lets every word's output vector learn from its input use too.
    """
    import keras

    @keras.saving.register_keras_serializable(package="sentiment_rnn")
    class TiedEmbedding(keras.layers.Embedding):
        def build(self, input_shape=None):
            super().build(input_shape)
            self.output_bias = self.add_weight(shape=(self.input_dim,), initializer="zeros", name="output_bias")

        def call(self, inputs, reverse=False):
            if reverse:
                return keras.ops.matmul(inputs, keras.ops.transpose(self.embeddings)) + self.output_bias
            return super().call(inputs)

        def compute_output_shape(self, input_shape, reverse=False):
            if reverse:
                return (*input_shape[:-1], self.input_dim)
            return super().compute_output_shape(input_shape)

        def compute_output_spec(self, inputs, reverse=False):
            shape = self.compute_output_shape(inputs.shape, reverse=reverse)
            return keras.KerasTensor(shape, dtype=self.compute_dtype)

        @property
        def variable_serialization_spec(self):  # what save/load_own_variables store, in order: add the bias
            return {None: ["embeddings", "output_bias"]}

    return TiedEmbedding


def build_language_model(
    model_config: ModelConfig, vocabulary_size: int, *, batch_size: int | None = None, stateful: bool = False
):
    """The recurrent language model: token ids in, the next word's logits after every token out.

    Args:
        model_config: the ``[model]`` section (``kind = "lm"``): ``output_dim``, ``cell``, ``layers``,
            ``units``, ``dropout``, ``recurrent_dropout``.
        vocabulary_size: V, the tokenizer's vocabulary (id 0 marks the boundary between texts, 1 ``[UNK]``).
        batch_size: a fixed batch size (a stateful model needs one); None for any.
        stateful: carry each recurrent layer's state from one call to the next (truncated
            backpropagation through time over a token stream) until ``reset_states``.

    Shapes: token ids (B, T) int32 -> embeddings (B, T, D) -> recurrent layers (B, T, units)
    -> projection (B, T, D) -> logits (B, T, V), with the embedding's matrix as output weights.
    The same recurrence as the classifier, ``s(t) = f(U x(t) + W s(t-1) + b)``, with a softmax over
    the vocabulary for a head: the word-guessing game.
    """
    import keras

    cell_class = getattr(keras.layers, KERAS_CELL_NAMES[model_config.cell])
    ids = keras.Input(batch_shape=(batch_size, None), dtype="int32", name="token_ids")
    embedding = tied_embedding_layer()(vocabulary_size, model_config.output_dim, name=EMBEDDING_LAYER)
    x = embedding(ids)  # (B, T, D)
    for index in range(model_config.layers):
        x = cell_class(
            model_config.units,
            dropout=model_config.dropout,
            recurrent_dropout=model_config.recurrent_dropout,
            return_sequences=True,
            stateful=stateful,
            name=recurrent_layer_name(index),
        )(x)  # (B, T, units)
    x = keras.layers.Dense(model_config.output_dim, name=PROJECTION_LAYER)(x)  # (B, T, D)
    logits = embedding(x, reverse=True)  # (B, T, V)
    return keras.Model(ids, logits, name="sentiment_rnn_lm")


def build_bow(model_config: ModelConfig, vectorizer, units: int = 1):
    """The bag-of-words baseline: multi-hot vector, dense hidden layers, sigmoid (or softmax) head.

    Args:
        model_config: the ``[model]`` section (``hidden_units``, ``hidden_layers``).
        vectorizer: an adapted ``TextVectorization`` with ``output_mode="multi_hot"``.
        units: the head's width: 1 (a sigmoid, two classes) or the number of classes (a softmax).

    Shapes: text (B,) -> multi-hot (B, vocabulary) -> hidden (B, hidden_units) -> (B, units).
    The multi-hot vector ignores order, so texts with the same words get the same output.
    """
    import keras

    inputs = keras.Input(shape=(), dtype="string", name="text")
    x = vectorizer(inputs)
    for index in range(model_config.hidden_layers):
        x = keras.layers.Dense(model_config.hidden_units, activation="relu", name=hidden_layer_name(index))(x)
    outputs = keras.layers.Dense(units, activation=head_activation(units), name=HEAD_LAYER)(x)
    return keras.Model(inputs, outputs, name="sentiment_bow")


def build_hybrid(model_config: ModelConfig, vectorizer, wide_vectorizer, ratios=None, units: int = 1):
    """The hybrid classifier: the recurrent branch and a wide n-gram branch, their logits summed into one sigmoid.

    Args:
        model_config: the ``[model]`` section.
        vectorizer: the recurrent branch's adapted ``TextVectorization`` (``output_mode="int"``).
        wide_vectorizer: the wide branch's adapted multi-hot vectorizer (``wide.make_wide_tokenizer``).
        ratios: the log-count ratios of its n-grams, (V, units) (``wide.log_count_ratios``); the wide
            weights start at ``model.wide_scale`` times these. None starts them at zero.
        units: the logits' width: 1 (a sigmoid, two classes) or the number of classes (a softmax).

    Shapes (K = units): text (B,) -> recurrent features (B, width) -> head (B, K);
    text -> multi-hot (B, V) -> wide (B, K); probability = sigmoid (or softmax) of head + wide, (B, K).
    The wide branch carries the vocabulary (as NBSVM does, Wang & Manning 2012), the recurrent one the order.
    """
    import keras

    from sentiment_rnn.wide import wide_layer

    inputs = keras.Input(shape=(), dtype="string", name="text")
    deep_logit = keras.layers.Dense(units, name=HEAD_LAYER)(recurrent_features(model_config, vectorizer, inputs))
    wide = wide_layer(units)
    wide_logit = wide(wide_vectorizer(inputs))  # (B, V) multi-hot -> (B, K)
    logit = keras.layers.Add(name=LOGIT_LAYER)([deep_logit, wide_logit])  # (B, K)
    outputs = keras.layers.Activation(head_activation(units), name=PROBABILITY_LAYER)(logit)
    model = keras.Model(inputs, outputs, name="sentiment_hybrid")
    if ratios is not None:
        wide.set_weights([model_config.wide_scale * ratios.astype("float32").reshape(-1, units)])
    return model


def model_architecture(model) -> dict[str, Any]:
    """The config keys a built or loaded model's layers determine, as ``{"section.key": value}`` (build in reverse)."""
    layers = {layer.name: layer for layer in model.layers}
    facts: dict[str, Any] = {}
    if TOKENIZER_LAYER in layers:
        tokenizer = layers[TOKENIZER_LAYER].get_config()
        facts["tokenizer.max_tokens"] = tokenizer.get("max_tokens")
    from sentiment_rnn.wide import WIDE_LAYER, WIDE_TOKENIZER_LAYER

    if WIDE_TOKENIZER_LAYER in layers:
        wide = layers[WIDE_TOKENIZER_LAYER].get_config()
        facts["model.wide_max_tokens"] = wide.get("max_tokens")
        facts["model.ngrams"] = wide.get("ngrams") or 1
    if EMBEDDING_LAYER not in layers:
        facts["model.kind"] = "bow"
        hidden = hidden_layers(model)
        facts["model.hidden_layers"] = len(hidden)
        if hidden:
            facts["model.hidden_units"] = hidden[0].units
        return facts
    facts["model.kind"] = "hybrid" if WIDE_LAYER in layers else "lm" if PROJECTION_LAYER in layers else "rnn"
    facts["model.output_dim"] = layers[EMBEDDING_LAYER].output_dim
    stack = recurrent_stack(model)
    facts["model.layers"] = len(stack)
    if stack:
        top = stack[-1]
        facts["model.bidirectional"] = hasattr(top, "forward_layer")
        if facts["model.bidirectional"]:
            facts["model.merge_mode"] = top.merge_mode
            top = top.forward_layer
        facts["model.cell"] = {name: cell for cell, name in KERAS_CELL_NAMES.items()}.get(type(top).__name__)
        facts["model.units"] = top.units
    facts["model.pooling"] = layers[POOLING_LAYER].mode if POOLING_LAYER in layers else "last"
    return facts


def ensemble_model(members: list):
    """One Keras model of an ensemble's members: text (B,) string -> each member -> mean probability (B, 1).

    The members keep their weights; each is wrapped under the name ``member_N``
    (loaded models all carry the same name, which one model cannot hold twice).
    """
    import keras

    inputs = keras.Input(shape=(), dtype="string", name="text")
    outputs = [
        keras.Model(member.input, member.output, name=f"member_{number}")(inputs)
        for number, member in enumerate(members, start=1)
    ]
    mean = keras.layers.Average(name="mean_probability")(outputs) if len(outputs) > 1 else outputs[0]
    return keras.Model(inputs, mean, name="sentiment_rnn_ensemble")


def with_view(model, model_config: ModelConfig, **view):
    """A recurrent model rebuilt with another view (stateful or per-token) and the same weights.

    Args:
        model: a built recurrent model (from :func:`build_rnn` or loaded).
        model_config: the config it was built from.
        **view: ``stateful``, ``batch_size``, ``return_sequences`` as in :func:`build_rnn`.
    """
    view.setdefault("stateful", False)
    view.setdefault("return_sequences", False)
    units = model.get_layer(HEAD_LAYER).units
    return _with_weights_of(model, build_rnn(model_config, model.get_layer(TOKENIZER_LAYER), units=units, **view))


def recurrent_view(
    model, model_config: ModelConfig, *, stateful: bool = False, batch_size: int = 1, return_sequences: bool = False
):
    """The recurrent branch of a recurrent or hybrid model, rebuilt with another view and the same weights.

    Its output is what the head reads: (B, width), or with ``return_sequences`` (B, T, width)
    after every token; the caller applies the head (and, for a hybrid, adds the wide
    branch's logit, see ``wide.RunningWideLogit``). A stateful view takes exactly
    ``batch_size`` texts and carries its state across calls until ``reset_states``;
    it is for unidirectional, last-state models (``inference.predict_stream`` refuses the others).
    """
    import keras

    inputs = text_input(batch_size if stateful else None)
    vectorizer = model.get_layer(TOKENIZER_LAYER)
    features = recurrent_features(
        model_config, vectorizer, inputs, stateful=stateful, return_sequences=return_sequences
    )
    return _with_weights_of(model, keras.Model(inputs, features, name="recurrent_branch"))


def _with_weights_of(model, twin):
    """``twin`` with the weights of ``model``'s layers of the same names (the shared tokenizer apart)."""
    for layer in twin.layers:
        if layer.weights and layer.name != TOKENIZER_LAYER:
            layer.set_weights(model.get_layer(layer.name).get_weights())
    return twin


def vectorizer_layers(model) -> list:
    """An end-to-end model's vectorizers, in the order :func:`token_id_model` takes their outputs.

    The tokenizer, then (hybrid model) the wide branch's n-gram vectorizer.
    """
    from sentiment_rnn.wide import WIDE_TOKENIZER_LAYER

    layers = {layer.name: layer for layer in model.layers}
    return [layers[name] for name in (TOKENIZER_LAYER, WIDE_TOKENIZER_LAYER) if name in layers]


def token_id_model(model):
    """The part of an end-to-end model after its vectorizers: what they output in, the probability out.

    Its input is the tokenizer's output, token ids (B, T) int64 (bag of words:
    multi-hot (B, V)); for the hybrid model, the pair (token ids, the wide
    vectorizer's multi-hot (B, V)). It shares its layers, hence its weights,
    with ``model``; training it trains ``model``. Map the text batches with
    ``training.pipeline.tokenized(batches, vectorizer_layers(model))``.
    """
    import keras

    inputs = [layer.output for layer in vectorizer_layers(model)]
    return keras.Model(inputs if len(inputs) > 1 else inputs[0], model.output, name=f"{model.name}_from_tokens")


def reset_states(model) -> None:
    """Reset the carried state of every stateful recurrent layer of a model."""
    for layer in model.layers:
        if getattr(layer, "stateful", False) and hasattr(layer, "reset_state"):
            layer.reset_state()


def compile_model(model, optimizer, steps_per_execution: int = 1) -> None:
    """The given optimizer; the loss and metrics of the head.

    A sigmoid head (two classes): binary cross-entropy, accuracy and ROC AUC. A
    softmax head (N classes): categorical cross-entropy of the class index
    (``sparse_categorical_crossentropy``) and accuracy.

    Args:
        optimizer: ``training.optimizer.make_optimizer(config, ...)``, or the optimizer of another model with
            the same weights (its token-id view), to share.
        steps_per_execution: batches per call of the compiled step (Keras ``compile``).
    """
    import keras

    if model.output.shape[-1] == 1:
        loss, metrics = (
            "binary_crossentropy",
            [keras.metrics.BinaryAccuracy(name="accuracy"), keras.metrics.AUC(name="auc")],
        )
    else:
        loss, metrics = "sparse_categorical_crossentropy", [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics, steps_per_execution=steps_per_execution)


def make_tokenizer(config: Config):
    """The unadapted vectorizer the configured model kind needs, named ``tokenizer``."""
    from sentiment_rnn.text import make_vectorizer

    if config.model.kind == "bow":
        return make_vectorizer(
            config.tokenizer.max_tokens, output_mode="multi_hot", ngrams=config.model.ngrams, name=TOKENIZER_LAYER
        )
    return make_vectorizer(config.tokenizer.max_tokens, config.tokenizer.output_sequence_length, name=TOKENIZER_LAYER)


def build_training_model(config: Config, tokenizer, train=None):
    """The model to train on ``tokenizer``; its embedding starts from ``model.embeddings`` when that is set.

    (With ``model.init_from``, training then sets the embedding and recurrent layers to the language
    model's: ``pretrained.start_from_language_model``.)

    Args:
        train: the training split (a ``Dataset``); the hybrid model adapts its wide vectorizer and counts
            its log-count ratios on it (only on it: never on validation or test data).
    """
    if config.model.kind == "hybrid":
        if train is None or not hasattr(train, "texts"):
            raise SentimentError(
                'model.kind = "hybrid" needs the training split in memory: set data.streaming = false.'
            )
        from sentiment_rnn.wide import adapted_wide_tokenizer, log_count_ratios

        wide_tokenizer = adapted_wide_tokenizer(config, train.texts)
        units = head_units(config)
        ratios = log_count_ratios(wide_tokenizer, train.texts, train.labels, config.model.wide_alpha, units)
        model = build_hybrid(config.model, tokenizer, wide_tokenizer, ratios, units)
    else:
        model = build_model(config, tokenizer, stateful=False, return_sequences=False)
    if config.model.embeddings:
        from sentiment_rnn.embeddings import initialise_embedding

        initialise_embedding(model.get_layer(EMBEDDING_LAYER), tokenizer.get_vocabulary(), config.model.embeddings)
    return model
