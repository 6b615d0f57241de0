"""Les Table Schemas des données ouvertes suivent les conventions de schema.data.gouv.fr (titre,
description, un exemple valide par colonne) et déclarent les codes en texte, pour que pandas ou
frictionless ne confondent pas l'objectif « 1.10 » avec « 1.1 »."""

import csv
import io
import json

import frictionless
import pandas as pd
import pytest
from openpyxl import load_workbook

from cdv.opendata.resources import BY_NAME, RESOURCES
from cdv.opendata.writers import csv_bytes
from tests import factories

# Colonnes de code : des identifiants qui ressemblent à des nombres mais n'en sont pas.
CODE_COLUMNS = {
    "quartiers": ["code", "communes_insee", "qpv_2015_remplace"],
    "partenaires": ["siren", "siret", "rna"],
    "objectifs": ["code"],
    "actions": ["objectif_code", "code", "qpv", "partenaires_contributeurs"],
    "engagements": ["objectif_code", "qpv", "indicateurs_suivi"],
    "valeurs-indicateurs": ["indicateur_code", "territoire_code", "periode", "millesime"],
    "subventions": ["idAttribuant", "idBeneficiaire", "rnaBeneficiaire", "idRAE", "referenceDecision"],
    "subventions-cofinancement": ["idAttribuant", "idBeneficiaire", "rnaBeneficiaire"],
    "dispositifs-aide": ["porteur_siren"],
}


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.name)
def test_every_schema_has_a_french_title_and_description_and_an_example_per_field(resource):
    schema = resource.table_schema()
    assert schema["title"] == resource.title and len(schema["title"]) > 10
    assert schema["description"] == resource.description and len(schema["description"]) > 30
    missing = [field["name"] for field in schema["fields"] if not field.get("example")]
    assert not missing, f"{resource.name} : colonnes sans exemple {missing}"
    assert frictionless.Schema.validate_descriptor(schema).valid


def validate_examples(resource, folder, **replaced):
    """Une ligne faite des exemples (``replaced`` en remplace), écrite en CSV, validée par frictionless."""
    schema = resource.table_schema()
    schema.pop("foreignKeys", None)  # une ressource seule : les autres fichiers ne sont pas là
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([field["name"] for field in schema["fields"]])
    writer.writerow([replaced.get(field["name"], field["example"]) for field in schema["fields"]])
    (folder / "exemple.csv").write_text(buffer.getvalue(), encoding="utf-8")
    (folder / "schema.json").write_text(json.dumps(schema, ensure_ascii=False), encoding="utf-8")
    return frictionless.validate(
        frictionless.Resource(path="exemple.csv", schema="schema.json", basepath=str(folder))
    )


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.name)
def test_the_examples_make_a_row_that_frictionless_accepts(resource, tmp_path):
    report = validate_examples(resource, tmp_path)
    assert report.valid, report.flatten(["fieldName", "type", "note"])
    assert report.tasks[0].stats["rows"] == 1


def test_an_invalid_example_is_caught(tmp_path):
    """Le test ci-dessus sait échouer : un exemple hors contraintes est refusé."""
    report = validate_examples(BY_NAME["quartiers"], tmp_path, code="QN123", population="-4")
    assert report.flatten(["fieldName", "type"]) == [
        ["code", "constraint-error"],
        ["population", "constraint-error"],
    ]


@pytest.mark.parametrize("name", sorted(CODE_COLUMNS))
def test_code_columns_are_declared_as_strings(name):
    types = {field["name"]: field["type"] for field in BY_NAME[name].table_schema()["fields"]}
    assert {column: types[column] for column in CODE_COLUMNS[name]} == dict.fromkeys(
        CODE_COLUMNS[name], "string"
    )


def pandas_dtypes(schema) -> dict:
    """Ce qu'un réutilisateur passe à pandas d'après le schéma : les colonnes « string » en texte."""
    return {field["name"]: "string" for field in schema["fields"] if field["type"] == "string"}


@pytest.mark.django_db
def test_objective_1_10_stays_distinct_from_1_1_when_read_with_the_schema(client, tmp_path):
    contract = factories.ContractFactory()
    enjeu = factories.EnjeuFactory(contract=contract, number=1)
    for number in (1, 10):
        factories.ActionFactory(objective=factories.ObjectiveFactory(enjeu=enjeu, number=number))
    base = f"/contrats/{contract.slug}/donnees/"
    package = json.loads(client.get(f"{base}datapackage.json").content)
    for name in ("objectifs", "actions"):
        body = client.get(f"{base}{name}.csv").content
        # Rien n'est entre guillemets sans nécessité : les codes sont écrits tels quels.
        assert b'"1.10"' not in body and b",1.10," in body
        schema = next(r for r in package["resources"] if r["name"] == name)["schema"]
        column = "code" if name == "objectifs" else "objectif_code"
        assert next(f for f in schema["fields"] if f["name"] == column)["type"] == "string"
        # pandas seul lit des nombres : 1.10 devient 1.1 (ce que le schéma corrige)
        assert sorted(pd.read_csv(io.BytesIO(body))[column].tolist()) == [1.1, 1.1]
        frame = pd.read_csv(io.BytesIO(body), dtype=pandas_dtypes(schema))
        assert sorted(frame[column].tolist()) == ["1.1", "1.10"]
        (tmp_path / f"{name}.csv").write_bytes(body)
        schema = {key: value for key, value in schema.items() if key != "foreignKeys"}
        rows = frictionless.Resource(
            path=f"{name}.csv", schema=frictionless.Schema.from_descriptor(schema), basepath=str(tmp_path)
        ).read_rows()
        assert sorted(row[column] for row in rows) == ["1.1", "1.10"]
        # Le XLSX garde les codes en cellules texte (pandas, qui devine aussi des nombres dans un
        # classeur, les lit tels quels avec les types du schéma).
        content = client.get(f"{base}{name}.xlsx").content
        sheet = load_workbook(io.BytesIO(content))["Données"]
        index = [c.value for c in sheet[1]].index(column)
        cells = [row[index] for row in sheet.iter_rows(min_row=2)]
        assert sorted((c.value, c.data_type) for c in cells) == [("1.1", "s"), ("1.10", "s")]
        frame = pd.read_excel(io.BytesIO(content), sheet_name="Données", dtype=pandas_dtypes(schema))
        assert sorted(frame[column].tolist()) == ["1.1", "1.10"]


def test_the_csv_writer_quotes_only_what_csv_requires():
    resource = BY_NAME["objectifs"]
    row = dict.fromkeys(resource.column_names, "")
    row.update(id=3, enjeu=1, code="1.10", numero=10, intitule="Lever les freins, vite", description="")
    row["est_demonstration"] = False
    line = csv_bytes(resource, [row]).decode().split("\r\n")[1]
    assert line == '3,1,1.10,10,"Lever les freins, vite",,,false'
