"""The main job's corpus: a dictd database written as one dictionary entry per line."""
import gzip
import os

import pytest

from wordembed.datasets import (LEXICOGRAPHER_FILES, dictd_regions, prepare_gcide, prepare_wordnet_glosses,
                                 prepare_wordnet_senses, wordnet_glosses)

BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def encode(value: int) -> str:
    digits = ""
    while True:
        digits = BASE64[value % 64] + digits
        value //= 64
        if value == 0:
            return digits


ENTRIES = [
    (["00-database-info"], "00-database-info\n   This file was converted; the licence follows.\n"),
    (["Apple"], "Apple \\Ap\"ple\\, n.\n   The fleshy fruit of a rosaceous\n   tree; as, a red Apple.\n\n"
                "   Syn: pome\n   [1913 Webster]\n"),
    (["Colour", "Color"], "Color \\Col\"or\\, n.\n   A property of light, as\n   red or blue.\n"),
    (["Zebra"], "Zebra \\Ze\"bra\\, n.\n   An African\n   horse-like animal.\n"),
]


def write_database(folder, compressed=True, entries=ENTRIES):
    """A dictd database as dictd writes it: entries one after another, a blank line between them,
    and an index of `headword<TAB>offset<TAB>length` lines, in base 64."""
    body = b""
    index = []
    for headwords, text in entries:
        data = text.encode()
        for headword in headwords:
            index.append(f"{headword}\t{encode(len(body))}\t{encode(len(data))}\n")
        body += data + b"\n"
    source = folder / ("test.dict.dz" if compressed else "test.dict")
    source.write_bytes(gzip.compress(body) if compressed else body)
    (folder / "test.index").write_text("".join(sorted(index)))
    return source


@pytest.mark.parametrize("compressed", [True, False])
def test_one_entry_per_line_across_wrapped_lines(tmp_path, compressed):
    source = write_database(tmp_path, compressed)
    out = tmp_path / "corpus.txt"
    words = prepare_gcide(out, source=str(source))
    lines = out.read_text().splitlines()
    # the metadata entry is left out; an entry named by two headwords is written once; the
    # definition's line wraps and its blank line stay inside its entry's line
    assert lines == [
        "apple ap ple n the fleshy fruit of a rosaceous tree as a red apple syn pome webster",
        "color col or n a property of light as red or blue",
        "zebra ze bra n an african horse like animal",
    ]
    assert words == sum(len(line.split()) for line in lines)


def test_regions_are_decoded_from_base64(tmp_path):
    long_text = "Word \\Word\\\n" + "   text text text text\n" * 300  # offsets past 64 and 4096 bytes
    entries = [(["A"], long_text), (["B"], long_text), (["C"], "C \\C\\\n   last\n")]
    source = write_database(tmp_path, entries=entries)
    regions = dictd_regions(str(tmp_path / "test.index"))
    assert [length for _, length in regions] == [len(text.encode()) for _, text in entries]
    assert regions[2][0] == 2 * (len(long_text) + 1)
    prepare_gcide(tmp_path / "out.txt", source=str(source))
    assert (tmp_path / "out.txt").read_text().splitlines()[2] == "c c last"


def test_missing_files_and_bad_index_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="dict-gcide"):
        prepare_gcide(tmp_path / "out.txt", source=str(tmp_path / "absent.dict.dz"))
    source = write_database(tmp_path)
    (tmp_path / "test.index").write_text("Apple\tnot base64!\n")
    with pytest.raises(ValueError, match="line 1: not a dictd index line"):
        prepare_gcide(tmp_path / "out.txt", source=str(source))
    (tmp_path / "test.index").unlink()
    with pytest.raises(FileNotFoundError, match="test.index"):
        prepare_gcide(tmp_path / "out.txt", source=str(source))
    assert not (tmp_path / "out.txt").exists()


def test_wordnet_glosses_are_labelled_by_their_lexicographer_file(tmp_path):
    header = "  1 This software and database is being provided to you, the LICENSEE, by | Princeton\n"
    (tmp_path / "data.noun").write_text(
        header + "00015388 05 n 01 animal 0 002 @ 00004475 n 0000 | a living organism; \"animals move\"  \n")
    (tmp_path / "data.verb").write_text(header + "01835496 38 v 01 travel 0 001 @ 01831531 v 0000 | Change location.  \n")
    (tmp_path / "data.adj").write_text(header)
    (tmp_path / "data.adv").write_text("")
    assert list(wordnet_glosses(str(tmp_path))) == [
        ("noun.animal", 'a living organism ; " animals move "'), ("verb.motion", "change location .")]
    assert prepare_wordnet_glosses(tmp_path / "glosses.txt", str(tmp_path)) == 2
    assert (tmp_path / "glosses.txt").read_text().splitlines()[1] == "__label__verb.motion change location ."
    assert len(LEXICOGRAPHER_FILES) == 45
    os.remove(tmp_path / "data.adv")
    with pytest.raises(FileNotFoundError, match="wordnet-base"):
        prepare_wordnet_glosses(tmp_path / "again.txt", str(tmp_path))
    assert not (tmp_path / "again.txt").exists()


