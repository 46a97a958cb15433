"""Names of the payload fields stored with every chunk (one place, used by writers and readers)."""

DOC_ID = "doc_id"
SOURCE = "source"
TITLE = "title"
PAGE = "page"
HEADING = "heading"
# Which page/slide/sheet/chapter/message the chunk is from (enclave_core/locators.py); may be absent.
LOCATOR = "locator"
CHUNK_INDEX = "chunk_index"
TEXT = "text"
ACL = "acl"
CONTENT_SHA256 = "content_sha256"
INGESTED_AT = "ingested_at"
# "ja" or "en": the chunk text's detected language (enclave_core/language.py), for per-language search.
LANG = "lang"

# Fields with a payload index: the ACL filter and document-level operations hit them on every request.
INDEXED_KEYWORDS = (ACL, DOC_ID)
