"""Rendering a PDF's first page (thumbnails/render.py): a real arXiv page becomes a small WebP;
corrupt, odd and slow PDFs are clear failures from the child process, never a crash."""

import io

import pytest
from PIL import Image

from conftest import FIXTURES
from paperfeed.thumbnails.render import RenderFailed, render_first_page, render_isolated

ARXIV_PAGE = (FIXTURES / "thumbnails" / "1906.08632-page1.pdf").read_bytes()


def _one_page_pdf(width_pt: int, height_pt: int) -> bytes:
    """A minimal valid PDF of one empty page of that size (offsets computed, so PDFium reads
    it without repairing it)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width_pt} {height_pt}] >>".encode(),
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (4, xref))
    return out.getvalue()


def test_the_first_page_of_a_real_arxiv_pdf_becomes_a_small_webp():
    rendered = render_isolated(ARXIV_PAGE, timeout_s=20)

    assert (rendered.mime_type, rendered.width, rendered.height) == ("image/webp", 300, 389)
    assert 5_000 < len(rendered.image) < 40_000
    image = Image.open(io.BytesIO(rendered.image))
    assert (image.format, image.size) == ("WEBP", (300, 389))
    # A page of black text on white: mostly white, with real ink on it.
    grey = image.convert("L")
    histogram = grey.histogram()
    assert sum(histogram[250:]) > 0.6 * 300 * 389
    assert sum(histogram[:128]) > 0.005 * 300 * 389


def test_in_process_and_isolated_rendering_agree():
    assert render_first_page(ARXIV_PAGE) == render_isolated(ARXIV_PAGE, timeout_s=20)


@pytest.mark.parametrize(
    ("pdf", "problem"),
    [
        (b"<html>Sorry, this PDF is unavailable</html>", "not a PDF"),
        (b"%PDF-1.4\nnot really a PDF at all", "unreadable PDF"),
        (ARXIV_PAGE[: len(ARXIV_PAGE) // 3], "unreadable PDF"),
        (_one_page_pdf(10, 5000), "too long and thin"),
        (_one_page_pdf(20000, 20000), "not a page"),
    ],
)
def test_a_pdf_that_cannot_be_a_thumbnail_is_a_clear_failure(pdf, problem):
    with pytest.raises(RenderFailed, match=problem):
        render_isolated(pdf, timeout_s=20)


def test_a_plain_page_renders():
    rendered = render_isolated(_one_page_pdf(612, 792), timeout_s=20)
    assert (rendered.width, rendered.height) == (300, 389)


def test_a_render_past_its_time_is_stopped():
    with pytest.raises(RenderFailed, match=r"longer than 0\.01 s"):
        render_isolated(ARXIV_PAGE, timeout_s=0.01)
