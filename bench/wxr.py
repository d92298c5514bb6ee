"""Write a WordPress export (WXR 1.2) of a magazine with N posts, streamed, for the bench.

    python bench/wxr.py --posts 10000 --out bench/data/magazine-10000.wxr

The file is what WordPress's Tools → Export writes: a channel with its authors,
categories and tags, then one <item> per post or page with its content, dates
(wp:post_date and wp:post_date_gmt), status, categories, tags and comments. The
magazine has five sections (Fashion, Business, News, Storybook, Health), a dozen
authors, a pool of 300 tags (2-5 per post, a long tail), bodies of 600-1,500
words in paragraphs with headings, a link and sometimes a list (most in the block
editor's markup, some in the classic editor's bare paragraphs), dates spread
over five years, a few drafts (no GMT date, no slug, as WordPress writes them)
and posts pending review, 0-5 approved comments per published post (some of them
replies), and an About page.

COMMON_WORD is in about a fifth of the published posts and RARE_WORD in
RARE_POSTS of them: the bench searches for both. Everything comes from one
seeded random generator, so the same N gives the same file; it is written item
by item through a buffered writer, never held in memory (100,000 posts make
about 0.9 GB). `generate` returns a manifest of what it wrote (counts, the
search words and their posts, the article the bench measures); the command
line writes it next to the file as JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

RARE_WORD = "quillfeather"  # in RARE_POSTS published posts
COMMON_WORD = "harbour"  # in about COMMON_SHARE of the posts
COMMON_SHARE = 0.2
RARE_POSTS = 3
SEED = 20240501
VERSION = 1  # bump when the output changes, so cached files are written again

SITE = "https://magazine.example"
SECTIONS = [
    ("fashion", "Fashion"),
    ("business", "Business"),
    ("news", "News"),
    ("storybook", "Storybook"),
    ("health", "Health"),
]
ARTICLE_SECTION = "health"  # the section whose pages and article the bench measures
AUTHORS = 12
TAG_POOL = 300
COMMENTERS = 400
YEARS = 5
LAST_DATE = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)  # fixed: the file must not change daily
LOCAL_OFFSET = timedelta(hours=-5)  # the WordPress site's time zone, for wp:post_date
DRAFT_SHARE = 0.03
PENDING_SHARE = 0.01
CLASSIC_SHARE = 0.3  # posts written in the classic editor (bare paragraphs, no block markup)
REPLY_SHARE = 0.25

_CONSONANTS = "bcdfghjklmnprstvwz"
_VOWELS = "aeiou"
_ONSETS = ["br", "cl", "dr", "fl", "gr", "pl", "st", "tr", "sh", "ch", "th", "sp"]


def make_vocabulary(rng: random.Random, size: int = 6000) -> list[str]:
    """Return `size` distinct pronounceable words, shortest (most common) first."""
    words: set[str] = set()
    ordered: list[str] = []
    while len(ordered) < size:
        syllables = 1 + min(3, int(rng.expovariate(1.1)))
        parts = []
        for _ in range(syllables):
            onset = rng.choice(_ONSETS) if rng.random() < 0.2 else rng.choice(_CONSONANTS)
            part = onset + rng.choice(_VOWELS)
            if rng.random() < 0.4:
                part += rng.choice(_CONSONANTS)
            parts.append(part)
        word = "".join(parts)
        if word in words or word in (RARE_WORD, COMMON_WORD) or len(word) < 2:
            continue
        words.add(word)
        ordered.append(word)
    ordered.sort(key=len)
    return ordered


class BodyMaker:
    """Deterministic article bodies from a Zipf-weighted vocabulary."""

    def __init__(self, rng: random.Random, image_tags: list[str] | None = None):
        """Build the vocabulary; image_tags (HTML) are placed one per body when given."""
        self.rng = rng
        self.vocab = make_vocabulary(rng)
        # Zipf weights: the first words are the "the, of, and" of this language.
        weights = [1.0 / (rank + 1) ** 1.05 for rank in range(len(self.vocab))]
        total = sum(weights)
        acc, self.cum = 0.0, []
        for w in weights:
            acc += w / total
            self.cum.append(acc)
        self.image_tags = image_tags or []

    def words(self, n: int) -> list[str]:
        """n words drawn by frequency."""
        return self.rng.choices(self.vocab, cum_weights=self.cum, k=n)

    def sentence(self, words: list[str]) -> str:
        """The words as one sentence."""
        return words[0].capitalize() + " " + " ".join(words[1:]) + "."

    def title(self) -> str:
        """A headline: less frequent words, capitalised."""
        picks = [self.rng.choice(self.vocab[100:3000]) for _ in range(self.rng.randint(4, 8))]
        return " ".join(w.capitalize() for w in picks)

    def _paragraphs(self, extra_words: list[str]) -> tuple[list[list[str]], int]:
        """600-1,500 words cut into paragraphs of 50-130, with extra_words placed in them."""
        rng = self.rng
        total = rng.randint(600, 1500)
        words = self.words(total)
        for extra in extra_words:
            words[rng.randrange(len(words))] = extra
        paragraphs: list[list[str]] = []
        i = 0
        while i < total:
            size = min(total - i, rng.randint(50, 130))
            paragraphs.append(words[i : i + size])
            i += size
        return paragraphs, total

    def _text(self, para: list[str]) -> str:
        """A paragraph's words as sentences."""
        sentences, j = [], 0
        while j < len(para):
            k = min(len(para), j + self.rng.randint(8, 22))
            sentences.append(self.sentence(para[j:k]))
            j = k
        return " ".join(sentences)

    @staticmethod
    def _linked(text: str, para: list[str]) -> str:
        """The text with one of its words as a link."""
        anchor = para[min(3, len(para) - 1)]
        return text.replace(
            " " + anchor + " ", f' <a href="https://example.org/{anchor}">{anchor}</a> ', 1
        )

    def body(self, extra_words: list[str]) -> tuple[str, str, int]:
        """Return (html, plain text, word count) of one article in plain HTML."""
        rng = self.rng
        paragraphs, total = self._paragraphs(extra_words)
        html_parts: list[str] = []
        text_parts: list[str] = []
        headings = {rng.randrange(1, max(2, len(paragraphs))) for _ in range(rng.randint(1, 2))}
        image_at = rng.randrange(0, max(1, len(paragraphs)))
        link_at = rng.randrange(0, max(1, len(paragraphs)))
        for n, para in enumerate(paragraphs):
            if n in headings:
                heading = " ".join(self.words(rng.randint(3, 6))).capitalize()
                html_parts.append(f"<h2>{heading}</h2>")
                text_parts.append(heading)
            text = self._text(para)
            html_parts.append(f"<p>{self._linked(text, para) if n == link_at else text}</p>")
            text_parts.append(text)
            if n == image_at and self.image_tags:
                html_parts.append(rng.choice(self.image_tags))
        return "".join(html_parts), " ".join(text_parts), total

    def wordpress_body(self, extra_words: list[str], classic: bool) -> str:
        """An article as WordPress stores it: block-editor markup, or classic bare paragraphs.

        Paragraphs with one or two headings, one link, and a list in about a third of them.
        """
        rng = self.rng
        paragraphs, _total = self._paragraphs(extra_words)
        headings = {rng.randrange(1, max(2, len(paragraphs))) for _ in range(rng.randint(1, 2))}
        link_at = rng.randrange(0, max(1, len(paragraphs)))
        list_at = rng.randrange(0, max(1, len(paragraphs))) if rng.random() < 0.35 else -1
        parts: list[str] = []
        for n, para in enumerate(paragraphs):
            if n in headings:
                heading = " ".join(self.words(rng.randint(3, 6))).capitalize()
                parts.append(
                    f"<h2>{heading}</h2>"
                    if classic
                    else f'<!-- wp:heading -->\n<h2 class="wp-block-heading">{heading}</h2>\n'
                    "<!-- /wp:heading -->"
                )
            text = self._text(para)
            text = self._linked(text, para) if n == link_at else text
            parts.append(
                text if classic else f"<!-- wp:paragraph -->\n<p>{text}</p>\n<!-- /wp:paragraph -->"
            )
            if n == list_at:
                entries = [
                    self.sentence(self.words(rng.randint(3, 9))) for _ in range(rng.randint(3, 6))
                ]
                if classic:
                    parts.append("<ul>\n" + "\n".join(f"<li>{e}</li>" for e in entries) + "\n</ul>")
                else:
                    items = "".join(
                        f"<!-- wp:list-item -->\n<li>{e}</li>\n<!-- /wp:list-item -->\n"
                        for e in entries
                    )
                    parts.append(
                        f'<!-- wp:list -->\n<ul class="wp-block-list">{items}</ul>\n'
                        "<!-- /wp:list -->"
                    )
        return "\n\n".join(parts)


