"""Les rôles d'une personne dans les contrats : la seule lecture des appartenances (``Membership``).

Toutes les fonctions de droits (``cdv/*/abilities.py``) bâtissent leurs réponses sur ces
prédicats ; les vues, l'API et les gabarits ne les appellent jamais eux-mêmes (garde :
``tests/security/test_roles_guard.py``).

Les appartenances d'une personne sont lues une fois par requête (une requête SQL) et gardées sur
l'objet ``user`` ; un service qui ajoute ou retire un rôle appelle ``forget_memberships(user)``.
L'opérateur de l'instance (superutilisateur) a partout les droits d'un pilote.
"""

from .enums import Role

CACHE_ATTRIBUTE = "_roles_memberships"
CROSS_CACHE_ATTRIBUTE = "_roles_cross_contract_partners"

# Rôles exercés au nom d'un partenaire qui lisent son non-publié (un membre de conseil citoyen, non).
PARTNER_READ_ROLES = {Role.EDITOR, Role.READER}


def _contract_id(contract) -> int | None:
    return contract.pk if hasattr(contract, "pk") else contract


def _all_rows(user) -> dict[int, list[tuple[str, int | None, int | None]]]:
    """{contrat: [(rôle, partenaire, quartier)]} de ``user`` ; lu une fois, gardé sur l'objet user."""
    if not user.is_authenticated or not hasattr(user, "memberships"):
        return {}
    cache = getattr(user, CACHE_ATTRIBUTE, None)
    if cache is None:
        cache = {}
        rows = user.memberships.values_list("contract_id", "role", "partner_id", "qpv_id")
        for contract_id, role, partner_id, qpv_id in rows:
            cache.setdefault(contract_id, []).append((role, partner_id, qpv_id))
        setattr(user, CACHE_ATTRIBUTE, cache)
    return cache


def _all_memberships(user) -> dict[int, list[tuple[str, int | None]]]:
    """{contrat: [(rôle, partenaire)]} de ``user``."""
    return {
        contract_id: [(role, pid) for role, pid, _ in rows] for contract_id, rows in _all_rows(user).items()
    }


def forget_memberships(user) -> None:
    """Oublie les rôles gardés sur ``user`` (après l'ajout ou le retrait d'une appartenance)."""
    if user is not None and hasattr(user, CACHE_ATTRIBUTE):
        delattr(user, CACHE_ATTRIBUTE)
    if user is not None and hasattr(user, CROSS_CACHE_ATTRIBUTE):
        delattr(user, CROSS_CACHE_ATTRIBUTE)


def memberships(user, contract) -> list[tuple[str, int | None]]:
    """Rôles (rôle, partenaire) de ``user`` dans ``contract`` (un contrat ou son numéro)."""
    return [(role, pid) for role, pid, _ in _all_rows(user).get(_contract_id(contract), [])]


def memberships_with_qpv(user, contract) -> list[tuple[str, int | None, int | None]]:
    """Rôles (rôle, partenaire, quartier) de ``user`` dans ``contract``."""
    return _all_rows(user).get(_contract_id(contract), [])


def is_operator(user) -> bool:
    """L'opérateur de l'instance (superutilisateur)."""
    return bool(user.is_authenticated and user.is_superuser)


def uses_back_office(user) -> bool:
    """Accès au back-office (équipe) : l'opérateur et les pilotes à qui il l'a ouvert."""
    return bool(user.is_authenticated and user.is_staff)


def is_pilot(user, contract) -> bool:
    """Pilote du contrat (ou opérateur de l'instance)."""
    return is_operator(user) or any(role == Role.PILOT for role, _ in memberships(user, contract))


def is_member(user, contract) -> bool:
    """Membre du contrat, quel que soit son rôle (ou opérateur)."""
    return is_pilot(user, contract) or bool(memberships(user, contract))


def is_editor_for(user, contract, partner_id) -> bool:
    """Référent (rédaction) de ce partenaire dans ce contrat."""
    return any(role == Role.EDITOR and pid == partner_id for role, pid in memberships(user, contract))


def is_reader(user, contract) -> bool:
    """Lecteur au nom d'un partenaire dans ce contrat."""
    return any(role == Role.READER for role, _ in memberships(user, contract))


def is_council_member(user, contract) -> bool:
    return any(role == Role.COUNCIL_MEMBER for role, _ in memberships(user, contract))


def is_evaluator(user, contract) -> bool:
    return any(role == Role.EVALUATOR for role, _ in memberships(user, contract))


def has_role_in(user, contract, roles) -> bool:
    """Au moins l'un de ces rôles dans ce contrat (sans l'équivalence opérateur = pilote)."""
    return any(role in roles for role, _ in memberships(user, contract))


