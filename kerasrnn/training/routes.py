"""The training route: how a corpus model's training step runs on this machine, chosen by measuring.

A route is a way to run the same mathematics: the step compiled with XLA (whose matrix products go to
YNNPACK) or run on TensorFlow's own kernels (oneDNN), with the fast loop's matrix products in float32
or, on a CPU with bfloat16 instructions (avx512_bf16 or amx_bf16), in bfloat16. Which is fastest depends
on the CPU, so training tries the routes that apply for a few real steps at the start (`probe`), keeps the
fastest, restores the weights and optimizer as they were, and caches the choice per machine and model
shape in `cache_path()`. `--route NAME` forces one; `--precision` limits the choice to one product type.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from kerasrnn.core.cli import UsageError
from kerasrnn.core.config import Config
from pipelines.io import atomic_write_json, user_cache_dir


@dataclass(frozen=True)
class Route:
    """One way to run the training step."""

    name: str  # what --route names
    jit_compile: bool  # the step compiled with XLA (else TensorFlow's kernels)
    products: str  # the fast loop's matrix products: "float32" or "bfloat16"

    def describe(self) -> str:
        return f"{self.name} ({'XLA' if self.jit_compile else 'TensorFlow kernels'}, {self.products} products)"


ROUTES = {r.name: r for r in (Route("xla", True, "float32"), Route("tf", False, "float32"),
                              Route("xla-bf16", True, "bfloat16"), Route("tf-bf16", False, "bfloat16"))}
BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # CPU flags of bfloat16 products in hardware
KEY_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_tile")  # flags in the cache key
KEY_ENV = ("XLA_FLAGS", "TF_XLA_FLAGS", "TF_ENABLE_ONEDNN_OPTS", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA",
           "ONEDNN_DEFAULT_FPMATH_MODE", "DNNL_DEFAULT_FPMATH_MODE", "TF_SET_ONEDNN_FPMATH_MODE",
           "TF_NUM_INTRAOP_THREADS")  # variables that change the kernels (an FPMATH_MODE of BF16: float32 in bfloat16)
# Instruction-set caps below bfloat16's: oneDNN (TensorFlow's kernels) and XLA's generated code. A machine held to
# one of them (to measure as on AVX2) takes no bfloat16 route, as a CPU without bfloat16 instructions.
ONEDNN_BELOW_BF16 = ("SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI")
XLA_BELOW_BF16 = ("SSE4_2", "AVX", "AVX2", "AVX512", "AVX512_VNNI")
PROBE_MIN_STEPS = 300  # a run of fewer training steps takes the first route unmeasured (the probe cannot pay off)
PROBE_ROUNDS = 3  # timed steps per route in the probe, taken in turn (each route's fastest counts), after
# one step each that traces and compiles
CACHE_VERSION = 1
# Routes `--precision auto` does not measure, to keep the probe short: XLA's bfloat16 matrix products ran at
# 0.7x its float32 ones on an AMD EPYC (Zen 4, AVX512-BF16) and 0.7x on an Intel Xeon (Sapphire Rapids, AMX)
# for the recurrent step's 64x512 @ 512x2048, so xla-bf16 cannot win; --precision bfloat16 and --route measure
# or take it.
AUTO_SKIPS = ("xla-bf16",)


def cpu_info(path: str = "/proc/cpuinfo") -> dict:
    """{"model": the CPU's model name, "flags": its flags (a sorted list)}; unknown ("?", []) off Linux."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        lines = []
    model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "?")
    flags = next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), [])
    return {"model": model, "flags": sorted(set(flags))}


def isa_hold(environ=None) -> str:
    """The setting that holds the libraries below bfloat16 instructions (e.g. "ONEDNN_MAX_CPU_ISA=AVX2"), else ""."""
    env = os.environ if environ is None else environ
    for name in ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"):
        if env.get(name, "").strip().upper() in ONEDNN_BELOW_BF16:
            return f"{name}={env[name].strip()}"
    isa = [f.split("=", 1)[1] for f in env.get("XLA_FLAGS", "").split() if f.startswith("--xla_cpu_max_isa=")]
    return f"--xla_cpu_max_isa={isa[-1]}" if isa and isa[-1].upper() in XLA_BELOW_BF16 else ""


