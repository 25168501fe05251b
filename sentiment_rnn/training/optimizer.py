"""The classifier's optimizer: Adam with gradient clipping, a learning-rate schedule and a rate per layer group.

Fine-tuning a classifier that starts from a language model (``model.init_from``)
can follow ULMFiT (Howard & Ruder 2018); each part is a config key, off by
default, measured in benchmarks/results/finetune_fdu.md:

- ``train.schedule = "one-cycle"``: the rate rises linearly from 1/25 of
  ``train.learning_rate`` to it over the first 10% of all steps, then falls
  along a cosine to 1/100 of it by the last step (Keras ``CosineDecay`` with
  warm-up; ULMFiT's slanted triangular schedule is the same shape with
  straight lines);
- ``train.discriminative``: layer groups, from the top: the head (and anything
  else above the recurrent layers), each recurrent layer, the embedding. Each
  group learns at the rate of the one above divided by this factor (ULMFiT:
  2.6), so the pretrained layers at the bottom move least;
- ``train.gradual_unfreezing``: epoch 1 trains the top group only, each next
  epoch one group more, until every group trains.

A frozen group's Adam moments are still updated (only its step is zero), so
when it thaws, its first steps are of the usual size, not inflated by empty
moments.
"""

from __future__ import annotations

import functools

from sentiment_rnn.config import Config
from sentiment_rnn.models import EMBEDDING_LAYER, bidirectional_layer_name, recurrent_layer_name

WARMUP_FRACTION = 0.1  # of all steps, for "one-cycle"
START_DIVISOR = 25.0  # the warm-up starts at learning_rate / this
END_FRACTION = 0.01  # the cosine ends at learning_rate x this


def layer_groups(layers: int) -> list[tuple[str, ...]]:
    """The layer names of each group below the top one, top down: each recurrent layer, then the embedding.

    The top group (depth 0) is every layer not named here: the head, a hybrid's wide branch.
    """
    recurrent = [(recurrent_layer_name(i), bidirectional_layer_name(i)) for i in reversed(range(layers))]
    return [*recurrent, (EMBEDDING_LAYER,)]


def depth_of(path: str, groups: list[tuple[str, ...]]) -> int:
    """The group depth of the variable at ``path`` (``layer/.../name``): 0 for the top group, 1 below it, ..."""
    layer = path.split("/")[0]
    return next((depth for depth, names in enumerate(groups, start=1) if layer in names), 0)


def learning_rate(config: Config, steps_per_epoch: int | None):
    """``train.learning_rate``, or its one-cycle schedule over ``epochs x steps_per_epoch`` steps."""
    train = config.train
    if train.schedule == "constant" or not steps_per_epoch:
        return train.learning_rate
    import keras

    total = max(train.epochs * steps_per_epoch, 2)
    warmup = max(int(total * WARMUP_FRACTION), 1)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=train.learning_rate / START_DIVISOR,
        decay_steps=total - warmup,
        alpha=END_FRACTION,
        warmup_target=train.learning_rate,
        warmup_steps=warmup,
    )


def make_optimizer(config: Config, steps_per_epoch: int | None = None):
    """The configured Adam (``clipnorm``, ``ema``), with its schedule and per-group rates when set.

    Args:
        steps_per_epoch: batches per epoch, for a schedule over the whole run; None: a constant rate.
    """
    import keras

    train = config.train
    arguments = dict(
        learning_rate=learning_rate(config, steps_per_epoch),
        clipnorm=train.clipnorm,
        use_ema=train.ema > 0,
        ema_momentum=train.ema,
    )
    if train.discriminative == 1.0 and not train.gradual_unfreezing:
        return keras.optimizers.Adam(**arguments)
    groups = layer_groups(config.model.layers if config.model.kind != "bow" else 0)
    return layerwise_adam_class()(groups, train.discriminative, train.gradual_unfreezing, **arguments)


@functools.cache
def layerwise_adam_class():
    """The Keras optimizer class of Adam with a rate per layer group (see the module docstring).

    ``LayerwiseAdam(groups, factor, gradual, **adam_arguments)``: ``groups`` as
    :func:`layer_groups` returns them; a variable ``depth`` groups below the top
    steps with ``factor ** -depth`` of the rate, and with ``gradual`` not at all
    while ``depth`` exceeds ``thawed`` (a variable that
    :func:`gradual_unfreezing_callback` sets to the epoch's number, 0 first).
    """
    import keras
    from keras import ops

    class LayerwiseAdam(keras.optimizers.Adam):
        def __init__(self, groups, factor: float, gradual: bool, **kwargs):
            super().__init__(**kwargs)
            self.groups, self.factor, self.gradual = groups, factor, gradual
            self.depths: list[int] = []

        def build(self, variables):
            super().build(variables)
            self.depths = [depth_of(variable.path, self.groups) for variable in variables]
            if self.gradual:  # the deepest group that steps; saved with the optimizer's state
                self.thawed = self.add_variable((), initializer="zeros", name="thawed")

        def update_step(self, gradient, variable, learning_rate):
            depth = self.depths[self._get_variable_index(variable)]
            scale = ops.cast(self.factor**-depth, variable.dtype)
            if self.gradual:
                scale = scale * ops.cast(ops.less_equal(float(depth), self.thawed), variable.dtype)
            super().update_step(gradient, variable, ops.cast(learning_rate, variable.dtype) * scale)

    return LayerwiseAdam


def gradual_unfreezing_callback(model):
    """A Keras callback that thaws one more layer group of ``model``'s ``LayerwiseAdam`` as each epoch begins."""
    import keras

    def thaw(epoch, logs=None):
        optimizer = model.optimizer
        if not optimizer.built:
            optimizer.build(model.trainable_variables)
        optimizer.thawed.assign(float(epoch))

    return keras.callbacks.LambdaCallback(on_epoch_begin=thaw)
