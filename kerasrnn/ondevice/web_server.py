"""The web page's server (`python -m kerasrnn.web`): the page in `web/`, the LiteRT.js runtime and the exported
models' batch-1 files, on this machine only: http.server from the standard library, no TensorFlow.

    /                                   web/index.html (and style.css, js/*.js)
    /node_modules/@litertjs/...         the two runtime modules and the two WASM builds the loader picks
                                        from (relaxed SIMD, and compat); never the threaded or JSPI ones
    /models/index.json                  the exports with web files, read from their manifest.json
    /models/NAME/manifest.json, model_web.tflite, model_web_int8.tflite   of an export the index lists

Anything else is 404. Only regular files are served, resolved (`kerasrnn.ondevice.web_files`): a
symbolic link under web/ is followed only to a file inside web/; under the models folder no link is
followed at all (an export whose manifest or web file is a link, or whose folder is one, is skipped and
not listed). A request whose Host
header names neither this server's address, localhost nor (for a server on another address) an IP
address is refused (421): a web page elsewhere cannot reach the server through a DNS name of its own.
A request line over MAX_REQUEST_LINE bytes is answered 414, headers over MAX_HEADER_BYTES (or
MAX_HEADERS lines) 431; nothing of a request is kept after its answer.

Every answer carries its MIME type (application/wasm lets the browser compile while it downloads;
text/javascript for module scripts), `Cache-Control: no-store`, the COOP/COEP headers (a cross-origin
isolated page: a 5 us timer instead of 100 us) and a Content-Security-Policy that lets the page fetch
from this server only: nothing typed can leave the machine.

The server binds a loopback address (127.0.0.1 unless told otherwise); another address only with
`allow_remote` (the command sets it when --host is on its command line).
"""

from __future__ import annotations

import base64
import errno
import hashlib
import http.server
import io
import ipaddress
import json
import os
import re
import shutil
import socket
import sys
import threading
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from kerasrnn.core.cli import UsageError
from kerasrnn.ondevice.litert import MANIFEST
from kerasrnn.ondevice.web_files import NAME, model_index, open_served

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
TEXT = "text/plain; charset=utf-8"
HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}
MAX_REQUEST_LINE = 8192  # bytes of "GET /path HTTP/1.1" (the page's longest is under 100): longer is 414
MAX_HEADER_BYTES = 16384  # bytes of all header lines together (a browser sends about 1,000): more is 431
MAX_HEADERS = 64  # header lines (a browser sends about 15): more is 431
HOST = re.compile(r"\[(?P<v6>[0-9A-Fa-f:.]+)\](?::\d{1,5})?|(?P<name>[^:\[\]/@\s]+)(?::\d{1,5})?")


def check_web_dir(web_dir: str) -> None:
    """Raises UsageError when the page or its installed runtime (`npm ci`) is missing."""
    if not os.path.isfile(os.path.join(web_dir, "index.html")):
        raise UsageError(f"no web page in {web_dir} (index.html is missing)")
    missing = [f for f in RUNTIME_FILES if not os.path.isfile(os.path.join(web_dir, "node_modules", "@litertjs", f))]
    if missing:
        raise UsageError(f"{os.path.join(web_dir, 'node_modules')} is missing LiteRT.js ({missing[0]}): "
                         f"run `{NPM_FIX}` first")