def has_bfloat16(flags, environ=None) -> bool:
    """Whether the CPU multiplies bfloat16 in hardware (AVX512-BF16 or AMX) and no variable holds the libraries
    below it (`isa_hold`); never on AVX2 alone, nor on a CPU held to AVX2."""
    return any(f in flags for f in BF16_FLAGS) and not isa_hold(environ)


def _no_bfloat16(flags) -> str:
    """Why bfloat16 routes cannot run here, for a message."""
    if any(f in flags for f in BF16_FLAGS):
        return f"this one has them, but {isa_hold()} holds the libraries below them"
    return "this one has neither"


def candidates(config: Config, flags, xla: bool) -> list[str]:
    """The routes that apply to this model and CPU, the default first (XLA where it applies, float32 first).

    Args:
        xla: whether the step may compile with XLA (`training.fitting.uses_xla`).
    Raises:
        UsageError: --precision bfloat16 that cannot run here.
    """
    precisions = {"auto": ["float32", "bfloat16"], "float32": ["float32"], "bfloat16": ["bfloat16"]}[config.precision]
    if "bfloat16" in precisions and (config.rnn_impl != "fast" or not has_bfloat16(flags)):
        if config.precision == "bfloat16":
            raise UsageError("--precision bfloat16 needs the fast loop (--rnn-impl fast) and a CPU with bfloat16 "
                             f"instructions ({' or '.join(BF16_FLAGS)}); "
                             + ("this one has them" if has_bfloat16(flags) else _no_bfloat16(flags)))
        precisions = ["float32"]
    names = [r.name for p in precisions for r in ROUTES.values() if r.products == p and (xla or not r.jit_compile)]
    if config.precision == "auto":  # XLA's bfloat16 products run slower than its float32 ones (see AUTO_SKIPS)
        names = [n for n in names if n not in AUTO_SKIPS]
    return names


def check_forced(config: Config, flags, xla: bool) -> Route:
    """The route `--route` names, if it applies here.

    Raises:
        UsageError: a route this model or CPU cannot take, in one line.
    """
    route = ROUTES[config.route]
    if config.precision == "bfloat16" and route.products != "bfloat16":  # (float32, the default, gives way)
        raise UsageError(f"--route {route.name} multiplies in {route.products}, not --precision {config.precision}")
    if route.jit_compile and not xla:
        raise UsageError(f"--route {route.name} compiles with XLA, which this run does not use (a model with "
                         f"dropout, --no-jit-compile, a GPU or several devices): choose --route tf or tf-bf16")
    if route.products == "bfloat16" and (config.rnn_impl != "fast" or not has_bfloat16(flags)):
        raise UsageError(f"--route {route.name} needs the fast loop (--rnn-impl fast) and a CPU with bfloat16 "
                         f"instructions ({' or '.join(BF16_FLAGS)}); "
                         + ("this one has them" if has_bfloat16(flags) else _no_bfloat16(flags)))
    return route


def cache_path() -> str:
    """$XDG_CACHE_HOME/kerasrnn/routes.json, else ~/.cache/kerasrnn/routes.json."""
    return os.path.join(user_cache_dir(), "kerasrnn", "routes.json")


def cache_key(config: Config, cpu: dict, names: list[str], versions: dict) -> str:
    """What a cached choice depends on: the CPU (model, relevant flags, threads), the libraries, the
    environment that changes their kernels, the model's shape, the batch and the routes tried."""
    key = {"cpu": cpu["model"], "flags": [f for f in KEY_FLAGS if f in cpu["flags"]],
           "threads": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
           **versions, "env": {v: os.environ[v] for v in KEY_ENV if os.environ.get(v)},
           "model": [config.cell, config.rnn_impl, config.layers, config.units, config.embedding_dim,
                     config.vocab_size, config.dropout],
           "batch": config.batch_size, "seq_len": config.seq_len, "routes": names}
    return json.dumps(key, sort_keys=True)


