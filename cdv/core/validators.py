"""Validation des identifiants officiels (QPV, COG, SIREN/SIRET, RNA) et des fichiers déposés.

Chaque fonction lève une ``ValidationError`` au message français qui cite la valeur fautive.

Fichiers déposés (classeur d'engagements, pièces jointes des bilans, fichiers à géoréférencer) :
``check_zip_archive`` borne une archive ZIP (XLSX, DOCX, ODS…) avant toute lecture (bombes ZIP),
``foreign_content`` reconnaît à sa signature un fichier qui ment sur son type (page web,
programme, PDF… nommé ``.csv`` ou ``.xlsx``).
"""

import io
import os
import re
import zipfile

from django.core.exceptions import ValidationError

# QPV géographie 2024 : « QN » + département (3 caractères : 044, 02A, 971) + 2 chiffres + lettre
# de statut (N nouveau, M modifié, I inchangé ; C pour certains QPV de Mayotte).
QPV_2024_RE = re.compile(r"^QN(\d{3}|02[AB])\d{2}[NMIC]$")
# QPV géographie 2015 : « QP » + département sur 3 caractères + 3 chiffres (QP044013).
QPV_2015_RE = re.compile(r"^QP(\d{3}|02[AB])\d{3}$")
INSEE_COMMUNE_RE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
DEPARTMENT_RE = re.compile(r"^(\d{2}|2[AB]|97\d)$")
RNA_RE = re.compile(r"^W[0-9][0-9AB][0-9]{7}$")


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        number = int(char)
        if index % 2 == 1:
            number *= 2
            if number > 9:
                number -= 9
        total += number
    return total % 10 == 0


def validate_qpv_code(code: str, geography: str) -> None:
    pattern = QPV_2024_RE if str(geography) == "2024" else QPV_2015_RE
    example = "QN04413M" if str(geography) == "2024" else "QP044013"
    if not pattern.match(code or ""):
        raise ValidationError(
            "« %(code)s » n'est pas un code QPV valide pour la géographie %(geo)s (exemple : %(example)s).",
            code="invalid_qpv_code",
            params={"code": code, "geo": geography, "example": example},
        )


def validate_insee_commune(code: str) -> None:
    if not INSEE_COMMUNE_RE.match(code or ""):
        raise ValidationError(
            "« %(code)s » n'est pas un code commune INSEE valide (5 caractères, exemple : 44109).",
            code="invalid_insee",
            params={"code": code},
        )


def validate_department(code: str) -> None:
    if not DEPARTMENT_RE.match(code or ""):
        raise ValidationError(
            "« %(code)s » n'est pas un code de département valide (exemples : 44, 2A, 974).",
            code="invalid_department",
            params={"code": code},
        )


def validate_siren(value: str) -> None:
    if not (value and value.isdigit() and len(value) == 9 and luhn_ok(value)):
        raise ValidationError(
            "« %(value)s » n'est pas un SIREN valide (9 chiffres, clé de contrôle correcte).",
            code="invalid_siren",
            params={"value": value},
        )


def validate_siret(value: str) -> None:
    if not (value and value.isdigit() and len(value) == 14):
        raise ValidationError(
            "« %(value)s » n'est pas un SIRET valide (14 chiffres).",
            code="invalid_siret",
            params={"value": value},
        )
    # Exception connue : les établissements de La Poste (SIREN 356000000) ne suivent pas
    # la clé de Luhn ; la somme de leurs chiffres est un multiple de 5.
    if value.startswith("356000000"):
        valid = sum(int(c) for c in value) % 5 == 0
    else:
        valid = luhn_ok(value)
    if not valid:
        raise ValidationError(
            "« %(value)s » n'est pas un SIRET valide (clé de contrôle incorrecte).",
            code="invalid_siret",
            params={"value": value},
        )


def validate_rna(value: str) -> None:
    if not RNA_RE.match(value or ""):
        raise ValidationError(
            "« %(value)s » n'est pas un numéro RNA valide (W suivi de 9 caractères, exemple : W442001234).",
            code="invalid_rna",
            params={"value": value},
        )


# ---------------------------------------------------------------------------------------------
# Fichiers déposés
# ---------------------------------------------------------------------------------------------

ZIP_MAX_MEMBERS = 1000
ZIP_MAX_UNCOMPRESSED_BYTES = 60 * 1024 * 1024
ZIP_MAX_RATIO = 200  # au-delà, pour un élément de plus de 1 Mo : bombe probable
ZIP_RATIO_FLOOR_BYTES = 1024 * 1024


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} Mo"


