"""The machine a benchmark ran on, recorded in every benchmark's JSON: figures belong to their CPU.

`cpu_kind()` reads /proc/cpuinfo (Linux) and the environment variables that restrict the libraries'
instruction sets, so a figure measured "as on AVX2" on an AVX-512 machine says so. One library cannot be
held: XLA's CPU backend hands its matrix products to YNNPACK, which picks its kernels from the CPU's own
flags (`--xla_cpu_max_isa` caps only the code XLA generates). `xla_dots` records which library the flags let
run them (YNNPACK may still decline a product: on an AMD EPYC Zen 4, XLA's dump showed the LSTM step's products
as plain dots in Eigen);
`XLA_FLAGS=--xla_cpu_experimental_ynn_fusion_type=` sends them to Eigen, built into TensorFlow for AVX,
for a figure that no AVX-512 instruction can reach.
"""

from __future__ import annotations

import os

# Variables that cap the instruction set: oneDNN (TensorFlow's matrix products), MKL, PyTorch's ATen, XLA.
ISA_VARIABLES = ("ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS", "ATEN_CPU_CAPABILITY", "XLA_FLAGS")


def cpu_kind() -> dict:
    """{"cpu": model name, "cores", "isa": "AVX-512"/"AVX2"/..., "avx512f" and "avx2": how many cpuinfo lines
    list them (0 avx512f: an AVX2-only machine), "vnni", "bfloat16": "AMX", "AVX512-BF16" or None (its bfloat16
    products), "restricted_to": the ISA caps in the environment}."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            info = f.read()
    except OSError:
        info = ""
    lines = info.splitlines()
    model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "?")
    flags = [f" {line.split(':', 1)[1]} " for line in lines if line.startswith("flags")]
    count = {name: sum(f" {name} " in f for f in flags)
             for name in ("avx512f", "avx2", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16")}
    isa = "AVX-512" if count["avx512f"] else "AVX2" if count["avx2"] else "other"
    return {"cpu": model, "cores": os.cpu_count(), "isa": isa, "avx512f": count["avx512f"], "avx2": count["avx2"],
            "vnni": bool(count["avx512_vnni"] or count["avx_vnni"]),
            "bfloat16": "AMX" if count["amx_bf16"] else "AVX512-BF16" if count["avx512_bf16"] else None,
            "restricted_to": {v: os.environ[v] for v in ISA_VARIABLES if os.environ.get(v)},
            "xla_dots": xla_dots(os.environ.get("XLA_FLAGS", ""))}


def xla_dots(xla_flags: str) -> str:
    """Which library these XLA_FLAGS let run XLA's CPU matrix products: "YNNPACK" (the default: its own
    choice of instruction set) or "Eigen" (YNNPACK's dot fusion turned off, by an empty list or "-individual_dot":
    XLA's own loops and Eigen, which TensorFlow builds for AVX)."""
    values = [f.split("=", 1)[1] for f in xla_flags.split() if f.startswith("--xla_cpu_experimental_ynn_fusion_type=")]
    if not values:
        return "YNNPACK"
    items = [v for v in values[-1].lower().split(",") if v]
    removed = bool(items) and all(v.startswith("-") for v in items) and any("dot" in v for v in items)
    return "Eigen" if not items or removed else "YNNPACK"


def describe(kind: dict) -> str:
    """One line, e.g. 'AMD EPYC 9R14, AVX-512 (2 logical CPUs), measured as AVX2'."""
    capped = kind["restricted_to"].get("ONEDNN_MAX_CPU_ISA")
    line = f"{kind['cpu']}, {kind['isa']} ({kind['cores']} logical CPUs)" + (f", measured as {capped}" if capped else "")
    if capped and kind.get("xla_dots"):
        line += " (XLA's matrix products: " + ("YNNPACK, which is not held)" if kind["xla_dots"] == "YNNPACK"
                                               else "Eigen, YNNPACK off)")
    return line
