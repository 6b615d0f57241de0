"""Éditeur du plan d'action par le pilote, sur la plateforme : numérotation automatique, quartiers
du contrat seulement, archivage, export et import XLSX tout-ou-rien, droits."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from cdv.commitments.enums import CommitmentScope
from cdv.commitments.models import Commitment
from cdv.plan import services
from cdv.plan.enums import ActionScope
from cdv.plan.models import Action, Enjeu, Objective
from cdv.plan.spreadsheet import export_plan_xlsx, import_plan_xlsx
from cdv.users.enums import Role
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


@pytest.fixture
def pilot(nantes):
    return factories.MembershipFactory(contract=nantes, role=Role.PILOT).user


@pytest.fixture
def enjeu(nantes):
    return Enjeu.objects.get(contract=nantes, number=1)


def qpv(contract, name):
    return contract.qpvs.get(name=name)


def url(name, contract, *args):
    return reverse(f"www:{name}", args=[contract.slug, *args])


def test_objective_and_action_numbers_follow_and_moves_renumber(client, nantes, pilot, enjeu):
    client.force_login(pilot)
    before = enjeu.objectives.count()
    response = client.post(url("plan_objective_create", nantes, enjeu.pk), {"title": "Objectif ajouté"})
    assert response.status_code == 302
    objective = enjeu.objectives.get(title="Objectif ajouté")
    assert objective.number == before + 1
    bellevue = qpv(nantes, "Bellevue")
    for title in ["Première", "Deuxième"]:
        response = client.post(
            url("plan_action_create", nantes, objective.pk),
            {"title": title, "summary_plain": "Un résumé court.", "qpvs": [bellevue.pk], "status": "PREVUE"},
        )
        assert response.status_code == 302, response.content.decode()[:2000]
    codes = dict(objective.actions.values_list("title", "code"))
    assert codes == {"Première": f"1.{before + 1}.1", "Deuxième": f"1.{before + 1}.2"}

    second = objective.actions.get(title="Deuxième")
    assert client.post(url("plan_move", nantes, "action", second.pk, "monter")).status_code == 302
    codes = dict(objective.actions.values_list("title", "code"))
    assert codes == {"Première": f"1.{before + 1}.2", "Deuxième": f"1.{before + 1}.1"}

    # L'objectif monte d'un cran : il échange son numéro avec le précédent, ses actions suivent.
    assert client.post(url("plan_move", nantes, "objectif", objective.pk, "monter")).status_code == 302
    objective.refresh_from_db()
    assert objective.number == before
    assert set(objective.actions.values_list("code", flat=True)) == {f"1.{before}.1", f"1.{before}.2"}
    numbers = list(enjeu.objectives.order_by("number").values_list("number", flat=True))
    assert numbers == list(range(1, before + 2))


def test_an_action_cites_only_quarters_of_its_contract(client, nantes, pilot, enjeu):
    other = factories.QpvFactory(name="Quartier d'ailleurs")
    objective = enjeu.objectives.first()
    client.force_login(pilot)
    response = client.post(
        url("plan_action_create", nantes, objective.pk),
        {"title": "Hors contrat", "summary_plain": "Un résumé.", "qpvs": [other.pk], "status": "PREVUE"},
    )
    assert response.status_code == 422
    assert not Action.objects.filter(title="Hors contrat").exists()
    with pytest.raises(ValidationError):
        services.create_action(
            objective=objective, title="Hors contrat", summary_plain="Résumé.", qpvs=[other]
        )


def test_all_quarters_of_the_contract_in_one_click(client, nantes, pilot, enjeu):
    objective = enjeu.objectives.first()
    client.force_login(pilot)
    response = client.post(
        url("plan_action_create", nantes, objective.pk),
        {"title": "Partout", "summary_plain": "Un résumé.", "all_qpvs": "on", "status": "PREVUE"},
    )
    assert response.status_code == 302
    action = Action.objects.get(title="Partout")
    assert action.scope == ActionScope.METROPOLITAN and not action.qpvs.exists()


@pytest.mark.parametrize("who", ["reader", "editor", "other_pilot", "anonymous"])
def test_only_the_pilots_of_the_contract_edit_the_plan(client, nantes, enjeu, who):
    partner = factories.PartnerFactory()
    factories.SignatoryFactory(contract=nantes, partner=partner)
    if who == "reader":
        client.force_login(
            factories.MembershipFactory(contract=nantes, role=Role.READER, partner=partner).user
        )
    elif who == "editor":
        client.force_login(
            factories.MembershipFactory(contract=nantes, role=Role.EDITOR, partner=partner).user
        )
    elif who == "other_pilot":
        client.force_login(factories.MembershipFactory(role=Role.PILOT).user)
    before = enjeu.objectives.count()
    for name, args in [("plan", ()), ("plan_export", ()), ("plan_objective_create", (enjeu.pk,))]:
        response = client.get(url(name, nantes, *args))
        assert response.status_code in {302, 403, 404}, name
    objective = enjeu.objectives.order_by("number").last()
    action = services.create_action(
        objective=objective, title="Cible", summary_plain="Résumé.", all_qpvs=True
    )
    posts = [
        ("plan_objective_create", (enjeu.pk,), {"title": "Intrus"}),
        ("plan_enjeu_create", (), {"title": "Intrus"}),
        ("plan_action_create", (objective.pk,), {"title": "Intrus", "summary_plain": "x", "all_qpvs": "on"}),
        ("plan_action_edit", (action.pk,), {"title": "Intrus", "summary_plain": "x", "all_qpvs": "on"}),
        ("plan_move", ("objectif", objective.pk, "monter"), {}),
        ("plan_archive", ("action", action.pk), {}),
        ("plan_delete", ("action", action.pk), {"confirm": "oui"}),
    ]
    for name, args, data in posts:
        response = client.post(url(name, nantes, *args), data)
        assert response.status_code in {302, 403, 404}, name
        if response.status_code == 302:
            assert "/connexion/" in response["Location"], name
    action.refresh_from_db()
    objective.refresh_from_db()
    assert enjeu.objectives.count() == before
    assert (action.title, action.archived_at) == ("Cible", None)
    assert objective.number == before


def test_an_archived_action_leaves_public_pages_and_commitment_choices(client, nantes, pilot, enjeu):
    objective = enjeu.objectives.first()
    action = services.create_action(
        objective=objective, title="Action à archiver", summary_plain="Résumé.", all_qpvs=True
    )
    partner = factories.PartnerFactory()
    factories.SignatoryFactory(contract=nantes, partner=partner)
    Commitment.objects.create(
        contract=nantes,
        partner=partner,
        objective=objective,
        action=action,
        title="Engagement lié",
        scope=CommitmentScope.CONTRACT,
    )
    client.force_login(pilot)
    # Quelque chose s'y réfère : pas de suppression, l'archivage à la place.
    client.post(url("plan_delete", nantes, "action", action.pk), {"confirm": "oui"})
    assert Action.objects.filter(pk=action.pk).exists()
    assert client.post(url("plan_archive", nantes, "action", action.pk)).status_code == 302
    client.logout()
    enjeu_page = client.get(url("enjeu", nantes, enjeu.slug)).content.decode()
    assert "Action à archiver" not in enjeu_page
    assert client.get(url("action", nantes, action.pk)).status_code == 404
    bellevue = qpv(nantes, "Bellevue")
    assert "Action à archiver" not in client.get(url("qpv", nantes, bellevue.code)).content.decode()
    client.force_login(pilot)
    outline = client.get(url("plan", nantes)).content.decode()
    assert "Action à archiver" in outline and "Restaurer" in outline
    form = client.get(url("commitment_create", nantes, partner.slug)).content.decode()
    assert "Action à archiver" not in form
    assert client.post(url("plan_restore", nantes, "action", action.pk)).status_code == 302
    client.logout()
    assert "Action à archiver" in client.get(url("enjeu", nantes, enjeu.slug)).content.decode()


def test_an_unreferenced_action_is_deleted_after_confirmation(client, nantes, pilot, enjeu):
    objective = enjeu.objectives.first()
    action = services.create_action(
        objective=objective, title="À supprimer", summary_plain="Résumé.", all_qpvs=True
    )
    client.force_login(pilot)
    assert client.get(url("plan_delete", nantes, "action", action.pk)).status_code == 200
    client.post(url("plan_delete", nantes, "action", action.pk))  # sans confirmation : rien
    assert Action.objects.filter(pk=action.pk).exists()
    assert client.post(url("plan_delete", nantes, "action", action.pk), {"confirm": "oui"}).status_code == 302
    assert not Action.objects.filter(pk=action.pk).exists()


def _snapshot(contract):
    return (
        list(Enjeu.objects.filter(contract=contract).values_list("number", "title", "summary_plain")),
        list(
            Objective.objects.filter(enjeu__contract=contract).values_list(
                "pk", "number", "title", "archived_at"
            )
        ),
        sorted(
            Action.objects.for_contract(contract).values_list(
                "pk", "code", "title", "scope", "pilot_partner", "start_on", "end_on", "archived_at", "qpvs"
            ),
            key=str,
        ),
        Action.history.count() + Objective.history.count() + Enjeu.history.count(),
    )


def test_xlsx_round_trip_changes_nothing(nantes):
    objective = Objective.objects.filter(enjeu__contract=nantes).first()
    services.archive(
        item=services.create_action(
            objective=objective, title="Archivée", summary_plain="Résumé.", qpvs=[qpv(nantes, "Bellevue")]
        )
    )
    data = export_plan_xlsx(contract=nantes)
    before = _snapshot(nantes)
    first = import_plan_xlsx(contract=nantes, fileobj=io.BytesIO(data))
    assert first.created == 0 and first.updated == 0 and first.unchanged > 0
    import_plan_xlsx(contract=nantes, fileobj=io.BytesIO(data))
    assert _snapshot(nantes) == before


def _edited(contract, edit):
    workbook = load_workbook(io.BytesIO(export_plan_xlsx(contract=contract)))
    edit(workbook["Actions"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def test_xlsx_import_creates_and_updates_by_code(nantes):
    def edit(ws):
        ws["B2"] = "Intitulé changé par le tableur"
        ws.append(["1.1.99", "Nouvelle action", "Un résumé clair.", "", "Tous les QPV du contrat"])

    first_code = export_first_action_code(nantes)
    report = import_plan_xlsx(contract=nantes, fileobj=_edited(nantes, edit))
    assert report.created == 1 and report.updated == 1
    assert Action.objects.for_contract(nantes).get(code=first_code).title == "Intitulé changé par le tableur"
    assert Action.objects.for_contract(nantes).get(code="1.1.99").scope == ActionScope.METROPOLITAN


def export_first_action_code(contract):
    workbook = load_workbook(io.BytesIO(export_plan_xlsx(contract=contract)))
    return workbook["Actions"]["A2"].value


@pytest.mark.parametrize(
    ("cell", "value", "column"),
    [
        ("E", "QP999999", "Quartiers (codes QPV)"),
        ("I", "31/02/2025", "Début"),
        ("B", "", "Intitulé"),
    ],
)
def test_a_bad_row_is_refused_with_its_row_and_column_and_nothing_changes(nantes, cell, value, column):
    def edit(ws):
        ws["B2"] = "Changement qui ne doit pas passer"
        ws[f"{cell}3"] = value

    before = _snapshot(nantes)
    with pytest.raises(ValidationError) as refused:
        import_plan_xlsx(contract=nantes, fileobj=_edited(nantes, edit))
    messages = " ".join(refused.value.messages)
    assert "Feuille « Actions », ligne 3" in messages and f"colonne « {column} »" in messages, messages
    assert _snapshot(nantes) == before


def test_the_import_page_refuses_a_bad_file_in_french(client, nantes, pilot):
    client.force_login(pilot)

    def edit(ws):
        ws["E2"] = "QP999999"

    upload = _edited(nantes, edit)
    upload.name = "plan.xlsx"
    response = client.post(url("plan_import", nantes), {"file": upload})
    assert response.status_code == 422
    assert "QP999999" in response.content.decode() and "est inconnu" in response.content.decode()


def test_the_export_is_downloaded_by_the_pilot(client, nantes, pilot):
    client.force_login(pilot)
    response = client.get(url("plan_export", nantes))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Enjeux", "Objectifs", "Actions"]


def test_the_outline_page_costs_a_bounded_number_of_queries(
    client, nantes, pilot, django_assert_max_num_queries
):
    objective = Objective.objects.filter(enjeu__contract=nantes).first()
    for n in range(15):
        services.create_action(
            objective=objective, title=f"Charge {n}", summary_plain="Résumé.", all_qpvs=True
        )
    client.force_login(pilot)
    with django_assert_max_num_queries(15):
        response = client.get(url("plan", nantes))
    assert response.status_code == 200
    assert "Charge 14" in response.content.decode()


def test_plan_history_reads_in_words(client, nantes, pilot, enjeu):
    objective = enjeu.objectives.first()
    client.force_login(pilot)
    action = services.create_action(
        objective=objective, title="Racontée", summary_plain="Résumé.", qpvs=[qpv(nantes, "Bellevue")]
    )
    response = client.post(
        url("plan_action_edit", nantes, action.pk),
        {
            "title": "Racontée",
            "summary_plain": "Résumé.",
            "qpvs": [qpv(nantes, "Bellevue").pk, qpv(nantes, "Le Sillon de Bretagne").pk],
            "status": "EN_COURS",
        },
    )
    assert response.status_code == 302
    page = client.get(url("plan_history", nantes, "action", action.pk)).content.decode()
    assert "« Prévue » → « En cours »" in page.replace("&laquo;", "«").replace("&raquo;", "»").replace(
        "&#x27;", "'"
    )
    assert "Le Sillon de Bretagne" in page


def test_an_archived_objective_stays_chosen_in_the_commitment_it_already_carries(nantes):
    from cdv.www.forms.commitments import CommitmentForm

    objective = services.create_objective(enjeu=Enjeu.objects.get(contract=nantes, number=2), title="Ancien")
    services.archive(item=objective)
    new = CommitmentForm(contract=nantes, years=[2025])
    assert objective not in new.fields["objective"].queryset
    editing = CommitmentForm(contract=nantes, years=[2025], initial={"objective": objective.pk})
    assert objective in editing.fields["objective"].queryset


def test_an_archived_action_leaves_the_public_api(client, nantes):
    objective = Objective.objects.filter(enjeu__contract=nantes).first()
    action = services.create_action(
        objective=objective, title="Archivée API", summary_plain="R.", all_qpvs=True
    )
    base = f"/api/v1/contracts/{nantes.slug}"
    assert client.get(f"{base}/actions/{action.pk}").status_code == 200
    services.archive(item=action)
    assert client.get(f"{base}/actions/{action.pk}").status_code == 404
    assert action.code not in client.get(f"{base}/objectives/{objective.code}").json()["actions"]
    services.archive(item=objective)
    assert client.get(f"{base}/objectives/{objective.code}").status_code == 404


def test_the_cahier_template_lists_leave_out_archived_actions(nantes):
    from cdv.commitments.xlsx_template import build_template_xlsx

    partner = factories.PartnerFactory()
    factories.SignatoryFactory(contract=nantes, partner=partner)
    objective = Objective.objects.filter(enjeu__contract=nantes).first()
    action = services.create_action(
        objective=objective, title="Archivée du modèle", summary_plain="R.", all_qpvs=True
    )

    def listed():
        workbook = load_workbook(io.BytesIO(build_template_xlsx(contract=nantes, partner=partner)))
        lists = workbook["Listes"]
        return {str(cell.value) for row in lists.iter_rows() for cell in row if cell.value}

    assert any("Archivée du modèle" in v for v in listed())
    services.archive(item=action)
    assert not any("Archivée du modèle" in v for v in listed())


def test_the_pilot_adds_and_renames_an_enjeu(client, nantes, pilot):
    client.force_login(pilot)
    count = Enjeu.objects.filter(contract=nantes).count()
    response = client.post(url("plan_enjeu_create", nantes), {"title": "Santé et accès aux soins"})
    assert response.status_code == 302
    enjeu = Enjeu.objects.get(contract=nantes, title="Santé et accès aux soins")
    assert (enjeu.number, enjeu.slug) == (count + 1, "sante-et-acces-aux-soins")
    response = client.post(url("plan_enjeu_edit", nantes, enjeu.pk), {"title": "Santé"})
    assert response.status_code == 302
    enjeu.refresh_from_db()
    assert (enjeu.title, enjeu.number) == ("Santé", count + 1)


def test_the_import_page_previews_before_writing(client, nantes, pilot):
    client.force_login(pilot)

    def edit(ws):
        ws.append(["1.1.98", "Action importée", "Un résumé clair.", "", "Tous les QPV du contrat"])

    upload = _edited(nantes, edit)
    upload.name = "plan.xlsx"
    response = client.post(url("plan_import", nantes), {"file": upload})
    assert response.status_code == 200
    assert "Aperçu" in response.content.decode() and "Action 1.1.98 : créé" in response.content.decode()
    assert not Action.objects.for_contract(nantes).filter(code="1.1.98").exists()
    upload.seek(0)
    response = client.post(url("plan_import", nantes), {"file": upload, "confirm": "oui"})
    assert response.status_code == 302
    assert Action.objects.for_contract(nantes).get(code="1.1.98").title == "Action importée"
