import pytest

from claimtype.sentences import split_sentences


@pytest.mark.parametrize(
    ("article", "expected"),
    [
        (
            "Sen. Maria Lopez said the U.S. would act. Prices rose 3.5% in Jan. after the vote.",
            [
                "Sen. Maria Lopez said the U.S. would act.",
                "Prices rose 3.5% in Jan. after the vote.",
            ],
        ),
        (
            '"We are ready," she said. "Are you?" he asked.',
            ['"We are ready," she said.', '"Are you?" he asked.'],
        ),
        ("It was late.” Then the lights went out.", ["It was late.”", "Then the lights went out."]),
        (
            "J. K. Rowling and Dr. Amina Bello met at 5 p.m. on Monday.",
            ["J. K. Rowling and Dr. Amina Bello met at 5 p.m. on Monday."],
        ),
        (
            "He paused... Then he left! Was it true?",
            ["He paused...", "Then he left!", "Was it true?"],
        ),
        (
            "The index fell 2.75 points. It closed at 4,102.5.",
            ["The index fell 2.75 points.", "It closed at 4,102.5."],
        ),
        (
            "Storm hits coast\nOfficials said 40 people died.",
            ["Storm hits coast", "Officials said 40 people died."],
        ),
        (
            "First paragraph ends here\n\nsecond one is lower-case",
            ["First paragraph ends here", "second one is lower-case"],
        ),
        (
            "the word etc. ends no sentence here but e.g. this goes on.",
            ["the word etc. ends no sentence here but e.g. this goes on."],
        ),
        ("   ", []),
        # dotted acronyms, months, company suffixes and initials end a sentence before an opener
        (
            "Troops were sent to the U.S. The move angered Moscow.",
            ["Troops were sent to the U.S.", "The move angered Moscow."],
        ),
        (
            "He bought Acme Inc. The deal closed in Sept. It cost $4 billion.",
            ["He bought Acme Inc.", "The deal closed in Sept.", "It cost $4 billion."],
        ),
        ("She took vitamin C. Then she slept.", ["She took vitamin C.", "Then she slept."]),
        (
            "The U.S. Army met at 5 p.m. Officials from Acme Inc. Europe came too.",
            ["The U.S. Army met at 5 p.m. Officials from Acme Inc. Europe came too."],
        ),
        # titles, also plural and compound ones, never end a sentence
        (
            "Brig. Gen. Mark Hill and Sens. Ana Ruiz and Tom Lee spoke. Atty. Gen. Hale did not.",
            [
                "Brig. Gen. Mark Hill and Sens. Ana Ruiz and Tom Lee spoke.",
                "Atty. Gen. Hale did not.",
            ],
        ),
        # a header block of headline, byline and agency: one sentence a line
        (
            "Talks collapse\nBy JOHN SMITH\nAssociated Press\nKYIV (AP) — Russia said no.",
            [
                "Talks collapse",
                "By JOHN SMITH",
                "Associated Press",
                "KYIV (AP) — Russia said no.",
            ],
        ),
        # hard-wrapped wire copy: a line that goes on in lower case is no headline
        (
            "The ministry said the\nreport was false. It gave no details.",
            ["The ministry said the\nreport was false.", "It gave no details."],
        ),
    ],
)
def test_news_cases(article: str, expected: list[str]) -> None:
    assert [s.text for s in split_sentences(article)] == expected


def test_offsets_point_into_the_article() -> None:
    article = "  Title line\nThe mayor said no.  The council   agreed.\n\n“Fine,” she said.  "
    sentences = split_sentences(article)
    assert len(sentences) == 4
    for s in sentences:
        assert article[s.start : s.end] == s.text
