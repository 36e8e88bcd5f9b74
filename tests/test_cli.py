"""The documented commands: ``flask demo load`` is idempotent and leaves IDs active, unacknowledged."""
from paco.extensions import db
from paco.models import Cohort, Disclaimer, DisclaimerAcknowledgment, ResearchID


def test_demo_load_twice(app, runner):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0 and "10 research_ids" in first.output
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0 and "nothing to do" in second.output
    ids = db.session.execute(db.select(ResearchID).order_by(ResearchID.research_id)).scalars().all()
    assert [r.research_id for r in ids] == [f"RID{n:03d}" for n in range(1, 11)]
    assert all(r.status == "active" and r.is_active for r in ids)
    assert db.session.execute(db.select(db.func.count(DisclaimerAcknowledgment.id))).scalar() == 0
    assert db.session.execute(db.select(db.func.count(Cohort.id))).scalar() == 1
    assert db.session.execute(db.select(Disclaimer.version)).scalars().all() == [1]
