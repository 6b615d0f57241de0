"""Un nombre tapé à la française est lu pareil quelle que soit la langue du navigateur."""

from django.urls import reverse


def test_half_an_fte_typed_in_french_under_an_english_browser_is_saved_as_half(page_for, site):
    data = site.data
    page = page_for("editor", locale="en-US")
    page.goto(site.url(reverse("www:commitment_create", args=[data["contract"], data["partner"]])))
    page.select_option("#id_objective", index=1)
    title = "Permanence emploi à mi-temps (nombres)"
    page.fill("#id_title", title)
    page.check("input[name=scope][value=CONTRAT]")
    fte = page.locator("#id_fte_2025_DROIT_COMMUN")
    fte.click()
    page.keyboard.type("0,5")
    page.locator("#id_eur_2025_DROIT_COMMUN").click()
    page.keyboard.type("11 500,50 €")
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer").click()
    main = page.locator("main").inner_text()
    assert "Engagement enregistré en brouillon." in page.locator(".messages").inner_text(), main[:1500]
    row = page.locator("table tbody tr", has_text="2025").first
    assert row.locator("td[data-label=ETP]").inner_text().strip() == "0,5"
    assert row.locator("td[data-label=Montant]").inner_text().strip() == "11\u202f500,50\u00a0€"
