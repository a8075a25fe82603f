"""Reading the Korean corpus's sources into clean documents (standard library only).

Used by the maintainer script `pipelines.korean_build`; users read the built corpus with
`pipelines.korean`. Each reader returns `Document`s whose text is NFC lines joined by "\\n":

    help_documents(root)        libreoffice-help-ko: one HTML help page = one document, the text of
                                div#DisplayArea, one line per block element, hidden platform
                                variants skipped, lines kept when at least half Hangul
    ui_documents(root, package) libreoffice-l10n-ko (.mo, .xcd), firefox-esr-l10n-ko and
                                thunderbird-l10n-ko (.ftl, .properties, .dtd in the langpack .xpi):
                                one file = one document, its strings that contain Hangul, with
                                placeholders and access-key markers removed
    kolaw_documents(wheel)      konlpy 0.6.0's kolaw: the Constitution of the Republic of Korea

Latin words, digits and punctuation inside Korean lines are kept (`LibreOffice`, `Ctrl + Z`, `제3조`).
"""

from __future__ import annotations

import gettext
import html
import io
import re
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

# What each package states about its licence (debian/copyright "Files: *"; the wheel's METADATA).
LICENCES = {
    "libreoffice-help-ko": "MPL-2.0",
    "libreoffice-l10n-ko": "MPL-2.0",
    "firefox-esr-l10n-ko": "MPL-2.0",
    "thunderbird-l10n-ko": "MPL-2.0 or GPL-2 or LGPL-2.1",
    "konlpy": "the Constitution of the Republic of Korea: not protected (Korean Copyright Act art. 7); "
              "the konlpy package itself is GPL-3.0-or-later",
}
BRANDS = {"libreoffice-l10n-ko": "LibreOffice", "firefox-esr-l10n-ko": "Firefox",
          "thunderbird-l10n-ko": "Thunderbird"}  # what a product-name placeholder becomes
UI_SOURCES = {"libreoffice-l10n-ko": "libreoffice-ui", "firefox-esr-l10n-ko": "firefox-ui",
              "thunderbird-l10n-ko": "thunderbird-ui"}  # package -> the documents' source name
KOLAW = "konlpy/data/corpus/kolaw/constitution.txt"  # the one konlpy text kept (kobill is not)

DROPPED: Counter = Counter()  # what the cleaning left out, reported by the build


@dataclass
class Document:
    """One corpus document: `text` is NFC lines joined by newlines."""

    id: str  # "<package>:<file inside it>"
    source: str  # help, libreoffice-ui, firefox-ui, thunderbird-ui or kolaw
    package: str  # the Debian package or "konlpy"
    version: str  # its version
    licence: str  # as the package states it
    text: str  # the cleaned text


# -- cleaning ---------------------------------------------------------------------------------------
_MIDDLE_DOTS = str.maketrans({"ㆍ": "·", "・": "·", "･": "·", "․": "·", "‧": "·", "∙": "·",
                              "｢": "「", "｣": "」"})  # (and halfwidth corner brackets)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACE_RE = re.compile(r"\s+")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # C0/C1 controls that are not whitespace
_STD_ENTITY = re.compile(r"&(?:amp|lt|gt|quot|apos|nbsp|#\d+|#x[0-9a-fA-F]+);")
_PRODUCT_NAMES = {"%PRODUCTNAME": "LibreOffice", "$[officename]": "LibreOffice"}  # others: the brand
_BRAND_NAMES = ("{ -brand-short-name }", "{ -brand-shorter-name }", "{ -brand-full-name }",
                "{ -brand-product-name }", "&brandShortName;", "&brandFullName;", "&brandShorterName;")

