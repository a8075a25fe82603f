"""`train` and `export_run`: each picks the task's own code from the run's config.

A new task adds a package beside `language_model/`, `surnames/` and `korean/` and one branch to each function.
"""

from __future__ import annotations

from kerasrnn.core.config import SURNAME_TASKS, Config


def train(config: Config, run_dir: str, resume: bool = False, verbose: int | str = "auto", command: str = "",
          strategy: str = "one-device") -> dict:
    """Trains (or resumes) a run of `config.task` into `run_dir`; returns its `final` figures."""
    if config.task == "sentence":
        from kerasrnn.tasks.lessons.sentence import train_sentence

        return train_sentence(config, run_dir, command=command)
    if config.task in SURNAME_TASKS:
        from kerasrnn.tasks.surnames.training import train_surnames

        return train_surnames(config, run_dir, resume=resume, verbose=verbose, command=command)
    if config.task == "korean":
        from kerasrnn.tasks.korean.training import train_korean

        return train_korean(config, run_dir, resume=resume, verbose=verbose, command=command, strategy=strategy)
    from kerasrnn.tasks.language_model.training import train as train_language_model

    return train_language_model(config, run_dir, resume=resume, verbose=verbose, command=command,
                                strategy=strategy)


def export_run(run_dir: str, out: str, force: bool = False, log=print, int8: bool = True) -> dict:
    """Exports a trained run to `out`: SavedModel and TFLite, verified, written atomically.

    Args:
        int8: also write and check `model_int8.tflite` (off: the float `.tflite` only, a smaller export).
    Returns:
        The manifest.
    Raises:
        UsageError: a bad run directory; `out` exists and `force` is off, or it is not an export (`--force` replaces
            only an export or an empty folder), or it is the run itself.
        ExportFailed: a conversion or a check failed; nothing was written.
    """
    from kerasrnn.exporting.directory import check_out, write_export
    from kerasrnn.models.loading import load_run

    out = check_out(out, force, run_dir)
    run = load_run(run_dir)
    if run.config.task in SURNAME_TASKS:
        from kerasrnn.tasks.surnames.export import export_surname_model as export_task
    elif run.config.task == "korean":
        from kerasrnn.tasks.korean.export import export_korean_model as export_task
    else:
        from kerasrnn.tasks.language_model.export import export_char_model as export_task
    c = run.config
    log(f"exporting {run_dir} ({c.task}: {c.cell}, {c.layers}x{c.units}) to {out}")
    return write_export(out, lambda tmp, log_, started: export_task(run, tmp, log_, started, int8=int8), log)
