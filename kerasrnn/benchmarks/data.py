"""`python -m kerasrnn.bench data`: what a corpus' size costs, from 10 MB to 1 GB.

For each size a corpus is generated into a temporary folder (the bundled Shakespeare and surname lists, lines
reshuffled round after round, so the vocabulary is realistic), then measured with the real commands in
subprocesses: `python -m pipelines.prepare` (MB/s, peak RSS) and `python -m kerasrnn.fit --data` stopped after
`steps` training steps (seconds from its start to the end of its first step, peak RSS, training chars/s over
the steps after the first tenth). Everything generated is removed afterwards.

`pipeline_speed` times the default model on the bundled Shakespeare through today's in-memory pipeline
(`pipelines.text.lm_dataset`) and the prepared, streamed one, in interleaved repetitions in one process (the order
alternating round by round), and each pipeline alone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from kerasrnn.benchmarks.machine import cpu_kind
from kerasrnn.core.config import Config
from pipelines.bundled import DATA_DIR, bundled_path

SIZES_MB = (10, 100, 1000)  # the default corpora, in MB
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Prepended to a measured child's code: at exit it writes its /proc/self/status (VmHWM: its peak RSS) to $BENCH_RSS.
REPORT_PEAK = """import atexit, os
atexit.register(lambda: open(os.environ["BENCH_RSS"], "w").write(open("/proc/self/status").read() +
                                                                   "CPU: %f\\n" % sum(os.times()[:2])))
