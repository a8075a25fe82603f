"""The training route: chosen by a (here faked) measurement, cached per machine and shape, forced by --route."""

import json
import os

import pytest

from kerasrnn.core.cli import UsageError
from kerasrnn.core.config import Config
from kerasrnn.training import routes

ZEN4 = {"model": "AMD EPYC 9R14", "flags": ["avx2", "avx512f", "avx512_bf16"]}
AVX2 = {"model": "Some AVX2 CPU", "flags": ["avx2", "fma"]}
VERSIONS = {"tensorflow": "2.21.0", "keras": "3.15.0"}
STEPS = routes.PROBE_MIN_STEPS  # a run long enough to be measured


def timer(ms: dict):
    """A fake `measure`: fixed seconds per route, recording the routes it was asked for."""
    asked = []

    def measure(candidates):
        asked.extend(route.name for route in candidates)
        return {route.name: ms[route.name] / 1e3 for route in candidates}

    measure.asked = asked
    return measure


def choose(config, cpu=ZEN4, ms=None, xla=True, path=None, steps=STEPS, versions=VERSIONS, loaded=False):
    ms = ms or {"xla": 150, "tf": 200, "xla-bf16": 170, "tf-bf16": 120}
    time_route = timer(ms)
    return routes.choose(config, cpu, xla, time_route, steps, versions, path, lambda: loaded), time_route.asked


def test_candidates_follow_the_model_and_the_cpu():
    assert routes.candidates(Config(precision="auto"), ZEN4["flags"], xla=True) == ["xla", "tf", "tf-bf16"]  # not xla-bf16
    assert routes.candidates(Config(precision="auto"), ZEN4["flags"], xla=False) == ["tf", "tf-bf16"]
    assert routes.candidates(Config(precision="auto"), AVX2["flags"], xla=True) == ["xla", "tf"]  # never bfloat16 on AVX2
    assert routes.candidates(Config(rnn_impl="keras"), ZEN4["flags"], xla=True) == ["xla", "tf"]
    assert routes.candidates(Config(precision="float32"), ZEN4["flags"], xla=True) == ["xla", "tf"]
    assert routes.candidates(Config(precision="bfloat16"), ZEN4["flags"], xla=True) == ["xla-bf16", "tf-bf16"]
    with pytest.raises(UsageError, match="bfloat16 instructions"):
        routes.candidates(Config(precision="bfloat16"), AVX2["flags"], xla=True)
    assert routes.has_bfloat16(["amx_bf16"]) and not routes.has_bfloat16(["avx2", "avx512f"])


def test_the_probe_picks_the_fastest_and_caches_it(tmp_path):
    path = str(tmp_path / "cache" / "routes.json")
    choice, asked = choose(Config(precision="auto"), path=path)
    assert asked == ["xla", "tf", "tf-bf16"] and choice["route"] == "tf-bf16"
    assert choice["how"] == "probe" and choice["step_ms"]["xla"] == 150
    again, asked = choose(Config(precision="auto"), path=path, ms={"xla": 1, "tf": 1, "xla-bf16": 1, "tf-bf16": 1})
    assert asked == [] and (again["route"], again["how"]) == ("tf-bf16", "cached")
    assert "tf-bf16" in routes.describe_choice(again) and "120 ms" in routes.describe_choice(again)
    saved = json.load(open(path))
    assert saved["version"] == routes.CACHE_VERSION and len(saved["routes"]) == 1


def test_auto_keeps_float32_unless_bfloat16_measured_faster(tmp_path):
    ms = {"xla": 150, "tf": 200, "xla-bf16": 190, "tf-bf16": 160}
    assert choose(Config(precision="auto"), ms=ms, path=str(tmp_path / "a.json"))[0]["route"] == "xla"
    choice, asked = choose(Config(precision="bfloat16"), ms=ms, path=str(tmp_path / "c.json"))
    assert asked == ["xla-bf16", "tf-bf16"] and choice["route"] == "tf-bf16"
    tie = {"xla": 150, "tf": 150, "xla-bf16": 150, "tf-bf16": 150}
    assert choose(Config(precision="auto"), ms=tie, path=str(tmp_path / "b.json"))[0]["route"] == "xla"  # ties: the default
    assert routes.pick({"a": 2.0, "b": 1.0, "c": 1.0}, ["a", "b", "c"]) == "b"
    assert routes.pick({"a": 1.0, "b": 0.95}, ["a", "b"]) == "a"  # within the margin: the default stays
    assert routes.pick({"a": 1.0, "b": 0.85}, ["a", "b"]) == "b"


