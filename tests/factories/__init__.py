"""Fabriques factory_boy : une par modèle de cdv/, un module par application.

Chaque fabrique bâtit seule un monde cohérent et minimal (contrat, quartier de ce contrat, objectif
de ce contrat…), sans les données de référence ni de démonstration ; des traits donnent les états
qui comptent (``CommitmentFactory(confirmed=True)``, ``FeedbackFactory(published=True)``…).
"""

from .commitments import *  # noqa: F403
from .contracts import *  # noqa: F403
from .evaluation import *  # noqa: F403
from .georef import *  # noqa: F403
from .grants import *  # noqa: F403
from .indicators import *  # noqa: F403
from .monitoring import *  # noqa: F403
from .notifications import *  # noqa: F403
from .partners import *  # noqa: F403
from .plan import *  # noqa: F403
from .territories import *  # noqa: F403
from .users import *  # noqa: F403
