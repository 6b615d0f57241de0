"""L'API de l'appel à projets : chaque rôle lit ce que cdv.grants.abilities lui ouvre, rien de plus."""

import pytest

from cdv.users.services import create_api_token

from .grants_world import ROLES

pytestmark = pytest.mark.django_db

API = "/api/v1/contracts"


def get(client, world, role, path):
    user = world["users"][role]
    headers = {}
    if user is not None:
        headers["HTTP_AUTHORIZATION"] = "Bearer " + create_api_token(user=user, name="test")[1]
    return client.get(f"{API}/{world['contract'].slug}{path}", **headers)


# Les dossiers listés, par rôle, dans l'appel ouvert (2025) : ni brouillon d'autrui, ni dossier
# d'un autre quartier ou d'un autre financeur.
OPEN_CALL_REFS = {
    "anonymous": set(),
    "pilot_other": set(),
    "pilot": {"2025-0001", "2025-0002", "2025-0003"},
    "referent_a": {"2025-0001", "2025-0003", "draft_a"},
    "referent_b": {"2025-0002"},
    "instructor_x": {"2025-0001"},
    "instructor_y": {"2025-0002", "2025-0003"},
    "correspondent_1": {"2025-0001"},
    "correspondent_2": {"2025-0002", "2025-0003"},
    "delegate": {"2025-0001"},
    "committee": {"2025-0001", "2025-0002", "2025-0003"},
    "editor": set(),
    "evaluator": set(),
}


def refs(world, response):
    assert response.status_code == 200, response.content
    draft = f"brouillon-{world['draft_a'].pk}"
    return {("draft_a" if i["ref"] == draft else i["ref"]) for i in response.json()["items"]}


@pytest.mark.parametrize("role", ROLES)
def test_applications_listed_by_role(client, grants_world, role):
    response = get(client, grants_world, role, "/calls/2025/applications")
    assert refs(grants_world, response) == OPEN_CALL_REFS[role]


@pytest.mark.parametrize("role", ROLES)
def test_an_application_opens_exactly_for_those_who_list_it(client, grants_world, role):
    for ref in ("2025-0001", "2025-0002", "2025-0003", f"brouillon-{grants_world['draft_a'].pk}"):
        response = get(client, grants_world, role, f"/calls/2025/applications/{ref}")
        key = "draft_a" if ref.startswith("brouillon-") else ref
        expected = 200 if key in OPEN_CALL_REFS[role] else 404
        assert response.status_code == expected, (ref, response.content)
        if expected == 404:
            assert "Aucun dossier" in response.json()["detail"]


@pytest.mark.parametrize("role", ROLES)
def test_calls_in_preparation_are_for_the_pilot(client, grants_world, role):
    years = [c["year"] for c in get(client, grants_world, role, "/calls").json()["items"]]
    draft = get(client, grants_world, role, "/calls/2026")
    if role == "pilot":
        assert years == [2026, 2025, 2024]
        assert draft.status_code == 200
    else:
        assert years == [2025, 2024]
        assert draft.status_code == 404


def test_anonymous_sees_only_voted_lines_after_the_vote(client, grants_world):
    response = get(client, grants_world, "anonymous", "/calls/2024/applications")
    items = response.json()["items"]
    assert [i["number"] for i in items] == ["2024-0001"]  # le dossier refusé n'apparaît pas
    (item,) = items
    assert item["complete"] is False
    assert [(line["funder"], line["status"]) for line in item["funder_lines"]] == [("Financeur X", "VOTE")]
    line = item["funder_lines"][0]
    assert line["voted_amount"] == "1500.00"
    assert line["requested_amount"] is None and line["comment"] is None and line["proposed_amount"] is None
    detail = get(client, grants_world, "anonymous", "/calls/2024/applications/2024-0001").json()
    assert detail["budget"] is None and detail["objectives"] is None
    assert "SECRET" not in str(detail) and "AVIS" not in str(detail)
    assert get(client, grants_world, "anonymous", "/calls/2024/applications/2024-0002").status_code == 404
    assert response["Cache-Control"] == "public, max-age=300"


def test_the_association_reads_its_application_without_instruction_data(client, grants_world):
    detail = get(client, grants_world, "referent_a", "/calls/2025/applications/2025-0001")
    assert detail["Cache-Control"] == "private, no-store"
    data = detail.json()
    assert data["complete"] is True
    assert [b["label"] for b in data["budget"]] == ["Animatrice A"]
    assert {line["requested_amount"] for line in data["funder_lines"]} == {"2000.00"}
    assert all(line["proposed_amount"] is None and line["comment"] is None for line in data["funder_lines"])
    draft = get(
        client, grants_world, "referent_a", f"/calls/2025/applications/brouillon-{grants_world['draft_a'].pk}"
    )
    assert draft.json()["status"] == "BROUILLON" and draft.json()["number"] == ""
    assert [b["label"] for b in draft.json()["budget"]] == ["SECRET-BROUILLON"]


def test_the_association_sees_each_funders_decision_after_the_vote(client, grants_world):
    data = get(client, grants_world, "referent_a", "/calls/2024/applications/2024-0001").json()
    assert data["complete"] is True
    lines = {line["funder"]: line for line in data["funder_lines"]}
    assert lines["Financeur X"]["voted_amount"] == "1500.00"
    assert lines["Financeur Y"]["status"] == "REJETE" and lines["Financeur Y"]["decision_date"]
    assert all(line["comment"] is None for line in lines.values())


@pytest.mark.parametrize("role", ["instructor_x", "delegate", "correspondent_1"])
def test_instruction_is_joint_page_and_api_show_every_line_to_those_who_instruct(client, grants_world, role):
    """Instruction conjointe : qui prend part à l'instruction du dossier lit l'avis de chaque
    financeur, dans la page comme dans l'API (une seule règle, ``view_instruction``)."""
    expected = {"AVIS-Financeur X", "AVIS-Préfecture de test"}
    data = get(client, grants_world, role, "/calls/2025/applications/2025-0001").json()
    assert {line["comment"] for line in data["funder_lines"]} == expected
    assert {line["proposed_amount"] for line in data["funder_lines"]} == {"1234.00"}
    client.force_login(grants_world["users"][role])
    page = client.get(
        f"/contrats/{grants_world['contract'].slug}/aap/2025/dossiers/{grants_world['sub_a'].pk}/instruction/"
    )
    assert page.status_code == 200
    assert all(comment in page.content.decode() for comment in expected)


def test_the_pilot_and_the_committee_read_every_line(client, grants_world):
    for role in ("pilot", "committee"):
        data = get(client, grants_world, role, "/calls/2025/applications/2025-0001").json()
        assert {line["comment"] for line in data["funder_lines"]} == {
            "AVIS-Financeur X",
            "AVIS-Préfecture de test",
        }


def test_call_detail_and_unknown_call(client, grants_world):
    data = get(client, grants_world, "anonymous", "/calls/2025").json()
    assert [f["partner"] for f in data["funders"]] == ["Préfecture de test", "Financeur X", "Financeur Y"]
    assert data["voted"] is False
    missing = get(client, grants_world, "anonymous", "/calls/2099")
    assert missing.status_code == 404 and "Aucun appel" in missing.json()["detail"]
    bad = get(client, grants_world, "anonymous", "/calls/abc")
    assert bad.status_code == 422 and bad.json()["errors"][0]["parametre"] == "year"


def test_list_queries_are_bounded(client, grants_world, django_assert_max_num_queries):
    with django_assert_max_num_queries(20):
        response = get(client, grants_world, "pilot", "/calls/2025/applications")
    assert response.json()["count"] == 3
