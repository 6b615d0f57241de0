"""Second facteur facultatif : code à six chiffres d'une application d'authentification (TOTP).

Le secret est créé ici, montré une fois en texte (et sous forme d'URI ``otpauth://``), puis
enregistré quand la personne a saisi un premier code juste. Un code déjà accepté ne sert pas une
seconde fois (on retient le dernier pas de temps utilisé).
"""

import re
import time

import pyotp
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .models import User

VALID_WINDOW = 1  # tolère un pas de 30 s d'avance ou de retard (horloge du téléphone)

# Connexion en deux temps : après le mot de passe (ou ProConnect sans double authentification), la
# session garde le compte en attente du code ; la vue « www:login_code » termine la connexion.
PENDING_KEY = "cdv_2fa_pending"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=settings.TOTP_ISSUER)


def _clean(code) -> str:
    return re.sub(r"\s+", "", str(code or ""))


def matching_step(secret: str, code, *, after=None) -> int | None:
    """Le pas de temps auquel ce code correspond (plus récent que ``after``), sinon None."""
    code = _clean(code)
    if not secret or not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    now = timezone.now()
    current = totp.timecode(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if after is not None and step <= after:
            continue
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None


@transaction.atomic
def enable(*, user, secret: str, code) -> None:
    step = matching_step(secret, code)
    if step is None:
        raise ValidationError({"code": "Code incorrect ou expiré : saisissez le code de l'application."})
    User.objects.filter(pk=user.pk).update(
        totp_secret=secret, totp_confirmed_at=timezone.now(), totp_last_step=step
    )
    user.refresh_from_db(fields=["totp_secret", "totp_confirmed_at", "totp_last_step"])


@transaction.atomic
def verify(*, user, code) -> bool:
    """Vérifie un code à la connexion ; un code ne sert qu'une fois."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    if not locked.totp_enabled:
        return False
    step = matching_step(locked.totp_secret, code, after=locked.totp_last_step)
    if step is None:
        return False
    User.objects.filter(pk=user.pk).update(totp_last_step=step)
    return True


@transaction.atomic
def disable(*, user, password: str, code) -> None:
    if not user.check_password(password or ""):
        raise ValidationError({"password": "Mot de passe incorrect."})
    if not verify(user=user, code=code):
        raise ValidationError({"code": "Code incorrect ou expiré."})
    User.objects.filter(pk=user.pk).update(totp_secret="", totp_confirmed_at=None, totp_last_step=None)
    user.refresh_from_db(fields=["totp_secret", "totp_confirmed_at", "totp_last_step"])


def start_pending_login(request, *, user, backend: str, next_url: str) -> None:
    """Premier temps réussi : la session attend le code, la personne n'est pas encore connectée."""
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "user": user.pk,
        "backend": backend,
        "next": next_url,
        "since": time.time(),
        "attempts": 0,
    }
