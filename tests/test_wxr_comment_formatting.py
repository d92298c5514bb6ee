"""WordPress comments keep their links, emphasis, code and quotes (issue 16), on import,
on the article page and in Circle's own export."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from blog.extensions import db
from blog.models import Comment
from blog.sanitize import clean_comment_html, clean_comment_text
from blog.services.wordpress.markup import comment_html

from .test_wxr_fidelity import export, item, news, run_import  # noqa: F401

WP = "{http://wordpress.org/export/1.2/}"

FORMATTED = (
    'Lovely piece. See <a href="https://example.org/study" title="x">the <em>study</em></a>'
    " and <b>bold</b> <i>words</i>.\nA second line with <code>x &lt; y</code>.\n\n"
    "<blockquote>Quoted\nfrom above.</blockquote>\n\n"
    'Thanks<script>alert(1)</script><img src="https://evil.example/x.png">!'
)


def wp_comment(wp_id: int, content: str) -> str:
    """One approved wp:comment."""
    return f"""
		<wp:comment>
			<wp:comment_id>{wp_id}</wp:comment_id>
			<wp:comment_author><![CDATA[Riya]]></wp:comment_author>
			<wp:comment_author_email><![CDATA[riya@readers.example.org]]></wp:comment_author_email>
			<wp:comment_date_gmt><![CDATA[2020-05-12 10:00:00]]></wp:comment_date_gmt>
			<wp:comment_content><![CDATA[{content}]]></wp:comment_content>
			<wp:comment_approved><![CDATA[1]]></wp:comment_approved>
			<wp:comment_type><![CDATA[comment]]></wp:comment_type>
			<wp:comment_parent>0</wp:comment_parent>
		</wp:comment>"""


def test_the_comment_sanitiser_keeps_formatting_and_never_endorses_links():
    assert clean_comment_html(
        '<p><a href="javascript:alert(1)" onclick="x">a</a> <b>b</b> <i>i</i> '
        '<a href="https://x.org" rel="follow">x</a> https://y.org</p><h2>h</h2><img src="/a">'
    ) == (
        '<p><a rel="nofollow ugc noopener">a</a> <strong>b</strong> <em>i</em> '
        '<a href="https://x.org" rel="nofollow ugc noopener">x</a> '
        '<a href="https://y.org" rel="nofollow ugc noopener">https://y.org</a></p>\nh'
    )
    # A reader's plain text still makes only paragraphs, breaks and links.
    assert clean_comment_text("<em>hi</em>\nhttps://x.org") == (
        '<p>&lt;em&gt;hi&lt;/em&gt;<br><a href="https://x.org" rel="nofollow ugc noopener">'
        "https://x.org</a></p>"
    )


@pytest.mark.usefixtures("news")
def test_an_imported_comment_keeps_its_formatting_on_the_page_and_in_the_export(
    runner, client, tmp_path
):
    path = export(tmp_path, item(30, "Sleep", "sleep", body="<p>On sleep.</p>",
                                 extra=wp_comment(601, FORMATTED)))
    run_import(runner, path)
    comment = db.session.scalar(select(Comment).where(Comment.wp_comment_id == 601))
    expected = (
        '<p>Lovely piece. See <a href="https://example.org/study" rel="nofollow ugc noopener">'
        "the <em>study</em></a> and <strong>bold</strong> <em>words</em>.<br>\n"
        "A second line with <code>x &lt; y</code>.</p>\n"
        "<blockquote>Quoted<br>\nfrom above.</blockquote>\n"
        "<p>Thanks!</p>"
    )
    assert comment.body_html == expected
    # What an edit starts from: the text, with the link's address beside its words.
    assert comment.body.startswith("Lovely piece. See the study (https://example.org/study)")
    assert "alert" not in comment.body

    page = client.get("/news/sleep").get_data(as_text=True)
    assert expected in page
    assert "<script>alert" not in page and "evil.example" not in page

    out = tmp_path / "circle.xml"
    result = runner.invoke(args=["export-wxr", str(out)])
    assert result.exit_code == 0, result.output
    written = [
        c.findtext(f"{WP}comment_content") for c in ET.parse(out).iter(f"{WP}comment")
    ]
    assert written == [
        'Lovely piece. See <a href="https://example.org/study">the <em>study</em></a> and '
        "<strong>bold</strong> <em>words</em>.\nA second line with <code>x &lt; y</code>.\n\n"
        "<blockquote>Quoted\nfrom above.</blockquote>\n\nThanks!"
    ]
    # Brought back in, the comment reads the same.
    assert clean_comment_html(comment_html(written[0])) == expected
