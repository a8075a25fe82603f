"""How big a character model is before it is built, and whether training it fits in this machine's memory.

A model too big for the memory ends in the kernel's out-of-memory killer or an allocator abort, far from
its cause; `check_model_memory` refuses it up front with one line naming the cause (usually the
vocabulary: a text of every Unicode code point makes a 1.1-million-way softmax) and the way out.

Training holds, per parameter, the weights, their gradients and Adam's two moments (an EMA copy too), and per
batch the logits, their softmax and its gradient (batch × seq_len × vocab floats each) and the recurrent
layers' saved activations.
"""

from __future__ import annotations

import os

from kerasrnn.core.cli import UsageError
from kerasrnn.core.config import Config

MEMORY_ENV = "KERASRNN_MEMORY_BYTES"  # the memory training may use, in bytes (default: what the system has available)
FLOAT = 4  # bytes of a float32
GATES = {"simplernn": 1, "lstm": 4, "gru": 3}  # weight blocks of a recurrent cell
CAPS = (4096, 1000, 256)  # --max-vocab values offered (4,096 holds the common CJK characters), the largest that fits first


def parameter_count(config: Config, vocab_size: int) -> int:
    """Parameters of `kerasrnn.models.char_model.build_model` for this config and vocabulary."""
    width = config.embedding_dim or vocab_size  # the first layer's input: an embedding or one-hot vectors
    count = vocab_size * config.embedding_dim
    for layer in range(config.layers):
        inputs = width if layer == 0 else config.units
        biases = 2 if config.cell == "gru" else 1  # Keras' GRU keeps two bias vectors (reset_after)
        count += GATES[config.cell] * (inputs * config.units + config.units * config.units + biases * config.units)
    return count + config.units * vocab_size + vocab_size  # the logits layer


def training_bytes(config: Config, vocab_size: int) -> int:
    """Bytes that training this model needs, roughly (see the module doc)."""
    copies = 4 + (1 if config.ema else 0)  # weights, gradients, Adam's m and v (+ the average)
    chars = config.batch_size * config.seq_len  # characters of one batch
    logits = 3 * chars * vocab_size * FLOAT  # logits, softmax, gradient
    one_hot = 0 if config.embedding_dim else 2 * chars * vocab_size * FLOAT
    activations = 8 * chars * config.units * config.layers * FLOAT
    return copies * parameter_count(config, vocab_size) * FLOAT + logits + one_hot + activations


def available_bytes() -> int:
    """The memory training may use: $KERASRNN_MEMORY_BYTES, else the system's MemAvailable (0 when unknown).

    Raises:
        UsageError: $KERASRNN_MEMORY_BYTES is not a positive number of bytes.
    """
    if os.environ.get(MEMORY_ENV):
        try:
            value = float(os.environ[MEMORY_ENV])
        except ValueError:
            value = float("nan")
        if not 1 <= value < 2**63:  # (NaN too)
            raise UsageError(f"${MEMORY_ENV} must be a number of bytes, 1 or more (got {os.environ[MEMORY_ENV]!r})")
        return int(value)
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def size(n: float) -> str:
    return f"{n / 1e9:,.1f} GB" if n >= 1e9 else f"{n / 1e6:,.0f} MB"


def check_model_memory(config: Config, vocab_size: int, available: int | None = None) -> None:
    """Raises UsageError (one line, naming the cause and the way out) when training would need more memory than
    is available; nothing when the available memory is unknown."""
    available = available_bytes() if available is None else available
    need = training_bytes(config, vocab_size)
    if not available or need <= 0.9 * available:
        return
    params = parameter_count(config, vocab_size)
    small = training_bytes(config, min(vocab_size, 256))
    what = f"the model would need {params / 1e6:,.1f} M parameters and ~{size(need)} to train, more than the " \
           f"{size(available)} available"
    if small <= 0.9 * available and vocab_size > 256:  # the vocabulary is the cause
        cap = next((c for c in CAPS if c < vocab_size and training_bytes(config, c + 1) <= 0.9 * available), 256)
        raise UsageError(f"the vocabulary has {vocab_size - 1:,} characters: {what}; use --max-vocab {cap} "
                         f"(the rarer characters become <unk>)")
    raise UsageError(f"{what}; use smaller --units, --layers, --batch-size or --seq-len")