"""
PREPARE = "import runpy, sys\nsys.argv[0] = 'prepare'\nrunpy.run_module('pipelines.prepare', run_name='__main__')\n"

# Run by the fit subprocess: fit itself, with a callback that stops it after STEPS steps and records the times.
FIT_DRIVER = """
import json, os, sys, time
import keras
from kerasrnn.training import fitting
steps, out, started = int(os.environ["BENCH_STEPS"]), os.environ["BENCH_OUT"], float(os.environ["BENCH_T0"])
times = []
class Stop(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        times.append(time.time())
        if len(times) >= steps:
            self.model.stop_training = True
            json.dump({"first_step_s": times[0] - started, "times": times}, open(out, "w"))
real = fitting.fit_callbacks
import kerasrnn.tasks.language_model.training as training
training.fit_callbacks = lambda *a, **k: real(*a, **k) + [Stop()]
from kerasrnn import fit
sys.exit(fit.main(sys.argv[1:]))
"""


def generate(path: str, size: int, seed: int = 0) -> None:
    """Writes `size` bytes of lines of the bundled texts, reshuffled each round (a fixed seed), or up to 3 fewer:
    the last line is cut where a character starts (the surname lists are not all ASCII)."""
    with open(bundled_path("shakespeare"), encoding="utf-8") as f:
        lines = f.read().splitlines(keepends=True)
    names = os.path.join(DATA_DIR, "names")
    if os.path.isdir(names):
        for name in sorted(os.listdir(names)):
            with open(os.path.join(names, name), encoding="utf-8", errors="replace") as f:
                lines += f.read().splitlines(keepends=True)
    encoded = [line.encode("utf-8") for line in lines]
    rng, written = np.random.default_rng(seed), 0
    with open(path, "wb") as f:
        while written < size:
            block = b"".join(encoded[i] for i in rng.permutation(len(encoded)))
            cut = min(len(block), size - written)
            while cut < len(block) and block[cut] & 0xC0 == 0x80:  # inside a character: cut before it
                cut -= 1
            f.write(block[:cut])
            written = size if cut < len(block) else written + cut


def run_child(code: str, args: list[str], env: dict | None = None) -> tuple[float, int, float, subprocess.CompletedProcess]:
    """Runs `python -c CODE ARGS`; returns (wall seconds, the child's peak resident memory in bytes, its CPU seconds
    (user + system: what it cost on a loaded machine), the result).

    The peak is the child's own VmHWM, written when it exits (ru_maxrss would count the memory of this process,
    which the child is forked from, before its exec).
    """
    fd, rss_file = tempfile.mkstemp(prefix="kerasrnn-bench-rss-")
    os.close(fd)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", REPORT_PEAK + code, *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": ROOT, "BENCH_RSS": rss_file, **(env or {})})
    seconds = time.perf_counter() - started
    status = open(rss_file, encoding="ascii").read()
    os.remove(rss_file)
    peak = next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmHWM:")), 0)
    cpu = next((float(line.split()[1]) for line in status.splitlines() if line.startswith("CPU:")), 0.0)
    return seconds, peak, cpu, done


def measure_size(mb: int, folder: str, steps: int, log=print) -> dict:
    """One corpus of `mb` MB: generated, prepared, trained on for `steps` steps; its figures."""
    text, prepared = os.path.join(folder, f"corpus-{mb}mb.txt"), os.path.join(folder, f"prepared-{mb}mb")
    generate(text, mb * 10**6)
    seconds, rss, cpu, done = run_child(PREPARE, [text, "--out", prepared])
    if done.returncode:
        raise RuntimeError(f"prepare failed: {done.stderr.strip()[-500:]}")
    row = {"mb": mb, "bytes": os.path.getsize(text), "prepare_s": round(seconds, 1), "prepare_cpu_s": round(cpu, 1),
           "prepare_mb_per_s": round(mb / seconds, 1), "prepare_mb_per_cpu_s": round(mb / max(cpu, 1e-3), 1),
           "prepare_peak_rss_mb": round(rss / 2**20)}
    os.remove(text)
    log(f"  {mb} MB: prepared in {seconds:.1f} s ({mb / seconds:.0f} MB/s; {cpu:.1f} CPU s, {mb / max(cpu, 1e-3):.0f} "
        f"MB per CPU second), peak RSS {rss / 2**20:.0f} MiB")
    out = os.path.join(folder, "fit.json")
    t0 = time.time()
    seconds, rss, cpu, done = run_child(FIT_DRIVER, ["--data", prepared, "--max-val-chars", "100000",
                                    "--run-dir", os.path.join(folder, f"run-{mb}"), "--verbose", "0"],
                                   {"BENCH_STEPS": str(steps), "BENCH_OUT": out, "BENCH_T0": repr(t0)})
    if done.returncode or not os.path.exists(out):
        raise RuntimeError(f"fit failed: {done.stderr.strip()[-500:]}")
    record = json.load(open(out, encoding="utf-8"))
    times = record["times"]
    skip = max(len(times) // 10, 1)
    default = Config()  # fit's defaults: the batch it trained on
    rate = (len(times) - 1 - skip) * default.batch_size * default.seq_len / (times[-1] - times[skip])
    row.update(fit_first_step_s=round(record["first_step_s"], 1), fit_peak_rss_mb=round(rss / 2**20),
               fit_steps=len(times), train_chars_per_s=round(rate))
    log(f"  {mb} MB: fit's first step after {record['first_step_s']:.1f} s, peak RSS {rss / 2**20:.0f} MiB over "
        f"{len(times)} steps, {rate:,.0f} chars/s")
    shutil.rmtree(prepared)
    shutil.rmtree(os.path.join(folder, f"run-{mb}"), ignore_errors=True)
    return row


def pipeline_speed(rounds: int, steps: int, log=print) -> dict:
    """Training chars/s of the default model on the bundled Shakespeare: in-memory vs prepared, in rounds whose order
    alternates (so neither pipeline always runs first), each round's ratio and their median; and each pipeline alone
    (batches per second, no training), the prepared one also read from its shard file a batch at a time as a corpus
    over `pipelines.stream.IN_GRAPH_IDS` is."""
    from kerasrnn.models.char_model import build_model
    from kerasrnn.training.fitting import compile_model
    from pipelines import stream
    from pipelines.prepare import prepare
    from pipelines.text import lm_dataset, load_corpus
    from pipelines.vocab import Vocabulary

    config = Config()
    corpus = load_corpus("shakespeare")
    ids = Vocabulary.build(corpus.train).encode(corpus.train)
    folder = tempfile.mkdtemp(prefix="kerasrnn-bench-")
    try:
        data = prepare(bundled_path("shakespeare"), os.path.join(folder, "sh"), quiet=True)
        pipelines = {"in-memory": lm_dataset(ids, config.seq_len, config.batch_size, seed=config.seed),
                     "prepared": stream.window_dataset(data.train, config.seq_len, config.batch_size, seed=config.seed)}
        alone = {name: batches_per_s(ds) for name, ds in pipelines.items()}
        in_graph, stream.IN_GRAPH_IDS = stream.IN_GRAPH_IDS, 0
        try:
            alone["prepared, read a batch at a time"] = batches_per_s(
                stream.window_dataset(data.train, config.seq_len, config.batch_size, seed=config.seed))
        finally:
            stream.IN_GRAPH_IDS = in_graph
        log("  the pipelines alone: " + ", ".join(f"{n} {v:,.0f} batches/s" for n, v in alone.items()))
        config.vocab_size = len(data.vocab)
        model = build_model(config)
        compile_model(model, config, 10**6)
        rates = {name: [] for name in pipelines}
        cpu = {name: [] for name in pipelines}  # chars per CPU second of this process: less swayed by other load
        model.fit(pipelines["in-memory"].take(5), verbose=0)  # compiles the step
        model.fit(pipelines["prepared"].take(5), verbose=0)
        for r in range(rounds):
            for name in (list(pipelines) if r % 2 == 0 else list(pipelines)[::-1]):
                started, cpu_started = time.perf_counter(), time.process_time()
                model.fit(pipelines[name].take(steps), verbose=0)
                rates[name].append(steps * config.batch_size * config.seq_len / (time.perf_counter() - started))
                cpu[name].append(steps * config.batch_size * config.seq_len / (time.process_time() - cpu_started))
            log(f"  round {r + 1}: " + ", ".join(f"{n} {v[-1]:,.0f} chars/s" for n, v in rates.items()))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    median = {name: float(np.median(v)) for name, v in rates.items()}
    ratios = [p / m for p, m in zip(rates["prepared"], rates["in-memory"])]
    return {"rounds": rounds, "steps": steps, "chars_per_s": {n: [round(x) for x in v] for n, v in rates.items()},
            "median": {n: round(v) for n, v in median.items()},
            "ratios": [round(x, 3) for x in ratios], "median_ratio": round(float(np.median(ratios)), 3),
            "prepared_vs_in_memory": round(median["prepared"] / median["in-memory"], 3),
            "pipeline_alone_batches_per_s": {n: round(v) for n, v in alone.items()},
            "chars_per_cpu_s": {n: [round(x) for x in v] for n, v in cpu.items()},
            "cpu_median_ratio": round(float(np.median([p / m for p, m in zip(cpu["prepared"], cpu["in-memory"])])), 3)}


def batches_per_s(ds, batches: int = 300) -> float:
    """Batches per second a pipeline delivers on its own (a fresh iteration, its first batch not timed)."""
    it = iter(ds.repeat())
    next(it)
    started = time.perf_counter()
    for _ in range(batches):
        next(it)
    return batches / (time.perf_counter() - started)


def run_and_report(sizes: list[int], steps: int, rounds: int, json_path: str, command: str,
                   round_steps: int = 40) -> dict:
    """Measures every size (and the pipeline comparison when `rounds`), writes the JSON, prints the table."""
    from pipelines.io import atomic_write_json

    folder = tempfile.mkdtemp(prefix="kerasrnn-bench-data-")
    load = os.getloadavg()
    rows = []
    try:
        for mb in sizes:
            rows.append(measure_size(mb, folder, steps))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    speed = pipeline_speed(rounds, round_steps) if rounds else None
    result = {"command": command, "machine": cpu_kind(), "load_average_at_start": [round(x, 1) for x in load],
              "load_average_at_end": [round(x, 1) for x in os.getloadavg()], "sizes": rows, "shakespeare": speed}
    atomic_write_json(json_path, result)
    if rows:
        print(f"\n{'corpus':>8} {'prepare MB/s':>13} {'MB/CPU s':>9} {'prepare RSS':>12} {'first step':>11} {'fit RSS':>9} "
              f"{'chars/s':>9}")
    for r in rows:
        print(f"{r['mb']:>5} MB {r['prepare_mb_per_s']:>13.0f} {r['prepare_mb_per_cpu_s']:>9.0f} "
              f"{r['prepare_peak_rss_mb']:>8} MiB "
              f"{r['fit_first_step_s']:>9.1f} s {r['fit_peak_rss_mb']:>5} MiB {r['train_chars_per_s']:>9,}")
    if speed:
        print(f"bundled Shakespeare, {speed['rounds']} interleaved rounds of {speed['steps']} steps: prepared "
              f"{speed['median']['prepared']:,} vs in-memory {speed['median']['in-memory']:,} chars/s "
              f"(x{speed['prepared_vs_in_memory']}; per round x{', x'.join(map(str, speed['ratios']))}: median "
              f"x{speed['median_ratio']}; per CPU second: median x{speed['cpu_median_ratio']})")
    print(f"(load average {load[0]:.1f} at the start; JSON: {json_path})")
    return result
