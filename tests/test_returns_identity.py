"""Identity of a returned workbook: signed metadata in two places, visible content as the last resort."""

from __future__ import annotations

import stat
import zipfile

import openpyxl

from cascadebook import reconcile
from cascadebook.signing import KEY_FILE_NAME, load_key
from conftest import clean_initiative
from corpus import make_corpus as corpus


def _meta_pairs(path) -> list[tuple[str, str]]:
    book = openpyxl.load_workbook(path)
    return [(r[0], r[1]) for r in book["_cascadebook"].iter_rows(values_only=True)]


def test_metadata_copied_from_another_department_is_a_signature_mismatch(strategy, key, templates, returned, fill):
    """Sales' whole, validly signed metadata sheet pasted into Marketing's workbook."""
    path = fill("MKT", "copied.xlsx", rows={"initiatives": [clean_initiative("CO1", "Campaign", 1, 2)]})
    sales = _meta_pairs(templates["SAL"])

    def change(book):
        for row, (name, value) in zip(book["_cascadebook"].iter_rows(), sales):
            row[0].value, row[1].value = name, value

    corpus.edit(path, path, change)
    result = reconcile(strategy, [returned], key=key, jobs=1)
    [source] = result.sources
    assert (source.department, source.status) == ("SAL", "rejected")
    [mismatch] = [f for f in result.findings if f.code == "signature-mismatch"]
    assert mismatch.message == (
        "the hidden metadata sheet says SAL, FY2027 but the document properties say "
        "MKT, FY2027: the metadata was copied or edited"
    )
    assert ("rows-not-taken", (5,)) in {(f.code, f.rows) for f in result.findings}
    assert not result.initiatives


def test_metadata_copied_and_properties_removed_still_mismatch_the_titles(strategy, key, templates, returned, fill):
    path = fill("MKT", "copied.xlsx", rows={"initiatives": [clean_initiative("CO1", "Campaign", 1, 2)]})
    sales = _meta_pairs(templates["SAL"])

    def change(book):
        from openpyxl.packaging.custom import CustomPropertyList

        for row, (name, value) in zip(book["_cascadebook"].iter_rows(), sales):
            row[0].value, row[1].value = name, value
        book.custom_doc_props = CustomPropertyList()

    corpus.edit(path, path, change)
    result = reconcile(strategy, [returned], key=key, jobs=1)
    [mismatch] = [f for f in result.findings if f.code == "signature-mismatch"]
    assert mismatch.message == (
        "the metadata says SAL, FY2027 but the title of sheet 'Initiatives' says MKT, "
        "FY2027: the metadata was copied from another template"
    )
    assert result.sources[0].status == "rejected" and not result.initiatives


def test_without_any_metadata_the_titles_identify_the_workbook(strategy, key, returned, fill):
    path = fill("MKT", "rebuilt.xlsx", rows={"initiatives": [clean_initiative("CO1", "Campaign", 1, 2)]})
    corpus.edit(path, path, corpus.strip_metadata)
    with zipfile.ZipFile(path) as archive:
        assert "docProps/custom.xml" not in archive.namelist() or b"cascadebook" not in archive.read(
            "docProps/custom.xml"
        )
    result = reconcile(strategy, [returned], key=key, jobs=1)
    [source] = result.sources
    assert (source.department, source.status, source.identified_by) == ("MKT", "accepted", "content")
    [warning] = [f for f in result.findings if f.code == "identified-by-content"]
    assert warning.severity.value == "warning" and warning.department == "MKT"
    assert "the title of sheet 'Initiatives'" in warning.message
    assert not {"signature-mismatch", "signature-unverified", "not-a-template"} & {f.code for f in result.findings}
    assert [(r.department, r.id) for r in result.initiatives] == [("MKT", "MKT-I01")]


def test_without_metadata_or_titles_the_prefilled_ids_identify_the_workbook(strategy, key, returned, fill):
    path = fill("SAL", "pasted.xlsx", rows={"initiatives": [clean_initiative("CO1", "Deal desk", 1, 2)]})

    def change(book):
        corpus.strip_metadata(book)
        for title in ("Instructions", "Initiatives", "KPIs"):
            book[title]["A1"] = None

    corpus.edit(path, path, change)
    result = reconcile(strategy, [returned], key=key, jobs=1)
    [warning] = [f for f in result.findings if f.code == "identified-by-content"]
    assert "the ids on sheet 'Initiatives'" in warning.message and "cycle not shown" in warning.message
    assert [(r.department, r.id) for r in result.initiatives] == [("SAL", "SAL-I01")]


def test_content_of_another_cycle_is_rejected(strategy, key, returned, fill):
    path = fill("MKT", "old.xlsx", rows={"initiatives": [clean_initiative("CO1", "Campaign", 1, 2)]})

    def change(book):
        corpus.strip_metadata(book)
        for title in ("Instructions", "Initiatives", "KPIs"):
            book[title]["A1"] = str(book[title]["A1"].value).replace("FY2027", "FY2026")

    corpus.edit(path, path, change)
    result = reconcile(strategy, [returned], key=key, jobs=1)
    assert result.sources[0].status == "rejected"
    assert "other-cycle" in {f.code for f in result.findings}


def test_key_file_is_private_and_never_written_into_a_template(strategy_path, key, templates):
    key_file = strategy_path.parent / KEY_FILE_NAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_key(strategy_path) == key and len(key) == 64
    for path in templates.values():
        raw = path.read_bytes()
        assert key not in raw
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                data = archive.read(info)
                assert key not in data and key.decode() not in data.decode("utf-8", "replace"), info.filename
                assert key.decode().encode("utf-16-le") not in data
