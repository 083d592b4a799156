"""`paperfeed submit --as EMAIL ID`: the operator submits as a reader, with /submit's rules."""

from datetime import UTC, datetime

from click.testing import CliRunner

from conftest import make_paper
from paperfeed.cli import cli
from paperfeed.models import Preferences
from replay import Reply
from test_web_submit import one_entry_feed


def test_submit_as_a_reader_fetches_and_refuses_what_the_page_refuses(
    settings, store, tmp_path, replay
):
    replay.route("/api/query", Reply(one_entry_feed(0)), id_list="2005.14124")
    now = datetime.now(UTC)
    ada = store.create_subscriber("ada@example.org", Preferences(), now)
    store.create_subscriber("nameless@example.org", Preferences(), now)
    store.set_public_name(ada.id, "ada", now)
    old_day = datetime(2026, 6, 25, tzinfo=UTC)
    store.upsert_papers(
        [make_paper("2606.00001", published=now), make_paper("2606.00002", published=old_day)]
    )
    env = {
        "PAPERFEED_DATABASE_URL": settings.database_url,
        "PAPERFEED_DATA_DIR": settings.data_dir,
        "PAPERFEED_MODEL_DIR": str(tmp_path / "no-model"),
        "PAPERFEED_ARXIV_API_URL": f"{replay.url}/api/query",
        "PAPERFEED_REQUEST_DELAY_S": "0",
    }

    def run(*args: str, **more: str):
        return CliRunner().invoke(cli, ["submit", *args], env={**env, **more})

    fetched = run(
        "--as", "Ada@Example.org", "arXiv:2005.14124v2", PAPERFEED_SUBMIT_WINDOW_DAYS="100000"
    )
    assert fetched.exit_code == 0, fetched.output
    assert f"2005.14124: fetched from arXiv and submitted by ada on {now.date()}" in fetched.output
    assert "indexed 3 papers" in fetched.output  # a new keyword index: every paper
    known = run("--as", "ada@example.org", "https://arxiv.org/abs/2606.00001")
    assert known.exit_code == 0 and "2606.00001: submitted by ada" in known.output
    again = run("--as", "ada@example.org", "2606.00001")
    assert again.exit_code == 1 and "already submitted by ada" in again.output
    old = run("--as", "ada@example.org", "2606.00002")  # the default window: 14 days
    assert old.exit_code == 1 and "2606.00002 is from 2026-06-25" in old.output
    assert "pick a public name" in run("--as", "nameless@example.org", "2606.00001").output
    assert "no reader with the address" in run("--as", "who@example.org", "2606.00001").output
    assert "is not an arXiv id" in run("--as", "ada@example.org", "not-an-id!").output
