"""Banc d'essai de l'appel à projets : la programmation du comité des financeurs (450 dossiers ×
6 financeurs) et son classeur XLSX, dans une base à l'échelle nationale de l'appel à projets.

    .venv/bin/python bench/aap.py              # réutilise la base si elle existe
    .venv/bin/python bench/aap.py --rebuild    # la reconstruit
    .venv/bin/python bench/aap.py --scdl       # seulement la section 4 (données ouvertes SCDL)

1. Construit (ou réutilise) une base SQLite sous /tmp/cdv-bench-aap/ : un contrat, 15 quartiers,
   5 enjeux, 6 financeurs, 200 associations ; l'appel mesuré porte 450 dossiers déposés, chacun
   sollicitant les 6 financeurs (2 700 lignes, le pire cas), simulées pour les deux tiers ; 110
   autres appels (années passées, 3 à 6 financeurs par dossier) portent 49 500 dossiers de plus :
   50 000 dossiers et environ 225 000 lignes de financeur en tout, l'échelle nationale annoncée
   (tout en ``bulk_create``, sans passer par ``load_scale_data``).
2. Mesure le temps serveur de la page (client de test Django, par le pilote qui voit les
   formulaires de simulation, puis par un membre du comité en lecture seule) : médiane de 15
   appels après chauffe, avec le nombre de requêtes SQL. Cible : < 300 ms.
3. Mesure le classeur XLSX (médiane de 5). Cible : < 5 s.
4. Données ouvertes SCDL (``bench_scdl``) : un second contrat de la même base, « banc-scdl », porte
   50 000 subventions votées (5 appels × 2 500 dossiers × 4 financeurs), chacune avec son acte
   signé, son échéancier (unique ou avance et solde) et un versement ; mesure le téléchargement de
   ``subventions.csv`` et de ``subventions-cofinancement.csv`` par un visiteur anonyme (médiane de
   3). Cible : < 5 s.
5. Le bilan annuel avec un appel complet (``--only bilan`` pour cette seule partie) : ajoute (une
   fois) un appel 2025 voté de 450 dossiers (versements, comptes-rendus) au contrat du banc, et un
   contrat « national » dont l'appel porte à lui seul 50 000 dossiers votés ; mesure les chiffres
   (``cdv.grants.figures``) et le bilan annuel PDF de chacun, puis les appels de toute la période
   (l'évaluation). Cible : < 10 s.

``CDV_BENCH_AAP_DIR`` change le dossier de la base (par défaut /tmp/cdv-bench-aap/).
"""

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORKDIR = Path(os.environ.get("CDV_BENCH_AAP_DIR") or Path(tempfile.gettempdir()) / "cdv-bench-aap")
# ``--scdl`` : la section des données ouvertes seule, dans sa propre base jetable (la base commune
# n'est pas touchée).
DB = WORKDIR / ("scdl.sqlite3" if "--scdl" in sys.argv else "aap.sqlite3")
os.environ["DATABASE_URL"] = f"sqlite:///{DB}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from benchserver import machine  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from cdv.grants.enums import ApplicationStatus, LineStatus, ProjectScope, Simulation  # noqa: E402
from cdv.grants.models import Application, Call, CallFunder, FunderLine  # noqa: E402
from cdv.grants.programmation import build_programmation  # noqa: E402
from cdv.grants.programmation_xlsx import build_programmation_xlsx  # noqa: E402
from cdv.partners.models import Partner  # noqa: E402
from cdv.users.enums import Role  # noqa: E402
from cdv.users.models import Membership, User  # noqa: E402

TARGET_PAGE_MS = 300.0
TARGET_XLSX_S = 5.0
APPLICATIONS = 450
FUNDERS = 6
OTHER_CALLS = 110
YEAR = 2026
SERVER_TIMING_RE = re.compile(r'desc="(\d+) requete')


