"""Acteur « système » : pour les commandes d'administration lancées par l'exploitant.

Il a tous les droits (comme un superutilisateur) mais n'est pas une personne : les champs
« auteur » restent vides quand c'est lui qui agit.
"""


class SystemActor:
    is_authenticated = True
    is_superuser = True
    is_staff = True
    is_active = True
    pk = None
    id = None
    email = "systeme"

    def __str__(self):
        return "système (ligne de commande)"


def person_or_none(user):
    """L'utilisateur s'il s'agit d'une personne enregistrée, sinon None (système, anonyme)."""
    return user if getattr(user, "pk", None) else None
