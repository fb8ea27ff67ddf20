"""The search engine on a small corpus: analysis, expansion, facets, filters,
sorting, pagination, highlighting and bad input."""

from __future__ import annotations

from datetime import date

import pytest

from search_index import analysis, thesaurus
from search_index.index import index_documents
from search_index.query import SearchEngine, highlight, search

TODAY = date(2026, 3, 1)


def doc(i, title, description="", *, kind="thesis_task", language="nb", level="master",
        tags=(), organisation="Fjordlys AS", sector="private", municipality="Trondheim",
        deadline="2026-12-01", domain="engineering", status="published"):
    return {"id": i, "title": title, "description": description or title, "kind": kind,
            "language": language, "level": level, "tags": list(tags),
            "organisation": organisation, "sector": sector, "municipality": municipality,
            "deadline": deadline, "domain": domain, "status": status}


CORPUS = [
    doc(1, "Vannkraftverket i Nea", "Vi ønsker å vurdere hvordan vannkraftverket fungerer.",
        tags=["energi"]),
    doc(2, "Helseteknologi for eldre", "Velferdsteknologi og helseteknologi i kommunen.",
        kind="placement", level="bachelor", domain="health", sector="public_municipal",
        organisation="Malvik kommune", municipality="Malvik"),
    doc(3, "Trykksensorer på plattformen", "Vi har flere trykksensorer som bør vurderes.",
        kind="industry_case", deadline="2026-03-05"),
    doc(4, "Havbruk og fiskehelse", "Prosjektet handler om havbruk langs kysten.",
        domain="science", municipality="Bodø", deadline="2026-04-15"),
    doc(5, "Aquaculture and sea lice", "The project is about aquaculture in Northern Norway.",
        language="en", domain="science", municipality="Tromsø", deadline="2026-03-20"),
    doc(6, "Praksisplass innen logistikk", "Vi tilbyr tre praksisplasser innen logistikk.",
        kind="placement", level="bachelor"),
    doc(7, "Internship in logistics", "We offer two internships in logistics.",
        kind="placement", level="bachelor", language="en"),
    doc(8, "Masteroppgave: Geoteknikk", "En masteroppgave om geoteknikk og skred.",
        deadline="2026-05-01"),
    doc(9, "Master's thesis: Geotechnics", "A master's thesis on geotechnics and landslides.",
        language="en", deadline="2026-05-01"),
    doc(10, "Rehabilitering etter hjerneslag", "Oppgaven handler om rehabilitering.",
        domain="health", sector="health_trust", organisation="Sykehuset Nordvik HF"),
    doc(11, "Legemidler i sykehjem", "Vi har flere legemidler som bør vurderes.",
        domain="health", kind="placement", level="professional"),
    doc(12, "Museet og formidlingen", "Et museum i regionen ønsker hjelp med formidling.",
        domain="humanities", sector="non_profit", organisation="Kulturforeningen Strand"),
    doc(13, "<script>alert('x')</script> Sikkerhet & <b>drift</b>",
        "Beskrivelse med <img src=x onerror=alert(1)> og sikkerhet i drift.", tags=["sikkerhet"]),
    doc(14, "Droneoperatør for inspeksjon", "Inspeksjon av kraftlinjer med droner.",
        kind="industry_case"),
    doc(15, "Utløpt oppgave om geoteknikk", "Fristen har gått ut.", deadline="2026-02-01"),
    doc(16, "Utkast om geoteknikk", "Ikke publisert ennå.", status="draft"),
    doc(17, "Oppgave uten frist om geoteknikk", "Denne har ingen frist.", deadline=None),
    doc(18, "Digital tvilling av kraftnett", "En digital tvilling av kraftnett i regionen.",
        tags=["digitalisering"]),
]
# many equal documents, to test that paging is stable
CORPUS += [doc(100 + i, "Felles tema: bærekraft", "Bærekraft i praksis.", kind="eit_village",
               level="bachelor", deadline="2026-06-01") for i in range(25)]


