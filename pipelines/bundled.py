"""The data bundled in `pipelines/data/` and the character split of a corpus (no TensorFlow).

    DATA_DIR            pipelines/data (tiny Shakespeare, the surname lists, their sources)
    bundled_path(name)  a bundled corpus file by name ("shakespeare")
    split_text(text)    the first 90% of the characters train, the last 10% validate
"""

from __future__ import annotations

import os

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
BUNDLED = {"shakespeare": "tinyshakespeare.txt"}  # bundled corpus name -> file in DATA_DIR
TRAIN_FRACTION = 0.9  # share of characters that trains; the rest validates


def bundled_path(name: str) -> str:
    """Path of a bundled corpus file, by corpus name."""
    return os.path.join(DATA_DIR, BUNDLED[name])


def split_text(text: str, train_fraction: float = TRAIN_FRACTION) -> tuple[str, str]:
    """Cuts `text` by characters: the first `train_fraction` trains, the rest validates."""
    cut = int(len(text) * train_fraction)
    return text[:cut], text[cut:]
