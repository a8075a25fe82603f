"""Classification figures on a hand-made example, checked by hand."""

import json

import numpy as np
import pytest

from kerasrnn.tasks.surnames.metrics import balanced_class_weights, classification_report, plot_confusion

LABELS = ["A", "B", "C"]


def test_report_matches_a_hand_computation():
    y_true = np.array([0, 0, 0, 1, 1, 2])
    y_pred = np.array([0, 0, 1, 1, 0, 0])
    report = classification_report(y_true, y_pred, LABELS)
    assert report["accuracy"] == pytest.approx(3 / 6, abs=1e-5)
    a, b, c = (report["per_class"][k] for k in LABELS)
    # A: predicted 4 times, 2 right; 3 true -> P 1/2, R 2/3, F1 4/7
    assert (a["precision"], a["recall"], a["f1"], a["support"]) == (0.5, 0.6667, pytest.approx(4 / 7, abs=1e-4), 3)
    # B: predicted twice, 1 right; 2 true -> P 1/2, R 1/2, F1 1/2
    assert (b["precision"], b["recall"], b["f1"]) == (0.5, 0.5, 0.5)
    # C: never predicted -> precision 0 (not NaN), recall 0, F1 0
    assert (c["precision"], c["recall"], c["f1"]) == (0.0, 0.0, 0.0)
    assert report["macro_f1"] == pytest.approx((4 / 7 + 0.5 + 0) / 3, abs=1e-5)
    assert report["confusion_matrix"]["counts"] == [[2, 1, 0], [1, 1, 0], [1, 0, 0]]
    assert report["confusion_matrix"]["row_normalised"][0] == [0.6667, 0.3333, 0.0]


def test_macro_f1_skips_classes_without_examples():
    report = classification_report(np.array([0, 1]), np.array([0, 1]), LABELS)
    assert report["macro_f1"] == 1.0 and report["per_class"]["C"]["support"] == 0


def test_balanced_weights_are_n_over_classes_times_count():
    weights = balanced_class_weights(np.array([0, 0, 0, 1]), 2)
    assert weights == {0: 4 / (2 * 3), 1: 4 / (2 * 1)}
    milder = balanced_class_weights(np.array([0, 0, 0, 1]), 2, power=0.5)
    assert milder == pytest.approx({0: (2 / 3) ** 0.5, 1: 2 ** 0.5})


def test_confusion_png_is_written(tmp_path):
    report = classification_report(np.array([0, 1, 2]), np.array([0, 2, 2]), LABELS)
    path = tmp_path / "confusion.png"
    plot_confusion(report, str(path), "test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    json.dumps(report)  # every figure is plain JSON
