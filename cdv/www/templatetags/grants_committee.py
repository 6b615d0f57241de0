"""Les lignes du tableau de programmation, écrites en Python : 450 dossiers × 6 financeurs font
2 700 cellules, que le moteur de gabarits mettrait plus d'une seconde à produire (cible : la page
en moins de 300 ms). Même balisage que le gabarit qu'elles remplacent ; tout texte est échappé."""

from decimal import Decimal
from html import escape

from django import template
from django.middleware.csrf import get_token
from django.utils.safestring import mark_safe

register = template.Library()


def euros(value: Decimal | None, unit: bool = True) -> str:
    """Comme ``cdv.core.figures.french_number(value, "€")`` pour un montant au centime, plus vite."""
    if value is None:
        return ""
    if value == value.to_integral_value():
        text = f"{int(value):,}".replace(",", "\u202f")
    else:
        text = f"{value:,.2f}".replace(",", "\u202f").replace(".", ",")
    return f"{text}\u00a0€" if unit else text


OPTIONS = {
    chosen: "".join(
        f'<option value="{value}"{" selected" if chosen == value else ""}>{text}</option>'
        for value, text in (("", "Non simulé"), ("OUI", "Oui"), ("NON", "Non"))
    )
    for chosen in ("", "OUI", "NON")
}


def _cell(ctx: dict, row, funder, cell) -> str:
    label = ctx["labels"].get(funder.funder_id) or escape(funder.name)
    if cell is None:
        return f'<td data-label="{label}"><span class="muted">Non sollicité</span></td>'
    parts = [
        f'<span class="muted">{escape(cell.status_label)}</span>'
        f"<br>Demandé\u00a0:\u00a0{euros(cell.requested)}"
    ]
    if cell.proposed is not None:
        parts.append(f"<br>Proposé\u00a0:\u00a0{euros(cell.proposed)}")
    if cell.voted is not None:
        parts.append(f"<br><strong>Voté\u00a0:\u00a0{euros(cell.voted)}</strong>")
    elif cell.decided:
        parts.append(f"<br><strong>{escape(cell.status_label)}</strong>")
    if ctx["can_simulate"] and not cell.decided and row.in_instruction:
        line, number = cell.line_id, escape(row.number)
        url = f"{ctx['simulate_prefix']}{line}/simulation/"
        options = OPTIONS.get(cell.simulation, OPTIONS[""])
        parts.append(
            f'<form method="post" action="{url}" data-hx-post="{url}" '
            f'data-hx-target="#ligne-{row.application_id}" data-hx-swap="outerHTML" class="simulation">'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{ctx["csrf"]}">'
            f'<label class="visually-hidden" for="s{line}">Simulation {label}, dossier {number}</label>'
            f'<select name="choice" id="s{line}">{options}</select> '
            f'<label class="visually-hidden" for="m{line}">'
            f"Montant simulé {label}, dossier {number} (€)</label>"
            f'<input type="text" inputmode="decimal" name="amount" id="m{line}" size="9" '
            f'value="{euros(cell.simulated, unit=False)}"> '
            f'<button type="submit" class="button">Simuler</button></form>'
        )
        if ctx.get("error") and ctx.get("error_line") == line:
            parts.append(f'<p class="error" role="alert">{escape(ctx["error"])}</p>')
    elif cell.is_simulated and not cell.decided:
        decision = f"oui, {euros(cell.simulated)}" if cell.simulation == "OUI" else "non"
        parts.append(f"<br>Simulé\u00a0:\u00a0{decision}")
    return f'<td data-label="{label}">{"".join(parts)}</td>'


def _row(ctx: dict, row) -> str:
    state = "" if row.in_instruction else f'<br><span class="muted">{escape(row.status_label)}</span>'
    cells = "".join(_cell(ctx, row, funder, cell) for funder, cell in row.columns)
    voted = f"<br>Voté\u00a0:\u00a0{euros(row.totals.voted)}" if row.totals.voted else ""
    return (
        f'<tr id="ligne-{row.application_id}"><th scope="row" class="nowrap">{escape(row.number)}</th>'
        f'<td data-label="Projet">{escape(row.title)}<br>'
        f'<span class="muted">{escape(row.partner)}</span>{state}</td>'
        f'<td data-label="Enjeu">{escape(row.enjeu)}</td>'
        f'<td data-label="Quartiers">{escape(row.qpv_names)}</td>'
        f'{cells}<td data-label="Total">Demandé\u00a0:\u00a0{euros(row.totals.requested)}'
        f"<br>Simulé\u00a0:\u00a0{euros(row.totals.simulated)}{voted}</td></tr>"
    )


def _context(context) -> dict:
    request = context.get("request")
    programmation = context.get("p")
    funders = programmation.funders if programmation is not None else []
    return {
        "labels": {f.funder_id: escape(f.name) for f in funders},
        "can_simulate": context.get("can_simulate"),
        "simulate_prefix": context.get("simulate_prefix", ""),
        "csrf": get_token(request) if request is not None and context.get("can_simulate") else "",
        "error": context.get("error"),
        "error_line": context.get("error_line"),
    }


@register.simple_tag(takes_context=True)
def programmation_rows(context, rows):
    """Les lignes ``<tr>`` de la programmation (``rows`` : des ``programmation.Row``)."""
    ctx = _context(context)
    return mark_safe("".join(_row(ctx, row) for row in rows))  # tout texte est échappé ci-dessus
