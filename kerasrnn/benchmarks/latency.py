"""Latency of an exported model: one step in Keras, SavedModel and LiteRT, and autocomplete per keystroke.

Behind `python -m kerasrnn.bench export exported/NAME` (`run_and_report`). Every figure is measured on one
thread (an interactive keyboard has one core to spare, not all of them), after a warm-up,
as p50 and p99 over many calls, and written as JSON.
"""

from __future__ import annotations

import os
import time

import numpy as np

from kerasrnn.ondevice import litert
from kerasrnn.ondevice.autocomplete import Autocompleter
from kerasrnn.ondevice.hangul import text_to_keys
from kerasrnn.ondevice.personal import PersonalModel, typed_words

# Typed key by key for the autocomplete figures (Hamlet III.i, in the corpus' spelling).
TYPED_TEXT = ("HAMLET:\nTo be, or not to be: that is the question:\nWhether 'tis nobler in the mind to suffer\n"
              "The slings and arrows of outrageous fortune,\nOr to take arms against a sea of troubles,\n"
              "And by opposing end them? To die: to sleep;\nNo more; and by a sleep to say we end\n")
# The same for a Korean keyboard model, typed key by key (117 characters, 231 keys).
KOREAN_TYPED_TEXT = ("파일을 저장하려면 파일 메뉴에서 저장을 선택하거나 Ctrl+S 키를 누릅니다.\n"
                     "다른 이름으로 저장하려면 새 파일 이름과 위치를 지정합니다.\n"
                     "기억 속으로 사라진 문서도 최근 문서 목록에서 다시 열 수 있습니다.\n")
WARMUP = 30  # calls before timing


def percentiles(seconds: list[float]) -> dict:
    """p50, p90 and p99 of per-call times, in microseconds."""
    us = np.asarray(seconds) * 1e6
    return {"p50_us": round(float(np.percentile(us, 50)), 1), "p90_us": round(float(np.percentile(us, 90)), 1),
            "p99_us": round(float(np.percentile(us, 99)), 1), "calls": len(us)}


def time_calls(fn, calls: int) -> dict:
    """Times `calls` calls of `fn()` after a warm-up."""
    for _ in range(WARMUP):
        fn()
    seconds = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    return percentiles(seconds)