def build():
    from tests import factories

    call_command("migrate", verbosity=0)
    contract = factories.ContractFactory(slug="banc-aap", title="Contrat du banc d'essai AAP")
    qpvs = [factories.QpvFactory() for _ in range(15)]
    contract.qpvs.set(qpvs)
    enjeux = [factories.EnjeuFactory(contract=contract) for _ in range(5)]
    funders_partners = [
        factories.PartnerFactory(name=name)
        for name in ("État (P147)", "Nantes Métropole", "Ville", "CAF", "Département", "Région")
    ]
    associations = Partner.objects.bulk_create(
        [
            Partner(name=f"Association du banc n° {i}", slug=f"asso-banc-{i}", kind="ASSOCIATION")
            for i in range(200)
        ]
    )
    pilot = User.objects.create_user(email="pilote@banc.example", password="banc-essai-aap")
    member = User.objects.create_user(email="comite@banc.example", password="banc-essai-aap")
    Membership.objects.create(user=pilot, contract=contract, role=Role.PILOT)
    Membership.objects.create(user=member, contract=contract, role=Role.COMMITTEE_MEMBER)

    def make_call(year, count, simulate, all_funders=False):
        call = Call.objects.create(
            contract=contract,
            year=year,
            title=f"Appel à projets {year}",
            status="PUBLIE",
            filing_opens=f"{year - 1}-10-15",
            filing_closes=f"{year - 1}-11-15",
        )
        funders = CallFunder.objects.bulk_create(
            [
                CallFunder(call=call, partner=p, envelope=Decimal("800000"), order=i)
                for i, p in enumerate(funders_partners)
            ]
        )
        apps = Application.objects.bulk_create(
            [
                Application(
                    call=call,
                    partner=associations[i % len(associations)],
                    number=f"{year}-{i + 1:04d}",
                    status=ApplicationStatus.SUBMITTED,
                    title=f"Projet n° {i + 1} de l'appel {year}",
                    scope=ProjectScope.WHOLE if i % 10 == 0 else ProjectScope.QPV,
                    enjeu=enjeux[i % len(enjeux)],
                    qpv_share=Decimal("70"),
                )
                for i in range(count)
            ],
            batch_size=1000,
        )
        through = Application.qpvs.through
        through.objects.bulk_create(
            [
                through(application_id=a.pk, territory_id=qpvs[(i + k) % len(qpvs)].pk)
                for i, a in enumerate(apps)
                if a.scope == ProjectScope.QPV
                for k in range(1 + i % 2)
            ],
            batch_size=2000,
        )
        lines = []
        for i, a in enumerate(apps):
            for k, funder in enumerate(funders if all_funders else funders[: 3 + i % (FUNDERS - 2)]):
                requested = Decimal(1000 + (i * 37 + k * 11) % 9000)
                simulated = simulate and (i + k) % 3 != 0
                lines.append(
                    FunderLine(
                        application=a,
                        funder=funder,
                        status=LineStatus.INSTRUCTING,
                        requested_amount=requested,
                        proposed_amount=requested * Decimal("0.8"),
                        simulation=(Simulation.YES if (i + k) % 5 else Simulation.NO) if simulated else "",
                        simulated_amount=requested * Decimal("0.8") if simulated and (i + k) % 5 else None,
                    )
                )
        FunderLine.objects.bulk_create(lines, batch_size=2000)
        return call, len(lines)

    _, lines = make_call(YEAR, APPLICATIONS, simulate=True, all_funders=True)
    for n in range(OTHER_CALLS):
        make_call(1900 + n, APPLICATIONS, simulate=False)
    return lines


