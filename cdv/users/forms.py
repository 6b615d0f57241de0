from django.contrib.auth.forms import UserChangeForm as BaseChangeForm
from django.contrib.auth.forms import UserCreationForm as BaseCreationForm

from .models import User


class UserCreationForm(BaseCreationForm):
    class Meta:
        model = User
        fields = ["email"]


class UserChangeForm(BaseChangeForm):
    class Meta:
        model = User
        fields = "__all__"
