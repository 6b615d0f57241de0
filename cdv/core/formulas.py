"""Cellules qu'un tableur prendrait pour une formule (injection de formules, CWE-1236).

Sans dépendance à Django : le moteur de géoréférencement l'importe sans charger les applications.
Une règle par format, la même dans tous les exports de la plateforme (docs/opendata.md) :

- **XLSX** : un texte est écrit comme une cellule de type texte (``data_type`` « s »), sa valeur
  inchangée : « =HYPERLINK(…) » se relit identique et n'est jamais une formule
  (``cdv.core.spreadsheets.set_text`` et ``append_row``).
- **CSV** : le format n'a pas de type ; un texte qui commence (après d'éventuelles apostrophes) par
  ``=``, ``+``, ``-``, ``@``, une tabulation ou un retour chariot reçoit une apostrophe en tête
  (``csv_text``), sauf un simple nombre (« -1.55 »). Retirer cette apostrophe redonne le texte exact.
"""

import re

NEEDS_QUOTE_RE = re.compile(r"^'*[=+\-@\t\r]")
# Un nombre écrit en texte n'est pas une formule : « -1.55 » (longitude) garde son signe, sans apostrophe.
PLAIN_NUMBER_RE = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


def csv_text(text: str) -> str:
    """Le texte d'une cellule CSV : une apostrophe en tête s'il serait pris pour une formule."""
    if NEEDS_QUOTE_RE.match(text) and not PLAIN_NUMBER_RE.match(text):
        return "'" + text
    return text
