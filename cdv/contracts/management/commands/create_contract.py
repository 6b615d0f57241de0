from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from cdv.contracts.enums import PlanStart, UsualSignatory
from cdv.contracts.models import Contract
from cdv.contracts.services import create_contract
from cdv.users.models import User


class Command(BaseCommand):
    help = (
        "Crée un contrat de ville à partir du référentiel national (comme la page "
        "/exploitation/contrats/nouveau/) : QPV 2024 de l'EPCI rattachés, signataires habituels, "
        "plan de départ, invitation du premier pilote."
    )

    def add_arguments(self, parser):
        parser.add_argument("--epci", default="", help="SIREN de l'EPCI porteur (ex. : 244400644).")
        parser.add_argument(
            "--communes", default="", help="Ou bien : codes INSEE des communes, séparés par des virgules."
        )
        parser.add_argument("--title", required=True, help="Intitulé du contrat.")
        parser.add_argument("--start-year", type=int, default=2024)
        parser.add_argument("--end-year", type=int, default=2030)
        parser.add_argument("--pilot-email", required=True, help="Adresse du premier pilote (invité).")
        parser.add_argument(
            "--signatories",
            default=",".join(UsualSignatory.values),
            help="Signataires habituels, séparés par des virgules, parmi : "
            + ", ".join(UsualSignatory.values)
            + " (tous par défaut ; chaîne vide pour aucun).",
        )
        parser.add_argument(
            "--plan", default=PlanStart.EMPTY, choices=PlanStart.values, help="Plan de départ."
        )
        parser.add_argument(
            "--copy-from", default="", help="Identifiant d'URL du contrat à copier (--plan copy)."
        )
        parser.add_argument(
            "--operator",
            default="",
            help="Adresse du compte opérateur (superutilisateur) au nom duquel l'invitation part ; "
            "par défaut le premier opérateur.",
        )

    def handle(self, *args, **options):
        operators = User.objects.filter(is_superuser=True, is_active=True).order_by("pk")
        if options["operator"]:
            operators = operators.filter(email__iexact=options["operator"])
        operator = operators.first()
        if operator is None:
            raise CommandError("Aucun opérateur : créez-en un avec `python manage.py createsuperuser`.")
        copy_from = None
        if options["copy_from"]:
            copy_from = Contract.objects.filter(slug=options["copy_from"]).first()
            if copy_from is None:
                raise CommandError(f"--copy-from : aucun contrat « {options['copy_from']} ».")
        try:
            contract, link = create_contract(
                operator=operator,
                epci_code=options["epci"],
                commune_codes=[c for c in options["communes"].split(",") if c.strip()],
                title=options["title"],
                start_year=options["start_year"],
                end_year=options["end_year"],
                signatory_kinds=[k.strip() for k in options["signatories"].split(",") if k.strip()],
                plan_start=options["plan"],
                copy_from=copy_from,
                pilot_email=options["pilot_email"],
            )
        except (ValidationError, PermissionDenied) as error:
            messages = getattr(error, "message_dict", None)
            text = "; ".join(f"{k} : {' '.join(v)}" for k, v in messages.items()) if messages else str(error)
            raise CommandError(text) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Contrat « {contract.title} » créé ({contract.slug}) : {contract.qpvs.count()} QPV, "
                f"{contract.signatories.count()} signataire(s), {contract.enjeux.count()} enjeu(x). "
                f"Invitation envoyée à {options['pilot_email']}."
            )
        )
