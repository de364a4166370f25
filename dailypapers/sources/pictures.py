"""A paper's card picture, made from its PDF's first page (pypdfium2) or from an image HF mirrors:
scaled to the card's width, cropped to its shape from the top (where a paper's title and first
figure are), encoded as WebP. Pure functions of bytes; any undecodable input is one SourceError line."""

from __future__ import annotations

import io

from ..errors import SourceError

WIDTH, HEIGHT = 480, 300  # the card's picture, 8:5 (twice the size a card shows it at on a phone)
MAX_PIXELS = 40_000_000  # an image bigger than this is refused before it is decoded
MAX_PAGE_POINTS = 14_400  # PDF's own limit on a page side (200 inches)
WEBP_QUALITY = 80


def _webp(image) -> bytes:
    out = io.BytesIO()
    image.save(out, "WEBP", quality=WEBP_QUALITY, method=4)
    return out.getvalue()


def _fit(image, width: int, height: int):
    """Scale to `width`, then crop (from the top) or pad (white, below) to `height`."""
    from PIL import Image

    image = image.convert("RGB")
    scaled_height = max(1, round(image.height * width / image.width))
    image = image.resize((width, scaled_height), Image.Resampling.LANCZOS)
    if scaled_height >= height:
        return image.crop((0, 0, width, height))
    canvas = Image.new("RGB", (width, height), "white")
    canvas.paste(image, (0, (height - scaled_height) // 2))
    return canvas


def from_pdf(data: bytes, width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """The first page of a PDF as a `width` x `height` WebP."""
    import pypdfium2 as pdfium

    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise SourceError("not a PDF (it does not start with %PDF)")
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise SourceError(f"unreadable PDF ({str(exc).splitlines()[0] if str(exc) else 'pdfium error'})") from None
    try:
        if len(document) < 1:
            raise SourceError("the PDF has no pages")
        page = document[0]
        page_width, page_height = page.get_size()
        if not (0 < page_width <= MAX_PAGE_POINTS and 0 < page_height <= MAX_PAGE_POINTS):
            raise SourceError(f"the PDF's first page is {page_width:.0f} x {page_height:.0f} points")
        # Render at twice the card's width, then scale down: sharper text than rendering at size.
        scale = 2 * width / page_width
        # Only the top of the page is shown: crop while rendering (points from each edge).
        keep = min(page_height, page_width * height / width)
        try:
            bitmap = page.render(scale=scale, crop=(0, page_height - keep, 0, 0), fill_color=(255, 255, 255, 255))
            image = bitmap.to_pil()
        except pdfium.PdfiumError as exc:
            raise SourceError(f"the PDF's first page could not be drawn ({exc})") from None
        return _webp(_fit(image, width, height))
    finally:
        document.close()


def from_image(data: bytes, width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """An image (PNG, JPEG, WebP, GIF: its first frame) as a `width` x `height` WebP."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS or image.width < 1 or image.height < 1:
            raise SourceError(f"the image is {image.width} x {image.height} pixels, too large")
        if image.format not in ("PNG", "JPEG", "WEBP", "GIF"):
            raise SourceError(f"not a picture format cards use ({image.format})")
        image.load()
    except SourceError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise SourceError(f"not a readable image ({exc.__class__.__name__})") from None
    return _webp(_fit(image, width, height))