def timed(fn, runs):
    """(médiane du temps écoulé, médiane du temps processeur du processus, dernier résultat) : sur
    une machine partagée, le temps processeur (SQLite compris, il tourne dans le processus) dit ce
    que coûte la page ; le temps écoulé y ajoute l'attente des autres processus."""
    walls, cpus = [], []
    result = None
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def verdict(ok):
    return "OK" if ok else "AU-DESSUS DE LA CIBLE"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--scdl", action="store_true", help="seulement les données ouvertes SCDL (section 4)")
    parser.add_argument("--only", choices=["bilan"], help="seulement le bilan annuel avec un appel complet")
    parser.add_argument(
        "--national", type=int, default=NATIONAL_APPLICATIONS, help="dossiers de l'appel national"
    )
    args = parser.parse_args()
    if args.rebuild and WORKDIR.exists():
        shutil.rmtree(WORKDIR)
    WORKDIR.mkdir(exist_ok=True)
    if args.scdl:
        settings.DEBUG = False
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        print(f"Machine : {machine()}, charge moyenne {os.getloadavg()[0]:.1f}")
        bench_scdl()
        return 0
    if not DB.exists():
        started = time.perf_counter()
        build()
        print(f"Base construite en {time.perf_counter() - started:.0f} s ({DB})")
    call_command("migrate", verbosity=0)  # une base bâtie avant les dernières migrations
    call = Call.objects.get(contract__slug="banc-aap", year=YEAR)
    print(f"Machine : {machine()}, charge moyenne {os.getloadavg()[0]:.1f}")
    if args.only == "bilan":
        return annual_report_bench(args.national)

    def n(value):
        return f"{value:,}".replace(",", "\u202f")

    print(
        f"Échelle : {n(Application.objects.count())} dossiers, {n(FunderLine.objects.count())} lignes de "
        f"financeur en base ; appel mesuré : {call.applications.count()} dossiers × "
        f"{call.funders.count()} financeurs, {n(FunderLine.objects.for_call(call).count())} lignes"
    )
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    url = f"/contrats/{call.contract.slug}/aap/{call.year}/programmation/"
    results = {}
    for label, email in (
        ("pilote (formulaires de simulation)", "pilote@banc.example"),
        ("membre du comité", "comite@banc.example"),
    ):
        client = Client()
        client.force_login(User.objects.get(email=email))
        assert client.get(url).status_code == 200  # chauffe
        response = client.get(url)
        timing = SERVER_TIMING_RE.search(response.headers.get("Server-Timing", ""))
        queries = timing.group(1) if timing else "?"
        wall, seconds, _ = timed(lambda c=client: c.get(url), 15)
        results[label] = seconds
        ok = seconds * 1000 < TARGET_PAGE_MS
        print(
            f"Programmation, {label} : {seconds * 1000:.0f} ms de processeur, {wall * 1000:.0f} ms écoulées "
            f"(médianes de 15), {queries} requêtes SQL, "
            f"{len(response.content) / 1024:.0f} Kio — cible < {TARGET_PAGE_MS:.0f} ms : {verdict(ok)}"
        )
    wall, seconds, _ = timed(lambda: build_programmation(call), 15)
    print(
        f"  dont lecture et totaux (build_programmation) : {seconds * 1000:.0f} ms de processeur, "
        f"{wall * 1000:.0f} ms écoulées"
    )
    wall, seconds, content = timed(lambda: build_programmation_xlsx(call, build_programmation(call)), 5)
    print(
        f"Classeur XLSX : {seconds:.2f} s de processeur, {wall:.2f} s écoulées (médianes de 5), "
        f"{len(content) / 1024:.0f} Kio — "
        f"cible < {TARGET_XLSX_S:.0f} s : {verdict(seconds < TARGET_XLSX_S)}"
    )
    bench_scdl()
    annual_report_bench(args.national)
    return 0


# --- 5. Le bilan annuel avec un appel complet -------------------------------------------------

TARGET_ANNUAL_S = 10.0
VOTED_YEAR = 2025
NATIONAL_APPLICATIONS = 50_000


