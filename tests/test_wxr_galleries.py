"""WordPress galleries come over as Circle's gallery: a figure of image figures (issue 16).

The shortcode (with ids, or without: the post's own images) and the block editor's
gallery (both its shapes) become `<figure class="gallery">`; the article page shows
it with the library's srcset, and the report names pictures it could not find.
"""

from __future__ import annotations

import re

import pytest
from PIL import Image

from blog.sanitize import clean_post_html
from blog.services.wordpress.gallery import GalleryImage, GallerySource
from blog.services.wordpress.markup import convert_body

from .test_wxr_fidelity import export, item, meta, news, post, run_import  # noqa: F401

OLD = "https://old.example.org/wp-content/uploads/2020/05"
SOURCE = GallerySource(
    images={
        11: GalleryImage(f"{OLD}/sea.jpg", "The sea", "Calm <em>sea</em>"),
        12: GalleryImage(f"{OLD}/hill.jpg", "A hill"),
        13: GalleryImage(f"{OLD}/lake.jpg", "A lake", "Lake & sky"),
    },
    attached=[12, 13],
)


def stored(content: str, source: GallerySource = SOURCE) -> tuple[str, list[str]]:
    """The body the importer would store for WordPress content, and what it reported lost."""
    lost: list[str] = []
    return clean_post_html(convert_body(content, lost, source)), lost


def test_a_gallery_shortcode_with_ids_shows_those_images_with_alt_and_caption():
    body, lost = stored('Before.\n\n[gallery ids="11,12,99" columns="3" size="medium"]\n\nAfter.')
    assert body == (
        "<p>Before.</p>\n"
        '<figure class="gallery">'
        f'<figure><img src="{OLD}/sea.jpg" alt="The sea"><figcaption>Calm <em>sea</em>'
        "</figcaption></figure>"
        f'<figure><img src="{OLD}/hill.jpg" alt="A hill"></figure>'
        "</figure>\n<p>After.</p>"
    )
    assert lost == ["[gallery]: image 99 is not among the export's images"]


def test_a_gallery_shortcode_without_ids_shows_the_posts_own_images():
    body, lost = stored("[gallery]")
    assert re.findall(r'alt="([^"]*)"', body) == ["A hill", "A lake"]
    assert "<figcaption>Lake &amp; sky</figcaption>" in body
    assert lost == []
    body, _ = stored('[gallery exclude="12"]')
    assert re.findall(r'alt="([^"]*)"', body) == ["A lake"]


def test_a_gallery_with_nothing_to_show_is_reported():
    body, lost = stored('<p>Text</p>\n\n[gallery ids="98"]', GallerySource())
    assert body == "<p>Text</p>"
    assert "[gallery]: image 98 is not among the export's images" in lost
    assert "[gallery] shortcode: no images to show, not brought over" in lost


BLOCK_GALLERY = (
    '<!-- wp:gallery {"linkTo":"none"} -->\n<figure class="wp-block-gallery has-nested-images '
    'columns-default is-cropped"><!-- wp:image {"id":11} -->\n'
    f'<figure class="wp-block-image size-large"><img src="{OLD}/sea-1024x683.jpg" alt="The sea" '
    'class="wp-image-11"/><figcaption class="wp-element-caption">Calm sea</figcaption></figure>\n'
    "<!-- /wp:image -->\n\n<!-- wp:image {\"id\":12} -->\n"
    f'<figure class="wp-block-image size-large"><a href="{OLD}/hill.jpg"><img src="{OLD}/hill.jpg" '
    'alt="A hill" class="wp-image-12"/></a></figure>\n<!-- /wp:image -->'
    '<figcaption class="blocks-gallery-caption wp-element-caption">Two <strong>views</strong>'
    "</figcaption></figure>\n<!-- /wp:gallery -->"
)

OLDER_BLOCK_GALLERY = (
    '<!-- wp:gallery {"ids":[11,12]} --><figure class="wp-block-gallery columns-2 is-cropped">'
    '<ul class="blocks-gallery-grid"><li class="blocks-gallery-item"><figure>'
    f'<img src="{OLD}/sea.jpg" alt="The sea" data-id="11" class="wp-image-11"/>'
    '<figcaption class="blocks-gallery-item__caption">Calm sea</figcaption></figure></li>'
    f'<li class="blocks-gallery-item"><figure><img src="{OLD}/hill.jpg" alt="A hill" '
    'data-id="12"/></figure></li></ul>'
    '<figcaption class="blocks-gallery-caption">Two <strong>views</strong></figcaption>'
    "</figure><!-- /wp:gallery -->"
)