def reads_all_partners(user, contract) -> bool:
    """Pilote ou évaluateur : lit le non-publié de chaque partenaire."""
    return is_pilot(user, contract) or is_evaluator(user, contract)


def partners_read_by(user, contract) -> set[int]:
    """Partenaires dont ``user`` est référent ou lecteur dans ``contract``."""
    return {pid for role, pid in memberships(user, contract) if role in PARTNER_READ_ROLES and pid}


def partners_edited_by(user, contract) -> set[int]:
    """Partenaires dont ``user`` est référent (rédaction) dans ``contract``."""
    return {pid for role, pid in memberships(user, contract) if role == Role.EDITOR and pid}


def council_partner_ids(user, contract) -> list[int]:
    """Conseils citoyens (partenaires) dont ``user`` est membre dans ``contract``."""
    return [pid for role, pid in memberships(user, contract) if role == Role.COUNCIL_MEMBER and pid]


def partner_ids_with_roles(user, contract, roles) -> list[int]:
    """Partenaires (ordre stable, sans doublon) au nom desquels ``user`` a l'un de ces rôles."""
    ids = []
    for role, pid in memberships(user, contract):
        if pid and role in roles and pid not in ids:
            ids.append(pid)
    return ids


def reads_partner_internals(user, contract, partner_id) -> bool:
    """Le non-publié de ce partenaire : le partenaire lui-même (référents et lecteurs), les pilotes
    et les évaluateurs ; jamais un autre partenaire, un membre de conseil citoyen ni le public."""
    return reads_all_partners(user, contract) or partner_id in partners_read_by(user, contract)


def piloted_contract_ids(user) -> set[int]:
    """Contrats dont ``user`` est pilote (rôle explicite, sans l'équivalence opérateur)."""
    # Lu directement sur les lignes gardées : le back-office le demande des centaines de fois par page.
    return {cid for cid, rows in _all_rows(user).items() if any(row[0] == Role.PILOT for row in rows)}


def is_pilot_anywhere(user) -> bool:
    """Pilote d'au moins un contrat, ou opérateur de l'instance."""
    return is_operator(user) or bool(piloted_contract_ids(user))


def has_role_anywhere(user, roles) -> bool:
    """L'un de ces rôles dans au moins un contrat."""
    return any(role in roles for entries in _all_memberships(user).values() for role, _ in entries)


def contract_ids_with_roles(user, roles) -> set[int]:
    """Contrats où ``user`` a l'un de ces rôles."""
    return {cid for cid, entries in _all_memberships(user).items() if any(r in roles for r, _ in entries)}


def cross_contract_partner_ids(user) -> set[int]:
    """Partenaires au nom desquels ``user`` a la lecture inter-contrats (``CrossContractReader``) ;
    lu une fois, gardé sur l'objet user. L'opérateur n'en a que s'il se l'est accordée."""
    if not user.is_authenticated or not hasattr(user, "cross_contract_readings"):
        return set()
    cache = getattr(user, CROSS_CACHE_ATTRIBUTE, None)
    if cache is None:
        cache = set(user.cross_contract_readings.values_list("partner_id", flat=True))
        setattr(user, CROSS_CACHE_ATTRIBUTE, cache)
    return cache


# --- Appel à projets (cdv/grants) ------------------------------------------------------------


def applicant_partner_ids(user, contract) -> set[int]:
    """Associations dont ``user`` est le référent pour l'appel à projets."""
    return {pid for role, pid in memberships(user, contract) if role == Role.APPLICANT and pid}


def instructed_partner_ids(user, contract) -> set[int]:
    """Financeurs dont ``user`` instruit les lignes (instructeur)."""
    return {pid for role, pid in memberships(user, contract) if role == Role.INSTRUCTOR and pid}


def qpv_ids_with_role(user, contract, role) -> set[int]:
    """Quartiers pour lesquels ``user`` exerce ``role`` (correspondant, délégué du préfet)."""
    return {qpv for r, _, qpv in memberships_with_qpv(user, contract) if r == role and qpv}


def prefect_delegate_lines(user, contract) -> set[tuple[int, int]]:
    """(financeur, quartier) : le délégué du préfet instruit la ligne de l'État pour son quartier."""
    return {
        (pid, qpv)
        for r, pid, qpv in memberships_with_qpv(user, contract)
        if r == Role.PREFECT_DELEGATE and pid and qpv
    }


def is_committee_member(user, contract) -> bool:
    return any(role == Role.COMMITTEE_MEMBER for role, _ in memberships(user, contract))


def takes_part_in_instruction(user, contract) -> bool:
    """Instructeur, correspondant de quartier ou délégué du préfet dans ce contrat."""
    return has_role_in(user, contract, {Role.INSTRUCTOR, Role.CORRESPONDENT, Role.PREFECT_DELEGATE})
