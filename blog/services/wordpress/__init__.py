"""The WordPress migration: importing a WordPress export (WXR), and writing one.

Which file holds what:

- reader.py      reading the file: streaming, defused, within the archive limits
- records.py     what the file holds (authors, categories, attachments, items, comments)
- markup.py      WordPress markup into Circle's: shortcodes, captions, embeds, autop, uploads
- context.py     the options and one run's shared state (WordPress ids → Circle rows)
- importer.py    the run: one unit of work, steps in order, dry run rolled back
- pipeline.py    bodies and comments converted and sanitised ahead (a worker process for
                 big exports), no database
- people.py, sections.py, attachments.py, posts.py, comments.py, redirects.py: the steps
- report.py      what the import did, with reasons
- export.py, export_xml.py: writing the magazine as a WordPress export

Everything imported keeps its WordPress identity (Post.wp_post_id,
Comment.wp_comment_id, Media.wp_attachment_id, User.wp_login, and a redirect
for each old address), so running the import again finds it all and changes
nothing.
"""