def read_cache(path: str) -> dict:
    """The cached choices {key: entry}; an unreadable, corrupt or older-version file counts as empty, a malformed
    entry as missing."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION or not isinstance(data.get("routes"), dict):
        return {}
    return {k: v for k, v in data["routes"].items() if isinstance(v, dict) and v.get("route") in ROUTES and
            isinstance(v.get("step_ms", {}), dict) and
            all(isinstance(ms, (int, float)) and not isinstance(ms, bool) for ms in v.get("step_ms", {}).values())}


def write_cache(path: str, key: str, entry: dict) -> bool:
    """Adds one choice to the cache file (rewriting a corrupt one), atomically; False if it cannot be written."""
    routes = read_cache(path)
    routes[key] = entry
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        atomic_write_json(path, {"version": CACHE_VERSION, "routes": routes})
    except OSError:
        return False
    return True


PICK_MARGIN = 0.10  # another route replaces the default only when its probe step is this much faster


def pick(seconds: dict[str, float], names: list[str]) -> str:
    """The fastest route, if its step is at least PICK_MARGIN faster than the default's (`names[0]`), else the
    default: a probe of a few steps on a shared machine cannot separate routes within a few percent (a tie goes
    to the earlier one in `names`). A route of other products than the default's (bfloat16, which changes the
    numbers) must moreover be PICK_MARGIN faster than the fastest route of the default's products."""
    def fastest(pool: list[str]) -> str:
        return min(pool, key=lambda n: (seconds[n], names.index(n)))

    def products(name: str) -> str:
        return ROUTES[name].products if name in ROUTES else "float32"

    best = fastest(names)
    if seconds[best] > (1 - PICK_MARGIN) * seconds[names[0]]:
        return names[0]
    same = fastest([n for n in names if products(n) == products(names[0])])
    if products(best) != products(names[0]) and seconds[best] > (1 - PICK_MARGIN) * seconds[same]:
        return same if seconds[same] <= (1 - PICK_MARGIN) * seconds[names[0]] else names[0]
    return best


def busy() -> bool:
    """Whether others' work loads the machine now (a 1-minute load average above 1.5 × its CPUs): a probe
    taken then is used for its run but not cached, since it may not hold on a quiet machine."""
    try:
        return os.getloadavg()[0] > 1.5 * (os.cpu_count() or 1)
    except OSError:
        return False


