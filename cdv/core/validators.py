"""Validation des identifiants officiels (QPV, COG, SIREN/SIRET, RNA).

Chaque fonction lève une ``ValidationError`` au message français qui cite la valeur fautive.
"""

import re

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
