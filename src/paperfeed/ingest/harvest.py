"""Harvest arXiv over OAI-PMH page by page, saving the resumption token so a killed run resumes."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date

from paperfeed.config import Settings
from paperfeed.ingest import oai
from paperfeed.ingest.http import PoliteClient, SourceUnavailable
from paperfeed.ingest.pipeline import (
    BatchWriter,
    IngestFailed,
    IngestInterrupted,
    IngestReport,
    ProgressFn,
)
from paperfeed.models import HarvestState
from paperfeed.storage import Store, StoreBusy

log = logging.getLogger("paperfeed.ingest")


def harvest_key(set_spec: str | None) -> str:
    return f"arxiv-oai:{set_spec or '*'}"


class HarvestBusy(IngestFailed):
    """Another process (on any machine sharing the database) is harvesting this set."""


def harvest_arxiv(
    store: Store,
    settings: Settings,
    set_spec: str | None,
    from_day: date | None,
    until_day: date | None,
    client: PoliteClient | None = None,
    progress: ProgressFn | None = None,
) -> IngestReport:
    """Harvest ListRecords from arXiv's OAI-PMH endpoint into the store.

    Each page is written before its resumption token is saved, so killing the run at any point
    and starting it again with the same arguments resumes from the last saved page: records
    seen twice are merged, never duplicated. Without `from_day`, the harvest continues from the
    `until` of the last harvest of this set that finished. One harvest of a set runs at a
    time, anywhere: while another holds its job lock this raises HarvestBusy. A harvest that
    stops part-way (arXiv unavailable, a page that stays unreadable, a busy database) raises
    IngestInterrupted, saying what it kept.
    """
    key = harvest_key(set_spec)
    with store.job_lock(f"harvest:{key}") as held:
        if not held:
            raise HarvestBusy(f"another harvest of {key} is running; try again when it ends")
        return _harvest(store, settings, key, set_spec, from_day, until_day, client, progress)


def _harvest(
    store: Store,
    settings: Settings,
    key: str,
    set_spec: str | None,
    from_day: date | None,
    until_day: date | None,
    client: PoliteClient | None,
    progress: ProgressFn | None,
) -> IngestReport:
    state = store.get_harvest_state(key)
    if from_day is None:
        if state is None or state.completed_until is None:
            raise IngestFailed(f"no earlier harvest of set {set_spec!r}: give --from YYYY-MM-DD")
        from_day = state.completed_until
    if until_day is not None and until_day < from_day:
        raise IngestFailed(f"--until {until_day} is before --from {from_day}")
    params = {
        "set": set_spec,
        "from": from_day.isoformat(),
        "until": until_day.isoformat() if until_day else None,
    }
    if state is not None and state.params == params and state.resumption_token:
        log.info("resuming %s after %d pages (%d records)", key, state.pages, state.records)
    else:
        state = HarvestState(
            key=key,
            params=params,
            completed_until=state.completed_until if state else None,
        )
    report = IngestReport()
    writer = BatchWriter(store, report, settings.ingest_batch_size)
    http = client or PoliteClient(settings)
    restarted = False
    first_response_day: date | None = None
    try:
        while True:
            query = oai.list_records_params(set_spec, from_day, until_day, state.resumption_token)
            try:
                page = _read_page(http, settings, query)
            except oai.OaiError as exc:
                if exc.code == "badResumptionToken" and state.resumption_token and not restarted:
                    # Tokens expire; the records already written make a restart cheap and safe.
                    log.warning("%s: saved resumption token refused; starting over", key)
                    state = replace(state, resumption_token=None, pages=0, records=0)
                    restarted = True
                    continue
                raise
            if first_response_day is None and page.response_date is not None:
                first_response_day = page.response_date.date()
            for outcome in page.outcomes:
                writer.add(outcome)
            writer.flush()
            state = replace(
                state,
                resumption_token=page.resumption_token,
                pages=state.pages + 1,
                records=state.records + len(page.outcomes),
            )
            if page.resumption_token is None:
                state = replace(
                    state, completed_until=until_day or first_response_day or date.today()
                )
            store.save_harvest_state(state)
            if progress is not None:
                progress(key, state.records, page.complete_list_size)
            if page.resumption_token is None:
                return report
    except (SourceUnavailable, oai.OaiError, StoreBusy) as exc:
        raise IngestInterrupted(exc, report, _resume_note(state)) from exc
    finally:
        if client is None:
            http.close()


def _read_page(http: PoliteClient, settings: Settings, query: dict[str, str]) -> oai.OaiPage:
    """One ListRecords page. An answer whose XML is cut short (a proxy, a hiccup at the
    server) is asked for again, like a dropped connection, up to PAPERFEED_MAX_RETRIES times."""
    attempt = 0
    while True:
        body = oai.fetch_page(http, settings.arxiv_oai_url, query)
        try:
            return oai.parse_page(body)
        except oai.OaiError as exc:
            if exc.code != "badXML" or attempt >= settings.max_retries:
                raise
            log.warning("%s: %s; asking again", settings.arxiv_oai_url, exc)
        attempt += 1


def _resume_note(state: HarvestState) -> str:
    if not state.pages:
        return "no page saved yet; run the same harvest again to start it"
    pages = "1 page" if state.pages == 1 else f"{state.pages} pages"
    return (
        f"{pages} ({state.records} records) saved; run the same harvest again to resume "
        f"from page {state.pages + 1}"
    )
