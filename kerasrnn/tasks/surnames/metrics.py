"""Classification figures: accuracy, macro-F1, per-class precision/recall/F1, the confusion matrix and its PNG.

Pure numpy (the plot needs matplotlib), so the figures can be checked on hand-made examples.
"""

from __future__ import annotations

import numpy as np

from kerasrnn.core.plots import new_figure, save_figure
from kerasrnn.inference.samplers import log_softmax


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts (true class, predicted class): (classes, classes) int64, rows = true classes."""
    matrix = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(matrix, (np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64)), 1)
    return matrix


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, 0 where den is 0 (scikit-learn's zero_division=0)."""
    return np.divide(num, den, out=np.zeros(num.shape, np.float64), where=den > 0)


def classification_report(y_true: np.ndarray, y_pred: np.ndarray, labels: list[str]) -> dict:
    """Accuracy, macro-F1 and per-class precision, recall, F1 and support.

    Args:
        y_true, y_pred: (examples,) class ids.
        labels: the class names, in id order.
    Returns:
        {"accuracy", "macro_f1", "examples", "per_class": {label: {precision, recall, f1, support}},
         "confusion_matrix": {"labels", "counts" (rows true, columns predicted), "row_normalised"}}.
        A class never predicted has precision 0; macro-F1 averages F1 over the classes with examples.
    """
    matrix = confusion_matrix(y_true, y_pred, len(labels))
    hits = np.diag(matrix).astype(np.float64)
    support = matrix.sum(axis=1)
    precision = _ratio(hits, matrix.sum(axis=0).astype(np.float64))
    recall = _ratio(hits, support.astype(np.float64))
    f1 = _ratio(2 * precision * recall, precision + recall)
    present = support > 0
    return {
        "accuracy": round(float(hits.sum() / max(matrix.sum(), 1)), 5),
        "macro_f1": round(float(f1[present].mean()) if present.any() else 0.0, 5),
        "examples": int(matrix.sum()),
        "per_class": {label: {"precision": round(float(precision[i]), 4), "recall": round(float(recall[i]), 4),
                              "f1": round(float(f1[i]), 4), "support": int(support[i])}
                      for i, label in enumerate(labels)},
        "confusion_matrix": {"labels": list(labels), "counts": matrix.tolist(),
                             "row_normalised": np.round(_ratio(matrix.astype(np.float64),
                                                               support[:, None].astype(np.float64)), 4).tolist()},
    }


def plot_confusion(report: dict, path: str, title: str) -> None:
    """Draws the row-normalised confusion matrix (true class per row) as a labelled PNG, atomically."""
    labels = report["confusion_matrix"]["labels"]
    share = np.array(report["confusion_matrix"]["row_normalised"])  # (classes, classes)
    n = len(labels)
    fig, ax = new_figure(figsize=(0.45 * n + 3, 0.45 * n + 2), dpi=100)
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n), labels, rotation=60, ha="right")
    ax.set_yticks(range(n), labels)
    for i in range(n):
        for j in range(n):
            if share[i, j] >= 0.005:
                ax.text(j, i, f"{share[i, j]:.2f}".lstrip("0"), ha="center", va="center", fontsize=6,
                        color="white" if share[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted nationality")
    ax.set_ylabel("true nationality (row sums to 1)")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.04)
    save_figure(fig, path)


def next_char_counts(logits: np.ndarray, targets: np.ndarray) -> tuple[float, int, int]:
    """Over the non-padding targets (id > 0) of a generator's teacher-forced logits (batch, time, vocab):
    the summed negative log-likelihood in nats, the argmax hits, and the number of characters."""
    real = targets > 0  # padding is not a character
    picked = np.take_along_axis(log_softmax(logits), targets[..., None].astype(np.int64), axis=-1)[..., 0]
    hits = (np.argmax(logits, axis=-1) == targets)[real]
    return float(-picked[real].sum()), int(hits.sum()), int(real.sum())


def balanced_class_weights(classes: np.ndarray, num_classes: int, power: float = 1.0) -> dict[int, float]:
    """scikit-learn's "balanced" weights, n / (classes * count), for each class with examples, raised to
    `power` (1: balanced; 0.5: their square root, a milder push towards the small classes)."""
    counts = np.bincount(np.asarray(classes), minlength=num_classes)
    return {i: float(len(classes) / (num_classes * c)) ** power for i, c in enumerate(counts) if c > 0}