def tensorflow_steps(model_dir: str, manifest: dict, calls: int) -> tuple[bool, dict]:
    """Step latency of the Keras model (eager call) and of the SavedModel's "step" signature.

    Returns:
        (whether TensorFlow could be held to one thread, {path: latency figures}).
    """
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        one_thread = True
    except RuntimeError:  # TensorFlow already started in this process (a test): its threads stay
        one_thread = False
    from kerasrnn.core.config import Config
    from kerasrnn.models.char_model import build_step_model  # (importing it registers the custom layers)
    from kerasrnn.core.runs import BEST_MODEL

    token, state = np.array([5], np.int32), np.zeros((1, manifest["state_size"]), np.float32)
    out = {}
    run_model = os.path.join(str(manifest.get("run", "")), BEST_MODEL)
    if os.path.exists(run_model):  # the training run is on this machine (checked first: a FIFO, a zip bomb)
        from kerasrnn.models.loading import check_structure, load_keras_file

        config = Config.from_dict(manifest["config"], os.path.join(model_dir, litert.MANIFEST))
        model = load_keras_file(run_model)
        check_structure(model, config, run_model)
        step_model = build_step_model(model, config)
        inputs = {"token": tf.constant(token), "state": tf.constant(state)}
        out["keras_eager"] = time_calls(lambda: step_model(inputs, training=False), calls // 4)
    saved_model = litert.verify_file(model_dir, manifest, litert.SAVED_MODEL)  # its files and their sha256
    loaded = tf.saved_model.load(saved_model)
    step = loaded.signatures[litert.STEP]
    t, s = tf.constant(token), tf.constant(state)
    out["saved_model"] = time_calls(lambda: step(token=t, state=s), calls // 4)
    return one_thread, out


def typed_text(keyboard: bool) -> str:
    """What the latency figures type: `TYPED_TEXT`, or for a Korean keyboard model the keys of `KOREAN_TYPED_TEXT`."""
    return text_to_keys(KOREAN_TYPED_TEXT) if keyboard else TYPED_TEXT


def full_personal(completer: Autocompleter, model_dir: str) -> PersonalModel:
    """A personal model filled to its caps: the words of the model's own validation text (its bundled corpus),
    then made-up words that share their beginnings until both tables are full (the slowest case); each word
    learned with a random state (seed 0: the state cache's time depends on how many entries match, not on
    their values)."""
    from kerasrnn.benchmarks.keystrokes import split_text
    from kerasrnn.core.cli import UsageError

    model = PersonalModel(completer.token_kind, model=completer.model_id)
    states = np.random.default_rng(0)
    size = completer.step.state_size
    try:
        text = completer.tokens(split_text(model_dir, "validation")[0])
    except (UsageError, KeyError, OSError):
        text = typed_text(completer.keyboard)
    for prev, word in typed_words(text, completer.word_char):
        model.learn(word, prev, states.standard_normal(size))
    words = [w for w in model.words if len(w) < 24] or ["a"]
    for i in range(10 * (model.max_words + model.max_pairs)):
        if len(model.words) >= model.max_words and len(model.pairs) >= model.max_pairs:
            break
        model.learn(f"{words[i % len(words)]}{i}", words[(i * 7) % len(words)], states.standard_normal(size))
    return model


def keystroke_latency(model_dir: str, model: str, k: int = 3, personal: bool = False) -> dict:
    """Per keystroke while typing `typed_text`: feeding the key, and computing k suggestions (with `personal`:
    with a personal model filled to its caps, `full_personal`)."""
    completer = Autocompleter(model_dir, model, threads=1)
    if personal:
        completer.personal = full_personal(completer, model_dir)
    typed = typed_text(completer.keyboard)
    completer.feed(typed[:WARMUP])
    completer.suggestions(k)
    completer.reset()
    feed, suggest = [], []
    for c in typed:
        start = time.perf_counter()
        completer.feed(c)
        middle = time.perf_counter()
        completer.suggestions(k)
        feed.append(middle - start)
        suggest.append(time.perf_counter() - middle)
    out = {"feed": percentiles(feed), "suggestions": percentiles(suggest),
           "feed_and_suggestions": percentiles([a + b for a, b in zip(feed, suggest)])}
    if personal:
        out["personal_entries"] = {"words": len(completer.personal.words), "pairs": len(completer.personal.pairs)}
    return out


def rss_mb() -> float:
    """Resident memory of this process now, in MB (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def long_prefix(model_dir: str, chars: int) -> dict:
    """Feeding a long prefix: seconds, characters per second, resident memory before and after."""
    completer = Autocompleter(model_dir, "float", threads=1)
    typed = typed_text(completer.keyboard)
    text = (typed * (chars // len(typed) + 1))[:chars]
    before = rss_mb()
    start = time.perf_counter()
    completer.feed(text)
    seconds = time.perf_counter() - start
    return {"chars": chars, "seconds": round(seconds, 2), "chars_per_s": round(chars / seconds),
            "rss_mb_before": round(before, 1), "rss_mb_after": round(rss_mb(), 1)}


def bench_export(model_dir: str, calls: int = 2000, long_prefix_chars: int = 0) -> dict:
    """All figures for one export directory.

    Args:
        model_dir: the export.
        calls: timed LiteRT step calls (the slower TensorFlow paths get a quarter).
        long_prefix_chars: also time feeding a prefix this long (0 = skip).
    Returns:
        A JSON-ready record.
    """
    manifest = litert.load_manifest(model_dir)
    token, result = np.array([5], np.int32), {}
    steps = {}
    for kind, name in litert.TFLITE_FILES.items():
        _, step = litert.open_step(model_dir, kind, threads=1)
        state = step.zero_state()
        steps[f"tflite_{kind}"] = time_calls(lambda: step(token, state), calls)
    result["tensorflow_one_thread"], tensorflow = tensorflow_steps(model_dir, manifest, calls)
    steps.update(tensorflow)
    result["step"] = steps
    result["autocomplete"] = {kind: keystroke_latency(model_dir, kind) for kind in litert.TFLITE_FILES}
    result["autocomplete"].update({f"{kind}+personal": keystroke_latency(model_dir, kind, personal=True)
                                   for kind in litert.TFLITE_FILES})
    if long_prefix_chars:
        result["long_prefix"] = long_prefix(model_dir, long_prefix_chars)
    if "keras_eager" in steps:
        result["tflite_float_speedup_vs_keras_eager"] = round(
            steps["keras_eager"]["p50_us"] / steps["tflite_float"]["p50_us"], 1)
    result["file_mb"] = {name: round(entry["bytes"] / 1e6, 3) for name, entry in manifest["files"].items()}
    result["validation_bpc"] = {name: entry["validation_bpc"] for name, entry in manifest["files"].items()}
    result["model"] = {key: manifest[key] for key in ("cell", "units", "layers", "embedding_dim", "state_size")}
    result["threads"] = 1
    return result


def format_table(name: str, result: dict) -> str:
    """A readable summary of `bench_export`'s record."""
    lines = [f"{name}: {result['model']['cell']} {result['model']['layers']}x{result['model']['units']}, 1 thread",
             f"  {'one step':38s} {'p50 µs':>9s} {'p99 µs':>9s}"]
    for key, value in result["step"].items():
        lines.append(f"  {key:38s} {value['p50_us']:9.1f} {value['p99_us']:9.1f}")
    for kind, figures in result["autocomplete"].items():
        for key in ("feed", "suggestions", "feed_and_suggestions"):
            value = figures[key]
            lines.append(f"  {f'keystroke {kind}: {key}':38s} {value['p50_us']:9.1f} {value['p99_us']:9.1f}")
    if "long_prefix" in result:
        lp = result["long_prefix"]
        lines.append(f"  feeding {lp['chars']:,} characters: {lp['seconds']} s ({lp['chars_per_s']:,}/s), "
                     f"RSS {lp['rss_mb_before']} -> {lp['rss_mb_after']} MB")
    if "tflite_float_speedup_vs_keras_eager" in result:
        lines.append(f"  LiteRT float step vs Keras eager step: {result['tflite_float_speedup_vs_keras_eager']}x faster")
    lines.append("  files (MB): " + ", ".join(f"{k} {v}" for k, v in result["file_mb"].items()))
    return "\n".join(lines)


def run_and_report(model_dir: str, calls: int, long_prefix_chars: int, json_path: str, command: str = "") -> dict:
    """`python -m kerasrnn.bench export`: measures, writes the JSON, prints the table."""
    from pipelines.io import atomic_write_json

    result = bench_export(model_dir, calls, long_prefix_chars)
    atomic_write_json(json_path, {"command": command, **result})
    print(format_table(os.path.basename(os.path.normpath(model_dir)), result))
    print(f"wrote {json_path}")
    return result
