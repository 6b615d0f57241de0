"""Prépare, pour le parcours de l'appel à projets, une copie de la base des tests navigateur.

Usage : ``python tests/browser/journey_aap_db.py FICHIER.sqlite3 FICHIER.json``

Le parcours dépose un dossier sur l'appel ouvert de la démonstration, le fait instruire par deux
financeurs, puis le pilote enregistre le vote du comité. Par les services (comme le feraient les
personnes) :

- l'association de la référente de démonstration a déjà déposé, pour des dossiers précédents, ses
  statuts, ses comptes et son rapport d'activité : le parcours n'ajoute que son RIB (les pièces
  déjà données sont réutilisées) ;
- le pilote a déjà simulé les lignes des autres dossiers de l'appel (le vote est refusé tant
  qu'une ligne n'a pas de simulation) : il ne lui reste que celles du dossier du parcours.
"""

import os
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Un PDF minimal : la plateforme vérifie le contenu des pièces, pas seulement leur nom.
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def main(db_path: str, json_path: str) -> None:
    sys.path.insert(0, str(BASE_DIR))
    os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import json

    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import transaction

    from cdv.contracts.models import Contract
    from cdv.grants.enums import DocumentKind, LineStatus, Simulation
    from cdv.grants.models import Call, PartnerDocument
    from cdv.grants.services.applications import upload_document
    from cdv.grants.services.committee import open_lines, simulate_line
    from cdv.notifications.services import silenced
    from cdv.partners.models import Partner
    from cdv.users.models import User

    data = json.loads(Path(json_path).read_text(encoding="utf-8"))
    with transaction.atomic(), silenced():
        contract = Contract.objects.get(slug=data["contract"])
        call = Call.objects.get(contract=contract, year=data["aap_year"])
        applicant = User.objects.get(email=data["applicant_email"])
        pilot = User.objects.get(email=data["pilot_email"])
        association = Partner.objects.get(slug=data["aap_partner"])
        PartnerDocument.objects.filter(partner=association, kind=DocumentKind.BANK_DETAILS).delete()
        for kind in (DocumentKind.STATUTES, DocumentKind.ACCOUNTS, DocumentKind.ACTIVITY_REPORT):
            if not PartnerDocument.objects.filter(partner=association, kind=kind).exists():
                name = f"{kind.label.lower().replace(' ', '-')}.pdf"
                upload_document(
                    user=applicant,
                    call=call,
                    partner=association,
                    kind=kind,
                    uploaded=SimpleUploadedFile(name, PDF, content_type="application/pdf"),
                )
        for line in open_lines(call):
            refused = line.status in (LineStatus.INADMISSIBLE,)
            simulate_line(user=pilot, line=line, choice=Simulation.NO if refused else Simulation.YES)
    from tests.browser.prepare_db import save_database

    save_database(db_path, json_path, data)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
