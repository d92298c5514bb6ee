"""The media library: the images people upload, and where Circle shows them.

Its rooms, each read on its own:
- upload.py: receiving an upload (who may upload how much) and checking it is an image;
- storage.py: where upload files live (local disk or S3-compatible object storage);
- files.py: writing an image's sizes to the store, and the addresses they are served from;
- library.py: listing the library, where an image is used, changing and deleting it;
- covers.py: the library image a post or section shows at its top;
- body_images.py: giving library images in a post's body their sizes;
- avatars.py: people's pictures, cropped square.

Callers use the names below (`media.save_upload`, `media.set_cover`, ...).
"""

from .avatars import may_have_avatar, remove_avatar, set_avatar
from .body_images import enrich_images, public_media
from .covers import (
    Picture,
    cover_address,
    cover_choices,
    cover_media,
    cover_picture,
    library_picture,
    picture_by_id,
    set_cover,
)
from .files import (
    UPLOAD_URL,
    as_json,
    file_names,
    largest_url,
    media_url,
    srcset,
)
from .library import (
    can_manage,
    delete_media,
    get_media,
    library_page,
    other_uses,
    update_alt,
    usage,
)
from .storage import public_address, storage, upload_root, writes_discarded
from .upload import (
    ALT_MAX_LENGTH,
    QuotaExceeded,
    UploadTooLarge,
    save_upload,
    upload_limit_text,
)

__all__ = [
    "ALT_MAX_LENGTH",
    "Picture",
    "UPLOAD_URL",
    "QuotaExceeded",
    "UploadTooLarge",
    "as_json",
    "can_manage",
    "cover_address",
    "cover_choices",
    "cover_media",
    "cover_picture",
    "delete_media",
    "enrich_images",
    "file_names",
    "get_media",
    "largest_url",
    "library_picture",
    "library_page",
    "may_have_avatar",
    "media_url",
    "other_uses",
    "picture_by_id",
    "public_address",
    "public_media",
    "remove_avatar",
    "save_upload",
    "set_avatar",
    "set_cover",
    "srcset",
    "storage",
    "update_alt",
    "upload_limit_text",
    "upload_root",
    "usage",
    "writes_discarded",
]
