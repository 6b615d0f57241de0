import pytest
from cdv.commitments import xlsx
from tests.test_commitments_xlsx import template_for, forum, upload
from cdv.partners.models import Partner
pytestmark = pytest.mark.django_db

def test_debug(nantes):
    tremplin = Partner.objects.get(name__startswith="Association Tremplin Quartiers")
    template = template_for(nantes, tremplin)
    template.add(QPV="QN99999M")
    template.add(Intitulé="Autre", Objectif="9.9")
    print(upload(nantes, tremplin, template.bytes()).errors)