def content_security_policy(index_html: bytes) -> str:
    """Scripts, styles and fetches from this server only; the inline import map allowed by its hash;
    'wasm-unsafe-eval' to compile the WebAssembly runtime."""
    match = re.search(rb'<script type="importmap">(.*?)</script>', index_html, re.S)
    hashes = f" 'sha256-{base64.b64encode(hashlib.sha256(match.group(1)).digest()).decode()}'" if match else ""
    return ("default-src 'none'; script-src 'self' 'wasm-unsafe-eval'" + hashes + "; style-src 'self'; "
            "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def host_name(header: str | None) -> str | None:
    """The host name of a Host header, lower case, without port or IPv6 brackets (None: missing or malformed)."""
    match = HOST.fullmatch((header or "").strip())
    return (match.group("v6") or match.group("name")).lower() if match else None


class Handler(http.server.BaseHTTPRequestHandler):
    """GET and HEAD of the files above; everything else 404 (or 501 for other methods)."""

    server: "PageServer"
    server_version = "kerasrnn-web"
    timeout = 30  # seconds a connection may stay silent before it is closed

    def handle_one_request(self) -> None:
        """http.server's, with the request line and the headers capped (414, 431) before they are parsed."""
        try:
            self.raw_requestline = self.rfile.readline(MAX_REQUEST_LINE + 1)
            if not self.raw_requestline:
                self.close_connection = True
                return
            if len(self.raw_requestline) > MAX_REQUEST_LINE:
                self._refuse(414, f"the request line is over {MAX_REQUEST_LINE:,} bytes")
                return
            head = self._read_head()
            if head is None:
                self._refuse(431, f"the headers are over {MAX_HEADER_BYTES:,} bytes or {MAX_HEADERS} lines")
                return
            rfile, self.rfile = self.rfile, io.BytesIO(head)  # parse_request reads the headers from here
            try:
                parsed = self.parse_request()
            finally:
                self.rfile = rfile
            if not parsed:
                return
            method = getattr(self, "do_" + self.command, None)
            if method is None:
                self.send_error(501, f"unsupported method ({self.command!r})")
                return
            method()
            self.wfile.flush()
        except TimeoutError:
            self.close_connection = True

    def _read_head(self) -> bytes | None:
        """The header lines up to and including the blank line, or None when over the caps."""
        lines, size = [], 0
        while True:
            line = self.rfile.readline(MAX_HEADER_BYTES - size + 1)
            size += len(line)
            if size > MAX_HEADER_BYTES or len(lines) > MAX_HEADERS:
                return None
            lines.append(line)
            if line in (b"\r\n", b"\n", b""):
                return b"".join(lines)

    def _refuse(self, status: int, message: str) -> None:
        """An error before the request was parsed: answered, then the connection is closed."""
        self.requestline, self.request_version, self.command = "", "", ""
        self.close_connection = True
        self.send_error(status, message)

    def do_GET(self) -> None:  # noqa: N802 - http.server's hook
        self._answer(body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(body=False)

    def _answer(self, body: bool) -> None:
        if not self.server.host_allowed(self.headers.get("Host")):
            self._send(421, TEXT, b"this server answers only to its own address or localhost\n", body)
            return
        path = unquote(urlsplit(self.path).path)
        if path == "/models/index.json":
            self._send(200, MIME_TYPES[".json"], json.dumps(self.server.index()).encode(), body)
            return
        found = self.server.open(path)
        if found is None:
            self._send(404, TEXT, b"not found\n", body)
            return
        with found[0] as f:
            self._send(200, found[1], f, body)

    def _send(self, status: int, mime: str, data: bytes | BinaryIO, body: bool) -> None:
        """Answers with `data`: bytes, or an open file streamed from its start."""
        size = len(data) if isinstance(data, bytes) else os.fstat(data.fileno()).st_size
        self.send_response(status)
        self.send_header("Content-Type", mime)
        self.send_header("Content-Length", str(size))
        for key, value in {**HEADERS, "Content-Security-Policy": self.server.csp}.items():
            self.send_header(key, value)
        self.end_headers()
        if body and isinstance(data, bytes):
            self.wfile.write(data)
        elif body:
            shutil.copyfileobj(data, self.wfile, 1 << 20)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet: the page polls nothing
        pass


class PageServer(http.server.ThreadingHTTPServer):
    """The server: `url` is where the page is. It keeps nothing of the requests it answers."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], web_dir: str, models_dir: str, family: int):
        self.address_family = family
        self.web_dir, self.models_dir = os.path.realpath(web_dir), os.path.realpath(models_dir)
        self.host_names = {"localhost", address[0].lower().strip("[]")}  # the Host names answered, besides IPs
        with open(os.path.join(web_dir, "index.html"), "rb") as f:
            self.csp = content_security_policy(f.read())
        self.static = {f"/{f}": os.path.join(self.web_dir, f) for f in PAGE_FILES}
        self.static["/"] = self.static["/index.html"]
        for name in sorted(os.listdir(os.path.join(self.web_dir, "js"))):
            if name.endswith(".js"):
                self.static[f"/js/{name}"] = os.path.join(self.web_dir, "js", name)
        for f in RUNTIME_FILES:
            self.static[f"/node_modules/@litertjs/{f}"] = os.path.join(self.web_dir, "node_modules", "@litertjs", f)
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
        return ipaddress.ip_address(self.server_address[0].split("%")[0]).is_loopback

    def host_allowed(self, header: str | None) -> bool:
        """Whether a request's Host header names this server: localhost, the address it was given, a loopback
        IP address, or (a server on another address) any IP address; never another DNS name."""
        name = host_name(header)
        if name is None:
            return False
        if name in self.host_names:
            return True
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            return False
        return address.is_loopback or not self.is_loopback

    def index(self) -> dict:
        """`model_index` of the models folder, read now."""
        return model_index(self.models_dir)

    def open(self, path: str) -> tuple[BinaryIO, str] | None:
        """The open file at a URL path and its MIME type, or None (not served)."""
        file = self.static.get(path)
        if file is not None:
            f = open_served(file, self.web_dir, links_inside=True)
        else:
            parts = path.split("/")
            if not (len(parts) == 4 and parts[1] == "models" and NAME.match(parts[2])):
                return None
            listed = {m["name"]: {e["file"] for e in m["files"].values()} for m in self.index()["models"]}
            if parts[3] not in {MANIFEST, *listed.get(parts[2], ())} or parts[2] not in listed:
                return None
            file = os.path.join(self.models_dir, parts[2], parts[3])
            f = open_served(file, self.models_dir, links_inside=False)
        return None if f is None else (f, MIME_TYPES.get(os.path.splitext(file)[1], "application/octet-stream"))


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
