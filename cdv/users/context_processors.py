"""``account_rights`` dans chaque gabarit : ce que le compte connecté peut ouvrir depuis l'en-tête."""

from django.utils.functional import SimpleLazyObject

from .abilities import account_abilities


def account_rights(request):
    return {"account_rights": SimpleLazyObject(lambda: account_abilities(request.user))}
