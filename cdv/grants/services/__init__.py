"""Les écritures de l'appel à projets, un module par étape : ``calls`` (l'appel), ``applications``
(le dossier de l'association), ``instruction`` (lignes de financeur, avis, notes, compléments),
``committee`` (simulation, vote, notification). Chaque fonction a des arguments nommés, est
atomique et revérifie les droits (``cdv/grants/abilities.py``)."""