@dataclass
class Manifest:
    """What a generated export holds, for the bench and the tests to check the import by."""

    posts: int
    seed: int
    version: int = VERSION
    published: int = 0
    drafts: int = 0
    pending: int = 0
    pages: int = 0
    comments: int = 0
    replies: int = 0
    authors: int = AUTHORS
    sections: list[str] = field(default_factory=lambda: [s for s, _ in SECTIONS])
    tags: int = 0  # distinct tags on the imported posts and drafts
    tag_pool: int = TAG_POOL
    commenters: int = 0  # distinct commenter addresses
    common_word: str = COMMON_WORD
    common_posts: int = 0  # published posts holding the common word
    rare_word: str = RARE_WORD
    rare_post_ids: list[int] = field(default_factory=list)  # their wp:post_id
    article_wp_id: int = 0  # the article the bench measures: typical, published, commented
    article_section: str = ARTICLE_SECTION
    bytes: int = 0
    seconds: float = 0.0


def _cdata(text: str) -> str:
    """Text as CDATA (WordPress wraps content, names and comments so)."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _wp_date(value: datetime) -> str:
    """WordPress's 'YYYY-MM-DD HH:MM:SS'."""
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _slug(text: str) -> str:
    """A WordPress-style post_name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:180]


def _header(out, maker: BodyMaker, rng: random.Random) -> tuple[list, list, list]:
    """Write the channel's head: authors, categories, tags. Return authors, tags, commenters."""
    out.write('<?xml version="1.0" encoding="UTF-8" ?>\n')
    out.write('<!-- generator="Circle bench (bench/wxr.py)" -->\n')
    out.write(
        '<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:wfw="http://wellformedweb.org/CommentAPI/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n'
    )
    out.write(
        f"\t<title>The Bench Magazine</title>\n\t<link>{SITE}</link>\n"
        "\t<description>Fashion, business, news, stories and health</description>\n"
        f"\t<pubDate>{format_datetime(LAST_DATE)}</pubDate>\n\t<language>en-US</language>\n"
        "\t<wp:wxr_version>1.2</wp:wxr_version>\n"
        f"\t<wp:base_site_url>{SITE}</wp:base_site_url>\n"
        f"\t<wp:base_blog_url>{SITE}</wp:base_blog_url>\n"
    )
    authors = []
    for n in range(AUTHORS):
        first, last = (w.capitalize() for w in maker.words(2))
        login = f"{first.lower()}{n}"
        authors.append(login)
        out.write(
            f"\t<wp:author><wp:author_id>{n + 2}</wp:author_id>"
            f"<wp:author_login>{_cdata(login)}</wp:author_login>"
            f"<wp:author_email>{_cdata(login + '@magazine.example')}</wp:author_email>"
            f"<wp:author_display_name>{_cdata(first + ' ' + last)}</wp:author_display_name>"
            f"<wp:author_first_name>{_cdata(first)}</wp:author_first_name>"
            f"<wp:author_last_name>{_cdata(last)}</wp:author_last_name></wp:author>\n"
        )
    for n, (slug, name) in enumerate(SECTIONS):
        out.write(
            f"\t<wp:category><wp:term_id>{n + 2}</wp:term_id>"
            f"<wp:category_nicename>{_cdata(slug)}</wp:category_nicename>"
            f"<wp:category_parent>{_cdata('')}</wp:category_parent>"
            f"<wp:cat_name>{_cdata(name)}</wp:cat_name></wp:category>\n"
        )
    tags: list[tuple[str, str]] = []
    seen = {slug for slug, _ in SECTIONS}
    while len(tags) < TAG_POOL:
        name = " ".join(maker.words(rng.choice([1, 1, 2]))).title()
        slug = _slug(name)
        if slug in seen or len(slug) < 3:
            continue
        seen.add(slug)
        tags.append((slug, name))
        out.write(
            f"\t<wp:tag><wp:term_id>{100 + len(tags)}</wp:term_id>"
            f"<wp:tag_slug>{_cdata(slug)}</wp:tag_slug>"
            f"<wp:tag_name>{_cdata(name)}</wp:tag_name></wp:tag>\n"
        )
    commenters = []
    for n in range(COMMENTERS):
        name = " ".join(w.capitalize() for w in maker.words(2))
        commenters.append((name, f"reader{n}@readers.example"))
    return authors, tags, commenters