def test_bfloat16_must_beat_the_fastest_float32_route_by_the_margin():
    names = ["xla", "tf", "tf-bf16"]
    assert routes.pick({"xla": 100, "tf": 80, "tf-bf16": 79}, names) == "tf"  # 1% faster than tf: float32 stays
    assert routes.pick({"xla": 100, "tf": 95, "tf-bf16": 88}, names) == "xla"  # nor tf, within the margin of xla
    assert routes.pick({"xla": 100, "tf": 80, "tf-bf16": 70}, names) == "tf-bf16"
    assert routes.pick({"xla-bf16": 100, "tf-bf16": 80}, ["xla-bf16", "tf-bf16"]) == "tf-bf16"


@pytest.mark.parametrize("variable, value", [("ONEDNN_MAX_CPU_ISA", "AVX2"), ("DNNL_MAX_CPU_ISA", "avx512_core"),
                                             ("XLA_FLAGS", "--xla_cpu_max_isa=AVX2")])
def test_a_machine_held_below_bfloat16_takes_no_bfloat16_route(monkeypatch, variable, value):
    """Held to AVX2 to measure as on an AVX2 laptop: no bfloat16 route, as on a real one."""
    monkeypatch.setenv(variable, value)
    assert not routes.has_bfloat16(ZEN4["flags"]) and routes.isa_hold()
    assert routes.candidates(Config(precision="auto"), ZEN4["flags"], xla=True) == ["xla", "tf"]
    with pytest.raises(UsageError, match="holds the libraries below them"):
        routes.candidates(Config(precision="bfloat16"), ZEN4["flags"], xla=True)
    with pytest.raises(UsageError, match="holds the libraries below them"):
        choose(Config(route="tf-bf16"))
    assert routes.has_bfloat16(ZEN4["flags"], environ={})


