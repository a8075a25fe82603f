"""`python -m pipelines.other_build`: rebuild the two other-domain texts that keystroke savings are measured on
(and, with --dev, the Korean development text that the personal model's design was chosen on).

Run once by a maintainer, never by users (they read `pipelines/data/other/`). Nothing any model was
trained or tuned on: the Korean model's corpus is software help and interface text and the
Constitution (`pipelines.korean_build`), the English models read Shakespeare.

    debian-faq-ko.txt   the Debian FAQ in Korean (Q&A prose), debian-faq-ko 11.1 (Debian 12):
                        its chapters in order, the text of each paragraph, list item and heading, one a
                        line, NFC, kept when at least half Hangul (the untranslated English parts out),
                        the table of contents out; the first MAX_CHARS characters (whole lines)
    gpl-3.txt           the GNU General Public License version 3 (legal prose that repeats its
                        vocabulary), from base-files (Debian 12; 12.4+deb12u15 when built):
                        /usr/share/common-licenses/GPL-3, verbatim (sha256 checked)
    gimp-help-ko.txt    (--dev, written into --work only, never into the repository) the GIMP user manual
                        in Korean, gimp-help-ko 2.10.34-2 (Debian 12): its pages in the order of the
                        table of contents (index.html), lines as for the FAQ (at least half Hangul, NFC,
                        the licence page out), the first MAX_CHARS characters; the text the personal
                        model's design and constants are chosen on (GNU FDL 1.2 or later)

Standard library only; `apt-get download` and `dpkg-deb -x` fetch and unpack the packages into --work
(nothing is installed) and their sha256 are checked.

Example:
    python -m pipelines.other_build --work build/other
    python -m pipelines.other_build --work build/other --dev    # also build/other/gimp-help-ko.txt
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

from pipelines.io import atomic_write_text
from pipelines.korean_sources import hangul_share

OUT = Path(__file__).parent / "data" / "other"
MAX_CHARS = 40_000  # characters of the Korean FAQ kept (whole lines)
PACKAGES = {  # package -> (version, sha256 of the .deb)
    "debian-faq-ko": ("11.1", "1e010227c0e7497b836e195beedcda60f3e9b8856f19f211cbbdc5e91b4a5d7a"),
    "gimp-help-ko": ("2.10.34-2", "c8094280b19d858cc32b6d9278d7d6126bf41c05f6fcc45d2c07ee41b68f750b"),
    "base-files": (None, None),  # the current one (updates change other files): its GPL-3 is checked by GPL_SHA256
}
GPL_SHA256 = "3972dc9744f6499f0f9b2dbf76696f2ae7ad8af9b23dde66d6af86c9dfb36986"
CHAPTERS = ["basic-defs", "getting-debian", "choosing", "compatibility", "software", "ftparchives", "pkg-basics",
            "pkgtools", "uptodate", "kernel", "customizing", "support", "contributing", "redistributing",
            "nextrelease", "faqinfo"]  # the FAQ's chapters in its own order
NOTICE = """# Other-domain texts: origin and licences

`debian-faq-ko.txt`: text extracted from the Debian FAQ in Korean (Debian package debian-faq-ko 11.1),
a modified version of that document, distributed under its permission notice:

    Copyright (C) 1996-2003  Software in the Public Interest

    Permission is granted to make and distribute verbatim copies of
    this document provided the copyright notice and this permission notice
    are preserved on all copies.

    Permission is granted to copy and distribute modified versions of
    this document under the conditions for verbatim copying, provided that
    the entire resulting derived work is distributed under the terms of
    a permission notice identical to this one.

    Permission is granted to copy and distribute translations of this
    document into another language, under the above conditions for
    modified versions, except that this permission notice may be included
    in translations approved by the Free Software Foundation instead of
    in the original English.

`gpl-3.txt`: the GNU General Public License version 3, a verbatim copy (Debian package base-files,
/usr/share/common-licenses/GPL-3). Copyright (C) 2007 Free Software Foundation, Inc.; everyone is
permitted to copy and distribute verbatim copies of this license document, but changing it is not allowed.

The development text `gimp-help-ko.txt` is not in this directory (nor anywhere in the repository): it is
built into the work directory only, by `python -m pipelines.other_build --dev`, from the GIMP user manual in
Korean (Debian package gimp-help-ko 2.10.34-2; Copyright 2002-2023 The GIMP Documentation Team, Korean
translation Copyright 2006-2013 Jihui Choi, 2018 Sangdo Jun), distributed under the GNU Free Documentation
License, Version 1.2 or any later version, with no Invariant Sections, no Front-Cover Texts and no Back-Cover
Texts. The personal word model's design and constants are chosen on it, never on the two texts above.

