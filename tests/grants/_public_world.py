"""Un contrat dont l'appel a été voté, pour les pages publiques des projets financés : des projets
financés (dans un quartier, sur deux quartiers, sur tout le territoire), et tout ce qui ne doit
jamais être public (brouillon, ligne rejetée, appel pas encore voté, autre contrat, avis, budget,
montant demandé, nom d'une personne)."""

import html
import re
from decimal import Decimal
from types import SimpleNamespace

from cdv.partners.enums import PartnerKind
from cdv.users.enums import Role
from tests import factories

# Ce qu'aucune page publique ne montre, quel que soit le visiteur.
SECRETS = [
    "Brouillon Omega",  # un brouillon (même avec une ligne « votée »)
    "Projet refusé Zeta",  # toutes ses lignes rejetées
    "Projet pas encore voté Kappa",  # appel dont le comité ne s'est pas tenu
    "Projet d'ailleurs Sigma",  # un autre contrat
    "Projet archivé Lambda",  # appel archivé
    "AVIS-SECRET-INSTRUCTEUR",  # commentaire d'instruction
    "SECRET-BUDGET",  # une ligne de budget
    "Camille Présidente",  # le nom de la personne qui a déposé
    "7\u202f777",  # un montant demandé (ligne rejetée)
    "14\u202f321",  # un montant demandé (ligne votée)
]


