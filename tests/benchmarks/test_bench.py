"""The export benchmark: it runs in a tiny configuration and writes every figure it promises."""

import importlib.util
import json

import pytest

from kerasrnn import bench
from kerasrnn.benchmarks.limits import flops_per_char
from kerasrnn.training.routes import cpu_info, has_bfloat16


def test_bench_export_writes_latencies_and_sizes(tiny_export, tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert bench.main(["export", tiny_export, "--calls", "40", "--long-prefix", "2000", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert set(result["step"]) == {"tflite_float", "tflite_int8", "keras_eager", "saved_model"}
    for figures in [*result["step"].values(), *result["autocomplete"]["float"].values(),
                    *result["autocomplete"]["int8"].values()]:
        assert 0 < figures["p50_us"] <= figures["p99_us"]
    assert result["autocomplete"]["float"]["suggestions"]["calls"] == len(bench_text())
    with_personal = result["autocomplete"]["float+personal"]  # a personal model filled to its caps
    assert with_personal["personal_entries"] == {"words": 4096, "pairs": 8192}
    assert 0 < with_personal["feed_and_suggestions"]["p50_us"] and "int8+personal" in result["autocomplete"]
    assert result["long_prefix"]["chars"] == 2000 and result["long_prefix"]["chars_per_s"] > 0
    assert set(result["file_mb"]) == {"saved_model", "model.tflite", "model_int8.tflite", "model_web.tflite",
                                      "model_web_int8.tflite"}
    assert result["command"].startswith("python -m kerasrnn.bench export")
    assert "LiteRT float step vs Keras eager step" in capsys.readouterr().out


def test_flops_per_char_counts_forward_and_backward_products():
    # LSTM 512 on an embedding of 128, 65 characters: 3 x (2·4·512·(128 + 512) + 2·512·65) = about 8 MFLOP
    assert flops_per_char("lstm", 512, 128, 1, 65) == 3 * (2 * 4 * 512 * 640 + 2 * 512 * 65) == 8_064_000
    assert flops_per_char("gru", 8, 4, 2, 10) == 3 * (2 * 3 * 8 * (4 + 8) + 2 * 3 * 8 * (8 + 8) + 2 * 8 * 10)
    assert flops_per_char("simplernn", 512, 128, 1, 65) * 4 < flops_per_char("lstm", 512, 128, 1, 65) + 1e6


def bench_text():
    from kerasrnn.benchmarks.latency import TYPED_TEXT

    return TYPED_TEXT


def test_bench_rejects_unknown_subcommands_and_bad_directories(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["nonsense"])
    assert exit_info.value.code == 2 and "invalid choice" in capsys.readouterr().err
    assert bench.main(["export", str(tmp_path)]) == 2
    assert "is not a kerasrnn export" in capsys.readouterr().err


@pytest.mark.slow  # eleven processes that each start TensorFlow: about 2 minutes (the formula and summary tests stay)
def test_bench_train_writes_positive_rates(tmp_path, capsys):
    out = tmp_path / "train.json"
    argv = ["train", "--cells", "gru", "--units", "8", "--embedding-dim", "4", "--batch-size", "4",
            "--seq-len", "8", "--steps", "3", "--warmup", "1", "--json", str(out)]
    if importlib.util.find_spec("torch"):
        argv.append("--compare-torch")
    assert bench.main(argv) == 0
    result = json.loads(out.read_text())
    labels = [r["label"] for r in result["results"]]
    bf16 = has_bfloat16(cpu_info()["flags"])
    routes = ["kerasrnn (fast loop, XLA)", "kerasrnn (fast loop)"]
    routes += ["kerasrnn (fast loop, XLA, bfloat16)", "kerasrnn (fast loop, bfloat16)"] if bf16 else []
    assert labels[:len(routes) + 1] == routes + ["keras (stock layers)"]
    for r in result["results"]:
        assert r["cell"] == "gru" and r["chars_per_s"] > 0 and r["peak_rss_mb"] > 0 and r["framework"]
        assert r["params"] == result["results"][0]["params"]  # the same model in every framework
        assert r["gflops"] > 0 and 0 < r["of_limit"] < 1
    torch_labels = (["pytorch"] + (["pytorch (bfloat16 autocast)"] if bf16 else [])) if "--compare-torch" in argv else []
    assert labels[len(routes) + 1:] == torch_labels
    if torch_labels:  # every ratio to PyTorch float32; the bfloat16 rows also to PyTorch's bfloat16
        assert all(r["vs_torch"] > 0 for r in result["results"] if r["label"] != "pytorch")
        assert all(r["vs_torch_bf16"] > 0 for r in result["results"] if r["label"].startswith("kerasrnn") and
                   r["label"].endswith("bfloat16)"))
    assert result["pipeline"]["chars_per_s"] > 0 and result["shape"]["units"] == 8
    assert result["machine"]["isa"] in ("AVX-512", "AVX2", "other") and result["machine"]["cores"] >= 1
    summary = result["summary"]
    assert sorted((r["label"], r["rounds"]) for r in summary) == sorted((label, 1) for label in labels)
    auto = [label for label in routes if "bfloat16" not in label]  # what fit measures by default (float32)
    fastest = max((r for r in summary if r["label"] in auto), key=lambda r: r["chars_per_s"])
    assert summary[0]["label"] == fastest["label"] and summary[0]["default"]
    assert [r for r in summary if r.get("default")] == [summary[0]]
    assert set(result["limit_gflops"]) == ({"float32", "bfloat16"} if bf16 else {"float32"})
    first = result["results"][0]
    assert first["gflops"] == pytest.approx(first["chars_per_s"] * result["flops_per_char"]["gru"] / 1e9, rel=1e-3)
    out = capsys.readouterr().out
    assert "input pipeline alone" in out and "the machine's limit" in out


def test_bench_train_summary_takes_medians_and_ratios_within_each_round():
    from kerasrnn.benchmarks.throughput import summarise

    def row(label, rate, round_, ratio=None):
        r = {"cell": "gru", "label": label, "chars_per_s": rate, "step_ms": 6400e3 / rate, "peak_rss_mb": rate / 100,
             "round": round_}
        return r if ratio is None else {**r, "vs_torch": ratio}

    # the machine slows down in round 2: each round's ratio is 2.0, the ratio of the medians would be 20/15
    rows = [row("kerasrnn", 40, 1, 2.0), row("pytorch", 20, 1), row("kerasrnn", 20, 2, 2.0), row("pytorch", 10, 2),
            row("kerasrnn", 21, 3, 1.5), row("pytorch", 14, 3)]
    kerasrnn, pytorch = summarise(rows)
    assert kerasrnn == {"cell": "gru", "label": "kerasrnn", "rounds": 3, "chars_per_s": 21,
                        "step_ms": round(6400e3 / 21, 1), "peak_rss_mb": 0.4, "vs_torch": 2.0,
                        "vs_torch_range": [1.5, 2.0], "default": True}  # kerasrnn's only route: the default
    assert pytorch["chars_per_s"] == 14 and "vs_torch" not in pytorch and "default" not in pytorch


def test_bench_train_summary_lists_the_default_route_first():
    from kerasrnn.benchmarks.throughput import summarise

    def row(label, rate, products="float32"):
        return {"cell": "lstm", "label": label, "chars_per_s": rate, "step_ms": 1.0, "peak_rss_mb": 1.0,
                "products": products, "vs_torch": rate / 10}

    rows = [row("kerasrnn (fast loop, XLA)", 10), row("kerasrnn (fast loop)", 12),
            row("kerasrnn (fast loop, XLA, bfloat16)", 30, "bfloat16"),  # never fit's choice with --precision auto
            row("kerasrnn (fast loop, bfloat16)", 13, "bfloat16"),  # faster, but float32 is fit's default
            row("keras (stock layers)", 50)]
    summary = summarise(rows)
    assert [r["label"] for r in summary] == ["kerasrnn (fast loop)", "kerasrnn (fast loop, XLA)",
                                             "kerasrnn (fast loop, XLA, bfloat16)", "kerasrnn (fast loop, bfloat16)",
                                             "keras (stock layers)"]
    assert [bool(r.get("default")) for r in summary] == [True, False, False, False, False]
    assert summary[0]["vs_torch"] == 1.2 and summary[3]["products"] == "bfloat16"


def test_bench_train_rejects_unknown_cells(capsys):
    assert bench.main(["train", "--cells", "gru,transformer"]) == 2
    assert "unknown cell(s) transformer" in capsys.readouterr().err


def test_bench_export_types_korean_keys_for_a_keyboard_model(korean_export, tmp_path):
    from kerasrnn.benchmarks.latency import KOREAN_TYPED_TEXT
    from kerasrnn.ondevice.hangul import text_to_keys

    out = tmp_path / "bench.json"
    assert bench.main(["export", korean_export, "--calls", "8", "--long-prefix", "500", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["autocomplete"]["int8"]["feed"]["calls"] == len(text_to_keys(KOREAN_TYPED_TEXT)) == 231
    assert result["long_prefix"]["chars"] == 500


def test_bench_web_writes_page_step_and_keystroke_figures(tiny_export, tmp_path, capsys):
    import shutil

    from conftest import skip_or_fail
    from kerasrnn.benchmarks.browser import missing

    if missing():
        skip_or_fail(missing())
    shutil.copytree(tiny_export, tmp_path / "models" / "tiny")
    out = tmp_path / "web.json"
    assert bench.main(["web", "--models", str(tmp_path / "models"), "--steps", "20", "--keystrokes", "30",
                       "--loads", "2", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["command"].startswith("python -m kerasrnn.bench web")
    assert result["machine"]["avx512f"] >= 0 and result["machine"]["chromium"].startswith("Chromium")
    record = result["models"]["tiny"]
    assert record["model"] == "gru 1x32" and set(record) == {"model", "float", "int8"}
    for kind in ("float", "int8"):
        figures = record[kind]
        assert len(figures["page_ready_ms"]["all"]) == 2 and figures["page_ready_ms"]["median"] > 0
        assert 0 < figures["step_ms"]["median"] <= figures["step_ms"]["p99"] and figures["step_ms"]["n"] == 20
        assert 0 < figures["keystroke_ms"]["median"] <= figures["keystroke_ms"]["p99"]
        assert figures["keystroke_ms"]["n"] == 30 and figures["steps_per_keystroke"] > 1
        assert figures["keystroke_personal_ms"]["n"] == 30 and figures["steps_per_keystroke_personal"] > 1
        assert figures["personal_entries"] > 1000  # the filled personal model, not an empty one
        assert figures["heap_bytes_personal"]["start"] <= figures["heap_bytes_personal"]["max"]
        assert figures["wasm"].endswith(".wasm") and figures["errors"] == []
    assert set(result["bars"]["met"]) == {"tiny float", "tiny int8"}
    assert "targets (GRU keystroke <= 5.0 ms median" in capsys.readouterr().out


def test_bench_web_rejects_bad_counts_and_a_missing_models_folder(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["web", "--keystrokes", "0"])
    assert exit_info.value.code == 2 and "error: --keystrokes must be at least 1" in capsys.readouterr().err
    from kerasrnn.benchmarks.browser import missing

    if not missing():
        assert bench.main(["web", "--models", str(tmp_path / "nope")]) == 2
        assert "no such models folder" in capsys.readouterr().err


def test_machine_record_says_which_library_ran_xla_matrix_products():
    from kerasrnn.benchmarks.machine import describe, xla_dots

    assert xla_dots("") == xla_dots("--xla_cpu_max_isa=AVX2") == "YNNPACK"  # XLA's default, not held by the cap
    assert xla_dots("--xla_cpu_max_isa=AVX2 --xla_cpu_experimental_ynn_fusion_type=") == "Eigen"
    assert xla_dots("--xla_cpu_experimental_ynn_fusion_type=-individual_dot") == "Eigen"
    assert xla_dots("--xla_cpu_experimental_ynn_fusion_type=individual_dot") == "YNNPACK"
    kind = {"cpu": "AMD EPYC", "isa": "AVX-512", "cores": 2, "restricted_to": {"ONEDNN_MAX_CPU_ISA": "AVX2"}}
    assert describe({**kind, "xla_dots": "YNNPACK"}).endswith("measured as AVX2 (XLA's matrix products: YNNPACK, "
                                                              "which is not held)")
    assert describe({**kind, "xla_dots": "Eigen"}).endswith("(XLA's matrix products: Eigen, YNNPACK off)")
    assert describe({**kind, "restricted_to": {}, "xla_dots": "YNNPACK"}) == "AMD EPYC, AVX-512 (2 logical CPUs)"
