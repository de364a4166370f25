"""PDFs and images made in the tests: a paper's first page with a title and a figure, written by
hand (a real, minimal PDF 1.4 with a correct cross-reference table), and pictures HF might mirror."""

from __future__ import annotations

import io


def make_pdf(title: str = "A Paper Made in a Test", *, width: float = 612, height: float = 792) -> bytes:
    """A one-page PDF: a title in Helvetica at the top and a coloured box standing in for a figure."""
    safe = title.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    content = (
        f"BT /F1 28 Tf 60 {height - 100:.0f} Td ({safe}) Tj ET\n"
        f"BT /F1 14 Tf 60 {height - 140:.0f} Td (Ada Lovelace, Alan Turing) Tj ET\n"
        f"0.2 0.4 0.9 rg 60 {height - 420:.0f} {width - 120:.0f} 240 re f\n"
    ).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width:.0f} {height:.0f}] /Contents 4 0 R "
        f"/Resources << /Font << /F1 5 0 R >> >> >>".encode(),
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def make_png(width: int = 1200, height: int = 648, color=(220, 60, 40)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()
