"""Writing matplotlib figures: one finishing step shared by every picture the project draws (no TensorFlow)."""

from __future__ import annotations

import os


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
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)