def text(response) -> str:
    body = response.content.decode()
    return html.unescape(re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", body)))


def main(response) -> str:
    """Le contenu de la page, du titre à la fin (sans l'en-tête propre à chaque personne)."""
    body = response.content.decode()
    return body[body.index("<h1") : body.index("</main>")]


def _voted_application(
    call, partner, *, title, qpvs=None, scope=None, enjeu=None, objective=None, action=None, **kw
):
    extra = {"scope": scope} if scope else {}
    return factories.ApplicationFactory(
        call=call,
        partner=partner,
        decided=True,
        title=title,
        qpvs=qpvs,
        enjeu=enjeu,
        objective=objective,
        action=action,
        **extra,
        **kw,
    )


def build_world():
    alpha = factories.QpvFactory(name="Quartier Alpha")
    beta = factories.QpvFactory(name="Quartier Beta")
    contract = factories.ContractFactory(qpvs=[alpha, beta])
    enjeu = factories.EnjeuFactory(contract=contract, title="Vivre ensemble", slug="vivre-ensemble")
    other_enjeu = factories.EnjeuFactory(contract=contract, title="Emploi", slug="emploi")
    objective = factories.ObjectiveFactory(enjeu=enjeu, title="Créer du lien")
    action = factories.ActionFactory(objective=objective, title="Jardins partagés")
    state = factories.PartnerFactory(kind=PartnerKind.STATE, name="Préfecture test")
    metro = factories.PartnerFactory(kind=PartnerKind.EPCI, name="Métropole test")
    caf = factories.PartnerFactory(kind=PartnerKind.OTHER, name="Caisse test")
    lilas = factories.PartnerFactory(kind=PartnerKind.ASSOCIATION, name="Association Les Lilas")
    tilleuls = factories.PartnerFactory(kind=PartnerKind.ASSOCIATION, name="Association Les Tilleuls")

    call = factories.CallFactory(contract=contract, voted=True)
    f_state = factories.CallFunderFactory(call=call, partner=state, order=0, label="Programme 147")
    f_metro = factories.CallFunderFactory(call=call, partner=metro, order=1)
    f_caf = factories.CallFunderFactory(call=call, partner=caf, order=2)

    # Dans le quartier Alpha : l'État a signé son acte, la Métropole a tout versé, la CAF a refusé.
    garden = _voted_application(
        call,
        lilas,
        title="Jardin des Lilas",
        summary="Un jardin cultivé ensemble au pied des immeubles.",
        qpvs=[alpha],
        enjeu=enjeu,
        objective=objective,
        action=action,
        sworn_name="Camille Présidente",
    )
    garden_state = factories.FunderLineFactory(
        application=garden,
        funder=f_state,
        voted=True,
        voted_amount=Decimal("12500"),
        requested_amount=Decimal("14321"),
        comment="AVIS-SECRET-INSTRUCTEUR",
        opinion="FAVORABLE",
    )
    garden_metro = factories.FunderLineFactory(
        application=garden, funder=f_metro, voted=True, voted_amount=Decimal("3000")
    )
    factories.FunderLineFactory(
        application=garden, funder=f_caf, rejected=True, requested_amount=Decimal("7777")
    )
    factories.BudgetLineFactory(application=garden, label="SECRET-BUDGET")
    factories.GrantActFactory(line=garden_state, signed=True)
    factories.PaymentFactory(line=garden_metro, amount=Decimal("3000"))

    # Sur deux quartiers, voté seulement.
    both = _voted_application(
        call, tilleuls, title="Médiation Alpha Beta", qpvs=[alpha, beta], enjeu=other_enjeu
    )
    factories.FunderLineFactory(application=both, funder=f_metro, voted=True, voted_amount=Decimal("2000"))
    # Dans le quartier Beta seulement.
    beta_only = _voted_application(call, tilleuls, title="Fête de Beta", qpvs=[beta], enjeu=other_enjeu)
    factories.FunderLineFactory(application=beta_only, funder=f_caf, voted=True, voted_amount=Decimal("1000"))
    # Sur tout le territoire.
    whole = _voted_application(
        call, lilas, title="Radio des quartiers", scope="TERRITOIRE", qpvs=[], enjeu=enjeu, action=action
    )
    factories.FunderLineFactory(application=whole, funder=f_state, voted=True, voted_amount=Decimal("1500"))

    # Jamais publics.
    draft = factories.ApplicationFactory(
        call=call, partner=lilas, title="Brouillon Omega", qpvs=[alpha], enjeu=enjeu
    )
    factories.FunderLineFactory(application=draft, funder=f_state, voted=True, voted_amount=Decimal("999"))
    refused = _voted_application(
        call, tilleuls, title="Projet refusé Zeta", qpvs=[alpha], enjeu=enjeu, action=action
    )
    factories.FunderLineFactory(application=refused, funder=f_state, rejected=True)
    pending_call = factories.CallFactory(contract=contract, closed=True)
    pending = _voted_application(
        pending_call, lilas, title="Projet pas encore voté Kappa", qpvs=[alpha], enjeu=enjeu, action=action
    )
    factories.FunderLineFactory(application=pending, voted=True)
    archived_call = factories.CallFactory(contract=contract, voted=True, archived=True)
    archived = _voted_application(
        archived_call, lilas, title="Projet archivé Lambda", qpvs=[alpha], enjeu=enjeu, action=action
    )
    factories.FunderLineFactory(application=archived, voted=True)
    elsewhere = factories.FunderLineFactory(
        application=factories.ApplicationFactory(
            call=factories.CallFactory(voted=True),
            decided=True,
            title="Projet d'ailleurs Sigma",
            qpvs=[alpha],
        ),
        voted=True,
    )

    def member(role, **kwargs):
        return factories.MembershipFactory(contract=contract, role=role, **kwargs).user

    users = {
        "pilote": member(Role.PILOT),
        "instructeur": member(Role.INSTRUCTOR, partner=state),
        "référent": member(Role.APPLICANT, partner=lilas),
        "correspondant": member(Role.CORRESPONDENT, qpv=alpha),
        "comité": member(Role.COMMITTEE_MEMBER),
    }
    return SimpleNamespace(
        contract=contract,
        alpha=alpha,
        beta=beta,
        enjeu=enjeu,
        other_enjeu=other_enjeu,
        objective=objective,
        action=action,
        call=call,
        funders=(f_state, f_metro, f_caf),
        garden=garden,
        both=both,
        beta_only=beta_only,
        whole=whole,
        pending_call=pending_call,
        archived_call=archived_call,
        elsewhere=elsewhere,
        lilas=lilas,
        users=users,
    )
