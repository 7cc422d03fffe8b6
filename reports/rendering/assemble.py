"""Join the separately laid-out parts of a report into one PDF and stamp "Page X of Y" on every page.

The first part is the report proper: its catalogue (PDF/A metadata, output
intent, the evidence.json attachment, outline, links) becomes the file's;
the other parts contribute pages only. Page numbers come from a document of
empty pages of the same geometry (``page_numbers_html``) laid over the
assembled pages one by one, because no part knew, while it was laid out, how
many pages came before it or how many there would be.

Two things make a join of separately written PDFs correct rather than merely
readable: each part subsets its fonts on its own under the same subset tag
(``ABCDEF+Liberation-Sans``), and the PDF specification wants different
subsets in one file to carry different tags, which viewers may rely on to
cache fonts; and WeasyPrint shares one resource dictionary among a part's
pages, which a stamp must not grow for all of them.
"""

import hashlib
import string
from pathlib import Path

from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, NameObject

__all__ = ["assemble"]


def assemble(part_paths: list[Path], page_numbers_path: Path, out_path: Path) -> int:
    """Write the assembled, numbered PDF to ``out_path``; return its page count."""
    writer = PdfWriter(clone_from=str(part_paths[0]))
    for index, path in enumerate(part_paths[1:], start=1):
        reader = PdfReader(path)
        _retag_font_subsets(reader, salt=f"part {index}")
        for page in reader.pages:
            writer.add_page(page)
    numbers = PdfReader(page_numbers_path)
    _retag_font_subsets(numbers, salt="page numbers")
    if len(numbers.pages) != len(writer.pages):
        raise RuntimeError(f"{len(numbers.pages)} page numbers for {len(writer.pages)} pages")
    for page, stamp in zip(writer.pages, numbers.pages, strict=True):
        _own_resources(page)
        page.merge_page(stamp)
        page.compress_content_streams()
    with open(out_path, "wb") as fh:
        writer.write(fh)
    return len(writer.pages)


def _own_resources(page: PageObject) -> None:
    """Give the page a resource dictionary of its own (sharing the fonts, images and forms it names)."""
    shared = page["/Resources"].get_object()
    own = DictionaryObject()
    for key, value in shared.items():
        resolved = value.get_object()
        own[NameObject(key)] = DictionaryObject(resolved) if isinstance(resolved, DictionaryObject) else value
    page[NameObject("/Resources")] = own


class _FontRetagger:
    """Renames font subsets ``ABCDEF+Name`` to a tag derived from a salt, visiting each object once."""

    def __init__(self, salt: str) -> None:
        self.salt = salt
        self.seen: set[int] = set()

    def retag(self, name: str) -> str:
        tag, plus, rest = name.lstrip("/").partition("+")
        if not plus or len(tag) != 6 or not tag.isupper():
            return name
        digest = hashlib.sha256(f"{self.salt}:{tag}".encode()).digest()
        return "/" + "".join(string.ascii_uppercase[b % 26] for b in digest[:6]) + "+" + rest

    def rename(self, obj: DictionaryObject, key: str) -> None:
        if key in obj and id(obj) not in self.seen:
            self.seen.add(id(obj))
            obj[NameObject(key)] = NameObject(self.retag(obj[key]))

    def visit_font(self, font: DictionaryObject) -> None:
        for candidate in [font, *[f.get_object() for f in font.get("/DescendantFonts", [])]]:
            descriptor = candidate.get("/FontDescriptor")
            self.rename(candidate, "/BaseFont")
            if descriptor is not None:
                self.rename(descriptor.get_object(), "/FontName")

    def visit_resources(self, resources) -> None:
        if resources is None or id(resources.get_object()) in self.seen:
            return
        resources = resources.get_object()
        self.seen.add(id(resources))
        for font in (resources.get("/Font") or DictionaryObject()).get_object().values():
            self.visit_font(font.get_object())
        for xobject in (resources.get("/XObject") or DictionaryObject()).get_object().values():
            xobject = xobject.get_object()
            if xobject.get("/Subtype") == "/Form":
                self.visit_resources(xobject.get("/Resources"))
        for pattern in (resources.get("/Pattern") or DictionaryObject()).get_object().values():
            self.visit_resources(pattern.get_object().get("/Resources"))


def _retag_font_subsets(reader: PdfReader, *, salt: str) -> None:
    """Rename every font subset of this file ``ABCDEF+Name`` → ``<tag of salt and ABCDEF>+Name``."""
    retagger = _FontRetagger(salt)
    for page in reader.pages:
        retagger.visit_resources(page.get("/Resources"))
