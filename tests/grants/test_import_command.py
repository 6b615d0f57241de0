"""``manage.py import_aap`` : les dossiers et décisions d'un export de Dauphin entrent dans l'appel,
tout ou rien, et un second import du même fichier ne change rien."""

import datetime
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cdv.grants.enums import ApplicationStatus, EventKind, LineStatus
from cdv.grants.models import Application, ApplicationEvent, FunderLine
from cdv.partners.models import Partner
from tests import factories

from .dauphin_world import CSV, XLSX, YEAR, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def run(world, path, *extra):
    out, err = StringIO(), StringIO()
    call_command(
        "import_aap",
        str(path),
        "--contract",
        world.contract.slug,
        "--year",
        str(YEAR),
        *extra,
        stdout=out,
        stderr=err,
    )
    return out.getvalue(), err.getvalue()


def refused(world, path, *extra) -> str:
    err = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command(
            "import_aap",
            str(path),
            "--contract",
            world.contract.slug,
            "--year",
            str(YEAR),
            *extra,
            stdout=StringIO(),
            stderr=err,
        )
    return err.getvalue() + str(raised.value)


def snapshot(call):
    """Tout ce que l'import peut écrire, y compris l'historique (django-simple-history)."""
    applications = Application.objects.filter(call=call)
    lines = FunderLine.objects.filter(application__call=call)
    return {
        "applications": sorted(
            applications.values_list("external_ref", "number", "status", "version", "title")
        ),
        "lines": sorted(
            lines.values_list(
                "application__external_ref",
                "funder_id",
                "status",
                "requested_amount",
                "proposed_amount",
                "voted_amount",
                "decision_date",
                "version",
            )
        ),
        "application_history": Application.history.filter(call=call).count(),
        "line_history": FunderLine.history.filter(application__call=call).count(),
        "events": ApplicationEvent.objects.filter(application__call=call).count(),
        "partners": Partner.objects.count(),
        "last_number": type(call).objects.get(pk=call.pk).last_number,
    }


def test_a_dauphin_csv_creates_applications_lines_and_associations(world):
    out, _ = run(world, CSV)

    applications = {a.external_ref: a for a in Application.objects.filter(call=world.call)}
    assert set(applications) == {"DA-0001", "DA-0002", "DA-0003", "DA-0004"}
    first = applications["DA-0001"]
    assert first.title == "Ateliers de français pour adultes"
    assert first.status == ApplicationStatus.DECIDED  # une ligne votée, une rejetée
    assert first.number.startswith(f"{YEAR}-")
    assert first.submitted_at.date() == datetime.date(2030, 11, 14)
    assert (first.start_date, first.end_date) == (datetime.date(2031, 3, 1), datetime.date(2031, 12, 31))
    assert list(first.qpvs.all()) == [world.hauts]
    lines = {line.funder_id: line for line in first.funder_lines.all()}
    state, city = lines[world.state.pk], lines[world.city.pk]
    assert (state.status, state.requested_amount, state.proposed_amount, state.voted_amount) == (
        LineStatus.VOTED,
        Decimal("12000.00"),
        Decimal("10000.00"),
        Decimal("10000.00"),
    )
    assert state.decision_date == datetime.date(2031, 2, 6)
    assert (city.status, city.voted_amount) == (LineStatus.REJECTED, None)
    # « A été versé » : la ligne est votée, avec son montant (les versements ne sont pas dans l'export).
    paid = applications["DA-0002"].funder_lines.get()
    assert (paid.status, paid.voted_amount, paid.requested_amount) == (
        LineStatus.VOTED,
        Decimal("5000.50"),
        Decimal("5000.50"),
    )
    assert set(applications["DA-0002"].qpvs.all()) == {world.hauts, world.bourg}
    # Un quartier désigné par son nom ; un dossier en instruction reste déposé.
    assert list(applications["DA-0003"].qpvs.all()) == [world.bourg]
    assert applications["DA-0003"].status == ApplicationStatus.SUBMITTED
    assert applications["DA-0003"].funder_lines.get().status == LineStatus.INSTRUCTING
    # Associations : retrouvée par son SIRET, créées sinon avec SIRET / RNA.
    assert applications["DA-0004"].partner == world.known
    created = Partner.objects.get(name="Parole Commune (test import)")
    assert (created.kind, created.siret, created.siren, created.rna) == (
        "ASSOCIATION",
        "77990001810001",
        "779900018",
        "W443000001",
    )
    assert Partner.objects.get(name="Les Jardiniers (test import)").rna == "W443000003"
    # Numéros de l'appel, sans trou ; un événement « Importé de Dauphin » par dossier.
    assert sorted(a.number for a in applications.values()) == [f"{YEAR}-000{n}" for n in range(1, 5)]
    assert ApplicationEvent.objects.filter(application__call=world.call, kind=EventKind.IMPORTED).count() == 4
    assert world.call.history.count() == 1  # le compteur des numéros n'ajoute pas de version de l'appel
    assert "4 dossiers créés" in out and "3 associations créées" in out
    assert "Colonnes ignorées : « Commentaire interne »" in out


