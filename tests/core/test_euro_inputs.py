"""Un montant en euros revient dans son champ comme il s'écrit partout ailleurs : 0 ou 2 décimales."""

from decimal import Decimal

from cdv.core.numbers import FrenchDecimalField

NNBSP = "\u202f"


def test_an_amount_in_euros_shows_its_cents_in_the_field():
    """« 12 000,50 », pas « 12 000,5 » ; une autre grandeur garde « 0,5 »."""
    euros = FrenchDecimalField(label="Montant", unit="€", max_digits=12, decimal_places=2)
    assert f'value="12{NNBSP}000,50"' in euros.widget.render("eur", Decimal("12000.5"))
    assert f'value="12{NNBSP}000"' in euros.widget.render("eur", Decimal("12000.00"))
    assert f'value="12{NNBSP}000,50"' in euros.widget.render("eur", "12000.5")  # saisie renvoyée
    assert 'value="0,5"' in FrenchDecimalField(label="ETP", decimal_places=2).widget.render(
        "f", Decimal("0.50")
    )
    assert euros.clean(f"12{NNBSP}000,50") == Decimal("12000.50")