# Placeholders and markup of interface strings (gettext, Mozilla), in this order.
_UI_SUBS = [
    (re.compile(r"</?[A-Za-z][\w:-]*(?:\s[^<>]*)?/?>"), " "),  # <strong>, <a data-l10n-name="x">
    (re.compile(r"\{\s*\$[\w-]+\s*->"), " "),  # Fluent selector head "{ $n ->"
    (re.compile(r"\{\s*\"([^\"]*)\"\s*\}"), r"\1"),  # Fluent string literal { "{" }
    (re.compile(r"\{[^{}]*\}"), " "),  # { $name }, { NUMBER($n) }, {0}, {x}
    (re.compile(r"^\s*\*?\[[\w-]+\]\s*"), ""),  # Fluent variant key "*[other] "
    (re.compile(r"^\s*\}\s*$"), ""),  # Fluent selector close
    (re.compile(r"\([_~&][A-Za-z0-9]\)"), ""),  # accelerators (_N) (~N) (&N)
    (re.compile(r"%\d+\$[-+ #0]*\d*(?:\.\d+)?[A-Za-z]"), " "),  # %1$s %1$S
    (re.compile(r"%[A-Za-z][A-Za-z0-9_ ]*%"), " "),  # %SAVE IN SELECTION%, %brand%
    (re.compile(r"%[A-Z][A-Z0-9_]+"), " "),  # %NAME, %AVERAGE_VALUE
    (re.compile(r"%(?:l{0,2}|h|z)[-+ #0]*\d*(?:\.\d+)?[sSdiuxXfgcpn@]"), " "),  # %s %d %ld %S %n
    (re.compile(r"%\d+"), " "),  # %1
    (re.compile(r"\$\([A-Za-z0-9_]+\)"), " "),  # $(ARG1)
    (re.compile(r"\$[A-Za-z_]\w*\$"), " "),  # $error_message$
    (re.compile(r"\$[A-Za-z0-9_]+"), " "),  # $1 $name
    (re.compile(r"#\d+"), " "),  # Mozilla plural "#1"
    (_STD_ENTITY, lambda m: html.unescape(m.group(0))),  # standard entities stand for a character
    (re.compile(r"&[A-Za-z][\w.-]*;"), " "),  # other entity references (DTD): removed
    (re.compile(r"\\n|\\t"), " "),  # escaped newlines left in .properties values
    (re.compile(r"(?<![A-Za-z0-9])_(?=[A-Za-z0-9])"), ""),  # GTK mnemonic "_X 축"
    (re.compile(r"(?<!\d)~(?![\d\s])"), ""),  # LibreOffice mnemonic "~파일", not "0~100"
    (re.compile(r"[“‘「『(\[]\s*[”’」』)\]]"), " "),  # quotes and brackets emptied by the above
]


def normalize_line(line: str) -> str:
    """NFC, middle dots to U+00B7, invisible and control characters out, whitespace collapsed."""
    line = unicodedata.normalize("NFC", line).translate(_MIDDLE_DOTS).translate(_INVISIBLE)
    return _SPACE_RE.sub(" ", _CONTROL_RE.sub("", line)).strip()


def clean_ui_string(s: str, brand: str) -> str:
    """One interface string cleaned: product names in, placeholders and access-key markers out."""
    s = unicodedata.normalize("NFC", s)
    for name, product in _PRODUCT_NAMES.items():
        s = s.replace(name, product)
    for name in _BRAND_NAMES:
        s = s.replace(name, brand)
    for pattern, repl in _UI_SUBS:
        s = pattern.sub(repl, s)
    return normalize_line(s)


def is_hangul(ch: str) -> bool:
    """Precomposed syllables, compatibility jamo and conjoining jamo."""
    o = ord(ch)
    return 0xAC00 <= o <= 0xD7A3 or 0x3131 <= o <= 0x318E or 0x1100 <= o <= 0x11FF


def has_hangul(s: str) -> bool:
    """Whether `s` holds a precomposed Hangul syllable."""
    return any(0xAC00 <= ord(c) <= 0xD7A3 for c in s)


def hangul_share(s: str) -> float:
    """Share of Hangul among the non-space characters (0 for an empty line)."""
    chars = [c for c in s if not c.isspace()]
    return sum(map(is_hangul, chars)) / len(chars) if chars else 0.0


# -- LibreOffice help pages -------------------------------------------------------------------------
_BLOCK_TAGS = frozenset("p h1 h2 h3 h4 h5 h6 li td th tr div br pre table ul ol dt dd blockquote section".split())
_VOID_TAGS = frozenset("br img input meta link hr area base col embed source wbr".split())


