"""Render the first page of a PDF to a small WebP image, in a child process with limits.

PDFs come from anyone who can post to arXiv, and PDFium is C++: a hostile file could make it
spin, eat memory or crash. So the page is rendered by `python -m paperfeed.thumbnails.render`,
a child with a wall-clock timeout, a CPU-time limit and an address-space limit; whatever goes
wrong there is a RenderFailed here, never a crash of the job. `render_first_page` is the
rendering itself (what the child runs), pure: PDF bytes in, image bytes out.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
from dataclasses import dataclass

WIDTH_PX = 300  # cards show it at half that: sharp on a 2x screen
MAX_PAGES = 10_000
MAX_SIDE_PT = 14_400.0  # PDF's own limit on a page side (200 inches)
MAX_ASPECT = 4.0  # taller (or wider) than 4:1 is no paper's first page
WEBP_QUALITY = 70  # ~15 KB for a page of text at 300 px
MIME_TYPE = "image/webp"
_MEMORY_BYTES = 1024 * 2**20  # the child's address space: PDFium, Pillow and the interpreter


class RenderFailed(Exception):
    """The PDF could not be made into a thumbnail (corrupt, hostile, too slow, too odd)."""


@dataclass(frozen=True)
class Rendered:
    """A thumbnail: the image bytes, their type and size in pixels."""

    image: bytes
    mime_type: str
    width: int
    height: int


def render_first_page(pdf: bytes, width_px: int = WIDTH_PX) -> Rendered:
    """The first page of `pdf` as a WebP `width_px` wide; RenderFailed when it cannot be."""
    try:
        import pypdfium2 as pdfium  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - an optional extra
        raise RenderFailed(
            "thumbnails need pypdfium2 and Pillow: pip install 'paperfeed[thumbnails]'"
        ) from None
    if not pdf.startswith(b"%PDF-") and b"%PDF-" not in pdf[:1024]:
        raise RenderFailed("not a PDF (no %PDF- header)")
    try:
        document = pdfium.PdfDocument(pdf)
    except pdfium.PdfiumError as exc:
        raise RenderFailed(f"unreadable PDF: {exc}") from None
    try:
        pages = len(document)
        if pages < 1:
            raise RenderFailed("the PDF has no pages")
        if pages > MAX_PAGES:
            raise RenderFailed(f"the PDF has {pages:,} pages, more than {MAX_PAGES:,}")
        page = document[0]
        width_pt, height_pt = page.get_size()
        _check_shape(width_pt, height_pt)
        bitmap = page.render(scale=width_px / width_pt, may_draw_forms=False)
        image = bitmap.to_pil().convert("RGB")
    except pdfium.PdfiumError as exc:
        raise RenderFailed(f"the first page cannot be rendered: {exc}") from None
    finally:
        document.close()
    out = io.BytesIO()
    image.save(out, "WEBP", quality=WEBP_QUALITY, method=6)
    return Rendered(out.getvalue(), MIME_TYPE, image.width, image.height)


def _check_shape(width_pt: float, height_pt: float) -> None:
    if not (1 <= width_pt <= MAX_SIDE_PT and 1 <= height_pt <= MAX_SIDE_PT):
        raise RenderFailed(f"the first page is {width_pt:.0f} x {height_pt:.0f} pt: not a page")
    if max(width_pt / height_pt, height_pt / width_pt) > MAX_ASPECT:
        raise RenderFailed(
            f"the first page is {width_pt:.0f} x {height_pt:.0f} pt: too long and thin"
        )


def _limit_self(cpu_s: int) -> None:  # pragma: no cover - runs in the child
    """The child limits itself (a preexec_fn is not safe in a parent with threads)."""
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    resource.setrlimit(resource.RLIMIT_AS, (_MEMORY_BYTES, _MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def render_isolated(pdf: bytes, timeout_s: float, width_px: int = WIDTH_PX) -> Rendered:
    """render_first_page in a child process that may run `timeout_s` seconds (of wall clock
    and of CPU) and hold 1 GiB of address space; any failure there is a RenderFailed."""
    cpu_s = max(1, int(timeout_s + 0.999))
    try:
        child = subprocess.run(
            [sys.executable, "-m", "paperfeed.thumbnails.render", str(width_px), str(cpu_s)],
            input=pdf,
            capture_output=True,
            timeout=timeout_s,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RenderFailed(f"rendering took longer than {timeout_s:g} s") from None
    if child.returncode != 0:
        problem = child.stderr.decode("utf-8", "replace").strip().splitlines()
        if child.returncode < 0:
            raise RenderFailed(f"the renderer died of signal {-child.returncode}")
        raise RenderFailed(problem[-1] if problem else f"the renderer exited {child.returncode}")
    header, _, image = child.stdout.partition(b"\n")
    try:
        meta = json.loads(header)
        return Rendered(image, str(meta["mime_type"]), int(meta["width"]), int(meta["height"]))
    except (ValueError, KeyError, TypeError):
        raise RenderFailed("the renderer gave no image") from None


def _main() -> int:  # pragma: no cover - the child; tested through render_isolated
    width_px, cpu_s = int(sys.argv[1]), int(sys.argv[2])
    _limit_self(cpu_s)
    try:
        rendered = render_first_page(sys.stdin.buffer.read(), width_px)
    except RenderFailed as exc:
        print(exc, file=sys.stderr)
        return 2
    except MemoryError:
        print("rendering needed more than 1 GiB of memory", file=sys.stderr)
        return 2
    meta = {"mime_type": rendered.mime_type, "width": rendered.width, "height": rendered.height}
    sys.stdout.buffer.write(json.dumps(meta).encode() + b"\n" + rendered.image)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_main())
