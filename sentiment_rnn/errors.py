"""The exception types a user of sentiment-rnn sees."""


class SentimentError(Exception):
    """A problem the user can fix: bad input, bad config, missing or corrupt model.

    The message is one full sentence saying what is wrong and how to fix it;
    the command line prints it as-is and exits non-zero, without a traceback.
    """


class TrainingDiverged(SentimentError):
    """The loss became NaN or infinite; ``epoch`` is 1-based."""

    def __init__(self, epoch: int):
        self.epoch = epoch
        super().__init__(
            f"Training diverged at epoch {epoch} (the loss became NaN): "
            "lower train.learning_rate or train.clipnorm and retrain."
        )
