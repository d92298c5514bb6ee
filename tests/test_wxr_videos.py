"""WordPress videos come over as Circle's embeds, however WordPress stored them."""

from __future__ import annotations

import pytest

from blog.sanitize import clean_post_html, video_embed
from blog.services.wordpress.markup import convert_body

SHIFT = "dQw4w9WgXcQ"


def stored(content: str) -> tuple[str, list[str]]:
    """The body the importer would store for WordPress content, and what it reported lost."""
    lost: list[str] = []
    return clean_post_html(convert_body(content, lost)), lost


def youtube(caption: str = "") -> str:
    """The stored embed of the test video."""
    figcaption = f"<figcaption>{caption}</figcaption>" if caption else ""
    return (
        f'<figure class="embed" data-embed="youtube" data-embed-id="{SHIFT}">'
        f'<a href="https://www.youtube.com/watch?v={SHIFT}" rel="nofollow noopener">'
        f"Watch on YouTube</a>{figcaption}</figure>"
    )


@pytest.mark.parametrize(
    "content",
    [
        f"Before.\n\nhttps://www.youtube.com/watch?v={SHIFT}\n\nAfter.",  # alone on its line
        f"Before.\n\n  https://youtu.be/{SHIFT}?t=42  \n\nAfter.",
        f"Before.\n\n[embed]https://www.youtube.com/watch?v={SHIFT}[/embed]\n\nAfter.",
        f"Before.\n\n[youtube https://www.youtube.com/watch?v={SHIFT}]\n\nAfter.",
        f'Before.\n\n<iframe width="560" height="315" src="https://www.youtube.com/embed/{SHIFT}'
        '?feature=oembed" frameborder="0" allowfullscreen></iframe>\n\nAfter.',
    ],
)
def test_a_youtube_video_becomes_an_embed(content):
    body, lost = stored(content)
    assert body == f"<p>Before.</p>\n{youtube()}\n<p>After.</p>"
    assert lost == []


def test_an_embed_block_keeps_its_caption():
    content = (
        '<!-- wp:core-embed/youtube {"url":"https://youtu.be/dQw4w9WgXcQ"} -->\n'
        '<figure class="wp-block-embed-youtube wp-block-embed is-type-video is-provider-youtube">'
        '<div class="wp-block-embed__wrapper">\nhttps://youtu.be/dQw4w9WgXcQ\n</div>'
        "<figcaption>Night &amp; day<br></figcaption></figure>\n<!-- /wp:core-embed/youtube -->"
    )
    body, _ = stored(content)
    assert body == youtube("Night &amp; day")


def test_a_vimeo_frame_becomes_an_embed():
    body, _ = stored('<iframe src="https://player.vimeo.com/video/76979871?h=8a"></iframe>')
    assert body == (
        '<figure class="embed" data-embed="vimeo" data-embed-id="76979871">'
        '<a href="https://vimeo.com/76979871" rel="nofollow noopener">Watch on Vimeo</a></figure>'
    )


@pytest.mark.parametrize(
    "content",
    [
        "https://www.facebook.com/6427302910/posts/10156380423617911/",
        "<p>See https://www.youtube.com/watch?v=dQw4w9WgXcQ for more.</p>",  # not alone
        f"https://www.youtube.com.evil.example/watch?v={SHIFT}",
        "https://youtu.be/short",
    ],
)
def test_other_addresses_stay_text_or_links(content):
    body, _ = stored(content)
    assert "data-embed" not in body


def test_other_frames_stay_links():
    body, lost = stored('<iframe src="https://maps.example.com/embed?x=1"></iframe>')
    assert body == (
        '<p><a href="https://maps.example.com/embed?x=1" rel="nofollow noopener">'
        "https://maps.example.com/embed?x=1</a></p>"
    )
    assert lost == ["embedded <iframe>: kept as a link to https://maps.example.com/embed?x=1"]


def test_a_video_embed_is_already_in_its_stored_form():
    figure = video_embed(f"https://www.youtube.com/watch?v={SHIFT}", "A <caption> & more")
    assert clean_post_html(figure) == figure.replace('">Watch', '" rel="nofollow noopener">Watch')
    assert "<figcaption>A &lt;caption&gt; &amp; more</figcaption>" in figure
