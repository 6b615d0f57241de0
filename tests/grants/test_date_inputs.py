"""Les dates de l'appel à projets reviennent dans leur champ ``type="date"`` au format que le navigateur
lit (AAAA-MM-JJ) : sinon le champ s'affiche vide (« jj/mm/aaaa », ou « mm/dd/yyyy » en anglais)."""

import datetime

import pytest
from django.utils import timezone

from cdv.www.forms.grants_applications import ProjectForm
from cdv.www.forms.grants_committee import VoteForm


@pytest.mark.parametrize(
    "field",
    [ProjectForm.base_fields["start_date"], ProjectForm.base_fields["end_date"]],
    ids=["debut", "fin"],
)
def test_project_dates_come_back_in_their_date_field(field):
    html = field.widget.render("d", datetime.date(2026, 3, 1))
    assert 'type="date"' in html and 'value="2026-03-01"' in html, html


def test_the_vote_proposes_today_in_its_date_field():
    html = str(VoteForm()["decision_date"])
    today = timezone.localdate().isoformat()
    assert f'value="{today}"' in html, html
