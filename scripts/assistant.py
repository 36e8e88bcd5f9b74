"""`flask assistant ask "QUESTION"`: what PaCo's offline path would do with a message.

It runs the same safety screen and knowledge-base search the curated responder uses, without
the database or any model, so reviewers can check content and rules from a terminal.
"""

import click

from paco.assistant.evaluation import HELD_BACK, retrieval_report
from paco.assistant.knowledge_base import NO_MATCH_REPLY, default_knowledge_base
from paco.assistant.safety import check_message
from paco.assistant.safety_evaluation import SPLITS as SAFETY_SPLITS
from paco.assistant.safety_evaluation import safety_lines

from .cli import PacoGroup

assistant_cli = PacoGroup("assistant", help="Try PaCo's offline knowledge and safety rules.")


@assistant_cli.command("eval", with_appcontext=False)
def evaluate() -> None:
    """How the safety screen and the knowledge base do on their labelled sets in tests/assistant/.

    Held-out parts were not used while writing rules and entries: their figures are the ones that
    count.
    """
    for name in SAFETY_SPLITS:
        click.echo("\n".join(safety_lines(name)))
    for split in ("tuning", *HELD_BACK):
        r = retrieval_report(split)
        click.echo(f"knowledge retrieval, {split} questions ({r['entries']} entries):")
        click.echo(f"  top-1 right entry   {r['top1_accuracy']:6.1%}  ({r['top1_correct']}/{r['on_topic']})")
        click.echo(f"  honest no-match     {r['no_match_rate']:6.1%}  ({r['no_match_correct']}/{r['off_topic']})")


@assistant_cli.command("ask", with_appcontext=False)
@click.argument("question")
@click.option("--explain", is_flag=True, help="Also show the three best-scoring entries.")
def ask(question: str, explain: bool) -> None:
    """Show the safety flag or the knowledge entry PaCo would answer QUESTION with."""
    flag = check_message(question)
    if flag is not None:
        click.echo(f"SAFETY FLAG: {flag.category} ({flag.rule_id})")
        click.echo(flag.reply)
        return
    kb = default_knowledge_base()
    match = kb.search(question)
    if match is None:
        click.echo("No matching entry.")
        click.echo(NO_MATCH_REPLY)
    else:
        entry = match.entry
        click.echo(f"Entry: {entry.id} ({entry.title}), score {match.score:.2f}")
        click.echo(f"Source: {entry.source_title} <{entry.source_url}>, reviewed {entry.reviewed_on}")
        click.echo("")
        click.echo(entry.answer)
    if explain:
        click.echo("")
        for score, entry in kb.scores(question)[:3]:
            click.echo(f"  {score:6.2f}  coverage {kb.coverage(question, entry):.2f}  {entry.id}")
