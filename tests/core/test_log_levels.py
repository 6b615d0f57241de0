"""Le journal : ce qui s'y écrit au niveau par défaut (INFO)."""

import logging

from cdv.commitments.documents import CSS_PATH, _compose_pdf


def test_composing_a_pdf_writes_no_progress_lines(caplog):
    """WeasyPrint annonce au niveau INFO chaque étape et chaque page d'un PDF : 25 lignes par bilan
    annuel dans le journal du serveur et dans la sortie de ``build_annual_report``. Elles n'y sont
    plus ; ses avertissements, si."""
    with caplog.at_level(logging.INFO):
        pdf = _compose_pdf('<html lang="fr"><title>Essai</title><p>Bonjour</p></html>', CSS_PATH)
    assert pdf.startswith(b"%PDF-")
    assert [
        record.name for record in caplog.records if record.name.startswith(("weasyprint", "fontTools"))
    ] == []
    assert logging.getLogger("weasyprint").isEnabledFor(logging.WARNING)
