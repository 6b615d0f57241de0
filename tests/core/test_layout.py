"""Une disposition qu'une nouvelle venue peut parcourir : qui dépend de qui (docs/architecture.md).

- cdv/seed (démonstration, jeu synthétique) dépend des applications métier, jamais l'inverse ;
- les applications métier ne dépendent ni du site (cdv.www) ni de l'API (cdv.api) ;
- chaque fonction publique d'un services.py annonce le type de ses paramètres et de son résultat.

Les imports sont lus avec ``ast`` (y compris ceux placés dans une fonction pour éviter un cycle).
"""

import ast
import re
from pathlib import Path

BASE = Path(__file__).resolve().parents[2]
CDV = BASE / "cdv"
DOMAIN_APPS = [
    "territories",
    "partners",
    "contracts",
    "plan",
    "commitments",
    "indicators",
    "monitoring",
    "evaluation",
    "georef",
    "notifications",
    "users",
    "core",
    "opendata",
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(BASE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> set[str]:
    """Modules importés par un fichier (imports relatifs rendus absolus)."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package.pop()
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def python_files(*parts: str):
    return sorted(p for p in CDV.joinpath(*parts).rglob("*.py") if "migrations" not in p.parts)


def importers_of(prefixes: tuple[str, ...], files) -> list[str]:
    return [
        f"{path.relative_to(BASE)} importe {module}"
        for path in files
        for module in sorted(imported_modules(path))
        if any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)
    ]


def test_import_reader_sees_relative_and_nested_imports():
    """Le lecteur d'imports ne rate ni un import relatif ni un import dans une fonction."""
    path = CDV / "contracts" / "homes.py"
    modules = imported_modules(path)
    assert "cdv.contracts.models" in modules or "cdv.contracts.models.Contract" in modules
    assert any(m.startswith("cdv.monitoring") for m in modules)  # importé dans une fonction


def test_only_the_seed_package_imports_it():
    outside = [p for p in python_files() if "seed" not in p.relative_to(CDV).parts[:1]]
    assert importers_of(("cdv.seed",), outside) == []


def test_domain_apps_import_neither_the_site_nor_the_api():
    files = [p for app in DOMAIN_APPS for p in python_files(app)]
    assert len(files) > 100
    assert importers_of(("cdv.www", "cdv.api"), files) == []


def test_demonstration_and_synthetic_builders_live_in_seed():
    """La démonstration et le jeu synthétique importent toutes les applications : ils vivent dans
    cdv/seed, avec leurs commandes, et non dans une application métier."""
    misplaced = [
        str(path.relative_to(BASE))
        for app in DOMAIN_APPS
        for path in python_files(app)
        if path.stem in {"demo", "scale", "load_demo_data", "load_scale_data"}
    ]
    assert misplaced == []
    commands = CDV / "seed" / "management" / "commands"
    assert (commands / "load_demo_data.py").is_file() and (commands / "load_scale_data.py").is_file()


def unannotated(path: Path) -> list[str]:
    """Fonctions publiques d'un module (et méthodes de ses classes publiques) dont un paramètre ou
    le résultat n'a pas d'annotation de type."""
    missing = []

    def check(function, owner=""):
        if function.name.startswith("_"):
            return
        args = function.args
        params = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
        params = [p for p in params if p is not None and not (owner and p.arg in {"self", "cls"})]
        lacking = [p.arg for p in params if p.annotation is None]
        if function.returns is None:
            lacking.append("return")
        if lacking:
            missing.append(
                f"{path.relative_to(BASE)}:{function.lineno} {owner}{function.name}({', '.join(lacking)})"
            )

    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            check(node)
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    check(item, f"{node.name}.")
    return missing


def test_every_public_service_function_is_fully_annotated():
    services = sorted([*CDV.glob("*/services.py"), *CDV.glob("*/services/*.py")])
    assert len(services) >= 8
    assert [line for path in services for line in unannotated(path)] == []


def test_architecture_diagram_draws_every_model_and_no_other():
    """docs/architecture.md : le schéma entité-relation nomme chaque modèle de cdv/*/models.py, et
    seulement eux."""
    from django.apps import apps

    text = (BASE / "docs" / "architecture.md").read_text()
    diagram = text.split("```mermaid\nerDiagram\n", 1)[1].split("```", 1)[0]
    drawn = {name for pair in re.findall(r"^\s*(\w+) \S+--\S+ (\w+) :", diagram, re.M) for name in pair}
    models = {
        model.__name__
        for config in apps.get_app_configs()
        if config.name.startswith("cdv.")
        for model in config.get_models()
        if not model._meta.proxy and not model.__name__.startswith("Historical")
    }
    assert len(models) > 30
    assert sorted(models - drawn) == [], "modèles absents du schéma"
    assert sorted(drawn - models) == [], "entités du schéma sans modèle"
