"""Labelled sets in fastText's format that a fresh Debian or Ubuntu machine can get from its
package manager, each in its source's own order (which is never random: that order is what
the classifier's benchmarks and tests need to see as well as a shuffled one):

- fortunes by language: the fortune cookies of the fortunes-* packages, one a line, labelled by
  their language, one language after another (as a file made by concatenating one file per
  class is);
- Debian's packages by section, and by their debtags (multi-label), in the order of apt's
  package list (by name: neighbouring lines often come from one source package)."""
import glob
import os
import re
import subprocess

from ..fileio import atomic_write
from .datasets import write_labelled
from .tokenizing import Tokenizer

FORTUNES = "/usr/share/games/fortunes"
# Language -> the fortune files in it (globs under FORTUNES), from the packages named in the
# message below. English: the `fortunes` and `fortunes-min` packages' files (their ASCII art left
# out); the `off` folders (offensive fortunes) are left out everywhere.
FORTUNE_LANGUAGES = {
    "en": ["computers", "cookie", "debian", "definitions", "disclaimer", "drugs", "education", "ethnic", "food",
           "fortunes", "goedel", "humorists", "kids", "knghtbrd", "law", "linux", "linuxcookie", "literature",
           "love", "magic", "medicine", "men-women", "miscellaneous", "news", "paradoxum", "people", "perl", "pets",
           "platitudes", "politics", "pratchett", "riddles", "science", "songs-poems", "sports", "startrek", "tao",
           "translate-me", "wisdom", "work", "zippy"],
    "de": ["de/*"], "es": ["es/*"], "it": ["it/*"], "ru": ["ru/*"], "pl": ["pl/*"], "eo": ["eo/*"],
    "cs": ["cs/*"], "bg": ["bg/*"],
}
FORTUNE_PACKAGES = "fortunes fortunes-min " + " ".join(f"fortunes-{lang}" for lang in FORTUNE_LANGUAGES if lang != "en")
APT_LISTS = "/var/lib/apt/lists"
_APT_HELPER = "/usr/lib/apt/apt-helper"  # reads apt's lists whatever they are compressed with
_SPACE = re.compile(r"\s+")


def _fortune_files(lang, root):
    for pattern in FORTUNE_LANGUAGES[lang]:
        for path in sorted(glob.glob(os.path.join(root, pattern))):
            if os.path.isfile(path) and not path.endswith((".dat", ".u8")):
                yield path


def fortunes_by_language(root=FORTUNES):
    """(language, fortune) of every fortune, its lines joined by single spaces, one language after
    another (FORTUNE_LANGUAGES' order), each in its files' order."""
    found = False
    for lang in FORTUNE_LANGUAGES:
        for path in _fortune_files(lang, root):
            found = True
            with open(path, "rb") as f:
                text = f.read().decode("utf-8", errors="replace")
            for fortune in re.split(r"^%\s*$", text, flags=re.MULTILINE):
                fortune = _SPACE.sub(" ", fortune).strip()
                if fortune:
                    yield lang, fortune
    if not found:
        raise FileNotFoundError(f"no fortune files under {root}: install them with `apt-get install {FORTUNE_PACKAGES}`")


def prepare_fortune_languages(out_path, root=FORTUNES, label_prefix="__label__") -> int:
    """Writes a language-identification set: `__label__de Wer anderen eine Grube gräbt ...`, one
    fortune a line as its files have it (case and punctuation kept), grouped by language (9
    languages). Returns the number of lines."""
    return write_labelled(out_path, fortunes_by_language(root), label_prefix)


def _package_lists(lists):
    paths = sorted(p for p in glob.glob(os.path.join(lists, "*_Packages*")) if not p.endswith(".diff_Index"))
    if not paths:
        raise FileNotFoundError(f"no package list in {lists}: run `apt-get update`")
    return paths


def debian_packages(lists=APT_LISTS):
    """The records of apt's package lists, in their order, as dicts of the fields (a field's
    continuation lines joined by spaces)."""
    for path in _package_lists(lists):
        if path.endswith("_Packages"):  # not compressed
            with open(path, "rb") as f:
                text = f.read()
        else:
            text = subprocess.run([_APT_HELPER, "cat-file", path], check=True, capture_output=True).stdout
        for record in text.decode("utf-8", errors="replace").split("\n\n"):
            fields, name = {}, None
            for line in record.splitlines():
                if line[:1] in (" ", "\t") and name:
                    fields[name] += " " + line.strip()
                elif ":" in line:
                    name, value = line.split(":", 1)
                    fields[name] = value.strip()
            if "Package" in fields:
                yield fields


def prepare_debian_packages(out_path, labels="section", lists=APT_LISTS, label_prefix="__label__") -> int:
    """Writes a set of Debian's packages in apt's order, each one line: its labels, then its name
    (split at '-') and short description, lower-cased with punctuation split off words. labels:
    "section" (one label, e.g. `__label__games`; the part before '/' of contrib/... dropped) or
    "tags" (its debtags, e.g. `__label__game::strategy`, a multi-label set: packages without tags
    are left out). Returns the number of lines."""
    if labels not in ("section", "tags"):
        raise ValueError(f"labels must be 'section' or 'tags', got {labels!r}")
    tokenize, lines = Tokenizer("words", lowercase=True), 0
    with atomic_write(out_path, "w") as out:
        for fields in debian_packages(lists):
            if labels == "section":
                names = [fields.get("Section", "").split("/")[-1]]
            else:
                names = [t.strip() for t in fields.get("Tag", "").split(",")]
            names = [n for n in names if n]
            text = tokenize((fields["Package"].replace("-", " ") + " " + fields.get("Description", "")).split())
            if names and text:
                out.write(" ".join([label_prefix + n for n in names] + text) + "\n")
                lines += 1
    return lines