Built by `python -m pipelines.other_build`; see `pipelines/data/SOURCES.md`.
"""
_BLOCKS = frozenset("p li dt dd h1 h2 h3 h4 pre td".split())
_VOID = frozenset("area base br col embed hr img input link meta source track wbr".split())  # never closed in HTML


class FaqText(HTMLParser):
    """The lines of a DocBook HTML chapter: one per block, without the table of contents, styles, scripts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._buf, self._skip = "", []  # text of the open block; tags of skipped subtrees still open

    def handle_starttag(self, tag: str, attrs: list) -> None:
        cls = dict(attrs).get("class") or ""
        if tag in _VOID:  # (no end tag to pop it)
            return
        if self._skip:
            self._skip.append(tag)
        elif tag in ("style", "script", "head") or (tag == "div" and cls in ("toc", "navheader", "navfooter")):
            self._skip.append(tag)
        elif tag in _BLOCKS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if self._skip:
            self._skip.pop()
        elif tag in _BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._buf += data

    def _flush(self) -> None:
        line = re.sub(r"\s+", " ", unicodedata.normalize("NFC", self._buf)).strip()
        if line:
            self.lines.append(line)
        self._buf = ""


def fetch(package: str, work: Path) -> Path:
    """Downloads and unpacks a package into work/<package>; returns the unpacked root."""
    version, digest = PACKAGES[package]
    work.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", f"{package}={version}" if version else package], cwd=work, check=True,
                   capture_output=True)
    deb = next(work.glob(f"{package}_*.deb"))
    if digest and hashlib.sha256(deb.read_bytes()).hexdigest() != digest:
        raise SystemExit(f"{deb}: sha256 differs from the one recorded")
    root = work / package
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return root


def faq_text(root: Path) -> str:
    """The Korean FAQ as lines (see the module doc)."""
    lines: list[str] = []
    for chapter in CHAPTERS:
        parser = FaqText()
        parser.feed((root / f"usr/share/doc/debian/FAQ/ko/{chapter}.ko.html").read_text(encoding="utf-8"))
        parser.close()
        parser._flush()
        lines += [line for line in parser.lines if hangul_share(line) >= 0.5]
    return first_chars(lines)


def gimp_text(root: Path) -> str:
    """The GIMP manual in Korean as lines (the development text; see the module doc)."""
    help_dir = root / "usr/share/gimp/2.0/help/ko"
    pages = list(dict.fromkeys(re.findall(r'href="([^"#/]+\.html)', (help_dir / "index.html").read_text("utf-8"))))
    lines: list[str] = []
    for page in pages:
        if page in ("index.html", "legal.html") or not (help_dir / page).is_file():
            continue
        parser = FaqText()
        parser.feed((help_dir / page).read_text(encoding="utf-8"))
        parser.close()
        parser._flush()
        lines += [line for line in parser.lines if hangul_share(line) >= 0.5]
    return first_chars(lines)


def first_chars(lines: list[str]) -> str:
    """The first lines that fit in MAX_CHARS characters (newlines included), as text."""
    out, size = [], 0
    for line in lines:
        if size + len(line) + 1 > MAX_CHARS:
            break
        out.append(line)
        size += len(line) + 1
    return "\n".join(out) + "\n"


def gpl_text(root: Path) -> str:
    """GPL-3, verbatim (its licence allows verbatim copies only)."""
    raw = (root / "usr/share/common-licenses/GPL-3").read_bytes()
    if hashlib.sha256(raw).hexdigest() != GPL_SHA256:
        raise SystemExit("GPL-3 differs from the one recorded")
    return raw.decode("utf-8")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="pipelines.other_build", description=__doc__.splitlines()[0])
    p.add_argument("--work", default="build/other", help="where the packages are downloaded and unpacked")
    p.add_argument("--dev", action="store_true", help="also write the Korean development text into --work")
    args = p.parse_args(argv)
    work = Path(args.work)
    if args.dev:
        text = gimp_text(fetch("gimp-help-ko", work))
        atomic_write_text(str(work / "gimp-help-ko.txt"), text)
        print(f"wrote {work / 'gimp-help-ko.txt'}: {len(text):,} characters, {text.count(chr(10)):,} lines")
    texts = {"debian-faq-ko.txt": faq_text(fetch("debian-faq-ko", work)),
             "gpl-3.txt": gpl_text(fetch("base-files", work)), "NOTICE.md": NOTICE}
    for name, text in texts.items():
        atomic_write_text(str(OUT / name), text)
        print(f"wrote {OUT / name}: {len(text):,} characters, {text.count(chr(10)):,} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
