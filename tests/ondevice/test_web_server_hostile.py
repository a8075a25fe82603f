"""The web server against a hostile folder or client: symbolic links out of the served folders, special
files, exports not in the index, a Host header of another name (DNS rebinding), oversized request lines
and headers, and many long requests (nothing of them is kept). Synthetic exports: no training."""

from __future__ import annotations

import json
import os
import shutil
import socket
import tracemalloc
import urllib.error
import urllib.request

import pytest

from conftest import ROOT
from kerasrnn.ondevice import web_server
from kerasrnn.ondevice.litert import MANIFEST
from kerasrnn.ondevice.web_server import MAX_HEADER_BYTES, MAX_REQUEST_LINE, RUNTIME_FILES, make_server, start

SECRET = b"the user's secret, outside every served folder\n"


def fake_export(folder: str) -> None:
    """A folder that the index lists: a character language model's manifest and two web files."""
    os.makedirs(folder)
    files = {}
    for name in ("model_web.tflite", "model_web_int8.tflite"):
        with open(os.path.join(folder, name), "wb") as f:
            f.write(b"TFL3" + name.encode())
        files[name] = {"bytes": 4 + len(name), "sha256": "0" * 64, "validation_bpc": 2.0}
    manifest = {"format": "kerasrnn-export", "start_text": "\n", "cell": "gru", "units": 8, "layers": 1,
                "parameters": 100, "files": files,
                "web": {"files": {"float": "model_web.tflite", "int8": "model_web_int8.tflite"}}}
    with open(os.path.join(folder, MANIFEST), "w", encoding="utf-8") as f:
        json.dump(manifest, f)


@pytest.fixture
def web_dir(tmp_path) -> str:
    """The real page with stand-ins for the runtime files `npm ci` installs."""
    folder = tmp_path / "web"
    shutil.copytree(os.path.join(ROOT, "web"), folder, ignore=shutil.ignore_patterns("node_modules", "tests"))
    for f in RUNTIME_FILES:
        path = folder / "node_modules" / "@litertjs" / f
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\0asm" if f.endswith(".wasm") else b"export {};")
    return str(folder)


@pytest.fixture
def hostile(tmp_path) -> tuple[str, str]:
    """(models folder, outside folder): one good export and exports whose files leave their folder."""
    models, outside = str(tmp_path / "models"), str(tmp_path / "outside")
    os.makedirs(models)
    fake_export(os.path.join(models, "good"))
    fake_export(os.path.join(outside, "elsewhere"))  # a whole valid export outside the models folder
    with open(os.path.join(outside, "secret"), "wb") as f:
        f.write(SECRET)
    fake_export(os.path.join(models, "file-link"))  # its web file links to the secret
    os.remove(os.path.join(models, "file-link", "model_web.tflite"))
    os.symlink(os.path.join(outside, "secret"), os.path.join(models, "file-link", "model_web.tflite"))
    os.makedirs(os.path.join(models, "manifest-link"))  # its manifest links to a valid one outside
    os.symlink(os.path.join(outside, "elsewhere", MANIFEST), os.path.join(models, "manifest-link", MANIFEST))
    os.symlink(os.path.join(outside, "elsewhere"), os.path.join(models, "folder-link"))  # the folder is a link
    fake_export(os.path.join(models, "inner-link"))  # a link to another export's file, inside the folder
    os.remove(os.path.join(models, "inner-link", "model_web.tflite"))
    os.symlink(os.path.join("..", "good", "model_web.tflite"), os.path.join(models, "inner-link", "model_web.tflite"))
    fake_export(os.path.join(models, "fifo"))  # a named pipe: reading it would wait for a writer forever
    os.remove(os.path.join(models, "fifo", "model_web_int8.tflite"))
    os.mkfifo(os.path.join(models, "fifo", "model_web_int8.tflite"))
    fake_export(os.path.join(models, "skipped"))  # not a language model: its manifest is not served either
    with open(os.path.join(models, "skipped", MANIFEST), "w", encoding="utf-8") as f:
        json.dump({"task": "surnames", "files": {}, "secret": "x"}, f)
    return models, outside


@pytest.fixture
def serving(web_dir, hostile):
    server = make_server(hostile[0], port=0, web_dir=web_dir)
    start(server)
    yield server
    server.shutdown()
    server.server_close()