@pytest.fixture(scope="module")
def ix(tmp_path_factory):
    path = tmp_path_factory.mktemp("engine-index")
    index_documents(path, CORPUS)
    return path


@pytest.fixture(scope="module")
def engine(ix):
    e = SearchEngine(ix)
    yield e
    e.close()


def ids(result) -> list[int]:
    return [h.id for h in result.hits]


def find(engine, text, **kw):
    kw.setdefault("today", TODAY)
    kw.setdefault("per_page", 50)
    return engine.search(text, **kw)


# ------------------------------------------------------------------ analysis
@pytest.mark.parametrize("forms", [
    ["legemiddel", "legemidler", "legemidlene", "legemidlet"],
    ["museum", "museet", "museer", "museene"],
    ["barnehage", "barnehagen", "barnehager", "barnehagene"],
    ["praksisplass", "praksisplassen", "praksisplasser"],
    ["lærer", "læreren", "lærere", "lærerne"],
    ["analyse", "analyser", "analysere", "analyserer", "analysert"],
    ["vindturbin", "vindturbinen", "vindturbiner", "vindturbinene"],
])
def test_norwegian_inflections_share_a_stem(forms):
    assert len({analysis.stem_nb(w) for w in forms}) == 1, [analysis.stem_nb(w) for w in forms]


def test_english_stems_and_spelling_variants():
    assert analysis.stem_en("turbines") == analysis.stem_en("turbine")
    assert analysis.stem_en("digitalisation") == analysis.stem_en("digitalization")
    assert analysis.stem_en("master's") == analysis.stem_en("master")


def test_analysis_drops_stop_words_and_control_characters():
    assert analysis.analyse("Vi har en praksisplass\x00 i Bodø", "nb") == ["praksisplass", "bodø"]
    assert analysis.analyse("The internships of the year", "en") == ["internship", "year"]


def test_index_and_query_analysis_agree():
    from whoosh import formats

    text = "Praksisplasser hos Havørn Teknologi AS – ph.d.-prosjekt og e-helse!"
    for lang in ("nb", "en"):
        fast = analysis.index_terms(text, lang)
        slow = [t.text for t in analysis.LanguageAnalyzer(lang)(text)]
        assert fast == slow == analysis.analyse(text, lang)
    assert formats  # the Whoosh analyzer path is the same code


# ------------------------------------------------------------------ compounds
@pytest.mark.parametrize("query, expected", [
    ("vannkraft", 1),  # first part of "vannkraftverket"
    ("helse", 2),  # first part of "helseteknologi"
    ("sensor", 3),  # last part of "trykksensorer"
    ("kraftverk", 1),  # last part of "vannkraftverket"
])
def test_compound_parts_find_compounds(engine, query, expected):
    assert expected in ids(find(engine, query))


# ------------------------------------------------------------------ thesaurus and glossary
def test_thesaurus_expands_both_ways(engine):
    assert {4, 5} <= set(ids(find(engine, "aquaculture")))
    assert {4, 5} <= set(ids(find(engine, "havbruk")))
    assert {8, 9} <= set(ids(find(engine, "geotechnics")))
    assert {8, 9} <= set(ids(find(engine, "geoteknikk")))


def test_collaboration_form_words_bridge_languages(engine):
    assert {6, 7} <= set(ids(find(engine, "internship")))
    assert {6, 7} <= set(ids(find(engine, "praksisplass")))
    got = ids(find(engine, "master thesis"))
    assert {8, 9} <= set(got)
    assert {8, 9} <= set(ids(find(engine, "masteroppgave")))


def test_extra_synonyms_layer_over_the_shipped_files(engine):
    assert 14 not in ids(find(engine, "UAV"))
    assert 14 in ids(find(engine, "UAV", extra_synonyms={"droneoperatør": ["UAV"]}))
    assert 14 in ids(find(engine, "UAV", extra_synonyms=[["UAV", "droner"]]))
    # coordinators' words for a collaboration form
    assert {6, 7} <= set(ids(find(engine, "sommerpraksis",
                                   extra_synonyms={"placement": {"nb": ["sommerpraksis"]}})))


