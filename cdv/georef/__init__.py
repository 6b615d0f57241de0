"""Géoréférencement : dire si des points ou des adresses sont dans un quartier prioritaire (QPV).

- ``engine`` : index des contours d'une géographie (2024 ou 2015) et recherche vectorisée ;
- ``coords`` : lecture, contrôle et conversion des coordonnées (WGS84, Lambert-93) ;
- ``pipeline`` : traitement d'un fichier CSV ou XLSX par morceaux, statut et raison par ligne ;
- commande ``georef`` (``management/commands/georef.py``).
"""
