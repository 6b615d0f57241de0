"""Données construites pour montrer et mesurer la plateforme, jamais des données réelles.

- demo.py (commande ``load_demo_data``) : la démonstration du contrat de Nantes (plan d'action,
  engagements, comptes) ; demo_monitoring.py : son suivi annuel « vivant » ; demo_evaluation.py :
  son évaluation à mi-parcours ; demo_grants.py : ses appels à projets (2025 voté, 2026 ouvert) ;
- scale.py (commande ``load_scale_data``) : le jeu synthétique national, pour mesurer.

Ce paquet importe les applications métier ; aucune d'elles ne l'importe (tests/core/test_layout.py).
"""
