from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cdv.commitments.documents import PartnerNotInContract, build_cahier_pdf, check_partner_in_contract
from cdv.contracts.models import Contract
from cdv.partners.models import Partner


def find_contract(slug: str) -> Contract:
    contract = Contract.objects.filter(slug=slug).first()
    if contract is None:
        known = ", ".join(Contract.objects.values_list("slug", flat=True)[:10]) or "aucun"
        raise CommandError(f"Contrat inconnu : « {slug} ». Contrats existants : {known}.")
    return contract


def find_partner(value: str) -> Partner:
    """Un partenaire par sa clé primaire (nombre) ou son identifiant d'URL (slug)."""
    value = value.strip()
    partner = None
    if value.isdigit():
        partner = Partner.objects.filter(pk=int(value)).first()
    if partner is None:
        partner = Partner.objects.filter(slug=value).first()
    if partner is None:
        raise CommandError(
            f"Partenaire inconnu : « {value} ». Donnez son numéro (clé primaire) ou son identifiant d'URL."
        )
    return partner


def write_output(result, path: Path) -> int:
    """Écrit ``result`` (octets, flux binaire ou classeur openpyxl) dans ``path`` ; renvoie la taille."""
    if hasattr(result, "save") and not isinstance(result, bytes | bytearray):
        result.save(str(path))
    else:
        data = result.getvalue() if hasattr(result, "getvalue") else result
        path.write_bytes(data)
    return path.stat().st_size


class Command(BaseCommand):
    help = (
        "Produit le cahier d'engagements d'un partenaire (ou, sans --partner, la compilation de tous "
        "les partenaires du contrat) en PDF ou en XLSX."
    )

    def add_arguments(self, parser):
        parser.add_argument("--contract", required=True, help="identifiant d'URL (slug) du contrat")
        parser.add_argument(
            "--partner",
            help="numéro ou identifiant d'URL du partenaire ; sans lui : compilation du contrat",
        )
        parser.add_argument(
            "--format", choices=["pdf", "xlsx"], default="pdf", help="format du fichier (pdf par défaut)"
        )
        parser.add_argument("-o", "--output", required=True, help="fichier à écrire")

    def handle(self, *args, **options):
        contract = find_contract(options["contract"])
        partner = find_partner(options["partner"]) if options["partner"] else None
        path = Path(options["output"])
        if not path.parent.is_dir():
            raise CommandError(f"Le dossier « {path.parent} » n'existe pas.")

        try:
            if partner is not None:
                check_partner_in_contract(contract=contract, partner=partner)
            if options["format"] == "xlsx":
                from cdv.commitments.xlsx_export import export_cahier_xlsx

                result = export_cahier_xlsx(contract=contract, partner=partner)
            else:
                result = build_cahier_pdf(contract=contract, partner=partner)
        except PartnerNotInContract as error:
            raise CommandError(str(error)) from error

        try:
            size = write_output(result, path)
        except OSError as error:
            raise CommandError(f"Impossible d'écrire « {path} » : {error.strerror or error}.") from error
        what = (
            f"Cahier d'engagements de « {partner} »" if partner else "Compilation des cahiers d'engagements"
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{what} ({contract.slug}, {options['format'].upper()}) écrit dans {path} ({size} octets)."
            )
        )
