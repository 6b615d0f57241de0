"""Messages d'erreur de l'API en français, avec le paramètre en cause."""

from ninja.errors import ValidationError

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
}


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


def install(api) -> None:
    @api.exception_handler(ValidationError)
    def validation_error(request, exc):
        errors = french_errors(exc.errors)
        summary = " ; ".join(f"{e['parametre']} : {e['message']}" for e in errors)
        return api.create_response(
            request, {"detail": f"Requête invalide — {summary}.", "errors": errors}, status=422
        )
