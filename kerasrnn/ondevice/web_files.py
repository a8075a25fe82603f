"""What the web server may serve of the disk: regular files inside their folder (`open_served`) and the
exports the page can run (`model_index`), each of whose files is a regular file of its own folder.

A symbolic link under the page's folder is followed only to a file inside it; under the models folder
no link is followed at all (an export whose folder, manifest or web file is a link is skipped, with its
reason, and none of its files is served). Special files (a FIFO, a device) are never opened for reading.
"""

from __future__ import annotations

import json
import os
import re
import stat
from typing import BinaryIO

from kerasrnn.ondevice.litert import MANIFEST, WEB_FILES, default_kind

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")  # an export folder's name in a URL
CHARACTERS = "characters"  # the index's "input" of a model over characters (a manifest without "input")
MAX_MANIFEST_BYTES = 4 << 20  # a manifest.json read for the index (the release ones are under 8 KB)


def open_served(path: str, root: str, links_inside: bool) -> BinaryIO | None:
    """`path` opened for reading when it is a regular file inside the folder `root` (resolved), else None.

    Args:
        path: the file, a path under `root` built from checked parts (no "..").
        root: the served folder, already resolved (`os.path.realpath`).
        links_inside: follow symbolic links whose target stays inside `root`; otherwise no link at all.
    """
    real = os.path.realpath(path)
    if not real.startswith(root + os.sep) or (not links_inside and real != os.path.normpath(path)):
        return None
    try:  # O_NOFOLLOW: not a link swapped in since; O_NONBLOCK: a FIFO does not block the open
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    f = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        f.close()
        return None
    return f


def read_listed_manifest(models_dir: str, name: str) -> dict | None:
    """The manifest.json of export `name` (None: no manifest there: not an export).

    Raises:
        ValueError: a link, a special file, unreadable, too large, or not JSON.
    """
    path = os.path.join(models_dir, name, MANIFEST)
    if not os.path.lexists(path):
        return None
    f = open_served(path, models_dir, links_inside=False)
    if f is None:
        raise ValueError(f"{name}/ or its {MANIFEST} is a symbolic link or not a regular file: not served")
    with f:
        data = f.read(MAX_MANIFEST_BYTES + 1)
    if len(data) > MAX_MANIFEST_BYTES:
        raise ValueError(f"{MANIFEST} is over {MAX_MANIFEST_BYTES:,} bytes")
    return json.loads(data.decode("utf-8"))


def model_index(models_dir: str) -> dict:
    """The exports in `models_dir` that the page can run: character language models with web files, each a
    regular file of the export's own folder (no symbolic link); one that is missing stays listed, and the
    page says that it cannot fetch it.

    Returns:
        {"models": [{name, cell, units, layers, parameters, input, files: {kind: {file, bytes, sha256,
        validation_bpc}}, default}], "skipped": [{name, reason}]}, by folder name. `default` is the kind the
        page runs unless asked (`litert.default_kind`: int8 where it is within 0.01 bits/char of float). `input` is "characters", or
        "keys-2beolsik" for a Korean keyboard model (its validation_bpc is then in bits per key).
    """
    models_dir = os.path.realpath(models_dir)
    models, skipped = [], []
    for name in sorted(os.listdir(models_dir)):
        if not NAME.match(name):
            continue
        try:
            manifest = read_listed_manifest(models_dir, name)
            if manifest is None:
                continue
            if "start_text" not in manifest:
                raise ValueError(f"a {manifest.get('task', 'non-text')} export, not a character language model")
            files = {kind: {"file": file, **{k: manifest["files"][file][k] for k in ("bytes", "sha256")},
                            "validation_bpc": manifest["files"][file]["validation_bpc"]}
                     for kind, file in manifest.get("web", {}).get("files", {}).items()}
            if not files:
                raise ValueError("no web files (exported before they existed: export it again)")
            for entry in files.values():
                if entry["file"] not in WEB_FILES.values():
                    raise ValueError(f"the manifest lists {entry['file']!r} as a web file")
                path = os.path.join(models_dir, name, entry["file"])
                f = open_served(path, models_dir, links_inside=False) if os.path.lexists(path) else None
                if f is None and os.path.lexists(path):  # a missing one stays listed: the page says it is missing
                    raise ValueError(f"{entry['file']} is a symbolic link, not a regular file, or unreadable: not served")
                if f is not None:
                    f.close()
            models.append({"name": name, **{k: manifest[k] for k in ("cell", "units", "layers", "parameters")},
                           "input": manifest.get("input", CHARACTERS), "files": files,
                           "default": default_kind(manifest, WEB_FILES)})
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as e:
            skipped.append({"name": name, "reason": f"{type(e).__name__}: {e}"})
    return {"models": models, "skipped": skipped}
