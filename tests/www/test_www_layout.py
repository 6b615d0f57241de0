"""La couche web reste lisible : les vues orchestrent, les formulaires vivent dans ``cdv/www/forms/``."""

import ast
from pathlib import Path

VIEWS = Path(__file__).resolve().parents[2] / "cdv" / "www" / "views"


def _bases(node: ast.ClassDef) -> list[str]:
    return [ast.unparse(base) for base in node.bases]


def test_no_form_class_is_defined_in_a_view_module():
    found = []
    for path in sorted(VIEWS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                "Form" in base or "Field" in base for base in _bases(node)
            ):
                found.append(f"{path.name}:{node.lineno} {node.name}")
    assert not found, "Formulaires à déplacer dans cdv/www/forms/ : " + ", ".join(found)
