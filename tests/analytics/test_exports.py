"""``flask export``: bundles read back with pandas equal the stored rows, in every format."""
from __future__ import annotations

import hashlib
import json
import zipfile

import pandas as pd
import pytest

from analytics.datasets import DATASETS, DICTIONARY
from paco import spreadsheet
from paco.extensions import db
from paco.models import AuditEvent, Message

from . import fixture

READERS = {"csv": pd.read_csv, "xlsx": pd.read_excel, "parquet": pd.read_parquet, "dta": pd.read_stata}


@pytest.fixture
def jan(app):
    ids = fixture.load()
    # A question a spreadsheet would run: exported as text in CSV/XLSX, as written elsewhere.
    db.session.add(Message(conversation_id="cB1", role="user", content="=HYPERLINK(\"http://x\",\"y\")",
                           created_at=fixture.at(31, 9), input="text", topic="other"))
    db.session.commit()
    return ids


def run_export(runner, tmp_path, dataset, fmt, *args):
    out = tmp_path / f"{dataset}-{fmt}.zip"
    result = runner.invoke(args=["export", dataset, "--format", fmt, "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    bundle = zipfile.ZipFile(out)
    data = READERS[fmt](bundle.open(f"{dataset}.{fmt}")) if fmt != "csv" else pd.read_csv(
        bundle.open(f"{dataset}.{fmt}"), keep_default_na=False, na_values=[""])
    return bundle, data, result.output


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet", "dta"])
def test_messages_round_trip(jan, runner, tmp_path, fmt):
    bundle, data, output = run_export(runner, tmp_path, "messages", fmt)
    assert sorted(bundle.namelist()) == ["dictionary.csv", "manifest.json", f"messages.{fmt}"]
    stored = db.session.execute(db.select(Message.id, Message.content).order_by(Message.id)).all()
    assert list(data["id"].astype(int)) == [row.id for row in stored]
    contents = list(data["content"].fillna(""))
    if fmt in ("csv", "xlsx"):
        assert contents[-1] == "'=HYPERLINK(\"http://x\",\"y\")"  # neutralised, and recoverable
        contents = [spreadsheet.original(c) for c in contents]
    assert contents == [row.content for row in stored]
    # Research ID, cohort and the disclaimer version acknowledged when sent, on every row.
    questions = data[data["role"].astype(str) == "user"]
    assert list(zip(questions["research_id"], questions["cohort"], questions["disclaimer_version"].astype(int))) == [
        ("A1", "Arm A", 1), ("A1", "Arm A", 1), ("A1", "Arm A", 2), ("A2", "Arm A", 1), ("B1", "Arm B", 2),
        ("B1", "Arm B", 2)]
    first = pd.Timestamp(data["created_at"].iloc[0])
    assert (first.tz_localize(None) if first.tzinfo else first) == pd.Timestamp("2026-01-02 09:00:00")
    dictionary = pd.read_csv(bundle.open("dictionary.csv"), keep_default_na=False)
    assert list(dictionary.columns) == ["column", "type", "unit", "meaning", "values"]
    assert list(dictionary["column"]) == list(data.columns)
    manifest = json.loads(bundle.read("manifest.json"))
    assert set(manifest) >= {"files", "filters", "created_at", "version"}
    data_file = manifest["files"][0]
    assert data_file["name"] == f"messages.{fmt}" and data_file["rows"] == len(stored)
    assert data_file["sha256"] == hashlib.sha256(bundle.read(f"messages.{fmt}")).hexdigest()
    assert f"Exported {len(stored)} rows of messages" in output
    event = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "export")).scalar_one()
    detail = json.loads(event.detail)
    assert event.target == "dataset:messages" and detail["rows"] == len(stored) and detail["format"] == fmt
    assert detail["files"][0]["sha256"] == data_file["sha256"] and event.actor.startswith("cli")


def test_stata_names_labels_and_categories(jan, runner, tmp_path):
    bundle, _, _ = run_export(runner, tmp_path, "messages", "dta")
    reader = pd.io.stata.StataReader(bundle.open("messages.dta"))
    with reader:
        labels = reader.variable_labels()
        data = reader.read()
    assert all(len(name) <= 32 for name in data.columns)
    assert labels["created_at"].startswith("When the message was stored")
    assert isinstance(data["role"].dtype, pd.CategoricalDtype) and set(data["role"].cat.categories) == {"user",
                                                                                                      "assistant"}


