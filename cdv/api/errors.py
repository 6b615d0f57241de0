"""Messages d'erreur de l'API en français, avec le paramètre en cause."""

from ninja.errors import HttpError, ValidationError

MESSAGES = {
    "missing": "valeur obligatoire",
    "string_pattern_mismatch": "format invalide (motif attendu : {pattern})",
    "string_too_long": "trop long ({max_length} caractères au plus)",
    "enum": "valeur non admise (valeurs possibles : {expected})",
    "int_parsing": "nombre entier attendu",
    "int_type": "nombre entier attendu",
    "greater_than_equal": "doit être supérieur ou égal à {ge}",
    "less_than_equal": "doit être inférieur ou égal à {le}",
    "json_invalid": "JSON invalide",
    "int_from_float": "nombre entier attendu",
    "string_type": "texte attendu",
    "list_type": "liste attendue",
    "dict_type": "objet attendu",
    "model_attributes_type": "objet attendu",
    "bool_parsing": "booléen attendu (true ou false)",
    "bool_type": "booléen attendu (true ou false)",
    "date_parsing": "date attendue (AAAA-MM-JJ)",
    "date_from_datetime_parsing": "date attendue (AAAA-MM-JJ)",
    "date_type": "date attendue (AAAA-MM-JJ)",
    "decimal_parsing": "nombre décimal attendu",
    "decimal_type": "nombre décimal attendu",
    "decimal_max_digits": "{max_digits} chiffres au plus",
    "decimal_max_places": "{decimal_places} décimales au plus",
    "decimal_whole_digits": "{whole_digits} chiffres au plus avant la virgule",
    "finite_number": "nombre fini attendu",
    "string_too_short": "trop court ({min_length} caractères au moins)",
    "too_long": "trop d'éléments ({max_length} au plus)",
    "greater_than": "doit être supérieur à {gt}",
    "less_than": "doit être inférieur à {lt}",
    "literal_error": "valeur non admise (valeurs possibles : {expected})",
    "regle": "{message}",
    "float_type": "nombre attendu",
    "float_parsing": "nombre attendu",
}


# Statut d'un refus sur le sens des données : la requête est conforme au schéma (sinon 422, avec la
# liste ``errors``), mais l'état des données la refuse — code inconnu du contrat, année hors de sa
# période, engagement confirmé modifié sans motif d'avenant, dépôt après la clôture…
REFUSED = 409


def refused(message: str) -> HttpError:
    """Refus sur le sens des données (409), message en français qui nomme le champ en cause."""
    return HttpError(REFUSED, message)


def french_errors(errors: list[dict]) -> list[dict]:
    result = []
    for error in errors:
        location = ".".join(
            str(part) for part in error.get("loc", []) if part not in {"query", "path", "body"}
        )
        template = MESSAGES.get(error.get("type"), "valeur invalide")
        try:
            message = template.format(**(error.get("ctx") or {}))
        except (KeyError, IndexError):
            message = template
        result.append({"parametre": location, "message": message})
    return result


# Messages anglais de django-ninja lui-même (corps illisible…), rendus en français.
NINJA_MESSAGES = {
    "Cannot parse request body": "Corps de la requête illisible : un objet JSON (UTF-8) est attendu.",
}


def install(api) -> None:
    @api.exception_handler(HttpError)
    def http_error(request, exc):
        message = str(exc)
        for english, french in NINJA_MESSAGES.items():
            if message.startswith(english):
                message = french
        return api.create_response(request, {"detail": message}, status=exc.status_code)

    @api.exception_handler(ValidationError)
    def validation_error(request, exc):
        errors = french_errors(exc.errors)
        summary = " ; ".join(f"{e['parametre']} : {e['message']}" for e in errors)
        return api.create_response(
            request, {"detail": f"Requête invalide — {summary}.", "errors": errors}, status=422
        )
