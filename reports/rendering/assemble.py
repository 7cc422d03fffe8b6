"""Join the separately laid-out parts of a report into one PDF and stamp "Page X of Y" on every page.

The first part is the report proper: its catalogue (PDF/A metadata, output
intent, the evidence.json attachment, outline, links) becomes the file's;
the other parts contribute pages only. Page numbers come from a document of
empty pages of the same geometry (``page_numbers_html``) laid over the
assembled pages one by one, because no part knew, while it was laid out, how
many pages came before it or how many there would be.
"""

from pathlib import Path

from pypdf import PdfReader, PdfWriter

__all__ = ["assemble"]


def assemble(part_paths: list[Path], page_numbers_path: Path, out_path: Path) -> int:
    """Write the assembled, numbered PDF to ``out_path``; return its page count."""
    writer = PdfWriter(clone_from=str(part_paths[0]))
    for path in part_paths[1:]:
        for page in PdfReader(path).pages:
            writer.add_page(page)
    stamps = PdfReader(page_numbers_path).pages
    if len(stamps) != len(writer.pages):
        raise RuntimeError(f"{len(stamps)} page numbers for {len(writer.pages)} pages")
    for page, stamp in zip(writer.pages, stamps, strict=True):
        page.merge_page(stamp)
        page.compress_content_streams()
    with open(out_path, "wb") as fh:
        writer.write(fh)
    return len(writer.pages)