def test_thesaurus_is_large_and_well_formed():
    concepts = thesaurus.read_tsv(thesaurus.THESAURUS_FILE)
    assert len(concepts) >= 500
    for c in concepts:
        assert any(t.lang == "nb" for t in c.terms) and any(t.lang == "en" for t in c.terms)
    forms = thesaurus.load().forms()
    assert {"thesis_task", "placement", "industry_case", "eit_village", "guest_lecture",
            "career_event"} <= set(forms)
    assert "praksisplass" in thesaurus.expand_words("internship")
    assert "internship" in thesaurus.expand_words("praksisplasser")


# ------------------------------------------------------------------ typos
def test_unknown_words_are_corrected_with_real_scores(engine):
    r = find(engine, "rehabiliterng")
    assert ids(r)[:1] == [10]
    assert r.did_you_mean == "rehabilitering"
    assert r.hits[0].score > 0
    r = find(engine, "geotekník")
    assert 8 in ids(r)
    r = find(engine, "vannkraft")
    assert r.did_you_mean is None  # known (as a compound part): no suggestion


# ------------------------------------------------------------------ facets, filters, sort, pages
def test_facets_count_the_results(engine):
    r = find(engine, "geoteknikk")
    assert set(ids(r)) == {8, 9, 17}  # 9 through the thesaurus; 15 expired, 16 a draft
    assert r.total == 3
    assert r.facets["language"] == {"nb": 2, "en": 1}
    assert r.facets["kind"] == {"thesis_task": 3}
    assert r.facets["location"] == {"Trondheim": 3}
    assert set(r.facets) == {"kind", "level", "discipline", "sector", "language", "location",
                             "deadline"}
    assert find(engine, "geoteknikk", facets="all").facets["tag"] == {}
    assert find(engine, "", facets=["tag"]).facets == {"tag": {"digitalisering": 1, "energi": 1,
                                                                "sikkerhet": 1}}
    assert find(engine, "", facets=False).facets == {}


def test_facet_counts_ignore_their_own_filter(engine):
    r = find(engine, "", filters={"kind": "placement"})
    assert {h.kind for h in r.hits} == {"placement"}
    assert r.facets["kind"]["placement"] == r.total
    assert r.facets["kind"]["thesis_task"] > 0  # what choosing it instead would give


def test_filters_combine_with_text(engine):
    assert ids(find(engine, "logistikk", filters={"language": "en"})) == [7]
    assert set(ids(find(engine, "", filters={"level": ["bachelor", "professional"],
                                             "kind": "placement"}))) == {2, 6, 7, 11}
    assert ids(find(engine, "", filters={"location": "malvik"})) == [2]
    assert ids(find(engine, "", filters={"sector": "health_trust"})) == [10]
    assert set(ids(find(engine, "", filters={"discipline": "science"}))) == {4, 5}
    assert ids(find(engine, "", filters={"tag": "Digitalisering"})) == [18]
    assert set(ids(find(engine, "", filters={"deadline_within": 30}))) == {3, 5}
    assert ids(find(engine, "", filters={"nonsense": "x", "kind": ""}))  # ignored


def test_deadline_window_facet(engine):
    r = find(engine, "")
    assert r.facets["deadline"]["7"] == 1  # doc 3, 2026-03-05
    assert r.facets["deadline"]["30"] == 2
    assert r.facets["deadline"]["90"] >= 4


def test_empty_query_lists_by_deadline_and_hides_expired_and_drafts(engine):
    r = find(engine, "", per_page=100)
    assert r.sort == "deadline"
    assert ids(r)[:3] == [3, 5, 4]
    assert 15 not in ids(r) and 16 not in ids(r)
    assert ids(r)[-1] == 17  # no deadline: last
    assert r.total == len(CORPUS) - 2


def test_sort_by_deadline_with_text(engine):
    r = find(engine, "geoteknikk", sort="deadline")
    assert ids(r) == [8, 9, 17]


