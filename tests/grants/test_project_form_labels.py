"""Les listes du projet se lisent en français : pas de « --------- » (vu dans le navigateur)."""

import pytest

from cdv.www.forms.grants_applications import ProjectForm


@pytest.mark.parametrize("name", ["enjeu", "objective", "action"])
def test_empty_choices_say_what_they_mean(name):
    label = ProjectForm.base_fields[name].empty_label
    assert label and "---" not in label and label[0].isupper(), label