def _comments(
    out,
    maker: BodyMaker,
    rng: random.Random,
    commenters: list,
    first_id: int,
    posted: datetime,
    manifest: Manifest,
    used: set,
) -> int:
    """Write 0-5 approved comments (some replies) for a post; return the next comment id."""
    comment_id = first_id
    ids: list[int] = []
    for _ in range(rng.randint(0, 5)):
        name, email = rng.choice(commenters)
        used.add(email)
        parent = rng.choice(ids) if ids and rng.random() < REPLY_SHARE else 0
        when = posted + timedelta(minutes=rng.randint(5, 60 * 24 * 30))
        text = " ".join(
            maker.sentence(maker.words(rng.randint(6, 20))) for _ in range(rng.randint(1, 3))
        )
        out.write(
            "\t\t<wp:comment>\n"
            f"\t\t\t<wp:comment_id>{comment_id}</wp:comment_id>\n"
            f"\t\t\t<wp:comment_author>{_cdata(name)}</wp:comment_author>\n"
            f"\t\t\t<wp:comment_author_email>{_cdata(email)}</wp:comment_author_email>\n"
            "\t\t\t<wp:comment_author_url></wp:comment_author_url>\n"
            f"\t\t\t<wp:comment_author_IP>{_cdata(f'198.51.100.{rng.randint(1, 254)}')}"
            "</wp:comment_author_IP>\n"
            f"\t\t\t<wp:comment_date>{_wp_date(when + LOCAL_OFFSET)}</wp:comment_date>\n"
            f"\t\t\t<wp:comment_date_gmt>{_wp_date(when)}</wp:comment_date_gmt>\n"
            f"\t\t\t<wp:comment_content>{_cdata(text)}</wp:comment_content>\n"
            "\t\t\t<wp:comment_approved>1</wp:comment_approved>\n"
            "\t\t\t<wp:comment_type>comment</wp:comment_type>\n"
            f"\t\t\t<wp:comment_parent>{parent}</wp:comment_parent>\n"
            "\t\t\t<wp:comment_user_id>0</wp:comment_user_id>\n"
            "\t\t</wp:comment>\n"
        )
        ids.append(comment_id)
        manifest.comments += 1
        manifest.replies += bool(parent)
        comment_id += 1
    return comment_id


