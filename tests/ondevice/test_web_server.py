"""`python -m kerasrnn.web` and its server: what it serves (and what not), with which headers, the model
index, loopback only unless --host, and one-line errors for a bad port, a port in use, a missing models
folder or a missing `npm ci`."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from conftest import ROOT, skip_or_fail
from kerasrnn import web
from kerasrnn.core.cli import UsageError
from kerasrnn.ondevice import litert, web_server
from kerasrnn.ondevice.web_server import RUNTIME_FILES, make_server, start


@pytest.fixture
def web_dir(tmp_path) -> str:
    """The real page with stand-ins for the runtime files `npm ci` installs."""
    folder = tmp_path / "web"
    shutil.copytree(os.path.join(ROOT, "web"), folder, ignore=shutil.ignore_patterns("node_modules", "tests"))
    for f in (*RUNTIME_FILES, "core/wasm/litert_wasm_threaded_internal.wasm"):
        path = folder / "node_modules" / "@litertjs" / f
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\0asm" if f.endswith(".wasm") else b"export {};")
    return str(folder)


@pytest.fixture
def models_dir(tmp_path, tiny_export) -> str:
    """A tiny export with web files, the same without them (an old export), and a surname export."""
    folder = tmp_path / "models"
    shutil.copytree(tiny_export, folder / "tiny")
    shutil.copytree(tiny_export, folder / "old")
    manifest = json.loads((folder / "old" / litert.MANIFEST).read_text(encoding="utf-8"))
    del manifest["web"]
    (folder / "old" / litert.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    (folder / "names").mkdir()
    (folder / "names" / litert.MANIFEST).write_text(json.dumps({"task": "surnames", "files": {}}), encoding="utf-8")
    return str(folder)


@pytest.fixture
def running(web_dir, models_dir):
    server = make_server(models_dir, port=0, web_dir=web_dir)
    start(server)
    yield server
    server.shutdown()
    server.server_close()


def get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_it_serves_the_page_runtime_and_web_files_with_their_types_and_headers(running, models_dir):
    wanted = {"": "text/html", "style.css": "text/css", "js/main.js": "text/javascript",
              "node_modules/@litertjs/core/dist/index.js": "text/javascript",
              "node_modules/@litertjs/core/wasm/litert_wasm_internal.wasm": "application/wasm",
              "node_modules/@litertjs/core/wasm/litert_wasm_compat_internal.js": "text/javascript",
              "models/tiny/manifest.json": "application/json",
              "models/tiny/model_web.tflite": "application/octet-stream",
              "models/tiny/model_web_int8.tflite": "application/octet-stream"}
    for path, mime in wanted.items():
        status, headers, body = get(running.url + path)
        assert status == 200 and headers["Content-Type"].split(";")[0] == mime, (path, headers)
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
        assert headers["Cross-Origin-Embedder-Policy"] == "require-corp"
        assert "connect-src 'self'" in headers["Content-Security-Policy"]
        assert int(headers["Content-Length"]) == len(body) > 0
    with open(os.path.join(models_dir, "tiny", "model_web.tflite"), "rb") as f:
        assert get(running.url + "models/tiny/model_web.tflite")[2] == f.read()
    for path in ("models/tiny/model.tflite", "models/tiny/saved_model/saved_model.pb", "models/old/../tiny/manifest.json",
                 "models/%2e%2e/web/index.html", "node_modules/@litertjs/core/wasm/litert_wasm_threaded_internal.wasm",
                 "tests/beam.test.mjs", "../README.md", "js/nope.js", "models/none/manifest.json"):
        assert get(running.url + path)[0] == 404, path


def test_the_import_map_is_allowed_by_its_hash(running, web_dir):
    import base64
    import hashlib
    import re

    html = open(os.path.join(web_dir, "index.html"), "rb").read()
    script = re.search(rb'<script type="importmap">(.*?)</script>', html, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(script).digest()).decode()
    csp = get(running.url)[1]["Content-Security-Policy"]
    assert f"'sha256-{digest}'" in csp and "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp


def test_the_index_lists_language_models_with_web_files(running):
    index = json.loads(get(running.url + "models/index.json")[2])
    assert [m["name"] for m in index["models"]] == ["tiny"]
    tiny = index["models"][0]
    assert set(tiny["files"]) == {"float", "int8"} and tiny["files"]["float"]["file"] == "model_web.tflite"
    assert tiny["cell"] == "gru" and tiny["files"]["int8"]["bytes"] < tiny["files"]["float"]["bytes"]
    assert tiny["input"] == "characters"
    reasons = {s["name"]: s["reason"] for s in index["skipped"]}
    assert "no web files" in reasons["old"] and "not a character language model" in reasons["names"]


def test_the_index_says_when_the_tokens_are_keyboard_keys(models_dir):
    path = os.path.join(models_dir, "tiny", litert.MANIFEST)
    with open(path, encoding="utf-8") as f:
        manifest = json.load(f)
    with open(path, "w", encoding="utf-8") as f:
        json.dump({**manifest, "input": "keys-2beolsik"}, f)  # as exported/korean-gru's says
    assert [m["input"] for m in web_server.model_index(models_dir)["models"]] == ["keys-2beolsik"]


def test_only_loopback_unless_asked(web_dir, models_dir):
    with pytest.raises(UsageError, match="refusing to serve on 0.0.0.0: .* pass --host 0.0.0.0 explicitly"):
        make_server(models_dir, port=0, host="0.0.0.0", web_dir=web_dir)
    for host in ("127.0.0.1", "localhost"):
        server = make_server(models_dir, port=0, host=host, web_dir=web_dir)
        assert server.is_loopback
        server.server_close()
    server = make_server(models_dir, port=0, host="0.0.0.0", allow_remote=True, web_dir=web_dir)
    assert not server.is_loopback
    server.server_close()


def test_bad_input_is_one_line(web_dir, models_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(web_server, "WEB_DIR", web_dir)
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    cases = {
        ("--port", str(port), "--models", models_dir): f"port {port} on 127.0.0.1 is in use: give another with --port",
        ("--port", "0", "--models", str(tmp_path / "nope")): f"no such models folder: {tmp_path / 'nope'}",
        ("--port", "0", "--models", str(tmp_path)): f"no export in {tmp_path} has web files",
        ("--port", "0", "--models", models_dir, "--host", "no-such-host.invalid"): "cannot use host",
    }
    for argv, message in cases.items():
        assert web.main(list(argv)) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith(f"kerasrnn.web: error: {message}"), err
    busy.close()
    with pytest.raises(SystemExit) as exit_info:
        web.main(["--port", "70000"])
    assert exit_info.value.code == 2 and "kerasrnn.web: error: --port must be at least 0 and at most 65,535 (got 70000)" in \
        capsys.readouterr().err
    with pytest.raises(UsageError, match="bad port 70000"):  # the library checks too
        make_server(models_dir, port=70000, web_dir=web_dir)
    shutil.rmtree(os.path.join(web_dir, "node_modules"))
    assert web.main(["--port", "0", "--models", models_dir]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("kerasrnn.web: error: ") and err.endswith("run `cd web && npm ci` first") and "\n" not in err


def test_the_command_prints_the_url_serves_and_stops_on_ctrl_c(models_dir):
    try:
        web_server.check_web_dir(web_server.WEB_DIR)  # the real page and `npm ci`
    except UsageError as e:
        skip_or_fail(str(e))
    proc = subprocess.Popen([sys.executable, "-m", "kerasrnn.web", "--port", "0", "--models", models_dir],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as in a terminal,
    # also when the tests themselves run in the background (which ignores SIGINT, and children inherit it)
    try:
        assert proc.stdout.readline().strip() == "models: tiny"
        line = proc.stdout.readline().strip()
        assert line.startswith("open http://127.0.0.1:") and line.endswith("/  (Ctrl-C stops)")
        url = line.split()[1]
        status, headers, body = get(url)
        assert status == 200 and b'<script type="importmap">' in body
        assert get(url + "node_modules/@litertjs/core/wasm/litert_wasm_internal.wasm")[2][:4] == b"\0asm"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:  # never leave a server behind
            proc.kill()
            out, err = proc.communicate()
    assert proc.returncode == 0 and out.strip() == "stopped", (out, err)
    assert "skipped old: ValueError: no web files" in err