def test_a_stata_file_too_big_to_write_whole_is_refused_with_what_to_do(jan, runner, tmp_path, monkeypatch):
    from analytics import exports

    monkeypatch.setattr(exports, "DTA_MEMORY_MB", 0.001)  # about a kilobyte: the first chunk passes it
    out = tmp_path / "messages.zip"
    result = runner.invoke(args=["export", "messages", "--format", "dta", "--out", str(out)])
    assert result.exit_code == 1
    assert "Stata files are written whole" in result.output and "choose csv or parquet" in result.output
    assert "[export_too_large]" in result.output and not out.exists()
    assert db.session.query(AuditEvent).filter_by(action="export").count() == 0  # nothing was exported


@pytest.mark.parametrize("dataset", DATASETS)
def test_every_dataset_exports_with_a_dictionary_of_its_columns(jan, runner, tmp_path, dataset):
    bundle, data, _ = run_export(runner, tmp_path, dataset, "parquet")
    assert list(data.columns) == [c.name for c in DICTIONARY[dataset]]
    dictionary = pd.read_csv(bundle.open("dictionary.csv"), keep_default_na=False)
    assert list(dictionary["column"]) == list(data.columns) and all(dictionary["meaning"])


def test_filters_cut_rows(jan, runner, tmp_path):
    _, data, _ = run_export(runner, tmp_path, "messages", "csv", "--cohort", "Arm B", "--from", "2026-01-31")
    assert list(data["content"]) == ["'=HYPERLINK(\"http://x\",\"y\")"]
    _, adherence, _ = run_export(runner, tmp_path, "adherence", "csv", "--to", "2026-01-05")
    assert sorted(adherence["research_id"]) == ["A1", "A2"]
    bad = runner.invoke(args=["export", "messages", "--format", "csv", "--out", str(tmp_path / "x.zip"),
                              "--cohort", "Arm Z"])
    assert bad.exit_code == 1 and "[unknown_cohort]" in bad.output


def test_check_ins_export_every_answer_and_the_adherence_dataset_names_the_barrier(jan, runner, tmp_path):
    fixture.load_checkins()
    _, answers, _ = run_export(runner, tmp_path, "checkins", "csv")
    assert list(zip(answers["research_id"], answers["date"], answers["taken"], answers["reason"].fillna(""),
                    answers["latest"])) == [
        ("A1", "2026-01-05", "none", "forgot", 0), ("A1", "2026-01-05", "some", "forgot", 1),
        ("A1", "2026-01-06", "all", "", 1), ("A1", "2026-01-13", "none", "cost", 1),
        ("A2", "2026-01-06", "some", "forgot", 1), ("A3", "2026-01-07", "some", "cost", 1),
        ("B1", "2026-01-14", "none", "side_effects", 0), ("B1", "2026-01-14", "none", "on_purpose", 1),
        ("B1", "2026-01-15", "all", "", 1)]
    assert list(answers["value"]) == [0.0, 0.5, 1.0, 0.0, 0.5, 0.5, 0.0, 0.0, 1.0]
    assert set(answers["cohort"]) == {"Arm A", "Arm B"} and set(answers["wording"]) == {"v1"}
    _, parquet, _ = run_export(runner, tmp_path, "checkins", "parquet", "--cohort", "Arm B")
    assert list(parquet["reason"].fillna("")) == ["side_effects", "on_purpose", ""]
    _, records, _ = run_export(runner, tmp_path, "adherence", "csv")
    checked_in = records[records["source"] == "paco_checkin"]
    # One record per participant-day, holding the day's latest answer.
    assert list(zip(checked_in["research_id"], checked_in["date"], checked_in["value"],
                    checked_in["barrier"].fillna(""))) == [
        ("A1", "2026-01-05", 0.5, "forgot"), ("A1", "2026-01-06", 1.0, ""), ("A1", "2026-01-13", 0.0, "cost"),
        ("A2", "2026-01-06", 0.5, "forgot"), ("A3", "2026-01-07", 0.5, "cost"), ("B1", "2026-01-14", 0.0, "on_purpose"),
        ("B1", "2026-01-15", 1.0, "")]
    assert (checked_in["measure"] == "self_report").all()
