"""The documentation: README.md stays a short guide whose links and pictures exist, no user-facing page
names an issue number, and the MkDocs site builds with --strict (a broken link, a missing picture or an
unresolved API reference fails it). The `docs` extra, which the `test` extra includes, installs MkDocs."""

from __future__ import annotations

import glob
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
USER_PAGES = ["README.md", "exported/README.md",
              *sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def read(page: str) -> str:
    with open(os.path.join(ROOT, page), encoding="utf-8") as f:
        return f.read()


def test_readme_is_a_short_guide():
    text = read("README.md")
    assert len(text.splitlines()) <= 300
    for heading in ("## Two commands", "### Train on your own text", "### Export", "## Documentation"):
        assert heading in text


def test_readme_links_and_pictures_exist():
    text = read("README.md")
    targets = [t for t in LINK.findall(text) if not re.match(r"^[a-z]+://", t)]
    assert len(targets) >= 15
    missing = [t for t in targets if not os.path.exists(os.path.join(ROOT, t.split("#")[0]))]
    assert not missing, missing


def test_no_user_facing_page_names_an_issue():
    found = [f"{page}: {m.group(0)!r}" for page in USER_PAGES
             for m in re.finditer(r"(?i)\bissues? #?\d+|\(#\d+\)|\bissue's\b", read(page))]
    assert not found, found


def test_every_page_is_in_the_site_navigation():
    nav = read("mkdocs.yml")
    pages = {os.path.basename(p) for p in USER_PAGES if p.startswith("docs/")}
    assert not {p for p in pages if f": {p}" not in nav}


def test_site_builds_strictly(tmp_path):
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")  # Material's notice about its successor
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    assert (tmp_path / "site" / "index.html").is_file()
    api = (tmp_path / "site" / "api" / "index.html").read_text(encoding="utf-8")
    assert "Autocompleter" in api and "build_model" in api  # the docstrings were read
    assert (tmp_path / "site" / "images" / "terminal-complete.png").is_file()