def test_a_second_import_of_the_same_file_changes_nothing(world):
    run(world, CSV)
    before = snapshot(world.call)

    out, _ = run(world, CSV)

    assert snapshot(world.call) == before
    assert "0 dossier créé, 0 modifié, 4 inchangés" in out
    assert "0 association créée" in out


def test_a_changed_amount_updates_that_line_only(world, tmp_path):
    run(world, CSV)
    before = snapshot(world.call)
    changed = tmp_path / "dauphin.csv"
    changed.write_text(
        CSV.read_text(encoding="utf-8-sig").replace(
            "Voté;12 000,00;10 000,00;10 000,00", "Voté;12 000,00;10 000,00;11 000,00"
        ),
        encoding="utf-8",
    )

    out, _ = run(world, changed)

    line = FunderLine.objects.get(application__external_ref="DA-0001", funder=world.state)
    assert line.voted_amount == Decimal("11000.00")
    after = snapshot(world.call)
    assert after["line_history"] == before["line_history"] + 1
    assert after["application_history"] == before["application_history"]
    assert after["events"] == before["events"] + 1
    event = ApplicationEvent.objects.filter(application__external_ref="DA-0001").latest("id")
    assert event.kind == EventKind.IMPORTED and "montant voté" in event.message
    assert "1 modifié" in out and "1 modifiée" in out


def test_an_xlsx_export_with_excel_dates_and_numbers(world):
    out, _ = run(world, XLSX)

    application = Application.objects.get(call=world.call, external_ref="DA-0101")
    assert application.status == ApplicationStatus.DECIDED
    assert application.submitted_at.date() == datetime.date(2030, 11, 13)
    lines = {line.funder_id: line for line in application.funder_lines.all()}
    assert lines[world.state.pk].voted_amount == Decimal("7500.00")  # « Justifiée » : votée
    assert lines[world.city.pk].voted_amount == Decimal("2000.50")
    assert lines[world.city.pk].decision_date == datetime.date(2031, 2, 6)
    other = Application.objects.get(call=world.call, external_ref="DA-0102")
    assert other.submitted_at.date() == datetime.date(2030, 11, 14)  # date Excel en nombre de jours
    assert other.funder_lines.get().status == LineStatus.TAKEN
    assert Partner.objects.get(name="Les Voisins (test import)").rna == "W443000102"
    before = snapshot(world.call)
    run(world, XLSX)
    assert snapshot(world.call) == before


def test_dry_run_counts_and_writes_nothing(world):
    before = snapshot(world.call)
    out, _ = run(world, CSV, "--dry-run")
    assert snapshot(world.call) == before
    assert "Simulation" in out and "4 dossiers seraient créés" in out
    assert "lignes de financeur : 5 seraient créées" in out and "3 associations seraient créées" in out


def write(tmp_path, rows, header=None):
    header = header or (
        "N° dossier;Intitulé du projet;Porteur;SIRET;RNA;Financeur;Statut;Montant sollicité;Montant voté;"
        "Date de décision;Code QPV"
    )
    path = tmp_path / "export.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


