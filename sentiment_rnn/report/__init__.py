"""Evaluation reports: ``evaluate --report DIR`` writes figures and a page that people can look at.

``write_report`` draws evaluations (of one model or several on the same
data) as four PNG figures (calibration, ROC, confusion, probabilities by
class) and one self-contained ``index.html`` showing them with the metrics
and the worst errors; ``evaluate_to_report`` evaluates and writes in one.
The figures need matplotlib (``pip install 'sentiment-rnn[plot]'``).
"""

from sentiment_rnn.report.write import (
    INDEX_FILE,
    REPORT_DIRECTORY,
    REPORT_ERRORS,
    REPORT_FILE,
    check_report_target,
    evaluate_to_report,
    write_report,
)

__all__ = [
    "INDEX_FILE",
    "REPORT_DIRECTORY",
    "REPORT_ERRORS",
    "REPORT_FILE",
    "check_report_target",
    "evaluate_to_report",
    "write_report",
]
