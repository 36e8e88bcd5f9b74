"""Data managers' scripts as they run them: files in, counts and problems out, the database as it should be."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, timedelta

import pytest
from openpyxl import Workbook

from paco.extensions import db
from paco.models import AdherenceRecord, AuditEvent, Cohort, Conversation, ImportBatch, ResearchID, StaffUser, utcnow
from paco.services import staff
from paco.services.research_id_codes import ALPHABET, is_mistyped


def write(tmp_path, name: str, text: str, encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def ids_in(cohort: str | None = None) -> list[str]:
    query = db.select(ResearchID.research_id).order_by(ResearchID.research_id)
    if cohort:
        query = query.join(Cohort).where(Cohort.name == cohort)
    return list(db.session.execute(query).scalars())


def adherence_rows() -> list[tuple]:
    return [tuple(r) for r in db.session.execute(
        db.select(AdherenceRecord.research_id, AdherenceRecord.date, AdherenceRecord.value,
                  AdherenceRecord.medication, AdherenceRecord.source)
        .order_by(AdherenceRecord.research_id, AdherenceRecord.date, AdherenceRecord.medication))]


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.execute(db.select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)).scalars())


def make_cohort(name: str) -> Cohort:
    cohort = Cohort(name=name)
    db.session.add(cohort)
    db.session.commit()
    return cohort


def test_import_a_bom_semicolon_file_then_rerun_it_changes_nothing(runner, tmp_path):
    path = write(tmp_path, "redcap.csv", "\ufeffRecord_ID;Status;Enrolled_at;Notes;Site\n"
                 "pad-001;active;2026-03-01;first;A\nPAD-002;Paused;2026-03-02T09:30:00+02:00;;A\n\n"
                 "PAD-003;;;needs a call;B\n")
    result = runner.invoke(args=["ids", "import", path, "--cohort", "Arm A", "--create-cohort"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "research IDs: 3 created, 0 updated, 0 unchanged, 1 skipped"
    assert "Columns not used (unknown): Site" in result.output
    assert ids_in("Arm A") == ["PAD-001", "PAD-002", "PAD-003"]
    two = db.session.execute(db.select(ResearchID).where(ResearchID.research_id == "PAD-002")).scalar_one()
    assert (two.status, two.enrolled_at.isoformat()) == ("paused", "2026-03-02T07:30:00+00:00")
    batch = db.session.execute(db.select(ImportBatch)).scalar_one()
    assert {r.import_batch for r in db.session.execute(db.select(ResearchID)).scalars()} == {batch.id}
    assert (batch.kind, batch.file_name, batch.created, batch.skipped) == ("research_ids", "redcap.csv", 3, 1)
    [event] = events("import.research_ids")
    detail = json.loads(event.detail)
    assert (detail["batch"], detail["created"], detail["cohort"], event.actor) == (batch.id, 3, "Arm A",
                                                                                  event.actor)
    assert event.actor.startswith("cli") and len(detail["sha256"]) == 64

    again = runner.invoke(args=["ids", "import", path, "--cohort", "Arm A"])
    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[-1] == "research IDs: 0 created, 0 updated, 3 unchanged, 1 skipped"
    assert len(events("import.research_ids")) == 1 and db.session.execute(
        db.select(db.func.count()).select_from(ImportBatch)).scalar() == 1

    listed = runner.invoke(args=["ids", "list", "--cohort", "Arm A"])
    assert listed.output == "PAD-001\nPAD-002\nPAD-003\n"
    paused = runner.invoke(args=["ids", "list", "--status", "paused", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(paused.output)))
    assert [(r["research_id"], r["cohort"], r["status"]) for r in rows] == [("PAD-002", "Arm A", "paused")]


def test_an_update_is_counted_and_applied(runner, tmp_path):
    make_cohort("A")
    runner.invoke(args=["ids", "import", write(tmp_path, "a.csv", "research_id,notes\nR1,x\nR2,y\n"), "--cohort", "A"])
    result = runner.invoke(args=["ids", "import", write(tmp_path, "b.csv", "research_id,status,notes\n"
                                                       "R1,withdrawn,x\nR2,,y\nR3,,\n"), "--cohort", "A"])
    assert result.output.splitlines()[-1] == "research IDs: 1 created, 1 updated, 1 unchanged, 0 skipped"
    statuses = dict(db.session.execute(db.select(ResearchID.research_id, ResearchID.status)).all())
    assert statuses == {"R1": "withdrawn", "R2": "active", "R3": "active"}


def test_every_problem_is_reported_with_its_line_and_nothing_is_written(runner, tmp_path):
    other = make_cohort("B")
    db.session.add(ResearchID(research_id="TAKEN-1", cohort_id=other.id, status="active"))
    db.session.commit()
    future = (date.today() + timedelta(days=3)).isoformat()
    path = write(tmp_path, "bad.csv", "study_id,status,enrolled_at\n"
                 "OK-1,active,2026-01-01\n"        # line 2: fine
                 "bad id,active,\n"                # 3: malformed
                 "OK-2,retired,\n"                 # 4: unknown status
                 f"OK-3,,{future}\n"               # 5: future date
                 "OK-4,,31/12/2025\n"              # 6: unparseable date
                 "OK-1,,\n"                        # 7: duplicate of line 2
                 "taken-1,,\n"                     # 8: in another cohort
                 "OK-5,active,,surplus\n")         # 9: more values than columns
    report = tmp_path / "report.csv"
    result = runner.invoke(args=["ids", "import", path, "--cohort", "A", "--create-cohort", "--report", str(report)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[-1] == "7 problems in bad.csv: nothing was imported."
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert [(r["line"], r["column"], r["code"]) for r in rows] == [
        ("3", "research_id", "invalid_research_id"), ("4", "status", "invalid_status"),
        ("5", "enrolled_at", "invalid_date"), ("6", "enrolled_at", "invalid_date"),
        ("7", "research_id", "duplicate_in_file"), ("8", "research_id", "in_another_cohort"),
        ("9", "", "extra_values"),
    ]
    by_line = {r["line"]: r for r in rows}
    assert by_line["3"]["value"] == "bad id" and "only letters" in by_line["3"]["reason"]
    assert by_line["5"]["reason"].startswith("in the future")
    assert "YYYY-MM-DD" in by_line["6"]["reason"]
    assert by_line["7"]["reason"] == "duplicate in the file: also on line 2"
    assert by_line["8"]["reason"] == "already in PaCo, in cohort B: change cohorts with flask ids move"
    assert "header has 3 columns" in by_line["9"]["reason"]
    assert "line 3, research_id 'bad id'" in result.output
    assert ids_in() == ["TAKEN-1"] and db.session.execute(db.select(Cohort.name)).scalars().all() == ["B"]
    assert events("import.research_ids") == []


def test_a_missing_column_and_a_file_that_is_not_text(runner, tmp_path):
    make_cohort("A")
    result = runner.invoke(args=["ids", "import", write(tmp_path, "x.csv", "name,email\nAnn,a@x\n"), "--cohort", "A"])
    assert result.exit_code == 1
    assert ("line 1, research_id '': required column missing: the header line needs research_id or record_id "
            "or study_id or participant_id or subject_id or researchid [missing_column]") in result.output
    latin = write(tmp_path, "latin.csv", "research_id,notes\nR1,ok\nR2,café\n", encoding="latin-1")
    result = runner.invoke(args=["ids", "import", latin, "--cohort", "A"])
    assert result.exit_code == 1 and "not UTF-8 text (byte 0xE9 on line 3)" in result.output
    assert "[wrong_encoding]" in result.output
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    result = runner.invoke(args=["ids", "import", str(xls), "--cohort", "A"])
    assert result.exit_code == 1 and "old Excel workbook (.xls)" in result.output
    utf16 = write(tmp_path, "u16.csv", "\ufeffresearch_id\nR1\n", encoding="utf-16-le")
    result = runner.invoke(args=["ids", "import", utf16, "--cohort", "A"])
    assert result.exit_code == 1 and "UTF-16" in result.output
    result = runner.invoke(args=["ids", "import", write(tmp_path, "e.csv", "research_id\nR1\n"), "--cohort", "Nope"])
    assert result.exit_code == 1 and "There is no cohort named 'Nope'" in result.output
    assert "[unknown_cohort]" in result.output
    assert ids_in() == []


def test_dry_run_writes_nothing(runner, tmp_path):
    path = write(tmp_path, "ids.tsv", "research_id\tnotes\nR1\tx\nR2\ty\n")
    result = runner.invoke(args=["ids", "import", path, "--cohort", "New", "--create-cohort", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Dry run" in result.output
    assert result.output.splitlines()[-1] == "research IDs: 2 created, 0 updated, 0 unchanged, 0 skipped"
    assert ids_in() == [] and db.session.execute(db.select(Cohort)).first() is None
    assert db.session.execute(db.select(ImportBatch)).first() is None


def test_a_failure_half_way_leaves_the_database_exactly_as_before(runner, tmp_path, monkeypatch):
    make_cohort("A")
    runner.invoke(args=["ids", "import", write(tmp_path, "a.csv", "research_id\nR1\n"), "--cohort", "A"])
    before = (ids_in(), len(events("import.research_ids")))
    from paco.services import audit

    def broken(*args, **kwargs):  # the rows are inserted by now; the audit write fails
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "record", broken)
    result = runner.invoke(args=["ids", "import", write(tmp_path, "b.csv", "research_id,status\nR1,paused\nR2,\n"),
                                 "--cohort", "A"])
    assert result.exit_code != 0 and isinstance(result.exception, RuntimeError)
    monkeypatch.undo()
    db.session.rollback()
    assert (ids_in(), len(events("import.research_ids"))) == before
    assert db.session.execute(db.select(ResearchID.status)).scalars().all() == ["active"]
    assert db.session.execute(db.select(db.func.count()).select_from(ImportBatch)).scalar() == 1


def test_undo_removes_a_batch_unless_it_has_chat_data(runner, tmp_path):
    make_cohort("A")
    runner.invoke(args=["ids", "import", write(tmp_path, "a.csv", "research_id\nR1\nR2\n"), "--cohort", "A"])
    batch = db.session.execute(db.select(ImportBatch)).scalar_one()
    db.session.add(Conversation(research_id="R1", conversation_id="c1"))
    db.session.commit()
    result = runner.invoke(args=["ids", "import", "--undo", batch.id])
    assert result.exit_code == 1 and "1 research IDs of batch" in result.output and "(R1)" in result.output
    assert "[batch_in_use]" in result.output and ids_in() == ["R1", "R2"]

    runner.invoke(args=["ids", "import", write(tmp_path, "b.csv", "research_id\nR3\nR4\n"), "--cohort", "A"])
    second = db.session.execute(db.select(ImportBatch).where(ImportBatch.id != batch.id)).scalar_one()
    result = runner.invoke(args=["ids", "import", "--undo", second.id])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"Batch {second.id} undone: 2 research IDs removed."
    assert ids_in() == ["R1", "R2"]
    db.session.expire_all()
    assert db.session.get(ImportBatch, second.id).undone_at is not None
    assert json.loads(events("import.undo")[0].detail)["removed"] == 2
    again = runner.invoke(args=["ids", "import", "--undo", second.id])
    assert again.exit_code == 1 and "[batch_already_undone]" in again.output


def test_as_names_a_data_manager_and_refuses_investigators(runner, tmp_path):
    make_cohort("A")
    for email, role in (("dm@study.example.org", "data_manager"), ("pi@study.example.org", "investigator")):
        db.session.add(StaffUser(email=email, role=role, password_hash=staff.hash_password("a long passphrase 1")))
    db.session.commit()
    path = write(tmp_path, "a.csv", "research_id\nR1\n")
    refused = runner.invoke(args=["ids", "import", path, "--cohort", "A", "--as", "pi@study.example.org"])
    assert refused.exit_code == 1 and "need a data_manager or admin account" in refused.output
    unknown = runner.invoke(args=["ids", "import", path, "--cohort", "A", "--as", "who@x.org"])
    assert unknown.exit_code == 1 and "no active staff account" in unknown.output
    assert ids_in() == []
    ok = runner.invoke(args=["ids", "import", path, "--cohort", "A", "--as", "DM@study.example.org"])
    assert ok.exit_code == 0, ok.output
    assert events("import.research_ids")[0].actor == "dm@study.example.org"


def test_set_status_and_move_take_ids_or_a_file_with_the_admin_sites_rules(runner, tmp_path):
    make_cohort("A")
    make_cohort("B")
    runner.invoke(args=["ids", "import", write(tmp_path, "a.csv", "research_id\nR1\nR2\nR3\n"), "--cohort", "A"])
    result = runner.invoke(args=["ids", "set-status", "paused", "r1", "R2"])
    assert result.output.strip() == "research IDs: 2 set to paused, 0 already paused"
    listing = write(tmp_path, "move.csv", "Record_ID,other\nR2,x\nR3,y\n")
    result = runner.invoke(args=["ids", "move", "--cohort", "B", listing])
    assert result.output.strip() == "research IDs: 2 moved to B, 0 already there"
    assert ids_in("B") == ["R2", "R3"]
    plain = write(tmp_path, "plain.txt", "R1\nR3\n")
    result = runner.invoke(args=["ids", "set-status", "withdrawn", plain])
    assert result.output.strip() == "research IDs: 2 set to withdrawn, 0 already withdrawn"
    assert [e.action for e in events("bulk.pause") + events("bulk.move_cohort") + events("bulk.withdraw")] == [
        "bulk.pause", "bulk.move_cohort", "bulk.withdraw"]
    unknown = runner.invoke(args=["ids", "set-status", "active", "R1", "NOPE"])
    assert unknown.exit_code == 1 and "Unknown research IDs: NOPE [unknown_research_ids]" in unknown.output


def test_generated_ids_can_be_read_aloud_and_a_typo_is_caught(runner, tmp_path, client):
    out = tmp_path / "cards.csv"
    result = runner.invoke(args=["ids", "generate", "--cohort", "G", "--create-cohort", "--count", "25",
                                 "--prefix", "pad", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 25 and {r["cohort"] for r in rows} == {"G"}
    shape = re.compile(f"^PAD-[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}$")
    assert all(shape.match(r["research_id"]) and not is_mistyped(r["research_id"]) for r in rows)
    assert sorted(r["research_id"] for r in rows) == ids_in("G")
    assert "research IDs: 25 created, 0 updated, 0 unchanged, 0 skipped" in result.output
    typed = rows[0]["research_id"]
    typo = typed[:-1] + next(c for c in ALPHABET if c != typed[-1])
    answer = client.post("/api/v1/auth/login", json={"research_id": typo})
    assert answer.get_json()["error"]["code"] == "research_id_mistyped"


def test_adherence_import_one_scale_and_every_problem(runner, tmp_path):
    make_cohort("A")
    runner.invoke(args=["ids", "import", write(tmp_path, "a.csv", "research_id\nR1\nR2\n"), "--cohort", "A"])
    percent = write(tmp_path, "pharmacy.csv", "research_id,date,pdc,medication\n"
                    "R1,2026-10-01,85,cilostazol\nR1,2026-10-01,90%,aspirin\nR2,2026-10-02,\"72,5\",\n")
    as_fraction = runner.invoke(args=["adherence", "import", percent, "--measure", "refill_pdc"])
    assert as_fraction.exit_code == 1 and "3 problems in pharmacy.csv" in as_fraction.output
    assert "line 2, value '85': outside 0-1, the declared scale (fraction)" in as_fraction.output
    assert "line 3, value '90%': has a % sign" in as_fraction.output
    assert adherence_rows() == []

    result = runner.invoke(args=["adherence", "import", percent, "--measure", "refill_pdc", "--scale", "percent",
                                 "--source", "Pharmacy A"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "adherence records: 3 created, 0 updated, 0 unchanged, 0 skipped"
    assert adherence_rows() == [("R1", date(2026, 10, 1), 0.9, "aspirin", "Pharmacy A"),
                                ("R1", date(2026, 10, 1), 0.85, "cilostazol", "Pharmacy A"),
                                ("R2", date(2026, 10, 2), 0.725, "", "Pharmacy A")]
    fractions = write(tmp_path, "fractions.csv", "research_id,date,value\nR1,2026-10-01,0.85\nR2,2026-10-02,0.5\n")
    wrong = runner.invoke(args=["adherence", "import", fractions, "--measure", "pill_count", "--scale", "percent"])
    assert wrong.exit_code == 1
    assert ("file, value '': --scale percent, but every value is between 0 and 1: these look like fractions; "
            "import the file with --scale fraction [wrong_scale]") in wrong.output

    future = (date.today() + timedelta(days=1)).isoformat()
    bad = write(tmp_path, "bad.csv", "research_id,date,value\n"
                f"R1,{future},0.5\nNOPE,2026-10-01,0.5\nR2,2026-10-01,0.5\nR2,2026-10-01,0.7\nR1,yesterday,0.5\n"
                "R1,2026-10-03,\n")
    result = runner.invoke(args=["adherence", "import", bad, "--measure", "mems"])
    assert result.exit_code == 1 and "5 problems in bad.csv" in result.output
    for fragment in ("line 2, date", "in the future", "line 3, research_id 'NOPE': unknown research ID",
                     "line 5, research_id 'R2': duplicate in the file (same research ID, date and medication): "
                     "also on line 4", "line 6, date 'yesterday': not a date",
                     "line 7, value '': the value is missing"):
        assert fragment in result.output
    assert len(adherence_rows()) == 3


def test_adherence_from_xlsx_rerun_and_undo(runner, tmp_path):
    make_cohort("A")
    runner.invoke(args=["ids", "import", write(tmp_path, "a.csv", "research_id\nR1\n"), "--cohort", "A"])
    book = Workbook()
    book.active.title = "Notes"
    sheet = book.create_sheet("MEMS")
    sheet.append(["Research ID", "Date", "Value", "Notes"])
    sheet.append(["r1", utcnow().replace(tzinfo=None) - timedelta(days=2), 0.5, "cap opened late"])
    sheet.append([None, None, None, None])
    sheet.append(["R1", "2026-10-05", 1, None])
    path = tmp_path / "mems.xlsx"
    book.save(path)
    result = runner.invoke(args=["adherence", "import", str(path), "--measure", "mems", "--sheet", "MEMS"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "adherence records: 2 created, 0 updated, 0 unchanged, 1 skipped"
    again = runner.invoke(args=["adherence", "import", str(path), "--measure", "mems", "--sheet", "MEMS"])
    assert again.output.splitlines()[-1] == "adherence records: 0 created, 0 updated, 2 unchanged, 1 skipped"
    missing = runner.invoke(args=["adherence", "import", str(path), "--measure", "mems", "--sheet", "Nope"])
    assert missing.exit_code == 1 and "no sheet named 'Nope'; its sheets are: Notes, MEMS" in missing.output
    batch = db.session.execute(db.select(ImportBatch).where(ImportBatch.kind == "adherence")).scalar_one()
    undone = runner.invoke(args=["adherence", "import", "--undo", batch.id])
    assert undone.output.strip() == f"Batch {batch.id} undone: 2 adherence records removed."
    assert adherence_rows() == []


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://x\")", "@SUM(A1)"])
def test_the_report_never_carries_a_formula(runner, tmp_path, value):
    make_cohort("A")
    report = tmp_path / "r.csv"
    runner.invoke(args=["ids", "import", write(tmp_path, "f.csv", f"research_id\n{value}\n"), "--cohort", "A",
                        "--report", str(report)])
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert rows[0]["value"] == "'" + value


def test_the_guides_example_files_do_what_the_readme_says(runner):
    from pathlib import Path

    examples = Path(__file__).resolve().parents[2] / "docs" / "examples"
    result = runner.invoke(args=["ids", "import", str(examples / "research_ids.csv"), "--cohort", "Arm A",
                                 "--create-cohort"])
    assert result.output.splitlines()[-1] == "research IDs: 3 created, 0 updated, 0 unchanged, 0 skipped"
    result = runner.invoke(args=["adherence", "import", str(examples / "refill_pdc_percent.csv"), "--measure",
                                 "refill_pdc", "--scale", "percent"])
    assert result.output.splitlines()[-1] == "adherence records: 4 created, 0 updated, 0 unchanged, 0 skipped"
    assert [r[2] for r in adherence_rows()] == [1.0, 0.92, 0.645, 0.8]
    result = runner.invoke(args=["adherence", "import", str(examples / "pill_count_with_problems.csv"),
                                 "--measure", "pill_count"])
    assert result.exit_code == 1 and result.output.splitlines()[-1] == (
        "5 problems in pill_count_with_problems.csv: nothing was imported.")


def test_a_large_file_reports_progress_on_stderr_when_not_a_terminal(runner, tmp_path):
    rows = "".join(f"P-{i:06d},a note long enough to make the file larger\n" for i in range(6000))
    path = write(tmp_path, "big.csv", "research_id,notes\n" + rows)
    result = runner.invoke(args=["ids", "import", path, "--cohort", "Big", "--create-cohort"])
    assert result.exit_code == 0, result.output
    progress = [line for line in result.output.splitlines() if line.startswith("reading: ")]
    assert progress[-1] == "reading: 100%" and len(progress) >= 2
    assert result.output.splitlines()[-1] == "research IDs: 6000 created, 0 updated, 0 unchanged, 0 skipped"


def test_old_mac_line_endings_and_crlf_read_as_lines(runner, tmp_path):
    cr = write(tmp_path, "mac.csv", "research_id,notes\rM1,a\rM2,\"two\rlines\"\r")
    result = runner.invoke(args=["ids", "import", cr, "--cohort", "M", "--create-cohort"])
    assert result.output.splitlines()[-1] == "research IDs: 2 created, 0 updated, 0 unchanged, 0 skipped"
    crlf = write(tmp_path, "win.csv", "research_id\r\nM3\r\nbad id\r\n")
    result = runner.invoke(args=["ids", "import", crlf, "--cohort", "M"])
    assert "line 3, research_id 'bad id'" in result.output
