"""Parcours 2 : le pilote complète le plan d'action sur la plateforme, puis invite le référent d'une
association partenaire. axe-core (WCAG 2.1 A/AA) et structure des titres sur chaque page visitée."""

import re

from django.urls import reverse

from .pages import describe_violations, heading_problems, run_axe

ENJEU_TITLE = "Emploi et activité économique"


def check_accessible(page):
    violations = run_axe(page)
    assert not violations, f"{page.url} :\n" + describe_violations(violations)
    problems = heading_problems(page)
    assert not problems, f"{page.url} : " + " ; ".join(problems)


def test_le_pilote_ajoute_objectif_et_action_puis_invite_une_association(page, site):
    data = site.data
    slug = data["contract"]
    page.goto(site.url(reverse("www:login")))
    check_accessible(page)
    page.fill("#id_username", data["pilot_email"])
    page.fill("#id_password", data["pilot_password"])
    with page.expect_navigation():
        page.press("#id_password", "Enter")
    assert "/connexion/" not in page.url

    page.goto(site.url(reverse("www:dashboard", args=[slug])))
    check_accessible(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Modifier le plan d'action").click()
    assert page.url.endswith(reverse("www:plan", args=[slug]))
    check_accessible(page)

    # Un objectif sous l'enjeu « Emploi et activité économique » : numéro suivant dans l'enjeu.
    section = page.locator(
        "section.plan-enjeu", has=page.get_by_role("heading", name=re.compile(ENJEU_TITLE))
    )
    before = section.locator(".plan-objectives > li").count()
    with page.expect_navigation():
        section.get_by_role("link", name=re.compile("Ajouter un objectif")).click()
    check_accessible(page)
    objective_title = "Rapprocher les employeurs des habitants (parcours 2)"
    page.fill("#id_title", objective_title)
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer").click()
    assert page.url.endswith(reverse("www:plan", args=[slug])), page.locator("main").inner_text()[:1500]
    item = page.locator(".plan-objectives > li", has_text=objective_title)
    assert item.locator(".code").first.inner_text() == f"1.{before + 1}"

    # Une action pour Bellevue et Le Sillon de Bretagne, avec un résumé en langage clair.
    with page.expect_navigation():
        item.get_by_role("link", name=re.compile("Ajouter une action")).click()
    check_accessible(page)
    page.fill("#id_title", "Forum de l'emploi au pied des immeubles")
    page.locator("#id_summary_plain").press_sequentially(
        "Des employeurs viennent dans le quartier. Ils recrutent."
    )
    page.wait_for_function("() => document.querySelector('#lisibilite').textContent.includes('sur 100')")
    page.get_by_label("Bellevue", exact=True).check()
    page.get_by_label("Le Sillon de Bretagne", exact=True).check()
    check_accessible(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer").click()
    assert page.url.endswith(reverse("www:plan", args=[slug])), page.locator("main").inner_text()[:1500]
    action = page.locator(".plan-actions > li", has_text="Forum de l'emploi au pied des immeubles")
    assert action.locator(".code").inner_text() == f"1.{before + 1}.1"
    assert "Bellevue" in action.inner_text() and "Le Sillon de Bretagne" in action.inner_text()

    # Inviter le référent d'une association partenaire.
    page.goto(site.url(reverse("www:invitations", args=[slug])))
    check_accessible(page)
    options = page.locator("#id_partner option").all_inner_texts()
    association = next((o for o in options if "ssociation" in o or "Tremplin" in o), options[-1])
    email = "referent.association.parcours2@example.org"
    page.fill("#id_email", email)
    page.select_option("#id_role", label="Référent partenaire (rédaction)")
    page.select_option("#id_partner", label=association)
    with page.expect_navigation():
        page.get_by_role("button", name="Envoyer l'invitation").click()
    assert f"Invitation envoyée à {email}." in page.locator(".messages").inner_text()
    assert email in page.locator("main").inner_text()
    check_accessible(page)

    # Le courriel d'invitation part vers le référent, avec un lien vers le site servi.
    mails = [m for m in site.mails() if email in m["To"]]
    assert len(mails) == 1, [m["To"] for m in site.mails()]
    body = mails[0].get_body(preferencelist=("plain",)).get_content()
    links = re.findall(r"https?://\S+/invitation/\S+/", body)
    assert links and links[0].startswith(site.base + "/invitation/"), body
    referent = page.context.browser.new_page()
    referent.goto(links[0])
    assert "mot de passe" in referent.locator("main").inner_text().lower()
    check_accessible(referent)
    referent.close()