def _item(
    out,
    *,
    wp_id: int,
    title: str,
    slug: str,
    creator: str,
    content: str,
    when: datetime,
    status: str,
    post_type: str,
    categories: list[str],
) -> None:
    """Write the head of an <item> (everything before its comments)."""
    draft = status in ("draft", "pending")
    link = f"{SITE}/?p={wp_id}" if draft else f"{SITE}/{when:%Y/%m/%d}/{slug}/"
    out.write(
        "\t<item>\n"
        f"\t\t<title>{escape(title)}</title>\n"
        f"\t\t<link>{link}</link>\n"
        f"\t\t<pubDate>{format_datetime(when)}</pubDate>\n"
        f"\t\t<dc:creator>{_cdata(creator)}</dc:creator>\n"
        f'\t\t<guid isPermaLink="false">{SITE}/?p={wp_id}</guid>\n'
        "\t\t<description></description>\n"
        f"\t\t<content:encoded>{_cdata(content)}</content:encoded>\n"
        f"\t\t<excerpt:encoded>{_cdata('')}</excerpt:encoded>\n"
        f"\t\t<wp:post_id>{wp_id}</wp:post_id>\n"
        f"\t\t<wp:post_date>{_cdata(_wp_date(when + LOCAL_OFFSET))}</wp:post_date>\n"
        # WordPress writes a zero GMT date (and no slug) for a draft it never published.
        f"\t\t<wp:post_date_gmt>{_cdata('0000-00-00 00:00:00' if draft else _wp_date(when))}"
        "</wp:post_date_gmt>\n"
        f"\t\t<wp:post_modified>{_cdata(_wp_date(when + LOCAL_OFFSET))}</wp:post_modified>\n"
        f"\t\t<wp:post_modified_gmt>{_cdata(_wp_date(when))}</wp:post_modified_gmt>\n"
        "\t\t<wp:comment_status>open</wp:comment_status>\n"
        "\t\t<wp:ping_status>open</wp:ping_status>\n"
        f"\t\t<wp:post_name>{_cdata('' if draft else slug)}</wp:post_name>\n"
        f"\t\t<wp:status>{status}</wp:status>\n"
        "\t\t<wp:post_parent>0</wp:post_parent>\n"
        "\t\t<wp:menu_order>0</wp:menu_order>\n"
        f"\t\t<wp:post_type>{post_type}</wp:post_type>\n"
        "\t\t<wp:post_password></wp:post_password>\n"
        "\t\t<wp:is_sticky>0</wp:is_sticky>\n" + "".join(categories)
    )