class HelpPageText(HTMLParser):
    """Text of `div#DisplayArea`: one line per block element, hidden variants skipped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._buf: list[str] = []
        self._stack: list[tuple[str, bool, bool]] = []  # (tag, hidden, opens DisplayArea)
        self._in_area = 0
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _BLOCK_TAGS:
            self._flush()
        if tag in _VOID_TAGS:
            return
        a = dict(attrs)
        area = tag == "div" and a.get("id") == "DisplayArea"
        # Platform variants are all hidden="true" and a script shows one: keep the default one
        # (id="default...": "Ctrl", "Tools - Options"), skip the others ("Command").
        hidden = ("hidden" in a and not (a.get("id") or "").startswith("default")) or tag in ("script", "style")
        self._stack.append((tag, hidden, area))
        self._in_area += area
        self._hidden += hidden

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self._flush()
        if tag in _VOID_TAGS or not any(t == tag for t, _, _ in self._stack):
            return
        while self._stack:  # close up to the matching tag (tolerates unclosed children)
            t, hidden, area = self._stack.pop()
            self._hidden -= hidden
            self._in_area -= area
            if t == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._in_area and not self._hidden:
            self._buf.append(data)

    def _flush(self) -> None:
        line = normalize_line("".join(self._buf))
        self._buf.clear()
        if line:
            self.lines.append(line)

    def close(self) -> None:
        super().close()
        self._flush()


def help_documents(root: Path, version: str) -> list[Document]:
    """One document per help page with at least one line that is half Hangul or more."""
    base = root / "usr/share/libreoffice/help/ko"
    docs = []
    for path in sorted(base.rglob("*.html")):
        parser = HelpPageText()
        parser.feed(path.read_text(encoding="utf-8"))
        parser.close()
        # entities escaped twice in the source ("&amp;quot;") arrive as "&quot;": decode them
        lines = [_STD_ENTITY.sub(lambda m: html.unescape(m.group(0)), ln) for ln in parser.lines]
        kept = [ln for ln in lines if hangul_share(ln) >= 0.5]
        DROPPED["help_lines_under_half_hangul"] += len(lines) - len(kept)
        if kept:
            docs.append(Document(f"libreoffice-help-ko:{path.relative_to(base)}", "help", "libreoffice-help-ko",
                                 version, LICENCES["libreoffice-help-ko"], "\n".join(kept)))
    return docs


# -- interface translations -------------------------------------------------------------------------
def mo_strings(data: bytes) -> list[str]:
    """Translated strings of a gettext .mo file, in catalogue order."""
    catalog = gettext.GNUTranslations(io.BytesIO(data))._catalog  # msgid -> msgstr
    return [v for k, v in catalog.items() if k and isinstance(v, str)]


def xcd_strings(data: bytes) -> list[str]:
    """The `<value xml:lang="ko">` texts of a LibreOffice configuration (.xcd) file."""
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    return [el.text for el in ET.fromstring(data).iter("value") if el.get(lang) == "ko" and el.text]


def properties_strings(text: str) -> list[str]:
    """Values of a Java-style .properties file (`key = value`, `\\` continuations, `\\uXXXX`)."""
    out, pending = [], ""
    for raw in text.splitlines():
        line = pending + raw.lstrip() if pending else raw
        pending = ""
        if line.endswith("\\") and not line.endswith("\\\\"):
            pending = line[:-1]
            continue
        s = line.strip()
        if not s or s[0] in "#!":
            continue
        m = re.match(r"[^=:\s]+\s*[=:]?\s*(.*)", s)
        if m:
            out.append(re.sub(r"\\u([0-9a-fA-F]{4})", lambda u: chr(int(u.group(1), 16)), m.group(1)))
    return out


def dtd_strings(text: str) -> list[str]:
    """Values of the `<!ENTITY name "value">` declarations of a .dtd file."""
    return [m.group(2) for m in re.finditer(r"<!ENTITY\s+[\w.-]+\s+(\"|')(.*?)\1\s*>", text, re.S)]


def ftl_strings(text: str) -> list[str]:
    """Text lines of a Fluent (.ftl) file: values, attributes and select variants, one each.

    Comments and message ids are dropped and continuation lines become strings of their own;
    the placeables are removed later by `clean_ui_string`.
    """
    out = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = re.match(r"-?[A-Za-z][\w-]*\s*=\s*(.*)$", line) or re.match(r"\s+\.[\w-]+\s*=\s*(.*)$", line)
        out.append(m.group(1) if m else line)  # a message, term or attribute; else a continuation
    return out


_XPI_PARSERS = {"ftl": ftl_strings, "properties": properties_strings, "dtd": dtd_strings}


def translation_files(root: Path) -> list[tuple[str, list[str]]]:
    """(file name, raw strings) of every translation file under an extracted package."""
    files = []
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.suffix == ".mo":
            files.append((rel, mo_strings(path.read_bytes())))
        elif path.suffix == ".xcd":
            files.append((rel, xcd_strings(path.read_bytes())))
        elif path.suffix == ".xpi":
            with zipfile.ZipFile(path) as z:
                for name in sorted(z.namelist()):
                    parse = _XPI_PARSERS.get(name.rsplit(".", 1)[-1])
                    if parse:
                        files.append((f"{rel}!{name}", parse(z.read(name).decode("utf-8"))))
    return files


def ui_documents(root: Path, package: str, version: str) -> list[Document]:
    """One document per translation file: its Hangul strings, cleaned, each line once."""
    docs = []
    for rel, strings in translation_files(root):
        lines = []
        DROPPED["ui_strings_without_hangul"] += sum(not has_hangul(s) for s in strings)
        for s in filter(has_hangul, strings):
            for part in s.split("\n"):  # a multi-line string: one line each
                cleaned = clean_ui_string(part, BRANDS[package])
                if has_hangul(cleaned):
                    lines.append(cleaned)
        lines = list(dict.fromkeys(lines))
        if lines:
            docs.append(Document(f"{package}:{rel}", UI_SOURCES[package], package, version, LICENCES[package],
                                 "\n".join(lines)))
    return docs


# -- the constitution -------------------------------------------------------------------------------
def kolaw_documents(wheel: Path) -> list[Document]:
    """konlpy's kolaw (the constitution) as one document, read from the wheel (no install).

    The wheel's `kobill` (ten bills) is left out: bills are proposals, not statutes, and whether
    they are free of copyright is unclear.
    """
    with zipfile.ZipFile(wheel) as z:
        text = z.read(KOLAW).decode("utf-8")
    lines = [ln for ln in map(normalize_line, text.splitlines()) if ln]
    return [Document("konlpy:kolaw/constitution.txt", "kolaw", "konlpy", "0.6.0", LICENCES["konlpy"],
                     "\n".join(lines))]