GOOD = "DA-9;Projet;Asso (test import);;;Ville de Testville;Voté;1 000;1 000;06/02/2031;QN09898M"


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            "DA-1;Projet;Asso A (test import);;;Département inconnu;Voté;1 000;1 000;06/02/2031;QN09898M",
            "Ligne 3, colonne « Financeur » : « Département inconnu » n'est pas un financeur de l'appel "
            "(financeurs de l'appel : « Préfecture (test import) », « Ville de Testville »).",
        ),
        (
            "DA-1;Projet;Asso A (test import);77990001810002;;Testville;Voté;1 000;1 000;06/02/2031;QN09898M",
            "Ligne 3, colonne « SIRET » : « 77990001810002 » n'est pas un SIRET valide "
            "(clé de contrôle incorrecte).",
        ),
        (
            "DA-1;Projet;Asso A (test import);;W12;Testville;Voté;1 000;1 000;06/02/2031;QN09898M",
            "Ligne 3, colonne « RNA » : « W12 » n'est pas un numéro RNA valide",
        ),
        (
            "DA-1;Projet;Asso A (test import);;;Testville;Voté;1 000;12,5x;06/02/2031;QN09898M",
            "Ligne 3, colonne « Montant voté » : « 12,5x » n'est pas un montant",
        ),
        (
            "DA-1;Projet;Asso A (test import);;;Testville;Voté;1 000;1 000;31/02/2031;QN09898M",
            "Ligne 3, colonne « Date de décision » : « 31/02/2031 » n'est pas une date qui existe.",
        ),
        (
            "DA-1;Projet;Asso A (test import);;;Testville;Voté;1 000;1 000;le 6 février;QN09898M",
            "Ligne 3, colonne « Date de décision » : « le 6 février » n'est pas une date",
        ),
        (
            "DA-1;Projet;Asso A (test import);;;Testville;Presque voté;1 000;1 000;06/02/2031;QN09898M",
            "Ligne 3, colonne « Statut » : « Presque voté » n'est pas un état de Dauphin reconnu",
        ),
        (
            "DA-1;Projet;Asso A (test import);;;Testville;Voté;1 000;1 000;06/02/2031;QN04413M",
            "Ligne 3, colonne « Code QPV » : le code « QN04413M » n'est pas un quartier du contrat",
        ),
        (
            "DA-1;Projet;Asso A (test import);;;Testville;Voté;1 000;;06/02/2031;QN09898M",
            "Ligne 3, colonne « Montant voté » : montant voté manquant : la ligne est votée.",
        ),
        (
            "DA-9;Projet;Asso (test import);;;Testville;En instruction;2 000;;;QN09898M",
            "Ligne 3, colonne « Financeur » : doublon de la ligne 2",
        ),
    ],
)
def test_each_bad_cell_is_reported_by_row_and_column_and_nothing_is_written(world, tmp_path, row, expected):
    before = snapshot(world.call)
    message = refused(world, write(tmp_path, [GOOD, row]))
    assert expected in message
    assert "La base de données n'a pas été modifiée" in message
    assert snapshot(world.call) == before


def test_every_error_is_reported_not_only_the_first(world, tmp_path):
    rows = [
        "DA-1;Projet;Asso A (test import);;;Inconnu;Voté;1 000;1 000;06/02/2031;QN09898M",
        GOOD,
        "DA-2;Projet;Asso B (test import);;;Testville;Voté;abc;1 000;06/02/2031;QN09898M",
    ]
    message = refused(world, write(tmp_path, rows))
    assert "Ligne 2, colonne « Financeur »" in message
    assert "Ligne 4, colonne « Montant sollicité » : « abc » n'est pas un montant" in message
    assert "2 erreurs" in message
    assert not Application.objects.filter(call=world.call).exists()


def test_a_missing_required_column_is_named(world, tmp_path):
    header = "N° dossier;Intitulé du projet;Porteur;Financeur;Statut;Montant voté"
    message = refused(world, write(tmp_path, ["DA-1;Projet;Asso;Testville;Voté;1 000"], header=header))
    assert "colonne obligatoire « Montant sollicité » absente" in message
    assert not Application.objects.filter(call=world.call).exists()


def test_a_mapping_file_names_columns_with_other_headers(world, tmp_path):
    header = "Réf;Titre;Structure;Financeur;Statut;Demande;Montant voté"
    path = write(
        tmp_path, ["X-1;Projet mappé;Asso mappée (test import);Testville;Rejetée;900;"], header=header
    )
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"numero": "Réf", "intitule": "Titre", "montant_sollicite": "Demande"}))

    run(world, path, "--mapping", str(mapping))

    application = Application.objects.get(call=world.call, external_ref="X-1")
    assert application.title == "Projet mappé"
    assert application.funder_lines.get().requested_amount == Decimal("900.00")