def choose(config: Config, cpu: dict, xla: bool, measure: Callable[[list[Route]], dict[str, float]],
           total_steps: int, versions: dict, path: str | None = None, loaded: Callable[[], bool] = busy) -> dict:
    """Chooses the route of a run: forced by --route, the only one, cached, the first of a short run, or
    measured by `measure(routes) -> {name: seconds a step}` (once, all candidates) and cached.

    Returns:
        {"route": name, "how": "forced"|"only"|"cached"|"short run"|"probe", "step_ms": {name: ms} (measured
        or cached), "cache": path (None: not cached, the machine was `loaded()` by others' work), and after
        a probe "probe_s": the seconds it took (compiling included)}.
    Raises:
        UsageError: a --route or --precision that cannot run here.
    """
    path = path or cache_path()
    if config.route != "auto":
        return {"route": check_forced(config, cpu["flags"], xla).name, "how": "forced", "step_ms": {}, "cache": path}
    names = candidates(config, cpu["flags"], xla)
    if len(names) == 1:
        return {"route": names[0], "how": "only", "step_ms": {}, "cache": path}
    key = cache_key(config, cpu, names, versions)
    entry = read_cache(path).get(key)
    if entry and entry["route"] in names:
        return {"route": entry["route"], "how": "cached", "step_ms": entry.get("step_ms", {}), "cache": path}
    if total_steps < PROBE_MIN_STEPS:
        return {"route": names[0], "how": "short run", "step_ms": {}, "cache": path}
    start = time.perf_counter()
    seconds = measure([ROUTES[name] for name in names])
    best = pick(seconds, names)
    step_ms = {n: round(s * 1e3, 2) for n, s in seconds.items()}
    if loaded():
        return {"route": best, "how": "probe", "step_ms": step_ms, "cache": None,
                "probe_s": round(time.perf_counter() - start, 1)}
    write_cache(path, key, {"route": best, "step_ms": step_ms,
                            "when": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    return {"route": best, "how": "probe", "step_ms": step_ms, "cache": path,
            "probe_s": round(time.perf_counter() - start, 1)}


def describe_choice(choice: dict) -> str:
    """The one line training prints about its route."""
    route = ROUTES[choice["route"]].describe()
    times = ", ".join(f"{n} {ms:.0f} ms" for n, ms in choice["step_ms"].items())
    return {"forced": f"route: {route}, as --route asked",
            "only": f"route: {route}, the only one that applies",
            "cached": f"route: {route}, the fastest when measured before ({times} a step; cache {choice['cache']})",
            "short run": f"route: {route}, the default (a run this short is not worth measuring the others)",
            "probe": f"route: {route}, the fastest of {times} a step (measured in {choice.get('probe_s', 0):.0f} s; "
                     + (f"cached in {choice['cache']})" if choice["cache"] else
                        "not cached: the machine is busy with other work)")}[choice["how"]]


def versions() -> dict:
    """The library versions a cached choice belongs to."""
    import keras
    import tensorflow as tf

    return {"tensorflow": tf.__version__, "keras": keras.__version__}


def apply_route(model, route: Route) -> None:
    """Sets a compiled model's step to `route` (XLA or not; the fast layers' product type); the next step
    traces anew unless `model.train_function` is set again to one of this route."""
    from kerasrnn.models.fast_rnn import _FastLoop

    model.jit_compile = route.jit_compile
    layers = list(model.layers)
    while layers:  # nested models' layers too
        layer = layers.pop()
        layers += getattr(layer, "layers", [])
        if isinstance(layer, _FastLoop):
            layer.products = route.products
    model.train_function = model.test_function = None


class Probe:
    """Times routes on a compiled model with real training steps, then puts the weights, optimizer and
    seeds back as they were and keeps the winner's compiled step, so that only the other routes'
    compiling and the probe's steps cost extra time. The routes' steps are timed in turn and each route's
    fastest counts: on a shared machine a step is only ever slowed down by others' work."""

    def __init__(self, model, batches: list):
        """`batches`: (inputs, targets) pairs of the run's training data, used in turn."""
        self.model, self.batches, self.steps = model, batches, {}
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        self.variables = list(model.variables) + list(model.optimizer.variables)
        self.saved = [v.numpy() for v in self.variables]

    def __call__(self, candidates: list[Route], rounds: int = PROBE_ROUNDS) -> dict[str, float]:
        """Seconds a step on each route: one step each to trace and compile, then `rounds` steps each in turn."""
        n = 0
        for route in candidates:
            apply_route(self.model, route)
            self._step(n)
            self.steps[route.name] = self.model.train_function
            n += 1
        times = {route.name: [] for route in candidates}
        for _ in range(rounds):
            for route in candidates:
                self.model.train_function = self.steps[route.name]
                times[route.name].append(self._step(n))
                n += 1
        return {name: min(t) for name, t in times.items()}

    def _step(self, n: int) -> float:
        """One training step, run by `model.fit` as the run's own steps are (so the run reuses its compiled
        step rather than tracing it again for another input structure); its seconds, fit's own set-up left out."""
        import keras
        import tensorflow as tf

        times = []

        class Timer(keras.callbacks.Callback):
            def on_train_batch_begin(self, batch, logs=None):
                self.start = time.perf_counter()

            def on_train_batch_end(self, batch, logs=None):
                times.append(time.perf_counter() - self.start)

        batch = tf.data.Dataset.from_tensors(self.batches[n % len(self.batches)])
        self.model.fit(batch, epochs=1, verbose=0, callbacks=[Timer()], shuffle=False)
        return times[0]

    def finish(self, route: Route) -> None:
        """Restores the state from before the probe and sets the model to `route` (its step kept if timed)."""
        for v, value in zip(self.variables, self.saved):
            v.assign(value)
        apply_route(self.model, route)
        self.model.train_function = self.steps.get(route.name)
