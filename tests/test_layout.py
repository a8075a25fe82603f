"""The package layout: every import points down the layers, no module imports one that imports it back,
and the on-device runtime never imports TensorFlow or Keras (`python tests/test_layout.py` prints the graph)."""

from __future__ import annotations

import ast
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Lowest first: a module may import from its own layer or the ones before it, never after.
LAYERS = ["pipelines", "kerasrnn.core", "kerasrnn.models", "kerasrnn.inference", "kerasrnn.ondevice",
          "kerasrnn.training", "kerasrnn.exporting", "kerasrnn.tasks", "kerasrnn.benchmarks", "commands"]


def module_files() -> dict[str, str]:
    """Every module of kerasrnn and pipelines: dotted name -> file."""
    out = {}
    for top in ("kerasrnn", "pipelines"):
        for folder, _, names in os.walk(os.path.join(ROOT, top)):
            for name in names:
                if name.endswith(".py"):
                    rel = os.path.relpath(os.path.join(folder, name), ROOT)[:-3].replace(os.sep, ".")
                    out[rel.removesuffix(".__init__")] = os.path.join(folder, name)
    return out


def imported_names(path: str, module_level: bool = False) -> set[str]:
    """Every module name a file imports (`from a import b` gives a and a.b), inside functions too
    unless `module_level` (then only the statements that run when the module is imported)."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    nodes = tree.body if module_level else ast.walk(tree)
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def graph(module_level: bool = False) -> dict[str, set[str]]:
    """Project module -> the project modules it imports."""
    modules = module_files()
    return {name: (imported_names(path, module_level) & modules.keys()) - {name} for name, path in modules.items()}


def layer(module: str) -> int:
    """The layer index of a module: commands are the top-level modules of kerasrnn."""
    if module.count(".") == 1 and module.startswith("kerasrnn.") and module.split(".")[1] not in \
            {layer.split(".")[-1] for layer in LAYERS}:
        return LAYERS.index("commands")
    return max(i for i, prefix in enumerate(LAYERS) if module == prefix or module.startswith(prefix + "."))


def test_imports_point_down_the_layers():
    wrong = [f"{m} -> {d}" for m, deps in graph().items() if m != "kerasrnn" for d in deps
             if d != "kerasrnn" and layer(d) > layer(m)]
    assert not wrong, wrong


def test_no_import_cycles():
    g = graph()
    seen, stack, cycles = set(), [], []

    def visit(m):
        if m in stack:
            cycles.append(stack[stack.index(m):] + [m])
            return
        if m in seen:
            return
        seen.add(m)
        stack.append(m)
        for d in sorted(g.get(m, ())):
            visit(d)
        stack.pop()

    for m in sorted(g):
        visit(m)
    assert not cycles, cycles


def test_the_ondevice_runtime_needs_neither_tensorflow_nor_keras():
    """What importing kerasrnn.ondevice runs imports no TensorFlow or Keras (a subprocess test in
    tests/ondevice runs the runtime where they cannot be imported at all)."""
    g, files = graph(module_level=True), module_files()
    reach, todo = set(), [m for m in g if m.startswith("kerasrnn.ondevice")]
    while todo:
        m = todo.pop()
        if m not in reach:
            reach.add(m)
            todo.extend(g[m])
    heavy = {m: sorted(n for n in imported_names(files[m], module_level=True)
                       if n.split(".")[0] in ("tensorflow", "keras", "tensorflow_datasets")) for m in reach}
    assert not any(heavy.values()), heavy


if __name__ == "__main__":  # the import graph, one module per line
    for module, deps in sorted(graph().items()):
        print(f"{module:45s} -> {', '.join(sorted(deps)) or '-'}")
    sys.exit(0)
