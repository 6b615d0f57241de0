from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from cdv.core.admin import FRENCH_NUMBERS

from .models import Decision, Feedback, Meeting, ProgressReport, ReportAttachment, ReviewCampaign, Snapshot


@admin.register(ReviewCampaign)
class ReviewCampaignAdmin(SimpleHistoryAdmin):
    list_display = ["year", "contract", "opens_on", "deadline", "status"]
    list_filter = ["contract", "status"]


class AttachmentInline(admin.TabularInline):
    """Lecture seule : une pièce jointe n'entre que par la page du bilan, qui vérifie son contenu
    (type réel, taille, bombe ZIP) et assainit son nom ; l'administration n'en dépose aucune."""

    model = ReportAttachment
    extra = 0
    readonly_fields = ["file", "original_name", "content_type", "size", "uploaded_by", "uploaded_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ProgressReport)
class ProgressReportAdmin(SimpleHistoryAdmin):
    formfield_overrides = FRENCH_NUMBERS
    list_display = ["commitment", "partner", "campaign", "state", "progress_pct", "submitted_at"]
    list_filter = ["campaign__contract", "campaign", "state"]
    search_fields = ["commitment__title", "partner__name"]
    # Le libellé d'un engagement cite son partenaire, celui d'une campagne son contrat : lus avec la
    # liste, pas deux requêtes par ligne.
    list_select_related = ["commitment__partner", "partner", "campaign__contract"]
    inlines = [AttachmentInline]


@admin.register(ReportAttachment)
class ReportAttachmentAdmin(admin.ModelAdmin):
    """Lecture seule (voir ``AttachmentInline``) ; la suppression reste possible."""

    list_display = ["original_name", "report", "content_type", "size", "uploaded_at"]
    search_fields = ["original_name"]
    readonly_fields = [f.name for f in ReportAttachment._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Feedback)
class FeedbackAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "contract", "kind", "partner", "moderation", "created_at", "is_demo"]
    # Le partenaire (facultatif) n'est pas joint d'office par Django : une requête par ligne sans cela.
    list_select_related = ["contract", "partner"]
    list_filter = ["contract", "kind", "moderation", "is_demo"]
    search_fields = ["text", "partner__name"]
    filter_horizontal = ["qpvs", "actions", "commitments", "indicators"]
    readonly_fields = ["original_text", "redacted_by", "redacted_at"]


class DecisionInline(admin.StackedInline):
    model = Decision
    extra = 0
    filter_horizontal = ["actions", "commitments"]


@admin.register(Meeting)
class MeetingAdmin(SimpleHistoryAdmin):
    list_display = ["title", "contract", "kind", "date", "is_demo"]
    list_filter = ["contract", "kind", "is_demo"]
    search_fields = ["title", "agenda", "minutes"]
    filter_horizontal = ["participants"]
    inlines = [DecisionInline]


@admin.register(Decision)
class DecisionAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "meeting", "owner", "due_on", "status"]
    list_filter = ["meeting__contract", "status"]
    search_fields = ["text", "follow_up"]
    filter_horizontal = ["actions", "commitments"]


@admin.register(Snapshot)
class SnapshotAdmin(admin.ModelAdmin):
    """Lecture seule : un instantané figé ne se modifie pas."""

    list_display = ["campaign", "created_at", "created_by", "checksum"]
    readonly_fields = ["campaign", "created_at", "created_by", "payload", "checksum"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
