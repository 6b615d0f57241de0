"""Les deux adresses ProConnect de l'URLconf.

cdv/users/oidc.py importe mozilla-django-oidc, et avec lui requests, PyJWT et cryptography (≈ 0,1 s) :
il n'est chargé qu'à la première connexion ProConnect, pas à l'import de l'URLconf par chaque
processus (serveur, commande, test) sur une plateforme où ProConnect n'est souvent pas activé.
"""


def proconnect_login(request):
    from .oidc import proconnect_login as view

    return view(request)


def proconnect_callback(request):
    from .oidc import proconnect_callback as view

    return view(request)