@pytest.mark.parametrize("content", [BLOCK_GALLERY, OLDER_BLOCK_GALLERY])
def test_a_block_editor_gallery_becomes_circles_gallery(content):
    body, lost = stored(content)
    sea = "sea-1024x683.jpg" if content is BLOCK_GALLERY else "sea.jpg"
    assert body == (
        '<figure class="gallery">'
        f'<figure><img src="{OLD}/{sea}" alt="The sea"><figcaption>Calm sea</figcaption></figure>'
        f'<figure><img src="{OLD}/hill.jpg" alt="A hill"></figure>'
        "<figcaption>Two <strong>views</strong></figcaption></figure>"
    )
    assert lost == []


def test_the_sanitiser_keeps_the_gallery_class_and_nothing_else_on_a_figure():
    body = clean_post_html(
        '<figure class="gallery" data-embed="youtube" id="x"><figure class="gallery">'
        '<img src="/a.jpg" alt=""></figure></figure><figure class="gallery big"><p>x</p></figure>'
    )
    assert body == (
        '<figure class="gallery"><figure class="gallery"><img src="/a.jpg" alt=""></figure>'
        "</figure><figure><p>x</p></figure>"
    )


def attachment(wp_id: int, name: str, *, alt: str, caption: str = "", parent: int = 0) -> str:
    """One image attachment of the export, uploaded to post parent."""
    return f"""
	<item>
		<title><![CDATA[{name}]]></title>
		<link>https://old.example.org/{name}/</link>
		<dc:creator><![CDATA[anna]]></dc:creator>
		<excerpt:encoded><![CDATA[{caption}]]></excerpt:encoded>
		<wp:post_id>{wp_id}</wp:post_id>
		<wp:post_date_gmt><![CDATA[2020-05-01 08:00:00]]></wp:post_date_gmt>
		<wp:status><![CDATA[inherit]]></wp:status>
		<wp:post_parent>{parent}</wp:post_parent>
		<wp:post_type><![CDATA[attachment]]></wp:post_type>
		<wp:attachment_url><![CDATA[{OLD}/{name}.jpg]]></wp:attachment_url>
		{meta("_wp_attached_file", f"2020/05/{name}.jpg")}
		{meta("_wp_attachment_image_alt", alt)}
	</item>"""


@pytest.mark.usefixtures("news")
def test_an_imported_gallery_shows_as_a_grid_of_library_images(runner, client, tmp_path):
    uploads = tmp_path / "wp-uploads" / "2020" / "05"
    uploads.mkdir(parents=True)
    for name, colour in (("sea", (10, 90, 200)), ("hill", (40, 160, 60)), ("lake", (0, 60, 90))):
        Image.new("RGB", (1200, 800), colour).save(uploads / f"{name}.jpg")
    path = export(
        tmp_path,
        attachment(11, "sea", alt="The sea", caption="Calm <em>sea</em>"),
        attachment(12, "hill", alt="A hill", parent=21),
        attachment(13, "lake", alt="A lake", caption="Lake and sky", parent=21),
        item(20, "Shore walk", "shore-walk",
             body='A walk.\n\n[gallery ids="11,12,404" link="file"]'),
        item(21, "Hill walk", "hill-walk", body="Up we go.\n\n[gallery columns=\"2\"]"),
    )
    out = run_import(runner, path, "--uploads", str(tmp_path / "wp-uploads"))
    assert "[gallery]: image 404 is not among the export's images" in out

    page = client.get("/news/shore-walk").get_data(as_text=True)
    gallery = re.search(r'<figure class="gallery">.*?</figure></figure>', page, re.DOTALL)
    assert gallery, page
    pictures = re.findall(r"<figure><img ([^>]*)>(?:<figcaption>(.*?)</figcaption>)?</figure>",
                          gallery.group(0))
    assert [caption for _, caption in pictures] == ["Calm <em>sea</em>", ""]
    for attrs, _ in pictures:
        assert re.search(r'src="/uploads/\d{4}/\d{2}/[0-9a-f]{32}-\d+\.jpg"', attrs)  # re-hosted
        assert re.search(r'srcset="[^"]*\.webp \d+w', attrs)  # the library's sizes, WebP
        assert 'sizes="(max-width: 46rem) 50vw, 12rem"' in attrs
        assert 'loading="lazy"' in attrs
    assert re.findall(r'alt="[^"]*"', gallery.group(0)) == ['alt="The sea"', 'alt="A hill"']
    assert "old.example.org" not in gallery.group(0)

    hill = post(21).body
    assert re.findall(r'alt="([^"]*)"', hill) == ["A hill", "A lake"]
    assert "<figcaption>Lake and sky</figcaption>" in hill
