"""The web page's server (`python -m kerasrnn.web`): the page in `web/`, the LiteRT.js runtime and the exported
models' batch-1 files, on this machine only: http.server from the standard library, no TensorFlow.

    /                                   web/index.html (and style.css, js/*.js)
    /node_modules/@litertjs/...         the two runtime modules and the two WASM builds the loader picks
                                        from (relaxed SIMD, and compat); never the threaded or JSPI ones
    /models/index.json                  the exports with web files, read from their manifest.json
    /models/NAME/manifest.json, model_web.tflite, model_web_int8.tflite

Anything else is 404. Every answer carries its MIME type (application/wasm lets the browser compile while
it downloads; text/javascript for module scripts), `Cache-Control: no-store`, the COOP/COEP headers
(a cross-origin isolated page: a 5 us timer instead of 100 us) and a Content-Security-Policy that
lets the page fetch from this server only: nothing typed can leave the machine.

The server binds a loopback address (127.0.0.1 unless told otherwise); another address only with
`allow_remote` (the command sets it when --host is on its command line).
"""

from __future__ import annotations

import base64
import errno
import hashlib
import http.server
import ipaddress
import json
import os
import re
import socket
import sys
import threading
from urllib.parse import unquote, urlsplit

from kerasrnn.core.cli import UsageError
from kerasrnn.ondevice.litert import MANIFEST, WEB_FILES, default_kind

WEB_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "web")
PAGE_FILES = ("index.html", "style.css")  # and every js/*.js
RUNTIME_FILES = (  # under web/node_modules/@litertjs/: what the page imports and the loader fetches
    "core/dist/index.js", "wasm-utils/dist/index.js",
    "core/wasm/litert_wasm_internal.js", "core/wasm/litert_wasm_internal.wasm",
    "core/wasm/litert_wasm_compat_internal.js", "core/wasm/litert_wasm_compat_internal.wasm")
NPM_FIX = "cd web && npm ci"  # what installs the runtime (web/package-lock.json pins @litertjs/core 2.5.3)
MIME_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
              ".js": "text/javascript; charset=utf-8", ".wasm": "application/wasm",
              ".json": "application/json", ".tflite": "application/octet-stream"}
HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")  # an export folder's name in a URL
CHARACTERS = "characters"  # the index's "input" of a model over characters (a manifest without "input")


def check_web_dir(web_dir: str) -> None:
    """Raises UsageError when the page or its installed runtime (`npm ci`) is missing."""
    if not os.path.isfile(os.path.join(web_dir, "index.html")):
        raise UsageError(f"no web page in {web_dir} (index.html is missing)")
    missing = [f for f in RUNTIME_FILES if not os.path.isfile(os.path.join(web_dir, "node_modules", "@litertjs", f))]
    if missing:
        raise UsageError(f"{os.path.join(web_dir, 'node_modules')} is missing LiteRT.js ({missing[0]}): "
                         f"run `{NPM_FIX}` first")


def model_index(models_dir: str) -> dict:
    """The exports in `models_dir` that the page can run: character language models with web files.

    Returns:
        {"models": [{name, cell, units, layers, parameters, input, files: {kind: {file, bytes, sha256,
        validation_bpc}}, default}], "skipped": [{name, reason}]}, by folder name. `default` is the kind the
        page runs unless asked (`litert.default_kind`: int8 where it is within 0.01 bits/char of float). `input` is "characters", or
        "keys-2beolsik" for a Korean keyboard model (its validation_bpc is then in bits per key).
    """
    models, skipped = [], []
    for name in sorted(os.listdir(models_dir)):
        path = os.path.join(models_dir, name, MANIFEST)
        if not (NAME.match(name) and os.path.isfile(path)):
            continue
        try:
            with open(path, encoding="utf-8") as f:
                manifest = json.load(f)
            if "start_text" not in manifest:
                raise ValueError(f"a {manifest.get('task', 'non-text')} export, not a character language model")
            files = {kind: {"file": file, **{k: manifest["files"][file][k] for k in ("bytes", "sha256")},
                            "validation_bpc": manifest["files"][file]["validation_bpc"]}
                     for kind, file in manifest.get("web", {}).get("files", {}).items()}
            if not files:
                raise ValueError("no web files (exported before they existed: export it again)")
            models.append({"name": name, **{k: manifest[k] for k in ("cell", "units", "layers", "parameters")},
                           "input": manifest.get("input", CHARACTERS), "files": files,
                           "default": default_kind(manifest, WEB_FILES)})
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            skipped.append({"name": name, "reason": f"{type(e).__name__}: {e}"})
    return {"models": models, "skipped": skipped}