def check_zip_archive(
    source,
    *,
    max_members: int = ZIP_MAX_MEMBERS,
    max_uncompressed: int = ZIP_MAX_UNCOMPRESSED_BYTES,
    max_ratio: int = ZIP_MAX_RATIO,
) -> list[zipfile.ZipInfo]:
    """Les éléments d'une archive ZIP (octets, chemin ou fichier), sans rien en décompresser.

    Seul le répertoire central est lu. Refus (``ValidationError``) d'une archive illisible, de plus
    de ``max_members`` éléments, dont la taille décompressée déclarée dépasse ``max_uncompressed``
    ou dont un élément de plus de 1 Mo se compresse plus de ``max_ratio`` fois (bombe ZIP), ou
    chiffrée. Ces tailles déclarées suffisent : le module ``zipfile``, qu'utilise openpyxl, ne rend
    jamais plus d'octets que la taille déclarée d'un élément (au-delà, erreur de contrôle CRC).
    """
    if isinstance(source, bytes | bytearray | memoryview):
        source = io.BytesIO(bytes(source))
    elif isinstance(source, str | os.PathLike):
        source = os.fspath(source)
    try:
        with zipfile.ZipFile(source) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as error:
        raise ValidationError(
            "Ce fichier n'est pas une archive lisible (classeur ou document endommagé).",
            code="zip_unreadable",
        ) from error
    finally:
        if hasattr(source, "seek"):
            source.seek(0)
    if not members:
        raise ValidationError("Ce fichier est une archive vide.", code="zip_empty")
    if len(members) > max_members:
        raise ValidationError(
            "Ce fichier contient trop d'éléments (%(count)s, %(max)s au plus) : il est refusé par sécurité.",
            code="zip_members",
            params={"count": len(members), "max": max_members},
        )
    total = sum(m.file_size for m in members)
    suspicious = any(
        m.file_size > ZIP_RATIO_FLOOR_BYTES and m.file_size > max_ratio * max(m.compress_size, 1)
        for m in members
    )
    if total > max_uncompressed or suspicious:
        raise ValidationError(
            "Ce fichier se décompresse en un volume anormalement grand (plus de %(max)s ou taux de "
            "compression suspect) : il est refusé par sécurité.",
            code="zip_bomb",
            params={"max": _megabytes(max_uncompressed)},
        )
    if any(m.flag_bits & 0x1 for m in members):
        raise ValidationError(
            "Ce fichier est protégé par un mot de passe : enregistrez-le sans mot de passe.",
            code="zip_encrypted",
        )
    return members


# Signatures de formats qui ne sont jamais un tableau ni un document accepté.
FOREIGN_SIGNATURES = [
    (b"\x7fELF", "un programme exécutable"),
    (b"\xca\xfe\xba\xbe", "un programme exécutable"),
    (b"\xcf\xfa\xed\xfe", "un programme exécutable"),
    (b"#!/", "un script"),
    (b"%PDF-", "un document PDF"),
    (b"\x89PNG", "une image PNG"),
    (b"\xff\xd8\xff", "une image JPEG"),
    (b"GIF8", "une image GIF"),
    (b"\x1f\x8b", "une archive compressée (gzip)"),
    (b"7z\xbc\xaf\x27\x1c", "une archive compressée (7-Zip)"),
    (b"Rar!", "une archive compressée (RAR)"),
    (b"\xd0\xcf\x11\xe0", "un document Office 97-2003 (.xls, .doc)"),
]
MARKUP_RE = re.compile(rb"^<\s*[!?a-zA-Z]")
BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def foreign_content(sample: bytes) -> str | None:
    """Ce qu'est vraiment un fichier attendu en texte tabulé (CSV), d'après ses premiers octets :
    « une page web ou un document balisé (…) », « un programme Windows »… ; None s'il peut s'agir d'un
    tableau. Le nom du fichier et le type déclaré par le navigateur ne comptent pas."""
    if sample.startswith(b"MZ") and any(byte < 9 for byte in sample[2:64]):
        return "un programme Windows"
    for signature, label in FOREIGN_SIGNATURES:
        if sample.startswith(signature):
            return label
    text = sample
    for bom in BOMS:
        if text.startswith(bom):
            text = text[len(bom) :]
            break
    text = text.replace(b"\x00", b"").lstrip()  # UTF-16 : un octet nul sur deux
    if MARKUP_RE.match(text[:64]):
        return "une page web ou un document balisé (HTML, SVG ou XML)"
    return None
