import json
from datetime import date

import click
import pytest
from click.testing import CliRunner

from conftest import FIXTURES
from paperfeed.cli import cli


@pytest.fixture
def run(settings, tmp_path):
    runner = CliRunner()
    env = {
        "PAPERFEED_DATABASE_URL": settings.database_url,
        "PAPERFEED_DATA_DIR": settings.data_dir,
        # Catalog commands are tested without a model (keyword search only); see test_cli_search.
        "PAPERFEED_MODEL_DIR": str(tmp_path / "no-model"),
    }

    def invoke(*args: str):
        return runner.invoke(cli, list(args), env=env)

    return invoke


def _commands(group: click.Group, prefix=()):
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


def test_every_command_has_help(run):
    for path, command in _commands(cli):
        assert command.help, f"`paperfeed {' '.join(path)}` has no help text"
        result = run(*path, "--help")
        assert result.exit_code == 0, result.output
        assert "Usage:" in result.output
    assert "PAPERFEED_DATABASE_URL" in run("--help").output


@pytest.mark.blank_database
def test_init_creates_the_database_once(run):
    first = run("init")
    assert first.exit_code == 0, first.output
    assert "applied 001_init.sql" in first.output and "; 0 papers" in first.output
    assert "schema already up to date" in run("init").output


def test_ingest_prints_a_summary_and_stats_count_it(run):
    result = run(
        "ingest", str(FIXTURES / "kaggle_snapshot.jsonl"), str(FIXTURES / "atom_id_list.xml")
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "added 12, updated 0, unchanged 0, skipped 0"
    assert "indexed 12 papers" in lines[1]
    stats = json.loads(run("stats", "--json").output)
    assert stats["papers"] == 12
    assert stats["by_category"]["math.CO"] == 3
    assert stats["by_month"] == {
        "2006-01": 1,
        "2007-03": 5,
        "2007-04": 4,
        "2016-05": 1,
        "2020-05": 1,
    }
    text = run("stats").output
    assert "papers: 12" in text
    assert "math.CO" in text


def test_ingest_exits_non_zero_only_when_nothing_was_read(run, tmp_path):
    junk = tmp_path / "junk.jsonl"
    junk.write_text("not json\n{}\n")
    result = run("ingest", str(junk))
    assert result.exit_code == 1
    assert "added 0, updated 0, unchanged 0, skipped 2" in result.output
    assert "nothing could be read" in result.output
    mixed = run("ingest", str(junk), str(FIXTURES / "kaggle_snapshot.jsonl"))
    assert mixed.exit_code == 0
    assert run("ingest").exit_code == 2  # usage error: no sources


def test_ingest_sample_loads_the_bundled_papers(run, store):
    result = run("ingest", "--sample")
    assert result.exit_code == 0, result.output
    # The papers, then their real Hugging Face featured days: 179 of them were featured (175
    # learn their exact arXiv time from it; the featured days never move a paper's day).
    summary = "added 3292, updated 175, unchanged 4, skipped 0, featured days 179"
    assert result.stdout.splitlines()[0] == summary
    stats = json.loads(run("stats", "--json").output)
    assert stats["papers"] == 3292
    assert stats["first_listed"] == "2026-06-16"
    assert stats["last_listed"] == "2026-07-01"
    # Real upvotes: trending is not a list of zeros (Orca had 162 on Hugging Face).
    trending = store.trending_papers(date(2026, 6, 16), date(2026, 7, 1), 10)
    assert trending[0].paper.id == "2606.30534" and trending[0].upvotes == 162
    assert all(p.upvotes > 0 for p in trending)
    again = run("ingest", "--sample")  # a second run changes no paper
    assert again.stdout.splitlines()[0].startswith("added 0, updated 0, unchanged 3471,")


def test_show_prints_a_paper_by_any_id_spelling(run):
    run("ingest", str(FIXTURES / "atom_id_list.xml"), str(FIXTURES / "hf_daily_papers.json"))
    text = run("show", "https://arxiv.org/abs/2005.14124v1")
    assert text.exit_code == 0, text.output
    assert text.output.startswith(
        "2005.14124v2  Active Fuzzing for Testing and Securing Cyber-Physical Systems"
    )
    assert "pdf:        https://arxiv.org/pdf/2005.14124" in text.output
    data = json.loads(run("show", "2410.17243", "--json").output)
    assert data["id"] == "2410.17243"
    assert data["links"] == {
        "abs": "https://arxiv.org/abs/2410.17243",
        "pdf": "https://arxiv.org/pdf/2410.17243",
    }
    assert data["featured"] == [
        {
            "paper_id": "2410.17243",
            "day": "2024-10-25",
            "source": "hf-daily",
            "upvotes": 64,
            "num_comments": 3,
            "submitted_by": "ClownRat",
        }
    ]


def test_show_unknown_or_malformed_ids_fail_cleanly(run):
    missing = run("show", "2606.99999")
    assert missing.exit_code == 1
    assert "no paper with id '2606.99999'" in missing.output
    assert run("show", "<bad id>").exit_code == 1


def test_bad_settings_are_refused_at_start_up(settings):
    result = CliRunner().invoke(cli, ["stats"], env={"PAPERFEED_DATABASE_URL": "mysql://x/y"})
    assert result.exit_code == 1
    assert "unsupported URL" in result.output
    result = CliRunner().invoke(
        cli,
        ["stats"],
        env={"PAPERFEED_DATABASE_URL": settings.database_url, "PAPERFEED_REQUEST_DELAY_S": "soon"},
    )
    assert "PAPERFEED_REQUEST_DELAY_S: expected float, got 'soon'" in result.output


def test_harvest_needs_from_on_first_run(run):
    result = run("harvest", "arxiv", "--set", "cs")
    assert result.exit_code == 1
    assert "give --from YYYY-MM-DD" in result.output
    assert run("harvest", "arxiv", "--from", "June").exit_code == 2


def test_mail_status_and_send_through_the_outbox(run, settings, tmp_path):
    from datetime import UTC, datetime

    from paperfeed.mail.messages import build_message, new_message_id, outgoing
    from paperfeed.storage import open_store

    store = open_store(settings.database_url)
    now = datetime.now(UTC)
    message = build_message(
        settings,
        to="reader@example.org",
        subject="Queued",
        text="t",
        html="<p>h</p>",
        message_id=new_message_id(settings),
        now=now,
    )
    store.enqueue_mail(outgoing(message, "notice", None), now)
    store.close()
    status = run("mail", "status")
    assert status.exit_code == 0, status.output
    assert "delivering to: outbox" in status.stdout and "queued            1" in status.stdout
    sent = run("mail", "send")
    assert (
        sent.stdout.strip() == "sent 1, deferred 0, bounced 0, not sent to suppressed addresses 0"
    )
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1
    assert "sent              1" in run("mail", "status").stdout


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "papers.example.org"])
def test_dev_mode_refuses_to_listen_beyond_loopback(run, host):
    """--dev serves /outbox (live sign-in links): on a public address it does not start."""
    result = run("serve", "--dev", "--host", host, "--port", "1")
    assert result.exit_code == 2 and "loopback" in result.output


def test_dev_mode_from_the_environment_is_refused_too(settings, tmp_path):
    env = {"PAPERFEED_DATABASE_URL": settings.database_url, "PAPERFEED_DEV": "1"}
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--port", "1"], env=env)
    assert result.exit_code == 2 and "loopback" in result.output