def build_voted_call(contract, year, count, funders_partners, associations, qpvs, enjeux):
    """Un appel voté : dossiers décidés (un sur dix de tout le territoire, un sur deux sur deux
    quartiers), 3 à 6 financeurs par dossier, quatre lignes sur cinq votées (80 % du demandé) ;
    versements (un tiers soldé, un tiers en avance de 50 %) ; comptes-rendus (6 sur 10 acceptés,
    2 transmis, 1 à modifier, 1 manquant), l'action finie le 31 décembre."""
    import datetime

    from cdv.grants.enums import LineStatus as LS
    from cdv.grants.enums import ReportStatus
    from cdv.grants.models import FinalReport, Payment

    call = Call.objects.create(
        contract=contract,
        year=year,
        title=f"Appel à projets {year}",
        status="PUBLIE",
        filing_opens=f"{year - 1}-10-15",
        filing_closes=f"{year - 1}-11-15",
        committee_held_at=f"{year}-03-15T10:00:00+01:00",
    )
    funders = CallFunder.objects.bulk_create(
        [
            CallFunder(call=call, partner=p, envelope=Decimal("800000"), order=i)
            for i, p in enumerate(funders_partners)
        ]
    )
    end = datetime.date(year, 12, 31)
    apps = Application.objects.bulk_create(
        [
            Application(
                call=call,
                partner=associations[i % len(associations)],
                number=f"{year}-{i + 1:05d}",
                status=ApplicationStatus.DECIDED,
                title=f"Projet n° {i + 1} de l'appel {year}",
                scope=ProjectScope.WHOLE if i % 10 == 0 else ProjectScope.QPV,
                enjeu=enjeux[i % len(enjeux)],
                qpv_share=Decimal("70"),
                start_date=datetime.date(year, 1, 1),
                end_date=end,
            )
            for i in range(count)
        ],
        batch_size=2000,
    )
    through = Application.qpvs.through
    through.objects.bulk_create(
        [
            through(application_id=a.pk, territory_id=qpvs[(i + k) % len(qpvs)].pk)
            for i, a in enumerate(apps)
            if a.scope == ProjectScope.QPV
            for k in range(1 + i % 2)
        ],
        batch_size=5000,
    )
    lines = []
    for i, a in enumerate(apps):
        for k, funder in enumerate(funders[: 3 + i % (FUNDERS - 2)]):
            requested = Decimal(1000 + (i * 37 + k * 11) % 9000)
            voted = (i + k) % 5 != 0
            lines.append(
                FunderLine(
                    application=a,
                    funder=funder,
                    status=LS.VOTED if voted else LS.REJECTED,
                    requested_amount=requested,
                    voted_amount=requested * Decimal("0.8") if voted else None,
                    decision_date=f"{year}-03-15",
                )
            )
    lines = FunderLine.objects.bulk_create(lines, batch_size=5000)
    payments = []
    for n, line in enumerate(lines):
        if line.voted_amount and n % 3 != 2:
            share = Decimal("1") if n % 3 == 0 else Decimal("0.5")
            payments.append(
                Payment(
                    line=line,
                    paid_on=f"{year}-05-02",
                    amount=(line.voted_amount * share).quantize(Decimal("0.01")),
                )
            )
    Payment.objects.bulk_create(payments, batch_size=5000)
    funded = {line.application_id for line in lines if line.voted_amount}
    states = [ReportStatus.ACCEPTED] * 6 + [ReportStatus.SUBMITTED] * 2 + [ReportStatus.CHANGES_REQUESTED]
    FinalReport.objects.bulk_create(
        [
            FinalReport(application=a, status=states[i % 10], due_date=datetime.date(year + 1, 6, 30))
            for i, a in enumerate(apps)
            if a.pk in funded and i % 10 < 9
        ],
        batch_size=5000,
    )
    return call


def ensure_voted_calls(national):
    """Ajoute, une fois, l'appel voté de 450 dossiers et le contrat national (``national`` dossiers)."""
    from tests import factories

    contract = Call.objects.get(contract__slug="banc-aap", year=YEAR).contract
    funders_partners = list(
        Partner.objects.filter(
            pk__in=CallFunder.objects.filter(call__contract=contract).values("partner")
        ).order_by("pk")
    )
    associations = list(Partner.objects.filter(slug__startswith="asso-banc-").order_by("pk"))
    qpvs, enjeux = list(contract.qpvs.order_by("pk")), list(contract.enjeux.order_by("number"))
    if not Call.objects.filter(contract=contract, year=VOTED_YEAR).exists():
        started = time.perf_counter()
        build_voted_call(contract, VOTED_YEAR, APPLICATIONS, funders_partners, associations, qpvs, enjeux)
        print(
            f"Appel voté {VOTED_YEAR} ({APPLICATIONS} dossiers) ajouté en "
            f"{time.perf_counter() - started:.0f} s"
        )
    slug = f"banc-aap-national-{national}"
    national_call = Call.objects.filter(contract__slug=slug, year=VOTED_YEAR).first()
    if national_call is None:
        started = time.perf_counter()
        other = factories.ContractFactory(
            slug=slug, title=f"Contrat du banc : un appel de {national} dossiers", epci=contract.epci
        )
        other.qpvs.set(qpvs)
        other_enjeux = [factories.EnjeuFactory(contract=other) for _ in range(5)]
        national_call = build_voted_call(
            other, VOTED_YEAR, national, funders_partners, associations, qpvs, other_enjeux
        )
        print(f"Appel national ({national} dossiers) ajouté en {time.perf_counter() - started:.0f} s")
    return Call.objects.get(contract=contract, year=VOTED_YEAR), national_call