def get(url: str, host: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def raw(server, request: bytes) -> bytes:
    """Sends raw bytes and returns the whole answer (the server closes the connection after it). A server
    that answers and closes before reading all of a long request may reset the connection: b"reset"."""
    answer = b""
    with socket.create_connection(server.server_address[:2], timeout=10) as s:
        try:
            s.sendall(request)
            s.shutdown(socket.SHUT_WR)
            for chunk in iter(lambda: s.recv(65536), b""):
                answer += chunk
        except (ConnectionResetError, BrokenPipeError, OSError):
            return answer or b"reset"
    return answer


def test_only_exports_whose_files_stay_in_their_folder_are_listed(hostile):
    index = web_server.model_index(hostile[0])
    assert [m["name"] for m in index["models"]] == ["good"]
    reasons = {s["name"]: s["reason"] for s in index["skipped"]}
    assert set(reasons) == {"file-link", "manifest-link", "folder-link", "inner-link", "fifo", "skipped"}, reasons
    for name in ("file-link", "manifest-link", "folder-link", "inner-link", "fifo"):
        assert "not served" in reasons[name], reasons[name]


def test_no_link_out_no_special_file_and_nothing_unlisted_is_served(serving, web_dir, hostile):
    models, outside = hostile
    base = serving.url
    assert get(base + "models/good/model_web.tflite") == (200, b"TFL3model_web.tflite")
    assert get(base + "models/good/manifest.json")[0] == 200
    for path in ("models/file-link/model_web.tflite", "models/file-link/manifest.json",
                 "models/manifest-link/manifest.json", "models/folder-link/manifest.json",
                 "models/folder-link/model_web.tflite", "models/inner-link/model_web.tflite",
                 "models/fifo/model_web_int8.tflite", "models/fifo/model_web.tflite",
                 "models/skipped/manifest.json", "models/good/model.tflite", "models/good/secret"):
        status, body = get(base + path)
        assert status == 404 and SECRET not in body and b"secret" not in body, path
    # the page's own files: a link to a file outside web/ is refused, a link inside web/ is followed
    os.remove(os.path.join(web_dir, "style.css"))
    os.symlink(os.path.join(outside, "secret"), os.path.join(web_dir, "style.css"))
    assert get(base + "style.css")[0] == 404
    os.remove(os.path.join(web_dir, "style.css"))
    os.symlink("index.html", os.path.join(web_dir, "style.css"))
    assert get(base + "style.css")[0] == 200
    os.remove(os.path.join(web_dir, "style.css"))
    os.mkfifo(os.path.join(web_dir, "style.css"))
    assert get(base + "style.css")[0] == 404


def test_a_host_header_of_another_name_is_refused(serving):
    port = serving.server_address[1]
    url = serving.url + "models/good/model_web.tflite"
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "LOCALHOST", f"[::1]:{port}", "127.0.0.1"):
        assert get(url, host)[0] == 200, host
    for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1.evil.example:{port}", f"localhost.evil:{port}",
                 f"10.0.0.1:{port}", "user@localhost", " ", "[::1"):
        status, body = get(url, host)
        assert status == 421 and b"TFL3" not in body, host
    assert raw(serving, b"GET /models/index.json HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.0 421")  # no Host at all


def test_a_server_for_other_machines_answers_to_ip_addresses_but_no_other_name(web_dir, hostile):
    server = make_server(hostile[0], port=0, host="0.0.0.0", allow_remote=True, web_dir=web_dir)
    try:
        assert server.host_allowed("192.168.1.20:8000") and server.host_allowed("[fe80::1]:8000")
        assert server.host_allowed("localhost:8000") and not server.host_allowed("evil.example:8000")
    finally:
        server.server_close()


def test_request_line_and_headers_are_capped(serving):
    line = b"GET /" + b"a" * MAX_REQUEST_LINE + b" HTTP/1.1\r\nHost: localhost\r\n\r\n"
    assert raw(serving, line).startswith(b"HTTP/1.0 414")
    big = b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"b" * MAX_HEADER_BYTES + b"\r\n\r\n"
    assert raw(serving, big).startswith(b"HTTP/1.0 431")
    many = b"GET / HTTP/1.1\r\nHost: localhost\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(200)) + b"\r\n"
    assert raw(serving, many).startswith(b"HTTP/1.0 431")
    assert raw(serving, b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").startswith(b"HTTP/1.0 200")


def test_many_long_requests_leave_nothing_behind(serving):
    """2,000 GETs of long paths (under and over the cap): the server's memory does not grow with them."""
    def burst(n: int) -> None:
        for i in range(n):
            length = MAX_REQUEST_LINE - 100 if i % 2 else 60_000
            answer = raw(serving, b"GET /" + b"%d" % i + b"x" * length + b" HTTP/1.0\r\nHost: localhost\r\n\r\n")
            assert answer.startswith(b"HTTP/1.0 404") if i % 2 else answer.startswith((b"HTTP/1.0 414", b"reset"))

    burst(50)  # warm up: threads, sockets, caches
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        burst(2000)  # kept, 2,000 such paths would take 2,000 x 34 KB on average: 68 MB
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 2_000_000, f"the server kept {grown:,} bytes over 2,000 requests"
    assert not hasattr(serving, "served")


def test_another_address_only_when_given_and_then_with_a_warning(web_dir, hostile, monkeypatch, capsys):
    from kerasrnn import web

    monkeypatch.setattr(web_server, "WEB_DIR", web_dir)
    monkeypatch.setattr(web_server.PageServer, "serve_forever", lambda self: None)  # bound and closed, never served
    assert web.main(["--port", "0", "--models", hostile[0], "--host", "0.0.0.0"]) == 0
    err = capsys.readouterr().err
    assert "kerasrnn.web: serving on 0.0.0.0: other machines can open the page" in err
    assert "skipped file-link: ValueError: model_web.tflite is a symbolic link" in err
    with pytest.raises(web_server.UsageError, match="refusing to serve on 0.0.0.0"):
        make_server(hostile[0], port=0, host="0.0.0.0", web_dir=web_dir)  # the library's default: loopback only
