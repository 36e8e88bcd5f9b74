"""`flask assistant ask "QUESTION"`: what PaCo's offline path would do with a message.

It runs the same safety screen and knowledge-base search the curated responder uses, without
the database or any model, so reviewers can check content and rules from a terminal.
"""

import click

from paco.assistant.evaluation import SPLITS, retrieval_lines, safety_lines
from paco.assistant.knowledge_base import NO_MATCH_REPLY, default_knowledge_base
from paco.assistant.safety import check_message

from .cli import PacoGroup

assistant_cli = PacoGroup("assistant", help="Try PaCo's offline knowledge and safety rules.")


@assistant_cli.command("eval", with_appcontext=False)
@click.option("--split", type=click.Choice(["all", *SPLITS]), default="all", show_default=True,
              help="original: the first set; tuning / heldout: issue 12's set in participants' own words.")
def evaluate(split: str) -> None:
    """Recall per category and false alarms of the safety screen on the labelled message sets.

    The held-out part of the participants' own words was not used while writing the rules: its
    figure is the one that counts.
    """
    for name in SPLITS if split == "all" else (split,):
        click.echo("\n".join(safety_lines(name)))
        if name != "original":
            click.echo("\n".join(retrieval_lines(name)))


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
