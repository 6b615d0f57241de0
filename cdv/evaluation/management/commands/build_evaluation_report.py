"""``python manage.py build_evaluation_report --contract SLUG --kind mid-term --format pdf -o FILE``."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cdv.contracts.models import Contract
from cdv.evaluation.documents import FORMATS, default_report, evaluation_document, status_line, version_info
from cdv.evaluation.enums import EvaluationKind
from cdv.evaluation.models import Evaluation

KINDS = {
    "mid-term": EvaluationKind.MID_TERM,
    "mi-parcours": EvaluationKind.MID_TERM,
    "final": EvaluationKind.FINAL,
    "finale": EvaluationKind.FINAL,
}
KIND_NAMES = {EvaluationKind.MID_TERM: "à mi-parcours", EvaluationKind.FINAL: "finale"}


def parse_kind(value: str) -> str:
    text = (value or "").strip().lower()
    kind = KINDS.get(text) or next((k for k in EvaluationKind.values if k.lower() == text), None)
    if kind is None:
        raise CommandError(
            f"Nature d'évaluation inconnue « {value} » : mid-term (évaluation à mi-parcours) ou final "
            "(évaluation finale)."
        )
    return kind


class Command(BaseCommand):
    help = (
        "Écrit le rapport d'évaluation d'un contrat en PDF ou en DOCX : la version adoptée s'il y en a "
        "une, sinon la dernière version figée, sinon les données du moment (document de travail). "
        "--version N choisit une version figée, --live les données du moment."
    )

    def add_arguments(self, parser):
        parser.add_argument("--contract", required=True, metavar="SLUG", help="identifiant (slug) du contrat")
        parser.add_argument(
            "--kind", required=True, help="mid-term (évaluation à mi-parcours) ou final (évaluation finale)"
        )
        parser.add_argument(
            "--format",
            dest="fmt",
            metavar="pdf|docx",
            help="pdf ou docx (par défaut : d'après l'extension du fichier, sinon pdf)",
        )
        parser.add_argument(
            "-o", "--output", metavar="FILE", help="fichier à écrire (par défaut : nom type, dossier courant)"
        )
        # BaseCommand réserve --version (version de Django) : on le retire, la commande en a l'usage.
        django_version = parser._option_string_actions.get("--version")
        if django_version is not None:
            parser._handle_conflict_resolve(None, [("--version", django_version)])
        which = parser.add_mutually_exclusive_group()
        which.add_argument(
            "--version", dest="report_version", type=int, metavar="N", help="numéro d'une version figée"
        )
        which.add_argument(
            "--live", action="store_true", help="les données du moment, même si une version est figée"
        )

    def handle(self, *args, contract, kind, fmt, output, report_version, live, **options):
        found = Contract.objects.filter(slug=contract).first()
        if found is None:
            known = ", ".join(Contract.objects.order_by("slug").values_list("slug", flat=True)[:10])
            raise CommandError(
                f"Aucun contrat « {contract} »." + (f" Contrats connus : {known}." if known else "")
            )
        kind = parse_kind(kind)
        evaluation = Evaluation.objects.filter(contract=found, kind=kind).first()
        if evaluation is None:
            raise CommandError(f"Le contrat « {contract} » n'a pas d'évaluation {KIND_NAMES[kind]}.")

        if fmt is None:
            suffix = Path(output).suffix.lower().lstrip(".") if output else ""
            fmt = suffix if suffix in FORMATS else "pdf"
        fmt = fmt.strip().lower()
        if fmt not in FORMATS:
            raise CommandError(f"Format inconnu « {fmt} » : pdf ou docx.")

        report = None
        if report_version is not None:
            report = evaluation.reports.filter(version=report_version).first()
            if report is None:
                versions = list(evaluation.reports.order_by("version").values_list("version", flat=True))
                known = (
                    "versions figées : " + ", ".join(str(v) for v in versions)
                    if versions
                    else "aucune version n'est encore figée"
                )
                raise CommandError(f"L'évaluation n'a pas de version {report_version} ({known}).")
        elif not live:
            report = default_report(evaluation)

        if output:
            target = Path(output)
            if not target.parent.exists():
                raise CommandError(f"Le dossier {target.parent} n'existe pas.")
        content, filename = evaluation_document(evaluation, fmt, report, live=report is None)
        target = Path(output) if output else Path(filename)
        target.write_bytes(content)
        origin = status_line(version_info(report) if report else None)
        size = f"{len(content) / 1024:.0f} ko"
        message = f"Rapport d'évaluation {KIND_NAMES[kind]} ({fmt.upper()}, {origin}) écrit dans {target}"
        self.stdout.write(self.style.SUCCESS(f"{message} ({size})."))