def content_security_policy(index_html: bytes) -> str:
    """Scripts, styles and fetches from this server only; the inline import map allowed by its hash;
    'wasm-unsafe-eval' to compile the WebAssembly runtime."""
    match = re.search(rb'<script type="importmap">(.*?)</script>', index_html, re.S)
    hashes = f" 'sha256-{base64.b64encode(hashlib.sha256(match.group(1)).digest()).decode()}'" if match else ""
    return ("default-src 'none'; script-src 'self' 'wasm-unsafe-eval'" + hashes + "; style-src 'self'; "
            "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


class Handler(http.server.BaseHTTPRequestHandler):
    """GET and HEAD of the files above; everything else 404 (or 501 for other methods)."""

    server: "PageServer"
    server_version = "kerasrnn-web"

    def do_GET(self) -> None:  # noqa: N802 - http.server's hook
        self._answer(body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(body=False)

    def _answer(self, body: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        self.server.served.append(path)
        found = self.server.resolve(path)
        if found is None:
            data, mime, status = f"not found: {path}\n".encode(), "text/plain; charset=utf-8", 404
        else:
            data, mime, status = found[0], found[1], 200
        self.send_response(status)
        self.send_header("Content-Type", mime)
        self.send_header("Content-Length", str(len(data)))
        for key, value in {**HEADERS, "Content-Security-Policy": self.server.csp}.items():
            self.send_header(key, value)
        self.end_headers()
        if body:
            self.wfile.write(data)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet: the page polls nothing
        pass


class PageServer(http.server.ThreadingHTTPServer):
    """The server: `url` is where the page is; `served` lists the paths asked for (for tests)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], web_dir: str, models_dir: str, family: int):
        self.address_family = family
        self.web_dir, self.models_dir = web_dir, models_dir
        self.served: list[str] = []
        with open(os.path.join(web_dir, "index.html"), "rb") as f:
            self.csp = content_security_policy(f.read())
        self.static = {f"/{f}": os.path.join(web_dir, f) for f in PAGE_FILES}
        self.static["/"] = self.static["/index.html"]
        for name in sorted(os.listdir(os.path.join(web_dir, "js"))):
            if name.endswith(".js"):
                self.static[f"/js/{name}"] = os.path.join(web_dir, "js", name)
        for f in RUNTIME_FILES:
            self.static[f"/node_modules/@litertjs/{f}"] = os.path.join(web_dir, "node_modules", "@litertjs", f)
        super().__init__(address, Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/"

    def handle_error(self, request, client_address) -> None:
        """A browser that closes a connection half-way (a page left, a test done) is not an error."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)

    @property
    def is_loopback(self) -> bool:
        return ipaddress.ip_address(self.server_address[0]).is_loopback

    def index(self) -> dict:
        """`model_index` of the models folder, read now."""
        return model_index(self.models_dir)

    def resolve(self, path: str) -> tuple[bytes, str] | None:
        """The bytes and MIME type at a URL path, or None."""
        if path == "/models/index.json":
            return json.dumps(self.index()).encode(), MIME_TYPES[".json"]
        file = self.static.get(path)
        parts = path.split("/")
        if file is None and len(parts) == 4 and parts[1] == "models" and NAME.match(parts[2]) \
                and parts[3] in (MANIFEST, *WEB_FILES.values()):
            file = os.path.join(self.models_dir, parts[2], parts[3])
        try:
            with open(file, "rb") as f:
                return f.read(), MIME_TYPES.get(os.path.splitext(file)[1], "application/octet-stream")
        except (OSError, TypeError):  # TypeError: no such path (file is None)
            return None


def make_server(models_dir: str, port: int = 8000, host: str = "127.0.0.1", allow_remote: bool = False,
                web_dir: str | None = None) -> PageServer:
    """Checks the inputs and binds the server (not started: call `serve_forever`, or `start`).

    Args:
        models_dir: the folder of exports (`exported/`).
        port: 0 picks a free port.
        host: the address to listen on.
        allow_remote: whether a non-loopback `host` may be used (it serves to other machines).
        web_dir: the page's folder (None: WEB_DIR, the repository's web/).
    Raises:
        UsageError: a bad port or host, the port in use, no models folder, no runtime (`npm ci`).
    """
    if not 0 <= port <= 65535:
        raise UsageError(f"bad port {port}: give 1 to 65535 (0 picks a free one)")
    if not os.path.isdir(models_dir):
        raise UsageError(f"no such models folder: {models_dir} (give --models, e.g. the repository's exported/)")
    web_dir = web_dir or WEB_DIR
    check_web_dir(web_dir)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:  # UnicodeError: not a host name at all
        raise UsageError(f"cannot use host {host!r}: {getattr(e, 'strerror', None) or e}") from None
    if not allow_remote and not all(ipaddress.ip_address(i[4][0].split("%")[0]).is_loopback for i in infos):
        raise UsageError(f"refusing to serve on {host}: it is not a loopback address, and the page and models would "
                         f"be reachable from other machines; pass --host {host} explicitly to do that")
    try:
        return PageServer((host, port), web_dir, models_dir, infos[0][0])
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} on {host} is in use: give another with --port (0 picks a free one)") from None
        raise UsageError(f"cannot listen on {host} port {port}: {e.strerror or e}") from None


def start(server: PageServer) -> threading.Thread:
    """Serves on a background thread (tests, benchmarks); `server.shutdown()` stops it."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread
