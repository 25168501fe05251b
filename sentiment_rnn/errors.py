"""The one exception type a user of sentiment-rnn sees."""


class SentimentError(Exception):
    """A problem the user can fix: bad input, bad config, missing or corrupt model.

    The message is one full sentence saying what is wrong and how to fix it;
    the command line prints it as-is and exits non-zero, without a traceback.
    """
