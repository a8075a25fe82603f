"""`python -m kerasrnn.evaluate RUN_DIR [--text FILE]`: loss in nats and bits per character.

Without --text it measures the run's own validation split (the last 10% of its corpus).
"""

from __future__ import annotations

import json
import sys

from kerasrnn import cli

DEFAULT_BATCH = 128  # windows per evaluation batch


def evaluate_loss(model, ids, seq_len: int, batch_size: int = DEFAULT_BATCH) -> float:
    """Mean cross-entropy in nats per character of `model` on encoded text.

    The text is cut into windows as in training (stride `seq_len`, each window
    starting from a zero state); a text shorter than one window is one window.

    Args:
        model: a sequence model, tokens (batch, time) -> logits (batch, time, vocab).
        ids: encoded text, (n,) with n >= 2.
        seq_len: window length.
        batch_size: windows per batch.
    Returns:
        Nats per character.
    """
    import keras

    from pipelines.text import lm_dataset

    if len(ids) < 2:
        from pipelines.io import DataError

        raise DataError("text too short to evaluate: it needs at least 2 characters")
    seq_len = min(seq_len, len(ids) - 1)
    ds = lm_dataset(ids, seq_len, batch_size, shuffle=False, drop_remainder=False)
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return float(model.evaluate(ds, verbose=0))


def evaluate_run(run_dir: str, text_file: str | None = None) -> dict:
    """Evaluates a run's best model on its validation split or on a text file.

    Returns:
        {"run", "data", "characters", "loss_nats", "bpc"}.
    """
    from kerasrnn.callbacks import bits
    from kerasrnn.runs import load_run
    from pipelines.io import read_text
    from pipelines.text import load_corpus

    run = load_run(run_dir)
    if text_file:
        text, data = read_text(text_file), text_file
    else:
        c = run.config
        text, data = load_corpus(c.dataset, c.text, c.data_dir).validation, "validation split"
    ids = run.vocab.encode(text, warn=True)
    nats = evaluate_loss(run.model, ids, run.config.seq_len)
    return {"run": run_dir, "data": data, "characters": len(text),
            "loss_nats": round(nats, 5), "bpc": round(bits(nats), 5)}


def main(argv: list[str] | None = None) -> int:
    p = cli.parser("kerasrnn.evaluate", __doc__.splitlines()[0])
    p.add_argument("run_dir", help="a run directory written by kerasrnn.fit")
    p.add_argument("--text", default=None, help="a UTF-8 text file to evaluate on (default: the run's validation split)")
    p.add_argument("--json", action="store_true", help="print the result as one JSON line")
    args = p.parse_args(argv)

    def body() -> int:
        cli.quiet_tensorflow()
        result = evaluate_run(args.run_dir, args.text)
        if args.json:
            print(json.dumps(result))
        else:
            print(f"{result['data']}: {result['characters']:,} characters, "
                  f"loss {result['loss_nats']:.4f} nats/char = {result['bpc']:.4f} bits/char")
        return 0

    return cli.run(body, "kerasrnn.evaluate")


if __name__ == "__main__":
    sys.exit(main())