def test_pagination_is_stable_and_complete(engine):
    pages = [ids(find(engine, "bærekraft", per_page=10, page=p)) for p in (1, 2, 3)]
    flat = [i for p in pages for i in p]
    assert len(flat) == len(set(flat)) == 25
    assert flat == sorted(flat)  # equal scores: by id
    assert pages == [ids(find(engine, "bærekraft", per_page=10, page=p)) for p in (1, 2, 3)]
    r = find(engine, "bærekraft", per_page=10, page=9)
    assert r.hits == [] and r.total == 25 and r.pages == 3


# ------------------------------------------------------------------ highlighting and bad input
def test_snippets_are_escaped_and_highlighted(engine):
    r = find(engine, "sikkerhet")
    hit = next(h for h in r.hits if h.id == 13)
    assert "<script>" not in hit.title_html and "&lt;script&gt;" in hit.title_html
    assert "<img" not in hit.snippet and "&lt;img" in hit.snippet
    assert "<mark>sikkerhet</mark>" in hit.snippet
    assert hit.title_html.count("<") == hit.title_html.count("<mark>") + hit.title_html.count("</mark>")


def test_highlight_picks_the_passage_with_matches():
    text = "Innledning. " + "Fyll ord. " * 60 + "Her står vannkraft og vannkraftverk. " + "Slutt. " * 30
    html = highlight(text, "nb", ({"vannkraft", "vannkraftverk"}, set()), 120)
    assert html.count("<mark>") == 2 and html.startswith("… ")
    assert len(html) < 220


@pytest.mark.parametrize("text", [
    "og i på",  # stop words only
    "the of and",
    '"digital tvilling',  # unbalanced quote
    "(kraftnett OR (geoteknikk",  # unbalanced parentheses
    "title:geoteknikk kind:placement",  # field syntax
    "geoteknikk" * 1000,  # 10,000 characters
    "a " * 5000,
    "\x00\x01\x1b[31mgeoteknikk\x7f\u202e",  # control characters
    "'; DROP TABLE opportunity; --",
    "<script>alert(1)</script>",
    "*", "?", "~~~", "\\", "AND OR NOT", "+-&&||!(){}[]^\"~*?:\\/",
    "🚀 hav", "ø", "", "   ",
])
def test_bad_input_gives_a_sensible_result(engine, text):
    r = find(engine, text)
    assert r.total >= 0 and r.page == 1
    for h in r.hits:
        assert "<script" not in h.snippet and "<script" not in h.title_html


def test_bad_input_meanings(engine):
    stop = find(engine, "og i på")
    assert stop.notice == "stopwords_only" and stop.total == len(CORPUS) - 2
    assert 8 in ids(find(engine, "title:geoteknikk"))
    assert 18 in ids(find(engine, '"digital tvilling'))
    assert find(engine, "geoteknikk" * 1000).notice == "truncated"
    assert 8 in ids(find(engine, "\x00geoteknikk\x1b"))
    assert find(engine, None).total == len(CORPUS) - 2
    assert find(engine, "geoteknikk", page="x", per_page=-5).per_page == 1
    assert find(engine, "geoteknikk", sort="nonsense").sort == "relevance"


def test_quoted_phrase(engine):
    assert ids(find(engine, '"digital tvilling"')) == [18]


def test_result_json_form(engine):
    d = find(engine, "geoteknikk", per_page=2).as_dict()
    assert d["total"] == 3 and len(d["results"]) == 2
    assert set(d["results"][0]) == {"id", "external_id", "title", "kind", "score"}


def test_module_search_function(ix):
    r = search(ix, "havbruk", today=TODAY)
    assert {4, 5} <= set(ids(r))


def test_an_index_with_no_documents_answers_empty(tmp_path):
    # A fresh installation: the index exists but nothing is published yet.
    index_documents(tmp_path, [])
    empty = SearchEngine(tmp_path)
    try:
        for text, kw in (("vannkraft", {}), ("", {"sort": "deadline"}), ("vanlkraft", {}),
                         ("", {"filters": {"kind": ["thesis_task"]}})):
            result = empty.search(text, today=TODAY, **kw)
            assert result.total == 0 and result.hits == []
    finally:
        empty.close()
