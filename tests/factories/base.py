"""Ce que partagent les fabriques : relations plusieurs-à-plusieurs et quartiers d'un contrat."""

import factory


class ModelFactory(factory.django.DjangoModelFactory):
    """Une fabrique Django dont les attributs nommés comme un champ plusieurs-à-plusieurs du modèle
    (``qpvs``, ``indicators``…) sont posés après l'enregistrement, comme le ferait un formulaire.

    Déclarés comme attributs ordinaires, ils restent lisibles des autres déclarations : la portée
    d'un engagement se déduit ainsi de ses quartiers."""

    class Meta:
        abstract = True
        skip_postgeneration_save = True

    @classmethod
    def _pop_many_to_many(cls, model_class, kwargs):
        names = {field.name for field in model_class._meta.many_to_many}
        return {name: kwargs.pop(name) for name in list(kwargs) if name in names}

    @classmethod
    def _build(cls, model_class, *args, history_user=None, **kwargs):
        cls._pop_many_to_many(model_class, kwargs)
        return super()._build(model_class, *args, **kwargs)

    @classmethod
    def _create(cls, model_class, *args, history_user=None, **kwargs):
        """``history_user`` : la personne que l'historique (django-simple-history) retient comme
        auteur de la création, comme si elle avait rempli le formulaire."""
        many = cls._pop_many_to_many(model_class, kwargs)
        if history_user is None:
            instance = super()._create(model_class, *args, **kwargs)
        else:
            instance = model_class(*args, **kwargs)
            instance._history_user = history_user
            instance.save()
        for name, values in many.items():
            if values is not None:
                getattr(instance, name).set(values)
        return instance


def qpv_of(contract):
    """Un quartier du contrat : le premier qu'il couvre, sinon un nouveau QPV qu'on lui ajoute."""
    from .territories import QpvFactory

    qpv = contract.qpvs.order_by("code").first()
    if qpv is None:
        qpv = QpvFactory()
        contract.qpvs.add(qpv)
    return qpv


def new_qpv_of(contract):
    """Un nouveau QPV, ajouté au contrat (pour des valeurs ou des questionnaires sans doublon)."""
    from .territories import QpvFactory

    qpv = QpvFactory()
    contract.qpvs.add(qpv)
    return qpv
