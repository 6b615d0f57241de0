from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from simple_history.admin import SimpleHistoryAdmin

from .forms import UserChangeForm, UserCreationForm
from .models import ApiToken, CrossContractReader, Invitation, Membership, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["partner", "qpv"]  # pas une liste des 1 584 QPV par ligne
    fk_name = "user"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active"]
    search_fields = ["email", "first_name", "last_name", "public_name"]
    list_filter = ["is_staff", "is_active", "memberships__role"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Identité", {"fields": ["first_name", "last_name", "public_name"]}),
        ("Droits", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ["user", "contract", "role", "partner"]
    list_select_related = ["user", "contract", "partner"]  # le partenaire, facultatif, aussi
    list_filter = ["contract", "role"]
    search_fields = ["user__email", "partner__name"]
    autocomplete_fields = ["user", "partner", "qpv"]


@admin.register(CrossContractReader)
class CrossContractReaderAdmin(SimpleHistoryAdmin):
    """Lectures inter-contrats (vue de l'État) ; la page « Lecture inter-contrats » les accorde aussi."""

    list_display = ["user", "partner", "granted_by", "created_at"]
    search_fields = ["user__email", "partner__name"]
    autocomplete_fields = ["user", "partner"]
    readonly_fields = ["granted_by", "created_at"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = [
        "email",
        "contract",
        "role",
        "partner",
        "created_at",
        "expires_at",
        "accepted_at",
        "revoked",
    ]
    list_filter = ["contract", "role", "revoked"]
    search_fields = ["email", "partner__name"]
    readonly_fields = ["token_hash", "created_at", "accepted_at", "accepted_by", "invited_by"]

    def has_add_permission(self, request):
        return False  # une invitation s'envoie depuis l'espace pilote (le lien n'est montré qu'à l'envoi)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked"]
    list_filter = ["revoked"]
    search_fields = ["name", "user__email"]
    readonly_fields = ["user", "key_hash", "prefix", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False  # un jeton se crée depuis « Mon espace » : sa valeur n'est montrée qu'une fois
