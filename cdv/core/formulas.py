"""Cellules qu'un tableur prendrait pour une formule (injection de formules, CWE-1236).

Sans dépendance à Django : le moteur de géoréférencement l'importe sans charger les applications.
Une cellule qui commence (après d'éventuelles apostrophes) par ``=``, ``+``, ``-``, ``@``, une
tabulation ou un retour chariot reçoit une apostrophe devant elle dans chaque export.
"""

import re

NEEDS_QUOTE_RE = re.compile(r"^'*[=+\-@\t\r]")
