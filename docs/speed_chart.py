"""Draws docs/performance/train-speed.png from the benchmark records docs/performance/train*.json.

`python docs/speed_chart.py` (matplotlib only; no TensorFlow): one group of bars per cell and CPU
setting, characters per second of kerasrnn (XLA), kerasrnn without XLA, stock Keras and PyTorch, with
the CPU each record names in its `machine` field.
"""

from __future__ import annotations

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RECORDS = [  # (file, label of the CPU setting)
    ("train.json", "as it is\n(AVX-512)"),
    ("train-avx2.json", "held to\nAVX2"),
    ("train-avx2-no-ynnpack.json", "held to AVX2,\nYNNPACK off"),
]
LABELS = ["kerasrnn (fast loop, XLA)", "kerasrnn (fast loop)", "keras (stock layers)", "pytorch"]
CELLS = ["simplernn", "lstm", "gru"]
CPU_KIND = "AMD EPYC Zen 5, 2 cores, 2026-11-28"  # the records' machine; they do not store a date


def load(folder: str) -> list[tuple[str, dict]]:
    """The (setting, {(cell, label): chars/s}) of each benchmark record."""
    out = []
    for name, setting in RECORDS:
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            record = json.load(f)
        rates = {(r["cell"], r["label"]): r["chars_per_s"] for r in record["summary"]}
        out.append((setting, rates))
    return out


def draw(folder: str, path: str) -> None:
    """Writes the chart of the records in `folder` to `path` (PNG)."""
    sys.path.insert(0, os.path.dirname(HERE))
    from kerasrnn.core.plots import new_figure, save_figure

    records = load(folder)
    fig, axes = new_figure(ncols=len(CELLS), figsize=(12, 4))
    width = 0.8 / len(LABELS)
    for ax, cell in zip(axes, CELLS):
        for i, label in enumerate(LABELS):
            xs = [k + (i - 1.5) * width for k in range(len(records))]
            ys = [rates.get((cell, label), 0) / 1000 for _, rates in records]
            ax.bar(xs, ys, width, label=label)
        ax.set_xticks(range(len(records)), [s for s, _ in records], fontsize=8)
        ax.set_title(cell)
        ax.set_ylabel("thousand characters/s")
    fig.suptitle(f"training speed, 128 → 512 units, batch 64 × 100 ({CPU_KIND})", fontsize=10)
    for ax in axes[1:]:
        ax.grid(alpha=0.3)
    save_figure(fig, path, axes=axes[:1])


if __name__ == "__main__":
    draw(os.path.join(HERE, "performance"), os.path.join(HERE, "performance", "train-speed.png"))