def test_caps_at_or_above_bfloat16_do_not_hold():
    for env in [{"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_BF16"}, {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_AMX"},
                {"ONEDNN_MAX_CPU_ISA": "DEFAULT"}, {"XLA_FLAGS": "--xla_cpu_max_isa=AVX2 --xla_cpu_max_isa=AMX"}]:
        assert routes.isa_hold(env) == "" and routes.has_bfloat16(ZEN4["flags"], env), env


def test_the_default_precision_is_float32():
    assert Config().precision == "float32"
    assert routes.candidates(Config(), ZEN4["flags"], xla=True) == ["xla", "tf"]  # bfloat16 only when asked


def test_the_cache_key_changes_with_the_machine_libraries_and_shape(tmp_path):
    path = str(tmp_path / "routes.json")
    choose(Config(precision="auto"), path=path)
    for changed in [dict(config=Config(units=512)), dict(config=Config(batch_size=32)),
                    dict(config=Config(seq_len=200)), dict(config=Config(cell="lstm")),
                    dict(config=Config(precision="auto"), cpu={**ZEN4, "model": "Intel Xeon"}),
                    dict(config=Config(precision="auto"), cpu={**ZEN4, "flags": ZEN4["flags"] + ["amx_bf16"]}),
                    dict(config=Config(precision="auto"), versions={**VERSIONS, "tensorflow": "2.22.0"})]:
        choice, asked = choose(path=path, **changed)
        assert choice["how"] == "probe" and asked, changed
    assert choose(Config(precision="auto"), path=path)[0]["how"] == "cached"
    key = routes.cache_key(Config(precision="auto"), ZEN4, ["xla", "tf"], VERSIONS)
    assert routes.cache_key(Config(epochs=50, learning_rate=1e-3), ZEN4, ["xla", "tf"], VERSIONS) == key
    assert routes.cache_key(Config(precision="auto"), {**ZEN4, "flags": ZEN4["flags"] + ["sse4_2"]}, ["xla", "tf"], VERSIONS) == key


@pytest.mark.parametrize("variable, value", [("ONEDNN_DEFAULT_FPMATH_MODE", "BF16"), ("TF_SET_ONEDNN_FPMATH_MODE", "BF16"),
                                             ("TF_NUM_INTRAOP_THREADS", "1"), ("TF_XLA_FLAGS", "--tf_xla_auto_jit=2")])
def test_the_cache_key_changes_with_variables_that_change_the_kernels(monkeypatch, variable, value):
    key = routes.cache_key(Config(), ZEN4, ["xla", "tf"], VERSIONS)
    monkeypatch.setenv(variable, value)
    assert routes.cache_key(Config(), ZEN4, ["xla", "tf"], VERSIONS) != key


@pytest.mark.parametrize("content", ["{not json", "[]", '{"version": 1, "routes": {"k": {"route": "warp"}}}', ""])
def test_a_corrupt_cache_is_ignored_and_rewritten(tmp_path, content):
    path = tmp_path / "routes.json"
    path.write_text(content)
    choice, asked = choose(Config(precision="auto"), path=str(path))
    assert choice["how"] == "probe" and len(asked) == 3
    assert json.loads(path.read_text())["routes"]  # a valid file again
    assert choose(Config(precision="auto"), path=str(path))[0]["how"] == "cached"


@pytest.mark.parametrize("entry", [{"route": "tf", "step_ms": "fast"}, {"route": "tf", "step_ms": {"tf": "1 ms"}}])
def test_a_malformed_cache_entry_is_measured_again(tmp_path, entry):
    path = tmp_path / "routes.json"
    key = routes.cache_key(Config(precision="auto"), ZEN4, ["xla", "tf", "tf-bf16"], VERSIONS)
    path.write_text(json.dumps({"version": routes.CACHE_VERSION, "routes": {key: entry}}))
    choice, asked = choose(Config(precision="auto"), path=str(path))
    assert choice["how"] == "probe" and len(asked) == 3 and "120 ms" in routes.describe_choice(choice)


def test_a_probe_on_a_busy_machine_is_used_but_not_cached(tmp_path):
    path = tmp_path / "routes.json"
    choice, _ = choose(Config(precision="auto"), path=str(path), loaded=True)
    assert choice["route"] == "tf-bf16" and choice["cache"] is None and not path.exists()
    assert routes.describe_choice(choice).endswith("not cached: the machine is busy with other work)")
    assert choose(Config(precision="auto"), path=str(path))[0]["how"] == "probe" and path.exists()


def test_an_unwritable_cache_never_stops_training(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    choice, _ = choose(Config(precision="auto"), path=str(blocker / "kerasrnn" / "routes.json"))  # its folder cannot exist
    assert choice["route"] == "tf-bf16"


def test_route_forces_one_and_refuses_what_cannot_run(tmp_path):
    choice, asked = choose(Config(route="tf"), path=str(tmp_path / "r.json"))
    assert (choice["route"], choice["how"], asked) == ("tf", "forced", [])
    assert not os.path.exists(tmp_path / "r.json")
    with pytest.raises(UsageError, match="bfloat16 instructions"):
        choose(Config(route="tf-bf16"), cpu=AVX2)
    with pytest.raises(UsageError, match="compiles with XLA"):
        choose(Config(route="xla"), xla=False)
    with pytest.raises(UsageError, match="not --precision bfloat16"):
        choose(Config(route="xla", precision="bfloat16"))
    choice, _ = choose(Config(route="tf-bf16"), path=str(tmp_path / "r.json"))  # the default float32 gives way
    assert choice["route"] == "tf-bf16"


def test_short_runs_and_single_routes_are_not_measured(tmp_path):
    choice, asked = choose(Config(precision="auto"), steps=STEPS - 1, path=str(tmp_path / "r.json"))
    assert (choice["route"], choice["how"], asked) == ("xla", "short run", [])
    choice, asked = choose(Config(precision="auto"), cpu=AVX2, xla=False, path=str(tmp_path / "r.json"))
    assert (choice["route"], choice["how"], asked) == ("tf", "only", [])


def test_cache_path_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert routes.cache_path() == str(tmp_path / "kerasrnn" / "routes.json")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert routes.cache_path().endswith(os.path.join(".cache", "kerasrnn", "routes.json"))


def test_cpu_info_reads_the_flags(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: AMD EPYC 9R14 96-Core Processor\nflags\t\t: fpu avx2 avx512f "
                    "avx512_bf16\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 9R14 96-Core Processor\nflags\t\t: fpu\n")
    cpu = routes.cpu_info(str(info))
    assert cpu["model"] == "AMD EPYC 9R14 96-Core Processor" and routes.has_bfloat16(cpu["flags"])
    assert routes.cpu_info(str(tmp_path / "missing")) == {"model": "?", "flags": []}


@pytest.mark.parametrize("argv, message", [
    (["--route", "warp"], "unknown --route 'warp': choose from auto, xla, tf, xla-bf16, tf-bf16"),
    (["--precision", "fp8"], "unknown --precision 'fp8'"),
    (["--task", "surnames", "--route", "tf"], "--route is for the corpus tasks"),
])
def test_bad_route_flags_exit_2_in_one_line(argv, message, capsys, tmp_path):
    from kerasrnn import fit

    assert fit.main([*argv, "--run-dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not os.path.exists(tmp_path / "run")


def test_the_probe_leaves_the_run_as_if_it_had_not_run():
    """Real steps on each route, then the weights, optimizer and step count put back: training afterwards
    gives the same losses as a model that was never probed."""
    import numpy as np

    from kerasrnn.models.char_model import build_model
    from kerasrnn.training.fitting import compile_model
    from pipelines.text import lm_dataset

    ids = (np.arange(3000) * 7 % 23).astype(np.int32)
    config = Config(units=8, embedding_dim=4, seq_len=8, batch_size=4, vocab_size=23)
    ds = lm_dataset(ids, 8, 4, shuffle=False).take(6)
    losses = []
    for probed in (True, False):
        model = build_model(config)
        compile_model(model, config, total_steps=6)
        if probed:
            before = [w.copy() for w in model.get_weights()]
            probe = routes.Probe(model, list(ds.take(2)))
            seconds = probe([routes.ROUTES["tf"], routes.ROUTES["xla"]], rounds=2)
            assert set(seconds) == {"tf", "xla"} and all(s > 0 for s in seconds.values())
            assert any(np.any(a != b) for a, b in zip(model.get_weights(), before))  # the steps trained
            probe.finish(routes.ROUTES["tf"])
            assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))
            assert int(model.optimizer.iterations) == 0 and not model.jit_compile
        else:
            routes.apply_route(model, routes.ROUTES["tf"])
        losses.append(model.fit(ds, epochs=1, verbose=0, shuffle=False).history["loss"][-1])
    assert losses[0] == pytest.approx(losses[1], abs=1e-6)


def test_a_bfloat16_route_trains_in_bfloat16_and_validates_in_float32():
    """bfloat16 products are for the training steps: validation (`evaluate`) multiplies in float32, so a run's
    validation loss, and the best epoch chosen by it, are those of the float32 model it saves and exports."""
    import numpy as np

    from kerasrnn.models.char_model import build_model
    from kerasrnn.training.fitting import compile_model
    from pipelines.text import lm_dataset

    ids = (np.arange(600) * 7 % 23).astype(np.int32)
    config = Config(units=32, embedding_dim=8, seq_len=8, batch_size=4, vocab_size=23)
    model = build_model(config)
    compile_model(model, config, total_steps=1)
    ds = lm_dataset(ids, 8, 4, shuffle=False).take(3)
    x = next(iter(ds))[0]
    routes.apply_route(model, routes.ROUTES["tf"])
    want_loss, want_train = model.evaluate(ds, verbose=0), model(x, training=True).numpy()
    routes.apply_route(model, routes.ROUTES["tf-bf16"])
    assert model.evaluate(ds, verbose=0) == pytest.approx(want_loss, abs=1e-6)
    np.testing.assert_allclose(model(x, training=False), want_train, atol=1e-6)
    gap = np.max(np.abs(model(x, training=True).numpy() - want_train))
    assert gap > 1e-3 * np.max(np.abs(want_train))  # training steps: bfloat16 (an 8-bit mantissa)


@pytest.mark.skipif(not routes.has_bfloat16(routes.cpu_info()["flags"]), reason="no bfloat16 instructions here")
def test_a_bfloat16_run_records_its_route_and_saves_float32(tmp_path, tiny_text):
    import keras

    from kerasrnn import fit

    run = tmp_path / "run"
    assert fit.main(["--text", tiny_text, "--units", "16", "--embedding-dim", "8", "--seq-len", "16",
                     "--batch-size", "8", "--epochs", "1", "--verbose", "0", "--route", "tf-bf16",
                     "--run-dir", str(run)]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert (metrics["route"]["route"], metrics["route"]["how"]) == ("tf-bf16", "forced")
    model = keras.saving.load_model(str(run / "best.keras"), compile=False)
    assert {w.dtype for w in model.weights} == {"float32"}
    assert all(getattr(layer, "products", "float32") == "float32" for layer in model.layers)  # not saved


def test_apply_route_sets_xla_and_every_recurrent_layers_products():
    from kerasrnn.models.char_model import build_model
    from kerasrnn.models.fast_rnn import FastLSTM
    from kerasrnn.training.fitting import compile_model

    config = Config(cell="lstm", units=4, embedding_dim=2, layers=2, vocab_size=5)
    model = build_model(config)
    compile_model(model, config, total_steps=1)
    lstms = [layer for layer in model.layers if isinstance(layer, FastLSTM)]
    assert len(lstms) == 2
    routes.apply_route(model, routes.ROUTES["tf-bf16"])
    assert not model.jit_compile and [layer.products for layer in lstms] == ["bfloat16"] * 2
    routes.apply_route(model, routes.ROUTES["xla"])
    assert model.jit_compile and [layer.products for layer in lstms] == ["float32"] * 2



def test_the_probe_reads_a_dataset_of_its_own(monkeypatch):
    """A seeded dataset reshuffles on each iteration: had the probe iterated the run's own dataset, the first
    epoch would have seen the second epoch's order and the default run's losses would have moved."""
    import numpy as np

    from kerasrnn.tasks.language_model import training

    config = Config(units=8, embedding_dim=4, seq_len=8, batch_size=4, vocab_size=23)
    ids = (np.arange(3000) * 7 % 23).astype(np.int32)
    fresh = lambda: training.make_datasets(config, ids, ids[:400])[0]  # noqa: E731
    first = [x.numpy() for x, _ in fresh().take(3)]
    moved = fresh()
    _ = list(moved.take(1))  # one iteration of the run's own dataset moves its order on
    assert not all(np.array_equal(a, b) for a, b in zip([x.numpy() for x, _ in moved.take(3)], first))

    made, read = [], []

    def probe_ds():
        made.append(1)
        return fresh()

    class FakeProbe:
        def __init__(self, model, batches):
            read.extend(batches)

        def __call__(self, candidates):
            return {r.name: 1.0 for r in candidates}

        def finish(self, route):
            pass

    def fake_choose(config, cpu, xla, measure, total_steps, versions):
        measure([routes.ROUTES["tf"]])
        return {"route": "tf", "how": "probe", "step_ms": {"tf": 1.0}, "cache": None}

    monkeypatch.setattr(routes, "Probe", FakeProbe)
    monkeypatch.setattr(routes, "choose", fake_choose)
    assert training.choose_route(config, None, probe_ds, 1000)["route"] == "tf"
    assert made == [1] and len(read) == routes.PROBE_ROUNDS
    assert np.array_equal(read[0][0].numpy(), first[0])  # the first batches of a fresh dataset
