import io, traceback
import pytest
from openpyxl import load_workbook
from cdv.commitments import xlsx
from tests.test_commitments_xlsx import template_for, forum, Template
from cdv.partners.models import Partner

pytestmark = pytest.mark.django_db


def test_debug(nantes):
    tremplin = Partner.objects.get(name__startswith="Association Tremplin Quartiers")
    t = template_for(nantes, tremplin)
    t.set(2, "Version", None)
    t.set(2, "ETP droit commun 2025", "beaucoup")
    data = t.bytes()
    wb = load_workbook(io.BytesIO(data), read_only=True)
    ws = wb["Engagements"]
    ws.reset_dimensions()
    for i, r in enumerate(ws.iter_rows()):
        print(i, [(c.value) for c in r][:16])
        if i > 3:
            break
    imp = xlsx._Importer(user=None, contract=nantes, partner=tremplin, errors=xlsx._Errors())
    try:
        rows = imp.read(wb)
        print(rows, imp.errors.sorted())
    except Exception:
        traceback.print_exc()