def annual_report_bench(national):
    import logging

    from cdv.grants.figures import call_figures, calls_figures

    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)
    from cdv.monitoring import yearly

    def n(value):
        return f"{value:,}".replace(",", " ")

    def euros(value):
        return f"{n(int(value))} €"

    voted_call, national_call = ensure_voted_calls(national)
    print(
        f"Bilan annuel avec un appel complet — cible < {TARGET_ANNUAL_S:.0f} s ; "
        f"charge moyenne {os.getloadavg()[0]:.1f}"
    )
    for label, call in (
        (
            f"appel de {voted_call.applications.count()} dossiers (base de {n(Application.objects.count())})",
            voted_call,
        ),
        (f"appel national de {n(national_call.applications.count())} dossiers", national_call),
    ):
        contract = call.contract
        wall, cpu, figures = timed(lambda c=contract: call_figures(c, VOTED_YEAR), 3)
        print(
            f"  {label} : chiffres (call_figures) {cpu:.2f} s de processeur, {wall:.2f} s écoulées "
            "(médianes de 3)"
        )
        t, c, r = figures["totals"], figures["counts"], figures["reports"]
        print(
            f"    demandé {euros(t['requested'])}, voté {euros(t['voted'])}, versé {euros(t['paid'])} ; "
            f"part du voté en QPV {figures['scope']['qpv_share']} % ; "
            f"{n(c['projects_funded'])} projets financés sur {n(c['projects_submitted'])}, "
            f"{c['associations_funded']} associations ; comptes-rendus {n(r['due'])} à rendre, "
            f"{n(r['received'])} reçus, {n(r['accepted'])} acceptés, {n(r['missing'])} manquants"
        )
        wall, cpu, pdf = timed(
            lambda c=contract: yearly.build_annual_report_pdf(contract=c, year=VOTED_YEAR), 3
        )
        print(
            f"    bilan annuel PDF complet (chiffres + gabarit + WeasyPrint) : {cpu:.2f} s de processeur, "
            f"{wall:.2f} s écoulées (médianes de 3), {len(pdf) / 1024:.0f} Kio — "
            f"cible < {TARGET_ANNUAL_S:.0f} s de processeur : {verdict(cpu < TARGET_ANNUAL_S)}"
        )
    contract = voted_call.contract
    years = sorted(Call.objects.filter(contract=contract).values_list("year", flat=True))
    wall, cpu, result = timed(lambda: calls_figures(contract, years), 1)
    print(
        f"  évaluation : les {len(result['years'])} appels du contrat du banc "
        f"({n(result['totals']['counts']['projects_submitted'])} dossiers déposés), année par année et "
        f"au total : {cpu:.2f} s de processeur, {wall:.2f} s écoulées"
    )
    return 0


# ---------------------------------------------------------------------------------------------
# Données ouvertes : le SCDL subventions de 50 000 subventions

TARGET_SCDL_S = 5.0
SCDL_CONTRACT = "banc-scdl"
SCDL_CALLS, SCDL_APPLICATIONS, SCDL_FUNDERS = 5, 2500, 4  # 50 000 lignes votées


def _siret(seed: int) -> str:
    from cdv.core.validators import luhn_ok

    base = f"3{seed:012d}"[:13]
    return next(base + str(d) for d in range(10) if luhn_ok(base + str(d)))


