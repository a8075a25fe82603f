"""TFDS data set names and downloads that fail fast: the name grammar `--dataset tfds:NAME` accepts (checked
before TFDS is imported), and a download guard that gives up in seconds, in one line, when there is no network.

    NAME            tiny_shakespeare
    NAME/CONFIG     wiki40b/en
    NAME:VERSION    tiny_shakespeare:1.0.0
    NAME/CONFIG:VERSION

TFDS itself also reads namespaces (`ns:NAME`) and builder arguments (`NAME/x=1`); they are refused here, as
are names that could leave the data directory (`..`, `/` at either end).
"""

from __future__ import annotations

import contextlib
import re
import socket
import sys
import threading
import urllib.parse
import urllib.request

from pipelines.io import DataError

NAME_GRAMMAR = "NAME, NAME/CONFIG, NAME:VERSION or NAME/CONFIG:VERSION (e.g. tiny_shakespeare:1.0.0)"
_NAME = re.compile(r"(?P<name>[A-Za-z][A-Za-z0-9_]*)"  # TFDS's own data set name class, ASCII only
                   r"(?:/(?P<config>[A-Za-z0-9_][A-Za-z0-9_+\-.]*))?"  # a config, never "." or ".."
                   r"(?::(?P<version>(?:0|[1-9]\d{0,5})(?:\.(?:0|[1-9]\d{0,5})){2}))?")  # major.minor.patch
DNS_TIMEOUT = 5.0  # seconds a download's host may take to resolve before the network is called unreachable
HTTP_TIMEOUT = (10.0, 60.0)  # seconds: connecting, then waiting for each block of a download
MAX_NAME = 200  # characters of a data set name


def check_tfds_name(name: str) -> str:
    """Returns `name` (what follows "tfds:") when it follows the grammar in the module doc.

    Raises:
        DataError: one line naming the grammar.
    """
    if not name:
        raise DataError(f"--dataset tfds: needs a data set name: tfds:{NAME_GRAMMAR}")
    if len(name) > MAX_NAME or not _NAME.fullmatch(name):
        shown = name if len(name) <= 60 else name[:60] + "..."
        raise DataError(f"--dataset tfds:{shown!r} is not a TFDS data set name: use tfds:{NAME_GRAMMAR}")
    return name


def resolves(host: str, timeout: float = DNS_TIMEOUT) -> bool:
    """Whether `host` resolves within `timeout` seconds (the lookup itself has no timeout: it runs in a
    daemon thread, left behind when it takes longer)."""
    found: list[bool] = []

    def look_up() -> None:
        try:
            socket.getaddrinfo(host, None)
            found.append(True)
        except (OSError, UnicodeError):
            found.append(False)

    thread = threading.Thread(target=look_up, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(found and found[0])


def first_host(url: str) -> str | None:
    """The host a request for `url` goes to first: its proxy's when one is set (HTTPS_PROXY, ...), else its own."""
    parts = urllib.parse.urlsplit(url)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(parts.hostname or ""):
        return urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}").hostname
    return parts.hostname


@contextlib.contextmanager
def fail_fast_downloads():
    """TFDS downloads inside the block try once, with timeouts (`HTTP_TIMEOUT`), after their host resolved
    within `DNS_TIMEOUT`; urllib3's retry warnings and, off a terminal, the progress bars are silenced.

    Yields:
        A list that receives the hosts that did not resolve (the download then fails at once).
    """
    import logging

    import tensorflow_datasets as tfds
    from tensorflow_datasets.core.download import downloader

    unreachable: list[str] = []
    original = getattr(downloader, "_open_url", None)

    def open_url(url: str, **kwargs):
        host = first_host(url) if url.startswith(("http:", "https:", "ftp:")) else None
        if host and not resolves(host):
            unreachable.append(host)
            raise ConnectionError(f"{host} does not resolve")
        if url.startswith("http"):
            kwargs.setdefault("timeout", HTTP_TIMEOUT)
        return original(url, **kwargs)

    saved = (getattr(downloader, "MAX_RETRIES", None), logging.getLogger("urllib3").level)
    if original is not None:  # TFDS 4.9's private hooks; a TFDS without them downloads its own way
        downloader._open_url = open_url
        downloader.MAX_RETRIES = 0
    logging.getLogger("urllib3").setLevel(logging.ERROR)
    if not sys.stderr.isatty():
        tfds.disable_progress_bar()
    try:
        yield unreachable
    finally:
        if original is not None:
            downloader._open_url, downloader.MAX_RETRIES = original, saved[0]
        logging.getLogger("urllib3").setLevel(saved[1])
