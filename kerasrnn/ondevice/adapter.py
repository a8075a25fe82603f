"""The personal model's correction of the RNN's next-token distribution, learned from every key the user types.

Dynamic evaluation (B. Krause, E. Kahembwe, I. Murray, S. Renals, "Dynamic evaluation of neural sequence
models", ICML 2018) of the output layer only, and only where the user types: the RNN's logits z (V,) after the
text typed, from its state h (S,), become

    z' = z + W h + b          W (V, S) and b (V,) start at zero

and after each token t typed (z', h: those the token was typed after), one step of gradient descent on its
cross-entropy moves them:

    g = softmax(z') - onehot(t)      W -= RATE * outer(g, h)      b -= RATE * g

so that the keys and the words the user types become likelier after states like the ones they were typed
after. The correction applies to the distribution after the text typed (the first key of every suggestion);
the search's further steps use the RNN as it is, so a keystroke costs two (V, S) products, not one per beam
(the browser runs its steps one beam at a time). RATE was chosen on the development texts of
docs/personal-autocomplete.md (0.001 to 0.02 gave the same savings there).

W and b mean something only to the model whose states they read: the adapter is bound to one export (the
sha256 of its float file, as the state cache) and a save of another model's adapter is not loaded. Arithmetic is
float64 throughout; the browser's port (web/js/adapter.js) follows the same operations, its sums in another
order, so the two agree to about 1e-12, not bit for bit (the RNN's own logits differ more between runtimes).
"""

from __future__ import annotations

import base64
import binascii

import numpy as np

RATE = 0.002  # the learning rate (chosen on development texts)
MAX_VALUES = 2**20  # the largest W (V * S values) a save may hold


def _encode(values: np.ndarray) -> str:
    """float64 values, little-endian, as base64 text."""
    return base64.b64encode(np.ascontiguousarray(values, "<f8").tobytes()).decode("ascii")


def _decode(text: object, size: int, name: str) -> np.ndarray:
    """`size` finite float64 values from base64 text (raises ValueError naming `name` otherwise)."""
    if not isinstance(text, str):
        raise ValueError(f"a personal model file whose adapter {name} is not text")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"a personal model file whose adapter {name} is not base64") from None
    values = np.frombuffer(raw, "<f8") if len(raw) == 8 * size else None
    if values is None or not np.isfinite(values).all():
        raise ValueError(f"a personal model file whose adapter {name} is not {size} finite numbers")
    return values.astype(np.float64)


class OutputAdapter:
    """W and b of the module doc, for one model; empty (no correction) until a token is learned."""

    def __init__(self, model: str = "", rate: float = RATE):
        self.model = model  # the model whose states and logits these are ("" until bound)
        self.rate = rate
        self.clear()

    def clear(self) -> None:
        """Forgets what was learned."""
        self.weights: np.ndarray | None = None  # (V, S) W, float64 (None: not learned yet)
        self.bias: np.ndarray | None = None  # (V,) b
        self.steps = 0  # tokens learned

    def bind(self, model: str) -> None:
        """Makes this the adapter of `model`: what was learned for another model is forgotten."""
        if model != self.model:
            self.clear()
            self.model = model

    def _fits(self, logits: np.ndarray, state: np.ndarray) -> bool:
        return self.weights is not None and self.weights.shape == (np.size(logits), np.size(state))

    def logits(self, logits: np.ndarray, state: np.ndarray) -> np.ndarray:
        """z' (V,) float64 for the RNN's logits z (V,) from state h (S,); z itself (as float64) when nothing
        learned fits their sizes."""
        z = np.asarray(logits, np.float32).astype(np.float64)
        if not self._fits(z, state):
            return z
        h = np.asarray(state, np.float32).astype(np.float64).ravel()
        return z + self.weights @ h + self.bias

    def learn(self, logits: np.ndarray, state: np.ndarray, token: int) -> None:
        """One step on the token typed after state h (S,), whose logits were z (V,) (a W of other sizes: forgotten)."""
        z = np.asarray(logits, np.float32).astype(np.float64)
        h = np.asarray(state, np.float32).astype(np.float64).ravel()
        if not self._fits(z, h):
            self.weights, self.bias, self.steps = np.zeros((z.size, h.size)), np.zeros(z.size), 0
        z = z + self.weights @ h + self.bias
        g = np.exp(z - z.max())
        g /= g.sum()
        g[token] -= 1.0
        self.weights -= np.outer(self.rate * g, h)
        self.bias -= self.rate * g
        self.steps += 1

    def to_json(self) -> dict | None:
        """{"model", "rows", "columns", "steps", "weights", "bias"} (base64 float64), or None when empty."""
        if self.weights is None or not self.model:
            return None
        rows, columns = self.weights.shape
        return {"model": self.model, "rows": rows, "columns": columns, "steps": self.steps,
                "weights": _encode(self.weights), "bias": _encode(self.bias)}

    def load_json(self, data: object) -> None:
        """Replaces what was learned with a save (`to_json`) of this adapter's model; another model's is ignored.

        Raises:
            ValueError: a malformed save.
        """
        self.clear()
        if not isinstance(data, dict) or not isinstance(data.get("model"), str):
            raise ValueError("a personal model file with a malformed adapter")
        rows, columns, steps = data.get("rows"), data.get("columns"), data.get("steps")
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in (rows, columns, steps)) or not (
                0 < rows and 0 < columns and rows * columns <= MAX_VALUES and 0 <= steps):
            raise ValueError("a personal model file whose adapter has no valid size")
        weights = _decode(data.get("weights"), rows * columns, "weights").reshape(rows, columns)
        bias = _decode(data.get("bias"), rows, "bias")
        if data["model"] != self.model or not self.model:
            return
        self.weights, self.bias, self.steps = weights, bias, steps