def generate(path: Path | str, posts: int, seed: int = SEED, progress=None) -> Manifest:
    """Write an export of `posts` posts (and an About page) to path; return its manifest.

    progress, when given, is called with (done, total) every 1,000 posts.
    """
    started = time.monotonic()
    path = Path(path)
    rng = random.Random(seed)
    maker = BodyMaker(rng)
    manifest = Manifest(posts=posts, seed=seed)
    # Chosen up front so they are published: the posts holding the rare word.
    rare = set(random.Random(seed + 1).sample(range(posts), min(RARE_POSTS, posts)))
    span = YEARS * 365 * 86400
    first = LAST_DATE - timedelta(seconds=span)
    slugs: set[str] = set()
    tags_used: set[str] = set()
    commenters_used: set[str] = set()
    tag_cum, acc = [], 0.0
    for i in range(TAG_POOL):  # a long tail: some tags are on many posts, most on few
        acc += 1.0 / (i + 1) ** 0.8
        tag_cum.append(acc)
    with open(path, "w", encoding="utf-8", buffering=1 << 20) as out:
        authors, tags, commenters = _header(out, maker, rng)
        about = maker.wordpress_body([], classic=False)
        _item(
            out,
            wp_id=10,
            title="About",
            slug="about",
            creator=authors[0],
            content=about,
            when=first,
            status="publish",
            post_type="page",
            categories=[],
        )
        out.write("\t</item>\n")
        manifest.pages = 1
        comment_id = 1
        for i in range(posts):
            wp_id = 100 + i
            roll = rng.random()
            if i in rare:
                status = "publish"
            elif roll < DRAFT_SHARE:
                status = "draft"
            elif roll < DRAFT_SHARE + PENDING_SHARE:
                status = "pending"
            else:
                status = "publish"
            extra = []
            if i in rare:
                extra.append(RARE_WORD)
                manifest.rare_post_ids.append(wp_id)
            has_common = rng.random() < COMMON_SHARE
            if has_common:
                extra.append(COMMON_WORD)
            content = maker.wordpress_body(extra, classic=rng.random() < CLASSIC_SHARE)
            title = maker.title()
            slug = base = _slug(title) or f"post-{wp_id}"
            n = 1
            while slug in slugs:
                n += 1
                slug = f"{base}-{n}"
            slugs.add(slug)
            # In order of id, as a blog grows, with a little jitter.
            when = first + timedelta(seconds=int(span * (i + rng.random()) / posts))
            section_slug, section_name = SECTIONS[i % len(SECTIONS)]
            categories = [
                f'\t\t<category domain="category" nicename={quoteattr(section_slug)}>'
                f"{_cdata(section_name)}</category>\n"
            ]
            picked: dict[str, str] = {}
            wanted = rng.randint(2, 5)
            while len(picked) < wanted:
                slug_t, name_t = rng.choices(tags, cum_weights=tag_cum)[0]
                picked[slug_t] = name_t
            for slug_t, name_t in picked.items():
                tags_used.add(slug_t)
                categories.append(
                    f'\t\t<category domain="post_tag" nicename={quoteattr(slug_t)}>'
                    f"{_cdata(name_t)}</category>\n"
                )
            _item(
                out,
                wp_id=wp_id,
                title=title,
                slug=slug,
                creator=rng.choice(authors),
                content=content,
                when=when,
                status=status,
                post_type="post",
                categories=categories,
            )
            if status == "publish":
                manifest.published += 1
                manifest.common_posts += has_common
                before = comment_id
                comment_id = _comments(
                    out, maker, rng, commenters, comment_id, when, manifest, commenters_used
                )
                typical = (
                    not manifest.article_wp_id
                    and i >= posts // 2
                    and i not in rare
                    and section_slug == ARTICLE_SECTION
                    and comment_id - before >= 2
                )
                if typical:
                    manifest.article_wp_id = wp_id
            elif status == "draft":
                manifest.drafts += 1
            else:
                manifest.pending += 1
            out.write("\t</item>\n")
            if progress and (i + 1) % 1000 == 0:
                progress(i + 1, posts)
        out.write("</channel>\n</rss>\n")
    manifest.tags = len(tags_used)
    manifest.commenters = len(commenters_used)
    manifest.bytes = path.stat().st_size
    manifest.seconds = round(time.monotonic() - started, 1)
    return manifest


def main(argv: list[str] | None = None) -> int:
    """Write the export and its manifest (FILE.json)."""
    parser = argparse.ArgumentParser(description="Generate a WordPress export for the bench.")
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    def show(done: int, total: int) -> None:
        print(f"\r  writing {args.out.name}: {done:,}/{total:,} posts", end="", flush=True)

    manifest = generate(args.out, args.posts, args.seed, progress=show)
    print()
    args.out.with_suffix(args.out.suffix + ".json").write_text(
        json.dumps(asdict(manifest), indent=2)
    )
    print(
        f"  {manifest.bytes / 1e6:,.0f} MB in {manifest.seconds:.0f}s: "
        f"{manifest.published:,} published, {manifest.drafts} drafts, "
        f"{manifest.pending} pending, {manifest.comments:,} comments"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
