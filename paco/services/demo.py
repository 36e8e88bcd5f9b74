"""Demo data for a laptop: one cohort, research IDs RID001-RID010, disclaimer v1; and, for
``make serve``, a small synthetic study so that the dashboards show something at once."""
from __future__ import annotations

from ..extensions import db
from ..models import Cohort, Disclaimer, ResearchID, utcnow
from .consent import content_hash
from .synth import synthesize

DEMO_COHORT = "Demo cohort"
DEMO_CONTACT = "Your study team: call 555-0100, weekdays 9 am to 5 pm."
DEMO_IDS = [f"RID{n:03d}" for n in range(1, 11)]
# The demo study: seed 14 names its IDs SYN14-00001...
DEMO_STUDY = {"participants": 60, "days": 90, "seed": 14}
DEMO_DISCLAIMER = """\
PaCo is a study tool for learning about P.A.D. and your medicines.

PaCo gives general education only. It is not a doctor, nurse or pharmacist. It cannot see your
health records and it cannot give you medical advice for your own situation. Do not start, stop
or change any medicine because of what PaCo says. Always talk with your care team first.

If you have chest pain, trouble breathing, signs of a stroke, or a leg or foot that suddenly
turns cold, pale or very painful, call 911 right away.

Your chats with PaCo are saved with your research ID, not your name. The study team will read
them to learn how PaCo helps people. You can stop taking part at any time by telling your
study team.
"""


def load_demo(study: bool = False) -> dict[str, int]:
    """Create whatever demo rows are missing; never duplicates, never changes existing rows.

    ``study``: also the synthetic study (written first, so that its disclaimer versions are
    published before the chats it invents; the demo IDs then acknowledge the newest).
    """
    created = {"cohorts": 0, "research_ids": 0, "disclaimers": 0, "synthetic participants": 0}
    if study:
        first = f"SYN{DEMO_STUDY['seed']}-00001"
        if db.session.execute(db.select(ResearchID.id).where(ResearchID.research_id == first)).first() is None:
            db.session.commit()  # the synthetic study writes on a connection of its own
            result = synthesize(db.engine, DEMO_STUDY["participants"], DEMO_STUDY["days"], DEMO_STUDY["seed"],
                                disclaimer_text=DEMO_DISCLAIMER)
            created["synthetic participants"] = result.participants
    cohort = db.session.execute(db.select(Cohort).where(Cohort.name == DEMO_COHORT)).scalar_one_or_none()
    if cohort is None:
        cohort = Cohort(name=DEMO_COHORT, description="Participants of the laptop demo.", checkin_enabled=True,
                        contact_text=DEMO_CONTACT)
        db.session.add(cohort)
        db.session.flush()
        created["cohorts"] += 1
    existing = set(db.session.execute(
        db.select(ResearchID.research_id).where(ResearchID.research_id.in_(DEMO_IDS))
    ).scalars())
    now = utcnow()
    for research_id in DEMO_IDS:
        if research_id not in existing:
            db.session.add(ResearchID(research_id=research_id, cohort_id=cohort.id,
                                      status="active", enrolled_at=now))
            created["research_ids"] += 1
    if db.session.execute(db.select(db.func.count(Disclaimer.id))).scalar() == 0:
        db.session.add(Disclaimer(version=1, text=DEMO_DISCLAIMER,
                                  content_hash=content_hash(DEMO_DISCLAIMER), published_at=now))
        created["disclaimers"] += 1
    db.session.commit()
    return created
