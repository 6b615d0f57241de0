"""Les vues et l'API orchestrent, les QuerySets et les sélecteurs lisent.

Quels états un visiteur, un partenaire ou le pilote voit (engagements publiés, retours publiés,
bilans non transmis, décisions ouvertes…) se décide à un seul endroit : les méthodes de QuerySet
(``published()``, ``open()``, ``late()``…) et les groupes d'états des ``enums.py`` de chaque
application. Une vue qui filtre elle-même sur un état redit la règle et finit par s'en écarter.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "cdv"
READ_LAYERS = [ROOT / "www" / "views", ROOT / "api"]

QUERY_METHODS = {"filter", "exclude", "get", "Q", "get_object_or_404", "get_list_or_404"}
STATE_FIELDS = {"status", "state", "moderation"}
STATUS_GROUP = re.compile(r"^[A-Z][A-Z_]*_(STATUSES|STATES)$")
STATE_ENUM = re.compile(r"(Status|State|Moderation)$|^S$")


def _is_state_member(node) -> bool:
    """``CommitmentStatus.DONE``, ``S.PROPOSED``, ``ReportState.DRAFT``, ``Moderation.PUBLISHED``…"""
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and bool(STATE_ENUM.search(node.value.id))
    )


def _called_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _state_keyword(name: str | None) -> bool:
    """``status``, ``status__in``, ``commitments__status__in``, ``state``, ``moderation``…"""
    return bool(name) and any(part in STATE_FIELDS for part in name.split("__"))


def offences(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _called_name(node) in QUERY_METHODS:
            for keyword in node.keywords:
                if _state_keyword(keyword.arg):
                    found.append((node.lineno, f"{_called_name(node)}({keyword.arg}=…)"))
        elif isinstance(node, ast.Name) and STATUS_GROUP.match(node.id):
            found.append((node.lineno, node.id))
        elif isinstance(node, ast.Attribute) and STATUS_GROUP.match(node.attr):
            found.append((node.lineno, node.attr))
        elif isinstance(node, ast.alias) and STATUS_GROUP.match(node.name.rsplit(".", 1)[-1]):
            found.append((node.lineno, f"import {node.name}"))
        elif (
            isinstance(node, (ast.Set, ast.List, ast.Tuple))
            and len(node.elts) > 1
            and all(_is_state_member(e) for e in node.elts)
        ):
            found.append((node.lineno, "groupe d'états " + ast.unparse(node)))
    return found


def test_the_guard_sees_a_status_filter_and_a_status_group():
    source = (
        "from cdv.commitments.enums import PUBLIC_STATUSES\n"
        "Commitment.objects.filter(contract=c, status__in=PUBLIC_STATUSES)\n"
        "Feedback.objects.exclude(moderation='PUBLIE')\n"
        "Q(commitments__status='CONFIRME')\n"
        "report.state in abilities.NOT_SUBMITTED_STATES\n"
        "DONE = {CommitmentStatus.DONE, CommitmentStatus.PARTLY_DONE}\n"
    )
    found = {what for _, what in offences(source)}
    assert found == {
        "import PUBLIC_STATUSES",
        "PUBLIC_STATUSES",
        "filter(status__in=…)",
        "exclude(moderation=…)",
        "Q(commitments__status=…)",
        "NOT_SUBMITTED_STATES",
        "groupe d'états {CommitmentStatus.DONE, CommitmentStatus.PARTLY_DONE}",
    }
    assert offences("Commitment.objects.published().filter(reported_status=x, pk=1)\n") == []


def test_no_view_or_api_module_filters_on_a_status_itself():
    found = []
    for layer in READ_LAYERS:
        for path in sorted(layer.glob("*.py")):
            for lineno, what in offences(path.read_text(encoding="utf-8")):
                found.append(f"{path.relative_to(ROOT.parent)}:{lineno} {what}")
    assert not found, (
        "Filtre ou groupe d'états écrit dans une vue : passer par une méthode de QuerySet "
        "(published(), open(), late()…) ou un sélecteur.\n" + "\n".join(found)
    )
