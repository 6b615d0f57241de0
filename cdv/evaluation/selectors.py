"""Lectures composées sur l'évaluation et les avenants : ce que les pages assemblent à partir de
plusieurs requêtes. Les vues appellent ces fonctions et affichent."""

from .models import Amendment


def amendments_with_changes(contract, *, member: bool) -> list:
    """Les avenants du contrat, du plus récent au plus ancien, chacun avec ``shown_changes`` (ses
    changements lisibles : tous pour un membre du contrat, les publics pour les autres) et
    ``hidden_changes`` (combien sont tus). Deux requêtes."""
    items = list(
        Amendment.objects.for_contract(contract)
        .select_related("evaluation")
        .prefetch_related("changes")
        .order_by("-number")
    )
    for amendment in items:
        changes = list(amendment.changes.all())
        amendment.shown_changes = [c for c in changes if member or c.is_public]
        amendment.hidden_changes = len(changes) - len(amendment.shown_changes)
    return items
