"""Writing matplotlib figures: one finishing step shared by every picture the project draws (no TensorFlow)."""

from __future__ import annotations

import os
import tempfile

from pipelines.io import public_mode


def new_figure(**kwargs):
    """A matplotlib figure and axes drawn off-screen (the Agg backend): `plt.subplots(**kwargs)`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(**kwargs)


def save_figure(fig, path: str, axes=()) -> None:
    """Finishes a matplotlib figure (grid and legend on `axes`, tight layout) and writes it atomically as PNG."""
    import matplotlib.pyplot as plt

    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".tmp-", suffix=".png")
    os.close(fd)  # a fresh name: never a file of the user's beside `path`
    try:
        fig.savefig(tmp, dpi=100, format="png")
        plt.close(fig)
        public_mode(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
