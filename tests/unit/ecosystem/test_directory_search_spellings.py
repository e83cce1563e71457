"""English "-ies" plurals in directory queries, without losing the French ones."""

from sqlalchemy import Column, MetaData, String, Table, select

from campus.ecosystem.directory import search

ROWS = Table("rows", MetaData(), Column("search_text", String))


def test_an_ies_plural_is_looked_for_as_its_english_and_french_singulars():
    assert search.tokens("companies agencies") == ["companie", "agencie"]
    assert search.spellings("companie") == ("companie", "company")
    assert search.spellings("agencie") == ("agencie", "agency")
    assert search.spellings("therapie") == ("therapie", "therapy")


def test_other_tokens_keep_one_spelling():
    assert search.spellings("startup") == ("startup",)
    assert search.spellings("hopita") == ("hopita",)
    assert search.spellings("ie") == ("ie",)


def test_the_where_clause_accepts_either_spelling_of_each_token():
    clause = search.matches(ROWS.c.search_text, "companies santé")
    sql = str(select(ROWS).where(clause).compile(compile_kwargs={"literal_binds": True}))
    assert "'%companie%'" in sql and "'%company%'" in sql and "'%sante%'" in sql
    assert " OR " in sql and " AND " in sql
