"""Garde : les pages, l'API et les gabarits ne testent jamais un rôle eux-mêmes.

Chaque décision passe par la fonction de droits de l'objet (``cdv/*/abilities.py``), bâtie sur
``cdv/users/roles.py`` (les rôles d'une personne, une seule lecture par requête). Ce test lit le
code de ``cdv/www`` et ``cdv/api`` (avec ``ast``) et les gabarits de ``cdv/templates`` (expression
régulière) et refuse : un appel à un prédicat de rôle (``is_pilot``, ``memberships``…), l'attribut
``memberships`` d'une personne, une comparaison avec ``.role`` ou une constante ``Role.X``, une
constante ``Role.X`` dans une requête, et ``is_superuser`` / ``is_staff``.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE_DIRS = [ROOT / "cdv" / "www", ROOT / "cdv" / "api"]
TEMPLATES = ROOT / "cdv" / "templates"

ROLE_PREDICATES = {
    "is_pilot",
    "is_pilot_anywhere",
    "is_operator",
    "is_editor_for",
    "is_reader",
    "is_council_member",
    "is_evaluator",
    "memberships",
    "edits_for",
    "can_read_contract_internals",
    "reads_all_partners",
    "reads_partner_internals",
    "partners_read_by",
    "partners_edited_by",
    "council_qpv_ids",
    "piloted_contract_ids",
}
# Toute fonction publique de cdv/users/roles.py est un prédicat de rôle, y compris celles ajoutées
# depuis (les rôles de l'appel à projets : applicant_partner_ids, instructed_partner_ids…).
ROLE_PREDICATES |= {
    node.name
    for node in ast.parse((ROOT / "cdv" / "users" / "roles.py").read_text()).body
    if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
}
ACCOUNT_FLAGS = {"is_superuser", "is_staff"}


def _name(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _is_role_constant(node) -> bool:
    """``Role.PILOT`` (une constante de rôle ; ``Role.choices`` d'un formulaire reste permis)."""
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "Role"
        and node.attr.isupper()
    )


def code_violations(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _name(node.func) in ROLE_PREDICATES:
            found.append((node.lineno, f"appel à {_name(node.func)}()"))
        elif isinstance(node, ast.Attribute) and node.attr in ACCOUNT_FLAGS:
            found.append((node.lineno, f".{node.attr}"))
        elif isinstance(node, ast.Attribute) and node.attr == "memberships":
            found.append((node.lineno, ".memberships"))
        elif isinstance(node, ast.Attribute) and _is_role_constant(node):
            found.append((node.lineno, f"Role.{node.attr}"))
        elif isinstance(node, ast.Compare):
            for side in [node.left, *node.comparators]:
                if isinstance(side, ast.Attribute) and side.attr == "role":
                    found.append((node.lineno, "comparaison avec .role"))
                    break
    return found


TEMPLATE_PATTERN = re.compile(
    r"{%[^%]*?\b(is_pilot\w*|is_superuser|is_staff|memberships|\w+\.role\s*(?:==|!=|in\b))[^%]*%}"
)


def template_violations(text: str) -> list[tuple[int, str]]:
    return [
        (text.count("\n", 0, match.start()) + 1, match.group(1)) for match in TEMPLATE_PATTERN.finditer(text)
    ]


def _report(found) -> str:
    return "\n".join(f"{path}:{line} {what}" for path, line, what in found)


def test_no_view_or_api_module_tests_a_role_itself():
    found = []
    for directory in CODE_DIRS:
        for path in sorted(directory.rglob("*.py")):
            for line, what in code_violations(path.read_text(encoding="utf-8")):
                found.append((path.relative_to(ROOT), line, what))
    assert not found, "passez par la fonction de droits de l'objet :\n" + _report(found)


def test_no_template_tests_a_role_itself():
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for line, what in template_violations(path.read_text(encoding="utf-8")):
            found.append((path.relative_to(ROOT), line, what))
    assert not found, "le gabarit reçoit les droits de la vue :\n" + _report(found)


def test_the_guard_catches_each_forbidden_pattern():
    """Chaque motif interdit est bien vu (sinon la garde ne garderait rien)."""
    samples = [
        "abilities.is_pilot(user, contract)",
        "is_pilot_anywhere(user)",
        "memberships(user, contract)",
        "user.memberships.filter(role='PILOTE')",
        "x = m.role == 'PILOTE'",
        "x = Role.PILOT in roles",
        "Membership.objects.filter(role__in=[Role.PILOT])",
        "require(request.user.is_superuser, 'non')",
        "x = user.is_staff",
        "edits_for(user, contract, partner.pk)",
    ]
    for sample in samples:
        assert code_violations(sample), sample
    for allowed in ["forms.ChoiceField(choices=Role.choices)", "rights = contract_abilities(user, c)"]:
        assert not code_violations(allowed), allowed
    for sample in [
        "{% if is_pilot %}",
        "{% if user.is_staff %}",
        "{% if user.is_superuser %}",
        '{% if home.role == "PILOTE" %}',
    ]:
        assert template_violations(sample), sample
    assert not template_violations("{% if rights.edit %}{{ membership.role }}")