def build_scdl():
    """50 000 subventions votées, actes signés, échéanciers et versements, tout en ``bulk_create``."""
    import datetime

    from django.utils import timezone

    from cdv.grants.models import GrantAct, Payment, PaymentInstalment
    from tests import factories

    contract = factories.ContractFactory(slug=SCDL_CONTRACT, title="Contrat du banc d'essai SCDL")
    contract.qpvs.set([factories.QpvFactory()])
    funders_partners = Partner.objects.bulk_create(
        [
            Partner(name=f"Financeur SCDL n° {k}", slug=f"financeur-scdl-{k}", kind="EPCI", siret=_siret(k))
            for k in range(SCDL_FUNDERS)
        ]
    )
    associations = Partner.objects.bulk_create(
        [
            Partner(
                name=f"Association SCDL n° {i}",
                slug=f"asso-scdl-{i}",
                kind="ASSOCIATION",
                siret=_siret(1000 + i),
                rna=f"W44{i:07d}",
            )
            for i in range(500)
        ]
    )
    held = timezone.now()
    for n in range(SCDL_CALLS):
        year = 2040 + n
        call = Call.objects.create(
            contract=contract,
            year=year,
            title=f"Appel à projets {year}",
            status="PUBLIE",
            filing_opens=f"{year - 1}-10-15",
            filing_closes=f"{year - 1}-11-15",
            committee_held_at=held,
        )
        funders = CallFunder.objects.bulk_create(
            [
                CallFunder(call=call, partner=p, envelope=Decimal("5000000"), order=k)
                for k, p in enumerate(funders_partners)
            ]
        )
        apps = Application.objects.bulk_create(
            [
                Application(
                    call=call,
                    partner=associations[i % len(associations)],
                    number=f"{year}-{i + 1:04d}",
                    status=ApplicationStatus.DECIDED,
                    title=f"Projet n° {i + 1} de l'appel {year} : ateliers dans les quartiers",
                    submitted_at=held,
                    end_date=datetime.date(year, 12, 31),
                )
                for i in range(SCDL_APPLICATIONS)
            ],
            batch_size=2000,
        )
        lines = FunderLine.objects.bulk_create(
            [
                FunderLine(
                    application=a,
                    funder=funder,
                    status=LineStatus.VOTED,
                    requested_amount=Decimal(2000 + i % 7000),
                    voted_amount=Decimal(1500 + i % 7000),
                    decision_date=datetime.date(year, 2, 6),
                    decision_reference=f"CF-{year}",
                )
                for i, a in enumerate(apps)
                for funder in funders
            ],
            batch_size=2000,
        )
        numbers = {}
        acts, instalments, payments = [], [], []
        for line in lines:
            numbers[line.funder_id] = numbers.get(line.funder_id, 0) + 1
            number = numbers[line.funder_id]
            staged = line.voted_amount >= Decimal("4000")
            acts.append(
                GrantAct(
                    line=line,
                    funder_id=line.funder_id,
                    kind="ARRETE",
                    number=number,
                    reference=f"F{line.funder_id}-{year}-{number:05d}",
                    amount=line.voted_amount,
                    payment_terms="ECHELONNE" if staged else "UNIQUE",
                    signed_on=datetime.date(year, 3, 1 + number % 28),
                )
            )
            half = (line.voted_amount / 2).quantize(Decimal("0.01"))
            if staged:
                instalments.append(
                    PaymentInstalment(
                        line=line, kind="AVANCE", order=1, amount=half, due_date=datetime.date(year, 4, 1)
                    )
                )
                instalments.append(
                    PaymentInstalment(
                        line=line,
                        kind="SOLDE",
                        order=2,
                        amount=line.voted_amount - half,
                        due_date=datetime.date(year, 12, 1),
                    )
                )
            else:
                instalments.append(
                    PaymentInstalment(
                        line=line,
                        kind="UNIQUE",
                        order=1,
                        amount=line.voted_amount,
                        due_date=datetime.date(year, 4, 1),
                    )
                )
            payments.append(
                Payment(
                    line=line,
                    paid_on=datetime.date(year, 4, 10),
                    amount=half if staged else line.voted_amount,
                )
            )
        GrantAct.objects.bulk_create(acts, batch_size=2000)
        PaymentInstalment.objects.bulk_create(instalments, batch_size=2000)
        Payment.objects.bulk_create(payments, batch_size=2000)


def bench_scdl():
    from cdv.contracts.models import Contract
    from cdv.grants.scdl import published_lines

    call_command("migrate", verbosity=0)  # base neuve, ou construite avant la partie 2 de l'AAP
    if not Contract.objects.filter(slug=SCDL_CONTRACT).exists():
        started = time.perf_counter()
        build_scdl()
        print(f"Subventions du banc SCDL construites en {time.perf_counter() - started:.0f} s")
    contract = Contract.objects.get(slug=SCDL_CONTRACT)
    count = published_lines(contract).count()
    client = Client()  # un visiteur anonyme, comme tout téléchargement de données ouvertes

    def n(value):
        return f"{value:,}".replace(",", "\u202f")

    for name in ("subventions", "subventions-cofinancement"):
        url = f"/contrats/{SCDL_CONTRACT}/donnees/{name}.csv"
        wall, seconds, response = timed(lambda u=url: client.get(u), 3)
        assert response.status_code == 200, response.content[:200]
        lines = response.content.count(b"\r\n") - 1
        print(
            f"Données ouvertes {name}.csv, {n(lines)} subventions (sur {n(count)} publiables) : "
            f"{seconds:.2f} s de processeur, {wall:.2f} s écoulées (médianes de 3), "
            f"{len(response.content) / 1024 / 1024:.1f} Mio — "
            f"cible < {TARGET_SCDL_S:.0f} s : {verdict(seconds < TARGET_SCDL_S)}"
        )


if __name__ == "__main__":
    sys.exit(main())