def test_an_unknown_contract_or_call_is_a_clear_french_error(world):
    with pytest.raises(CommandError, match="Contrat introuvable : « inconnu »"):
        call_command("import_aap", str(CSV), "--contract", "inconnu", "--year", str(YEAR))
    with pytest.raises(CommandError, match=f"n'a pas d'appel à projets 2099 \\(appels existants : {YEAR}\\)"):
        call_command("import_aap", str(CSV), "--contract", world.contract.slug, "--year", "2099")


def test_an_archived_call_is_refused(tmp_path):
    world = build_world(archived=True)
    message = refused(world, CSV)
    assert "archivé" in message
    assert not Application.objects.filter(call=world.call).exists()


def test_a_new_association_has_one_name_and_one_siret_in_the_whole_file(world, tmp_path):
    rows = [
        "DA-1;Projet A;Asso A (test import);77990001810001;;Testville;Transmise;1 000;;;",
        "DA-2;Projet B;Asso B (test import);77990001810001;;Testville;Transmise;1 000;;;",
    ]
    message = refused(world, write(tmp_path, rows))
    assert (
        "Ligne 3, colonne « SIRET » : l'association « Asso B (test import) » n'a pas le même nom" in message
    )
    assert "ligne 2" in message
    assert not Partner.objects.filter(siret="77990001810001").exists()


def test_an_association_is_found_by_rna_then_by_exact_name(world, tmp_path):
    by_rna = factories.PartnerFactory(name="Nom officiel (test import)", rna="W443000777")
    by_name = factories.PartnerFactory(name="Les Amis du Parc (test import)")
    rows = [
        "DA-1;Projet A;Nom d'usage;;W443000777;Testville;Transmise;1 000;;;",
        "DA-2;Projet B;les amis du parc (TEST IMPORT);;;Testville;Transmise;1 000;;;",
    ]
    partners = Partner.objects.count()
    run(world, write(tmp_path, rows))
    assert Application.objects.get(call=world.call, external_ref="DA-1").partner == by_rna
    assert Application.objects.get(call=world.call, external_ref="DA-2").partner == by_name
    assert Partner.objects.count() == partners


def test_a_line_that_already_has_an_act_keeps_its_decision(world, tmp_path):
    run(world, CSV)
    line = FunderLine.objects.get(application__external_ref="DA-0001", funder=world.state)
    act = factories.GrantActFactory(line=line)
    before = snapshot(world.call)
    changed = tmp_path / "dauphin.csv"
    changed.write_text(
        CSV.read_text(encoding="utf-8-sig").replace(
            "Voté;12 000,00;10 000,00;10 000,00", "Voté;12 000,00;10 000,00;11 000,00"
        ),
        encoding="utf-8",
    )

    message = refused(world, changed)

    assert (
        "Ligne 2, colonne « Montant voté » : la ligne de « Préfecture (test import) » du dossier "
        f"« DA-0001 » a déjà un acte ({act.reference})"
    ) in message
    assert snapshot(world.call) == before


def test_a_windows_1252_export_with_commas_and_quotes(world, tmp_path):
    content = (
        "N° dossier,Intitulé du projet,Porteur,Financeur,Statut,Montant sollicité,Montant voté\n"
        'DA-1,"Lecture, écriture",Café des mots (test import),Testville,Votée,"1 234,56","1 200"\n'
    )
    path = tmp_path / "export.csv"
    path.write_bytes(content.encode("cp1252"))

    run(world, path)

    application = Application.objects.get(call=world.call, external_ref="DA-1")
    assert application.title == "Lecture, écriture"
    line = application.funder_lines.get()
    assert (line.requested_amount, line.voted_amount) == (Decimal("1234.56"), Decimal("1200.00"))


def test_funders_by_siret_and_extra_status_labels_from_the_mapping_file(world, tmp_path):
    world.city.partner.siret = "77990002610004"
    world.city.partner.save()
    path = write(tmp_path, ["DA-1;Projet;Asso (test import);;;779 900 026 10004;Validé comité;1 000;800;;"])
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"_statuts": {"Validé comité": "VOTE"}}), encoding="utf-8")

    run(world, path, "--mapping", str(mapping))

    line = FunderLine.objects.get(application__call=world.call, application__external_ref="DA-1")
    assert (line.funder, line.status, line.voted_amount) == (world.city, LineStatus.VOTED, Decimal("800.00"))
