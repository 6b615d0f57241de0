"""Ce que les outils des usagers vérifient dans nos documents : DOCX lus avec python-docx (XML
compris), PDF lus avec pikepdf (métadonnées XMP, balisage) et pdftotext (texte)."""

import functools
import io
import shutil
import subprocess

import pikepdf
from docx import Document

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
A4_TWIPS = ("11906", "16838")  # 210 × 297 mm, en vingtièmes de point


def assert_french_a4_docx(content: bytes) -> None:
    """A4 à chaque section, français partout (valeurs par défaut, style Normal, propriétés), et la
    première ligne de chaque tableau marquée comme ligne d'en-tête, répétée en haut de page."""
    doc = Document(io.BytesIO(content))
    for section in doc.sections:
        size = section._sectPr.find(f"{W}pgSz")
        assert (size.get(f"{W}w"), size.get(f"{W}h")) == A4_TWIPS
    styles = doc.styles.element
    default = styles.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}lang")
    assert default is not None and default.get(f"{W}val") == "fr-FR"
    normal = doc.styles["Normal"].element.find(f"{W}rPr/{W}lang")
    assert normal is not None and normal.get(f"{W}val") == "fr-FR"
    every_lang = [el.get(f"{W}val") for el in styles.iter(f"{W}lang")]
    every_lang += [el.get(f"{W}val") for el in doc.element.body.iter(f"{W}lang")]
    assert set(every_lang) == {"fr-FR"}, every_lang
    theme = doc.settings.element.find(f"{W}themeFontLang")
    assert theme is None or theme.get(f"{W}val") == "fr-FR"
    assert doc.core_properties.language == "fr-FR"
    tables = list(doc.element.body.iter(f"{W}tbl"))
    assert tables, "aucun tableau à vérifier"
    for number, table in enumerate(tables, start=1):
        first_row = table.find(f"{W}tr")
        header = first_row.find(f"{W}trPr/{W}tblHeader")
        assert header is not None and header.get(f"{W}val", "true") in ("true", "1", "on"), (
            f"tableau {number} : pas de ligne d'en-tête répétée"
        )


def assert_pdf_ua_metadata(content: bytes, title: str | None = None) -> None:
    """Les métadonnées XMP qu'attend un vérificateur PDF/UA (titre, langue fr-FR, identifiant
    PDF/UA-1), et le balisage déjà là (arbre de structure, /Lang, titre affiché)."""
    with pikepdf.open(io.BytesIO(content)) as pdf:
        assert "/Metadata" in pdf.Root, "pas de métadonnées XMP"
        meta = pdf.open_metadata()
        assert meta.get("pdfuaid:part") == "1"
        xmp_title = meta.get("dc:title")
        assert xmp_title and xmp_title == str(pdf.docinfo.get("/Title"))
        if title is not None:
            assert xmp_title == title
        assert set(meta.get("dc:language") or ()) == {"fr-FR"}
        assert str(pdf.Root.get("/Lang", "")).startswith("fr")
        assert "/StructTreeRoot" in pdf.Root
        assert bool(pdf.Root.MarkInfo.Marked)
        assert bool(pdf.Root.ViewerPreferences.DisplayDocTitle)


PDFTOTEXT = shutil.which("pdftotext")


@functools.lru_cache(maxsize=64)
def pdf_page_texts(content: bytes) -> tuple[str, ...]:
    """Le texte de chaque page, tel que le lit ``pdftotext`` (Poppler, le moteur PDF de la plupart
    des lecteurs sous Linux), dans l'ordre où le document l'écrit (``-raw``) : ce qui est rogné par le
    bord d'un dessin ne compte pas comme lu. Lu une seule fois pour un même PDF : les mêmes octets
    relus par plusieurs assertions ou plusieurs tests ne sont pas réanalysés."""
    if PDFTOTEXT is None:
        raise RuntimeError("pdftotext manque pour lire les PDF des tests : apt-get install poppler-utils")
    read = subprocess.run(
        [PDFTOTEXT, "-raw", "-enc", "UTF-8", "-", "-"], input=content, capture_output=True, check=False
    )
    if read.returncode:
        raise ValueError(f"PDF illisible : {read.stderr.decode(errors='replace').strip()}")
    pages = read.stdout.decode().split("\f")  # chaque page finit par un saut de page
    return tuple(pages[:-1])


def pdf_text(content: bytes) -> str:
    """Le texte d'un PDF, ses pages séparées d'une espace."""
    return " ".join(pdf_page_texts(content))


class PdfText:
    """Le texte d'un PDF (``pdf_page_texts``) pour ``x in PdfText(octets)``.

    Le texte entier : les mots de toutes les pages, séparés d'une espace
    (``" ".join(" ".join(pages).split())``) ; avec ``blank_pages=True``, le texte réduit de chaque page
    joint par une espace, pages vides comprises (``" ".join(" ".join(page.split()) for page in pages)``).
    """

    def __init__(self, content: bytes, *, blank_pages: bool = False):
        self.content = content
        self.blank_pages = blank_pages

    def __contains__(self, needle: str) -> bool:
        pages = (" ".join(page.split()) for page in pdf_page_texts(self.content))
        return needle in " ".join(page for page in pages if page or self.blank_pages)