def test_wordnet_words_are_labelled_by_all_their_senses_files(tmp_path):
    (tmp_path / "data.noun").write_text(
        "00015388 05 n 02 lamb 0 young_sheep 0 000 | young sheep  \n"
        "07666008 13 n 01 Lamb 0 000 | the flesh of a young domestic sheep eaten as food  \n")
    (tmp_path / "data.verb").write_text("01835496 38 v 01 lamb 0 000 | give birth to a lamb  \n")
    (tmp_path / "data.adj").write_text("00001740 00 a 01 able(a) 0 000 | (usually followed by `to') having the "
                                       "necessary means  \n")
    (tmp_path / "data.adv").write_text("")
    assert prepare_wordnet_senses(tmp_path / "senses.txt", str(tmp_path)) == 4
    assert (tmp_path / "senses.txt").read_text().splitlines() == [
        "__label__noun.animal __label__noun.food lamb ; young sheep ; the flesh of a young domestic sheep eaten as food",
        "__label__noun.animal young sheep ; young sheep",
        "__label__verb.motion lamb ; give birth to a lamb",
        "__label__adj.all able ; ( usually followed by ` to ' ) having the necessary means"]


# ---- labelled sets in their sources' order (wordembed/text/labelled_sets.py)
def test_fortunes_are_labelled_by_language_one_language_after_another(tmp_path):
    from wordembed.datasets import prepare_fortune_languages
    (tmp_path / "de").mkdir()
    (tmp_path / "fortunes").write_text("A penny saved\n  is a penny earned.\n%\n%\nLook before\nyou leap.\n")
    (tmp_path / "fortunes.dat").write_bytes(b"\0\1")  # the index beside each file: not text
    (tmp_path / "de" / "sprueche").write_bytes("Wer anderen eine Grube gr\u00e4bt\n%\n\xff kaputt\n".encode("utf-8")
                                               .replace(b"\xc3\xbf", b"\xff"))
    out = tmp_path / "lang.txt"
    assert prepare_fortune_languages(out, root=tmp_path) == 4
    assert out.read_text(encoding="utf-8").splitlines() == [
        "__label__en A penny saved is a penny earned.", "__label__en Look before you leap.",
        "__label__de Wer anderen eine Grube gr\u00e4bt", "__label__de \ufffd kaputt"]
    with pytest.raises(FileNotFoundError, match="apt-get install fortunes"):
        prepare_fortune_languages(tmp_path / "none.txt", root=tmp_path / "missing")


PACKAGES = """Package: zsh-doc
Source: zsh
Section: doc
Description: zsh documentation - info/HTML format
Tag: made-of::html, made-of::info,
 role::documentation

Package: zsh
Section: shells
Description: shell with lots of features

Package: 0ad
Section: contrib/games
Description: Real-time strategy game
Tag: game::strategy
"""


@pytest.mark.parametrize("labels,lines", [
    ("section", ["__label__doc zsh doc zsh documentation - info / html format",
                 "__label__shells zsh shell with lots of features",
                 "__label__games 0ad real-time strategy game"]),
    ("tags", ["__label__made-of::html __label__made-of::info __label__role::documentation zsh doc zsh documentation "
              "- info / html format", "__label__game::strategy 0ad real-time strategy game"]),
])
def test_debian_packages_are_labelled_in_apts_order(tmp_path, labels, lines):
    from wordembed.datasets import prepare_debian_packages
    (tmp_path / "deb.debian.org_dists_main_binary-amd64_Packages").write_text(PACKAGES)
    out = tmp_path / "out.txt"
    assert prepare_debian_packages(out, labels=labels, lists=tmp_path) == len(lines)
    assert out.read_text().splitlines() == lines
    with pytest.raises(ValueError, match="'section' or 'tags'"):
        prepare_debian_packages(out, labels="priority", lists=tmp_path)
    with pytest.raises(FileNotFoundError, match="apt-get update"):
        prepare_debian_packages(out, lists=tmp_path / "none")
